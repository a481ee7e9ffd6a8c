"""What the model sees and what it learns, as plain arrays: one episode → a sequence of windows.

Pure numpy, shared by training (torch) and inference (ONNX Runtime), so the two can never disagree about
the inputs. Shapes, for an episode cut into T windows of two steps each (N = (T + 1) · step frames):

* ``patch``  (27, N): MFCC (20) and spectral contrast (7), the design's 2-D image, which the network cuts
  into windows after its convolutions;
* ``series`` (20, N): the 1-D frame series (RMS in dB, centroid, spread, flatness, onset strength, local
  tempo, beats, repetition) and chroma (12);
* ``extra``  (T, len(EXTRA)): per-window scalars (the design's tempo, beat variation and repetition
  measures) and the window's position: in a head, its centre as a share of the analysis span (0..1); in a tail
  (the episode's last minutes, ``tail_inputs``), minus its centre's distance to the episode's end in that unit
  (−0.4..0), so that the theme in the end credits is not the intro.

Targets (the design's centre rule, plus what refines the boundaries): ``label`` (T,) 1 when the window's
centre lies in the intro; ``start_in``/``end_in`` (T,) 1 when the intro's start/end lies inside the window;
``start_at``/``end_at`` (T,) where in the window it lies, as a fraction of the window's length (the
regression targets, used only where the boundary is inside the window); ``kind`` (T,) the index in KINDS of
the part the window's centre lies in (0: story) and ``kind_known`` (T,) 1 where the label says so (the centre
in a part the label gives, or the label states every kind, so that the rest is story), for a kinds head.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np

from ..features.compute import EpisodeFeatures
from ..features.rhythm import beat_interval_cv
from ..features.spectral import power_to_db
from ..settings import DEFAULT_WINDOW_S, SettingsError, WindowOptions
from ..timecode import Segment
from ..windows import WINDOW_SCALARS, WindowGrid, window_grid, window_labels

PATCH_FEATURES = ("mfcc", "contrast")
SERIES_FEATURES = ("rms", "centroid", "bandwidth", "flatness", "onset", "tempo_local", "beats", "repetition", "chroma")
EXTRA = (*WINDOW_SCALARS, "position")

KINDS = ("story", "ident", "recap", "intro", "credits", "preview")
"""The classes of a kinds head (``network.NetworkDims.kinds``), in order: what a window's centre lies in."""

HEADS = ("intro_0", "intro_1", "start_in", "end_in", "start_at", "end_at")
"""Output channels of the network, in order, per window (a network with a kinds head appends KIND_HEADS)."""

PARTS = KINDS[1:]
"""The kinds that are parts (every kind but story): each has boundary heads of its own, as the intro has."""

KIND_HEADS = (
    *(f"kind_{k}" for k in KINDS),
    *(f"{k}_{head}" for head in ("start_in", "end_in", "start_at", "end_at") for k in PARTS),
)
"""A kinds head's channels: the kinds' logits, then per part kind (PARTS order) "its start / end lies in this
window" (logits) and where in the window (0..1), as the intro's HEADS."""
CONTRAST_ROWS = 7  # spectral contrast rows at the default 6 bands (the last rows of the patch)

FEATURE_GROUPS = ("mfcc", "contrast", "level_and_shape", "rhythm_and_repetition", "chroma", "position")
"""Groups that ablations switch off (their inputs set to zero): which of the design's features earn their place."""

GROUP_ROWS = {
    "level_and_shape": ("rms", "centroid", "bandwidth", "flatness"),
    "rhythm_and_repetition": (
        "onset",
        "tempo_local",
        "beats",
        "tempo_bpm",
        "beat_interval_cv",
        "repetition",
        "repetition_mean",
    ),
    "position": ("position",),
}


@dataclass(frozen=True)
class InputOptions:
    """How features become model inputs. Saved in the model file: inference rebuilds inputs the same way."""

    frame_rate_hz: float = 8.0
    """Model frames per second (feature frames averaged into 125 ms bins): 8× coarser than the boundary target
    of 1 s is still fine enough, and it makes a 5 s step 40 frames, a whole number after the CNN's three 2×
    poolings (the frame-rate sweep in docs/MODEL.md)."""
    window_length_s: float = 10.0
    window_step_s: float = 5.0
    span_s: float = DEFAULT_WINDOW_S
    """Analysis span the windows cover (the position input is relative to it)."""
    drop: tuple[str, ...] = ()
    """Feature groups zeroed (ablations)."""

    def __post_init__(self) -> None:
        WindowOptions(self.window_length_s, self.window_step_s)
        if abs(self.window_length_s - 2 * self.window_step_s) > 1e-9:
            raise SettingsError(
                "the network cuts windows from 50 %-overlapping halves: the window length must be "
                f"twice the step (got {self.window_length_s} s and {self.window_step_s} s)"
            )
        frames = self.window_step_s * self.frame_rate_hz
        if abs(frames - round(frames)) > 1e-6 or round(frames) % 8:
            raise SettingsError(
                f"a step of {self.window_step_s} s at {self.frame_rate_hz} frames/s is {frames:g} "
                "frames; it must be a whole multiple of 8 (three 2× poolings)"
            )
        unknown = set(self.drop) - set(FEATURE_GROUPS)
        if unknown:
            raise SettingsError(f"unknown feature group(s) {sorted(unknown)}; known: {', '.join(FEATURE_GROUPS)}")

    @property
    def windows(self) -> WindowOptions:
        return WindowOptions(self.window_length_s, self.window_step_s)

    @property
    def step_frames(self) -> int:
        return round(self.window_step_s * self.frame_rate_hz)

    def to_json(self) -> dict:
        return {**asdict(self), "drop": list(self.drop)}

    @classmethod
    def from_json(cls, data: dict) -> InputOptions:
        return cls(**{**data, "drop": tuple(data.get("drop", ()))})


@dataclass(frozen=True)
class EpisodeInputs:
    """One episode's model inputs (and targets when labelled). The frame matrices cover T + 1 steps: window w
    is steps w and w + 1."""

    id: str
    patch: np.ndarray  # (patch_rows, (T + 1) * step_frames) float32
    series: np.ndarray  # (series_rows, (T + 1) * step_frames) float32
    extra: np.ndarray  # (T, len(EXTRA)) float32
    start_s: np.ndarray  # (T,) window starts, seconds (in the episode's time, a tail's too)
    duration_s: float
    targets: dict[str, np.ndarray] | None = None
    end_s: float | None = None
    """For a tail (``tail_inputs``): the episode's end, from which its windows' positions count; None: a head."""

    @property
    def n_windows(self) -> int:
        return int(self.start_s.size)


def resample_frames(matrix: np.ndarray, frame_rate: float, target_hz: float, n_out: int) -> np.ndarray:
    """Mean of the feature frames whose time falls in each 1/target_hz bin: (rows, n) → (rows, n_out); bins past
    the audio are zero."""
    rows, n = matrix.shape
    edges = np.minimum(np.ceil(np.arange(n_out + 1) * frame_rate / target_hz - 1e-9).astype(np.int64), n)
    counts = np.diff(edges)
    running = np.zeros((rows, n + 1), dtype=np.float64)
    np.cumsum(matrix, axis=1, dtype=np.float64, out=running[:, 1:])
    sums = running[:, edges[1:]] - running[:, edges[:-1]]
    return np.where(counts > 0, sums / np.maximum(counts, 1), 0.0).astype(np.float32)


def frame_matrices(features: EpisodeFeatures) -> tuple[np.ndarray, np.ndarray]:
    """(patch rows, series rows) over the episode's frames, before resampling and normalisation.

    Level-dependent rows are made relative to the episode (its median removed): a broadcast's overall level
    and a release's volume change say nothing about where its intro is; the intro standing out from the rest
    of its own episode does.
    """
    f = features.frames
    mfcc = f["mfcc"].astype(np.float32).copy()
    mfcc[0] -= np.median(mfcc[0])
    patch = np.vstack([mfcc, f["contrast"]]).astype(np.float32)
    rms_db = power_to_db(np.asarray(f["rms"], dtype=np.float64) ** 2, top_db=80.0)
    rms_db -= np.median(rms_db)
    series = np.vstack(
        [
            rms_db,
            np.log1p(f["centroid"]),
            np.log1p(f["bandwidth"]),
            np.log10(np.maximum(f["flatness"], 1e-6)),
            f["onset"],
            f["tempo_local"] / 120.0,
            f["beats"],
            f["repetition"],
            f["chroma"],
        ]
    ).astype(np.float32)
    return patch, series


def _windowed(
    features: EpisodeFeatures, duration_s: float, options: InputOptions, start_s: float, end_s: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(patch, series, extra, window starts) of the first ``duration_s`` of ``features``, whose frame 0 lies at
    ``start_s`` in the episode (window starts in the episode's time; ``end_s``: the episode's end, from which a
    tail's positions count, ``window_extra``)."""
    grid = window_grid(duration_s, options.frame_rate_hz, options.windows)
    n_frames = (grid.start_s.size + 1) * options.step_frames
    rate = features.options.frame_rate
    keep = math.ceil(duration_s * rate)
    patch_frames, series_frames = frame_matrices(features)
    patch = resample_frames(patch_frames[:, :keep], rate, options.frame_rate_hz, n_frames)
    series = resample_frames(series_frames[:, :keep], rate, options.frame_rate_hz, n_frames)
    starts = grid.start_s + start_s
    extra = window_extra(series, starts, options, math.ceil(duration_s * options.frame_rate_hz), end_s)
    return patch, series, extra, starts


def episode_inputs(
    episode_id: str,
    features: EpisodeFeatures,
    options: InputOptions,
    intro: Segment | None = None,
    labelled: bool = False,
    parts: PartTruth | None = None,
) -> EpisodeInputs:
    """Cut one episode's features into the model's windows (targets when ``labelled``; ``parts``: what the label
    says of every kind, for the kinds head's targets)."""
    duration = min(features.duration_s, options.span_s)
    patch, series, extra, starts = _windowed(features, duration, options, 0.0, None)
    targets = all_targets(starts, options.window_length_s, intro, parts) if labelled else None
    return EpisodeInputs(episode_id, patch, series, extra, starts, duration, targets)


def tail_inputs(
    episode_id: str,
    features: EpisodeFeatures,
    start_s: float,
    options: InputOptions,
    intro: Segment | None = None,
    labelled: bool = False,
    parts: PartTruth | None = None,
) -> EpisodeInputs:
    """The model's windows over an episode's tail: ``features`` of its last minutes, which begin ``start_s`` into
    the episode and run to its end. Window times are the episode's; positions count from its end."""
    duration = features.duration_s
    end = start_s + duration
    patch, series, extra, starts = _windowed(features, duration, options, start_s, end)
    targets = all_targets(starts, options.window_length_s, intro, parts) if labelled else None
    return EpisodeInputs(episode_id, patch, series, extra, starts, duration, targets, end)


@dataclass(frozen=True)
class PartTruth:
    """What a label says of each kind (KINDS but story): ``spans`` the parts it gives, ``stated`` the kinds it
    decides (a kind stated and absent from ``spans``: the episode has none)."""

    spans: tuple[tuple[str, Segment], ...] = ()
    stated: frozenset[str] = frozenset()

    @property
    def complete(self) -> bool:
        return self.stated >= set(KINDS[1:])


def kind_targets(start_s: np.ndarray, length_s: float, parts: PartTruth | None) -> dict[str, np.ndarray]:
    """``kind`` and ``kind_known`` of each window (the module's docstring): the centre rule, per kind; and per
    part kind (columns in PARTS order) the boundary targets as the intro's (``boundary_targets``), with
    ``part_known`` 1 in the column of every kind the label states (a kind stated and absent: no boundary in any
    window)."""
    n = start_s.size
    kind = np.zeros(n, np.int64)
    known = np.zeros(n, np.float32)
    bounds = {f"part_{k}": np.zeros((n, len(PARTS)), np.float32) for k in ("start_in", "end_in", "start_at", "end_at")}
    part_known = np.zeros((n, len(PARTS)), np.float32)
    out = {"kind": kind, "kind_known": known, "part_known": part_known, **bounds}
    if parts is None:
        return out
    for name, span in parts.spans:
        targets = boundary_targets(start_s, length_s, span)  # a part's targets are the intro's, for its span
        inside = targets.pop("label") > 0
        kind[inside] = KINDS.index(name)
        known[inside] = 1.0
        for key, target in targets.items():
            bounds[f"part_{key}"][:, PARTS.index(name)] = target
    for name in parts.stated:
        part_known[:, PARTS.index(name)] = 1.0
    if parts.complete:
        known[:] = 1.0
    return out


def all_targets(
    start_s: np.ndarray, length_s: float, intro: Segment | None, parts: PartTruth | None
) -> dict[str, np.ndarray]:
    """Every target of one episode's windows; ``intro_known`` (T,) 0 where the label says nothing of the intro
    (a row of other parts only: the intro's heads learn nothing from it)."""
    known = parts is None or "intro" in parts.stated
    return {
        **boundary_targets(start_s, length_s, intro),
        **kind_targets(start_s, length_s, parts),
        "intro_known": np.full(start_s.size, 1.0 if known else 0.0, np.float32),
    }


def window_extra(
    series: np.ndarray, start_s: np.ndarray, options: InputOptions, audio_frames: int, end_s: float | None = None
) -> np.ndarray:
    """The design's per-window measures (median local tempo, beat-interval variation, mean repetition), from
    the same resampled series the network sees, and the window's position: in the analysis span (a head,
    ``end_s`` None), or minus its distance to the episode's end at ``end_s`` (a tail), in span lengths."""
    extra = np.zeros((start_s.size, len(EXTRA)), dtype=np.float32)
    tempo_row, beats_row, rep_row = (SERIES_FEATURES.index(k) for k in ("tempo_local", "beats", "repetition"))
    for w in range(start_s.size):
        lo = w * options.step_frames  # the series' frames count from the first window's start
        hi = max(lo + 1, min(lo + 2 * options.step_frames, audio_frames))
        extra[w, 0] = np.median(series[tempo_row, lo:hi])
        cv = beat_interval_cv(np.flatnonzero(series[beats_row, lo:hi] > 0))
        extra[w, 1] = 0.0 if math.isnan(cv) else cv  # fewer than three beats: no variation to measure
        extra[w, 2] = series[rep_row, lo:hi].mean()
    centre = start_s + 0.5 * options.window_length_s
    extra[:, 3] = (centre if end_s is None else centre - end_s) / options.span_s
    return extra


def shifted(
    e: EpisodeInputs, frames: int, intro: Segment | None, options: InputOptions, parts: PartTruth | None = None
) -> EpisodeInputs:
    """The episode seen through windows that start ``frames`` model frames later (training augmentation: the
    same intro meets the window grid at another phase, so the boundary heads learn positions, not a grid)."""
    if frames <= 0:
        return e
    step = options.step_frames
    audio_frames = math.ceil(e.duration_s * options.frame_rate_hz) - frames
    patch, series = e.patch[:, frames:], e.series[:, frames:]
    n_windows = max(1, min(e.n_windows, patch.shape[1] // step - 1))
    n_frames = (n_windows + 1) * step
    patch, series = patch[:, :n_frames], series[:, :n_frames]
    start_s = e.start_s[:n_windows] + frames / options.frame_rate_hz
    extra = window_extra(series, start_s, options, audio_frames, e.end_s)
    targets = all_targets(start_s, options.window_length_s, intro, parts) if e.targets is not None else None
    return EpisodeInputs(e.id, patch, series, extra, start_s, e.duration_s, targets, e.end_s)


MASK_ROWS = 0.15
MASK_FRAMES_S = 8.0
"""A mask covers at most this share of the patch's feature rows, or at most this many seconds of frames (less
than a 10 s window: the window it falls in keeps some of its evidence)."""


def masked(e: EpisodeInputs, count: int, rng: np.random.Generator, frame_rate_hz: float | None = None) -> EpisodeInputs:
    """A normalised episode with ``count`` random bands of feature rows and ``count`` random spans of frames of
    its patch set to 0 (the mean): SpecAugment's frequency and time masking (training augmentation)."""
    if count <= 0:
        return e
    patch = e.patch.copy()
    rows, frames = patch.shape
    rate = frame_rate_hz if frame_rate_hz is not None else InputOptions().frame_rate_hz
    for _ in range(count):
        width = int(rng.integers(1, max(2, int(MASK_ROWS * rows) + 1)))
        first = int(rng.integers(0, max(1, rows - width + 1)))
        patch[first : first + width] = 0.0
        span = int(rng.integers(1, max(2, int(MASK_FRAMES_S * rate) + 1)))
        at = int(rng.integers(0, max(1, frames - span + 1)))
        patch[:, at : at + span] = 0.0
    return replace(e, patch=patch)


def boundary_targets(start_s: np.ndarray, length_s: float, intro: Segment | None) -> dict[str, np.ndarray]:
    """The training targets of one episode's windows (see the module's docstring)."""
    n = start_s.size
    end_s = start_s + length_s
    grid = WindowGrid(start_s, end_s, np.zeros(n, dtype=np.int64), 0)  # only the times matter to the centre rule
    label = window_labels(grid, intro).astype(np.int64)
    out = {
        "label": label,
        "start_in": np.zeros(n, np.float32),
        "end_in": np.zeros(n, np.float32),
        "start_at": np.zeros(n, np.float32),
        "end_at": np.zeros(n, np.float32),
    }
    if intro is not None:
        for name, t in (("start", intro.start_s), ("end", intro.end_s)):
            inside = (t >= start_s) & (t < end_s)
            out[f"{name}_in"] = inside.astype(np.float32)
            out[f"{name}_at"] = np.where(inside, (t - start_s) / length_s, 0.0).astype(np.float32)
    return out


@dataclass(frozen=True)
class Normaliser:
    """Per-row mean and scale of the inputs, fitted on the training episodes (saved in the model file)."""

    patch_mean: np.ndarray
    patch_scale: np.ndarray
    series_mean: np.ndarray
    series_scale: np.ndarray
    extra_mean: np.ndarray
    extra_scale: np.ndarray

    @classmethod
    def fit(cls, episodes: list[EpisodeInputs]) -> Normaliser:
        def stats(arrays: list[np.ndarray], axes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
            stacked = np.concatenate(arrays, axis=0).astype(np.float64)
            mean = stacked.mean(axis=axes)
            scale = stacked.std(axis=axes)
            return mean.astype(np.float32), np.where(scale > 1e-6, scale, 1.0).astype(np.float32)

        pm, ps = stats([e.patch.T for e in episodes], (0,))
        sm, ss = stats([e.series.T for e in episodes], (0,))
        em, es = stats([e.extra for e in episodes], (0,))
        return cls(pm, ps, sm, ss, em, es)

    def apply(self, e: EpisodeInputs, drop: tuple[str, ...] = ()) -> EpisodeInputs:
        patch = (e.patch - self.patch_mean[:, None]) / self.patch_scale[:, None]
        series = (e.series - self.series_mean[:, None]) / self.series_scale[:, None]
        extra = (e.extra - self.extra_mean) / self.extra_scale
        n_mfcc = patch.shape[0] - CONTRAST_ROWS
        for group in drop:  # an ablation: the group's inputs carry nothing (their mean after normalisation)
            if group == "mfcc":
                patch[:n_mfcc] = 0.0
            elif group == "contrast":
                patch[n_mfcc:] = 0.0
            elif group == "chroma":
                series[len(SERIES_FEATURES) - 1 :] = 0.0
            else:
                for row in GROUP_ROWS[group]:
                    if row in SERIES_FEATURES:
                        series[SERIES_FEATURES.index(row)] = 0.0
                    if row in EXTRA:
                        extra[:, EXTRA.index(row)] = 0.0
        return EpisodeInputs(
            e.id,
            patch.astype(np.float32),
            series.astype(np.float32),
            extra.astype(np.float32),
            e.start_s,
            e.duration_s,
            e.targets,
            e.end_s,
        )

    def to_json(self) -> dict:
        return {k: np.asarray(v).round(6).tolist() for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict) -> Normaliser:
        return cls(**{k: np.asarray(v, dtype=np.float32) for k, v in data.items()})
