"""Classification windows over an episode's frames (the design's 10 s windows with a 5 s step).

A window is labelled intro (1) when its centre lies inside the labelled intro [start, end] (both ends
included); an episode with an explicit "no intro" label has only 0 windows; without a label, windows get -1.
Per-frame targets (1 where the frame's centre time lies inside the intro) come alongside for models that
refine boundaries to frame precision.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_path
from .errors import FeatureFileError
from .features.episode import EpisodeFeatures
from .features.rhythm import beat_interval_cv
from .features.store import load_features
from .labels import LabelSet
from .manifest import Manifest
from .result import Failure
from .settings import WindowOptions
from .timecode import Segment

SERIES = ("rms", "centroid", "bandwidth", "flatness", "onset", "tempo_local", "beats", "repetition")
"""1-D frame series stacked into ``x_series`` in this order."""

WINDOW_SCALARS = ("tempo_bpm", "beat_interval_cv", "repetition_mean")
"""Scalars computed over each window: median local tempo, beat-interval variation (0 with fewer than three
beats), mean repetition."""

UNKNOWN = -1


@dataclass(frozen=True)
class WindowGrid:
    """Window start/end times in seconds and the frame index each window starts at."""

    start_s: np.ndarray
    end_s: np.ndarray
    first_frame: np.ndarray
    frames_per_window: int


def window_grid(duration_s: float, frame_rate: float, options: WindowOptions | None = None) -> WindowGrid:
    """Windows of ``options.length_s`` every ``options.step_s`` that lie inside the audio.

    Audio shorter than one window still gets one window (zero-padded past the end).
    """
    options = options or WindowOptions()
    if duration_s >= options.length_s:
        count = math.floor((duration_s - options.length_s) / options.step_s + 1e-9) + 1
    else:
        count = 1
    start = np.arange(count) * options.step_s
    return WindowGrid(
        start_s=start,
        end_s=start + options.length_s,
        first_frame=np.round(start * frame_rate).astype(np.int64),
        frames_per_window=int(round(options.length_s * frame_rate)),
    )


def window_labels(grid: WindowGrid, intro: Segment | None) -> np.ndarray:
    """1 where the window's centre lies in ``intro`` (inclusive), else 0; all 0 for no intro."""
    if intro is None:
        return np.zeros(grid.start_s.size, dtype=np.int8)
    centre = 0.5 * (grid.start_s + grid.end_s)
    return ((centre >= intro.start_s) & (centre <= intro.end_s)).astype(np.int8)


def frame_targets(n_frames: int, frame_rate: float, intro: Segment | None) -> np.ndarray:
    """Per-frame 0/1: 1 where the frame's centre time lies inside ``intro``."""
    if intro is None:
        return np.zeros(n_frames, dtype=np.float32)
    times = np.arange(n_frames) / frame_rate
    return ((times >= intro.start_s) & (times <= intro.end_s)).astype(np.float32)


def slice_windows(matrix: np.ndarray, grid: WindowGrid) -> np.ndarray:
    """(rows, n_frames) → (n_windows, rows, frames_per_window), zero-padded past the last frame."""
    rows, n = matrix.shape
    width = grid.frames_per_window
    need = int(grid.first_frame[-1]) + width if grid.first_frame.size else 0
    padded = np.zeros((rows, max(n, need)), dtype=matrix.dtype)
    padded[:, :n] = matrix
    index = grid.first_frame[:, None] + np.arange(width)[None, :]
    return np.ascontiguousarray(padded[:, index].transpose(1, 0, 2))


@dataclass(frozen=True)
class EpisodeWindows:
    """All windows of one episode, as arrays ready for a model."""

    episode_id: str
    x: dict[str, np.ndarray]  # name → (n_windows, rows, frames_per_window)
    scalars: np.ndarray  # (n_windows, len(WINDOW_SCALARS))
    label: np.ndarray  # (n_windows,) int8: 1 intro, 0 not, -1 unknown
    frame_target: np.ndarray  # (n_windows, frames_per_window) float32, NaN where unknown
    valid_frames: np.ndarray  # (n_windows,) frames that hold audio (the rest is padding)
    start_s: np.ndarray
    end_s: np.ndarray


def episode_windows(
    episode_id: str,
    features: EpisodeFeatures,
    intro: Segment | None,
    labelled: bool,
    options: WindowOptions | None = None,
) -> EpisodeWindows:
    """Cut one episode's features into windows with labels (``labelled=False``: labels are -1)."""
    options = options or WindowOptions()
    rate = features.options.frame_rate
    grid = window_grid(features.duration_s, rate, options)
    n = features.n_frames
    x = {
        "mfcc": slice_windows(features.frames["mfcc"], grid),
        "contrast": slice_windows(features.frames["contrast"], grid),
        "chroma": slice_windows(features.frames["chroma"], grid),
        "series": slice_windows(features.matrix(list(SERIES)), grid),
    }
    valid = np.clip(n - grid.first_frame, 0, grid.frames_per_window)
    series = x["series"]
    tempo_idx, beats_idx, rep_idx = SERIES.index("tempo_local"), SERIES.index("beats"), SERIES.index("repetition")
    scalars = np.zeros((grid.start_s.size, len(WINDOW_SCALARS)), dtype=np.float32)
    for w in range(grid.start_s.size):
        m = int(valid[w]) or 1
        scalars[w, 0] = np.median(series[w, tempo_idx, :m])
        cv = beat_interval_cv(np.flatnonzero(series[w, beats_idx, :m] > 0.5))
        scalars[w, 1] = 0.0 if math.isnan(cv) else cv  # fewer than 3 beats: no variation to measure
        scalars[w, 2] = series[w, rep_idx, :m].mean()
    if labelled:
        label = window_labels(grid, intro)
        targets = slice_windows(frame_targets(n, rate, intro)[None, :], grid)[:, 0, :]
    else:
        label = np.full(grid.start_s.size, UNKNOWN, dtype=np.int8)
        targets = np.full((grid.start_s.size, grid.frames_per_window), np.nan, dtype=np.float32)
    return EpisodeWindows(episode_id, x, scalars, label, targets, valid, grid.start_s, grid.end_s)


@dataclass
class WindowSet:
    """Windows of many episodes, concatenated along the first axis, with the episode id of each row."""

    parts: list[EpisodeWindows] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (episode id, why)
    failed: list[Failure] = field(default_factory=list)

    def arrays(self) -> dict[str, np.ndarray]:
        if not self.parts:
            return {}
        out: dict[str, np.ndarray] = {
            f"x_{name}": np.concatenate([p.x[name] for p in self.parts]) for name in self.parts[0].x
        }
        out["window_scalars"] = np.concatenate([p.scalars for p in self.parts])
        out["label"] = np.concatenate([p.label for p in self.parts])
        out["frame_target"] = np.concatenate([p.frame_target for p in self.parts])
        out["valid_frames"] = np.concatenate([p.valid_frames for p in self.parts])
        out["start_s"] = np.concatenate([p.start_s for p in self.parts])
        out["end_s"] = np.concatenate([p.end_s for p in self.parts])
        out["episode_id"] = np.concatenate([np.full(p.label.size, p.episode_id) for p in self.parts])
        return out

    def summary(self) -> dict[str, Any]:
        labels = np.concatenate([p.label for p in self.parts]) if self.parts else np.zeros(0)
        return {
            "episodes": len(self.parts),
            "windows": int(labels.size),
            "intro_windows": int((labels == 1).sum()),
            "other_windows": int((labels == 0).sum()),
            "unlabelled_windows": int((labels == UNKNOWN).sum()),
            "skipped": [{"id": i, "why": w} for i, w in self.skipped],
            "failed": [{"file": f.path, "error": f.message} for f in self.failed],
        }


def feature_files(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """id → .npz of a feature folder, from its manifest (or, without one, every .npz in it)."""
    folder = Path(folder)
    manifest = Manifest(folder, "features")
    entries = manifest.load()
    if entries:
        found = {vid: manifest.output_path(e, "features") for vid, e in entries.items()}
        return {vid: p for vid, p in found.items() if p is not None}
    return {p.stem: p for p in sorted(folder.glob("*.npz"))}


def build_windows(
    features: dict[str, Path], labels: LabelSet | None, options: WindowOptions | None = None
) -> WindowSet:
    """Windows of every episode in ``features`` (id → .npz). With ``labels``, an episode whose label is
    missing or unusable is skipped and listed with the reason; without labels every window gets -1."""
    options = options or WindowOptions()
    result = WindowSet()
    for vid, path in sorted(features.items()):
        intro: Segment | None = None
        if labels is not None:
            label = labels.get(vid)
            if label is None:
                result.skipped.append((vid, "no label for this id"))
                continue
            if not label.usable:
                result.skipped.append((vid, f"label unusable ({', '.join(label.defects)})"))
                continue
            intro = label.segment
        try:
            feats = load_features(path)
        except FeatureFileError as exc:
            result.failed.append(Failure(str(path), str(exc)))
            continue
        result.parts.append(episode_windows(vid, feats, intro, labels is not None, options))
    return result


def save_windows(path: str | os.PathLike[str], window_set: WindowSet, options: WindowOptions) -> None:
    """Write the window arrays to one compressed .npz, atomically."""
    import json

    arrays = window_set.arrays()
    meta = {
        "length_s": options.length_s,
        "step_s": options.step_s,
        "series": list(SERIES),
        "window_scalars": list(WINDOW_SCALARS),
        **window_set.summary(),
    }
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, meta=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)
