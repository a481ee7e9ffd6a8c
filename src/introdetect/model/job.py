"""The training jobs behind ``introdetect train`` and ``introdetect cv`` (needs torch: the ``train`` extra).

labels + videos → features (cached by content, one decode each) → model inputs → fit → calibrate → export
(ONNX, checked against torch) → one model file with its record; cross-validation grouped by series.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis import ANALYSIS_TIME, analyse_episode
from ..atomic import write_json_atomic
from ..batch import features_many
from ..cache import EpisodeKey, cache_root
from ..errors import FeatureFileError, MediaError
from ..features.episode import EpisodeFeatures
from ..features.store import load_features, save_features
from ..grouping import labelled_videos, series_of
from ..labels import Label, LabelSet
from ..metrics import DETECTION_IOU, Evaluation, Truth, evaluate
from ..result import Detection, Failure, Method
from ..runner import ProgressHook
from ..settings import AudioOptions, FeatureOptions, digest
from ..timecode import Segment
from .decode import PRESENCE_THRESHOLD, Calibration, WindowOutputs, decode
from .file import ModelFile
from .inputs import (
    HEADS,
    KINDS,
    EpisodeInputs,
    InputOptions,
    Normaliser,
    PartTruth,
    episode_inputs,
    masked,
    shifted,
    tail_inputs,
)
from .network import NetworkDims, heads_of
from .train import FitResult, TrainOptions, fit, predict_raw

ONNX_OPSET = 17
ONNX_TOLERANCE = 1e-3
"""Largest difference between torch's and ONNX Runtime's raw outputs accepted at export (float32 logits)."""


def default_cache() -> Path:
    """Where training features are cached between runs (content-checked: size, mtime and settings)."""
    return cache_root() / "features"


@dataclass
class TrainingData:
    """Labelled episodes ready for the model (inputs not yet normalised), with their series."""

    episodes: list[EpisodeInputs] = field(default_factory=list)
    series: list[str] = field(default_factory=list)
    labels: dict[str, Label] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # labelled ids without a video
    failed: list[Failure] = field(default_factory=list)
    tails: list[EpisodeInputs] = field(default_factory=list)
    """The episodes' tails (``prepare(tails=True)``), for a kinds head: the windows of their last minutes, where
    the head does not reach them. Only where the episodes are also in ``episodes`` (same ids)."""
    variants: list[EpisodeInputs] = field(default_factory=list)
    """Other versions of episodes' heads (another release's sound: codec, EQ, noise, speed; see
    ``introdetect_eval.corpus.augment``), each id ``<episode id>~<n>`` with its own label in ``labels``: training
    sees an episode through one of its versions each epoch. Never used for early stopping or calibration."""

    def subset(self, keep: Sequence[int]) -> TrainingData:
        ids = {self.episodes[i].id for i in keep}
        return TrainingData(
            [self.episodes[i] for i in keep],
            [self.series[i] for i in keep],
            self.labels,
            tails=[t for t in self.tails if t.id in ids],
            variants=[v for v in self.variants if variant_of(v.id) in ids],
        )

    @classmethod
    def merged(cls, parts: Sequence[TrainingData]) -> TrainingData:
        """Several sets as one (their ids must differ: a bench script prefixes each corpus's)."""
        out = cls()
        for p in parts:
            out.episodes += p.episodes
            out.series += p.series
            out.labels.update(p.labels)
            out.tails += p.tails
            out.variants += p.variants
        return out


VARIANT_MARK = "~"
"""Joins an episode's id and its variant's number (``TrainingData.variants``)."""


def variant_of(variant_id: str) -> str:
    """The id of the episode a variant is a version of (the id itself for an episode)."""
    return variant_id.split(VARIANT_MARK, 1)[0]


def part_truth(label: Label) -> PartTruth:
    """What a label row says of every kind (``inputs.PartTruth``): its intro where it states one, its other parts."""
    spans: list[tuple[str, Segment]] = []
    stated = set()
    if label.intro_stated:
        stated.add("intro")
        if label.segment is not None:
            spans.append(("intro", label.segment))
    for kind, span in label.parts:
        stated.add(kind)
        if span is not None:
            spans.append((kind, span))
    return PartTruth(tuple(spans), frozenset(stated))


TAIL_FEATURES = "tail-features-1"
"""Version of the cached tail features below (in their key)."""


def tail_features_of(video: Path, audio: AudioOptions, cache: Path) -> tuple[EpisodeFeatures, float] | None:
    """The frame features of ``video``'s tail and where they begin (s), exactly as ``detect`` computes them (the
    tail's own decode, by a seek from the end: a feature with context, such as repetition, differs when cut from a
    longer decode); None where the head window holds the episode's end. Cached under ``cache``/tails by the file
    and the settings."""
    key = EpisodeKey.of(
        video, digest(TAIL_FEATURES, ANALYSIS_TIME, audio.settings_hash, audio.tail_s, FeatureOptions().settings_hash)
    ).digest[:32]
    folder = cache / "tails"
    stored, record = folder / f"{key}.npz", folder / f"{key}.json"
    if record.exists():
        start = json.loads(record.read_text()).get("start_s")
        if start is None:
            return None
        with contextlib.suppress(FeatureFileError):
            return load_features(stored), float(start)
    analysis = analyse_episode(video, audio, tail_features=True)
    found = None if analysis.print.reached_end else analysis.tail_features
    folder.mkdir(parents=True, exist_ok=True)
    if found is not None:
        save_features(stored, found)
    write_json_atomic(record, {"start_s": analysis.tail_start_s if found is not None else None})
    return (found, analysis.tail_start_s) if found is not None else None


def prepare(
    labels: LabelSet,
    videos: Sequence[Path],
    inputs: InputOptions | None = None,
    cache: Path | None = None,
    audio: AudioOptions | None = None,
    workers: int | None = None,
    progress: ProgressHook | None = None,
    features: FeatureOptions | None = None,
    tails: bool = False,
) -> TrainingData:
    """Features of every labelled video (computed once, then read from ``cache``) cut into model inputs
    (``features``: other feature settings than the defaults, for the hop sweep).

    Labels for "no intro" episodes are used (their windows are all negatives); unusable rows were already
    handled by the label policy when ``labels`` was read. With ``tails`` (a kinds head learns from them): each
    episode's tail windows too, where the head does not reach its end (``tail_features_of``: as ``detect``
    analyses it), and rows that label other parts only (they teach the kinds, not the intro).
    """
    inputs = inputs or InputOptions()
    audio = audio or AudioOptions(window_s=inputs.span_s)
    cache = cache or default_cache()
    data = TrainingData()
    pairs, data.missing = labelled_videos(labels, videos, no_intro=True, parts=tails)
    batch = features_many(
        [v for _, v in pairs], cache, features or FeatureOptions(), audio, workers=workers, progress=progress
    )
    data.failed = list(batch.failed)
    for label, video in pairs:
        try:
            features = load_features(cache / f"{label.id}.npz")  # features_many's naming: <id>.npz
        except FeatureFileError as exc:
            if not any(f.path == str(video) for f in data.failed):
                data.failed.append(Failure(str(video), str(exc)))
            continue
        parts = part_truth(label)
        data.episodes.append(episode_inputs(label.id, features, inputs, label.segment, True, parts))
        data.series.append(series_of(video, labels))
        data.labels[label.id] = label
        if not tails:
            continue
        try:
            found = tail_features_of(video, audio, cache)
        except MediaError as exc:
            data.failed.append(Failure(str(video), str(exc)))
            continue
        if found is not None:
            data.tails.append(tail_inputs(label.id, *found, inputs, label.segment, True, parts))
    return data


# --- figures --------------------------------------------------------------------------------------------------


def answers_of(
    raws: Sequence[np.ndarray],
    episodes: Sequence[EpisodeInputs],
    length_s: float,
    calibration: Calibration | None = None,
) -> tuple[dict[str, Detection], list[float], list[Any]]:
    """Each episode's answer (calibrated when given), its raw presence score and its best segment."""
    calibration = calibration or Calibration()
    answers, scores, best = {}, [], []
    for raw, e in zip(raws, episodes, strict=True):
        _, score, segment = decode(WindowOutputs.from_raw(raw, e.start_s, length_s), e.duration_s)
        presence = calibration(score)
        answers[e.id] = Detection.of_intro(
            e.id, segment if presence >= PRESENCE_THRESHOLD else None, presence, Method.MODEL
        )
        scores.append(score)
        best.append(segment)
    return answers, scores, best


def window_figures(raws: Sequence[np.ndarray], episodes: Sequence[EpisodeInputs]) -> dict[str, float]:
    """The design's window figures of the classifier head itself (centre rule, threshold 0.5)."""
    truth = np.concatenate([e.targets["label"] for e in episodes]).astype(bool)  # type: ignore[index]
    pred = np.concatenate([(r[:, 1] > r[:, 0]) for r in raws])
    tp, fp, fn = (truth & pred).sum(), (~truth & pred).sum(), (truth & ~pred).sum()
    return {"window_accuracy": float((truth == pred).mean()), "window_f1": float(2 * tp / max(2 * tp + fp + fn, 1))}


def truth_of(data: TrainingData, episodes: Sequence[EpisodeInputs]) -> dict[str, Truth]:
    """Truth answers; the window figures span each episode's analysed audio (``EpisodeInputs.duration_s``). A
    row that labels other parts only is left out of the intro's figures (``Truth.intro_stated``)."""
    return {
        e.id: Truth(data.labels[e.id].segment, duration_s=e.duration_s, intro_stated=data.labels[e.id].intro_stated)
        for e in episodes
    }


def summary(evaluation: Evaluation, windows: dict[str, float]) -> dict[str, float]:
    o = evaluation.overall
    return {
        **windows,
        "detection_f1": o.f1,
        "precision": o.precision,
        "recall": o.recall,
        "start_mae_s": o.start_mae_s,
        "end_mae_s": o.end_mae_s,
        "median_boundary_error_s": o.median_boundary_error_s,
        "within_1s": o.hits.get("±1s", math.nan),
        "false_intro_rate": o.false_intro_rate,
        "episodes": o.episodes,
    }


def fit_calibration(
    raws: Sequence[np.ndarray], episodes: Sequence[EpisodeInputs], data: TrainingData, length_s: float
) -> Calibration:
    """Platt scaling of the presence score: target = the best segment is the true intro (IoU ≥ 0.5)."""
    _, scores, best = answers_of(raws, episodes, length_s)
    right = []
    for e, segment in zip(episodes, best, strict=True):
        truth = data.labels[e.id].segment
        right.append(truth is not None and truth.iou(segment) >= DETECTION_IOU)
    return Calibration.fit(np.array(scores), np.array(right))


# --- one model ------------------------------------------------------------------------------------------------


def dims_for(episode: EpisodeInputs, inputs: InputOptions, **overrides: Any) -> NetworkDims:
    return NetworkDims(
        patch_rows=episode.patch.shape[0],
        series_rows=episode.series.shape[0],
        extra=episode.extra.shape[1],
        step_frames=inputs.step_frames,
        **overrides,
    )


def split_by_series(series: Sequence[str], share: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, held-out) indices with whole series held out (about ``share`` of the episodes)."""
    names = sorted(set(series))
    rng = np.random.default_rng(seed)
    rng.shuffle(names)
    held: set[str] = set()
    target = share * len(series)
    for name in names:
        if sum(s in held for s in series) >= target or len(held) >= len(names) - 1:
            break
        held.add(name)
    train = [i for i, s in enumerate(series) if s not in held]
    valid = [i for i, s in enumerate(series) if s in held]
    return train, valid


def export_onnx(fitted: FitResult, example: EpisodeInputs) -> bytes:
    """The network as ONNX (the window count is a dynamic axis), checked against torch on ``example``."""
    import warnings

    import onnxruntime as ort
    import torch

    net = fitted.net.eval()
    args = tuple(torch.from_numpy(a[None]) for a in (example.patch, example.series, example.extra))
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on batch size 1 with LSTMs: we export batch 1
        torch.onnx.export(
            net,
            args,
            buffer,
            input_names=["patch", "series", "extra"],
            output_names=["raw"],
            dynamic_axes={
                "patch": {2: "frames"},
                "series": {2: "frames"},
                "extra": {1: "windows"},
                "raw": {1: "windows"},
            },
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
    onnx = buffer.getvalue()
    session = ort.InferenceSession(onnx, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = net(*args).numpy()
    got = session.run(None, {"patch": args[0].numpy(), "series": args[1].numpy(), "extra": args[2].numpy()})[0]
    difference = float(np.abs(expected - got).max())
    if difference > ONNX_TOLERANCE:
        raise RuntimeError(f"ONNX export disagrees with torch by {difference:.2g} (> {ONNX_TOLERANCE})")
    return onnx


def label_statistics(data: TrainingData) -> dict[str, Any]:
    intros = [data.labels[e.id].segment for e in data.episodes]
    with_intro = [s for s in intros if s is not None]
    starts = np.array([s.start_s for s in with_intro]) if with_intro else np.zeros(0)
    lengths = np.array([s.duration_s for s in with_intro]) if with_intro else np.zeros(0)

    def q(a: np.ndarray) -> list[float]:
        return [round(float(v), 2) for v in np.percentile(a, [0, 25, 50, 75, 100])] if a.size else []

    return {
        "episodes": len(intros),
        "series": len(set(data.series)),
        "no_intro": len(intros) - len(with_intro),
        "start_s_quartiles": q(starts),
        "length_s_quartiles": q(lengths),
    }


def kind_figures(raws: Sequence[np.ndarray], episodes: Sequence[EpisodeInputs]) -> dict[str, float]:
    """The kinds head's window figures where the labels say the kind (``kind_known``): accuracy, and F1 of each
    kind but story (nan where no window is of it, none is said to be)."""
    known = np.concatenate([e.targets["kind_known"] for e in episodes]) > 0  # type: ignore[index]
    truth = np.concatenate([e.targets["kind"] for e in episodes])[known]  # type: ignore[index]
    pred = np.concatenate([r[:, len(HEADS) : len(HEADS) + len(KINDS)].argmax(axis=1) for r in raws])[known]
    out = {"kind_accuracy": float((truth == pred).mean()) if truth.size else math.nan}
    for k, name in enumerate(KINDS[1:], start=1):
        tp, fp, fn = (
            ((truth == k) & (pred == k)).sum(),
            ((truth != k) & (pred == k)).sum(),
            ((truth == k) & (pred != k)).sum(),
        )
        out[f"{name}_window_f1"] = float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else math.nan
    return out


def _validation(
    net: Any,
    sequences: Sequence[EpisodeInputs],
    labels: dict[str, Label],
    inputs: InputOptions,
    calibration: Calibration | None = None,
) -> tuple[Calibration, dict[str, float]]:
    """The intro's calibration, fitted on the heads whose labels state the intro (``calibration``: kept as given,
    the intro's heads being kept), and the validation figures: the intro's, and the kinds head's where the
    network has one."""
    figures: dict[str, float] = {}
    if not sequences:
        return calibration or Calibration(), figures
    lookup = TrainingData(labels=labels)
    raws = predict_raw(net, sequences)
    heads = [(r, e) for r, e in zip(raws, sequences, strict=True) if e.end_s is None and labels[e.id].intro_stated]
    if heads:
        head_raws, head_eps = [r for r, _ in heads], [e for _, e in heads]
        if calibration is None:
            calibration = fit_calibration(head_raws, head_eps, lookup, inputs.window_length_s)
        answers, _, _ = answers_of(head_raws, head_eps, inputs.window_length_s, calibration)
        figures = summary(
            evaluate(answers, truth_of(lookup, head_eps), inputs.span_s), window_figures(head_raws, head_eps)
        )
    if net.dims.kinds:
        figures.update(kind_figures(raws, sequences))
    return calibration or Calibration(), figures


def fit_record(
    options: TrainOptions, fitted: FitResult, train: TrainingData, valid: TrainingData, source: dict[str, Any] | None
) -> dict[str, Any]:
    """What a model file records of one fit: its options, curve, series and machine."""
    return {
        "options": options.to_json(),
        "best_epoch": fitted.best_epoch,
        "seconds": round(fitted.seconds, 1),
        "history": fitted.history,
        "train_series": sorted(set(train.series)),
        "valid_series": sorted(set(valid.series)),
        **({"variants": len(train.variants)} if train.variants else {}),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "source": source or {},
    }


@dataclass(frozen=True)
class TrainReport:
    model: ModelFile
    fitted: FitResult
    validation: dict[str, float]
    held_out_series: list[str]


def train_model(
    data: TrainingData,
    inputs: InputOptions | None = None,
    options: TrainOptions | None = None,
    valid_share: float = 0.2,
    valid: TrainingData | None = None,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
    init: Any = None,
    source: dict[str, Any] | None = None,
    **dims: Any,
) -> TrainReport:
    """Fit, calibrate and export one model. Early stopping and calibration use ``valid`` when given, else
    whole series held out of ``data`` (``valid_share`` of the episodes)."""
    import torch

    inputs = inputs or InputOptions()
    options = options or TrainOptions()
    if not data.episodes:
        raise ValueError("no labelled episodes with features to train on")
    if valid is None:
        train_idx, valid_idx = split_by_series(data.series, valid_share, options.seed)
        train_data, valid_data = data.subset(train_idx), data.subset(valid_idx)
    else:
        train_data, valid_data = data, valid
    sequences = [*train_data.episodes, *train_data.tails]  # a tail is a sequence of its own
    normaliser = Normaliser.fit(sequences)
    train_eps = [normaliser.apply(e, inputs.drop) for e in sequences]
    valid_eps = [normaliser.apply(e, inputs.drop) for e in [*valid_data.episodes, *valid_data.tails]]
    net_dims = dims_for(train_eps[0], inputs, **dims)
    augment = None
    versions: dict[str, list[EpisodeInputs]] = {}
    for v in train_data.variants:
        versions.setdefault(variant_of(v.id), []).append(v)
    if options.shift or options.masks or versions:

        def truth(e: EpisodeInputs) -> tuple[Segment | None, PartTruth]:
            return train_data.labels[e.id].segment, part_truth(train_data.labels[e.id])

        # each epoch an episode is itself or one of its versions, drawn uniformly; a tail has none (they are heads')
        choices = [
            [e, *(versions.get(e.id, []) if k < len(train_data.episodes) else [])] for k, e in enumerate(sequences)
        ]

        def augment(i: int, rng: np.random.Generator) -> EpisodeInputs:
            drawn = choices[i]
            view = drawn[int(rng.integers(len(drawn)))] if len(drawn) > 1 else drawn[0]
            if options.shift:
                intro, parts = truth(view)
                view = shifted(view, int(rng.integers(inputs.step_frames)), intro, inputs, parts)
            view = normaliser.apply(view, inputs.drop)
            return masked(view, options.masks, rng) if options.masks else view

    fitted = fit(train_eps, valid_eps, net_dims, options, on_epoch, init, augment)
    labels = {**data.labels, **valid_data.labels}
    calibration, figures = _validation(fitted.net, valid_eps, labels, inputs)
    onnx = export_onnx(fitted, train_eps[0])
    weights = io.BytesIO()
    torch.save(fitted.net.state_dict(), weights)
    meta = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "heads": list(heads_of(net_dims)),
        "dims": net_dims.to_json(),
        "inputs": inputs.to_json(),
        "features": {"options": asdict(FeatureOptions()), "settings_hash": FeatureOptions().settings_hash},
        "normaliser": normaliser.to_json(),
        "calibration": asdict(calibration),
        "label_statistics": label_statistics(train_data),
        "training": fit_record(options, fitted, train_data, valid_data, source),
        "validation": figures,
    }
    model = ModelFile(meta, onnx, weights.getvalue())
    return TrainReport(model, fitted, figures, sorted(set(valid_data.series)))


def _same_intro(old: bytes, new: bytes, example: EpisodeInputs) -> None:
    """Raise unless two graphs give ``example`` the same intro channels (within ONNX_TOLERANCE)."""
    import onnxruntime as ort

    feed = {"patch": example.patch[None], "series": example.series[None], "extra": example.extra[None]}
    before = ort.InferenceSession(old, providers=["CPUExecutionProvider"]).run(None, feed)[0]
    after = ort.InferenceSession(new, providers=["CPUExecutionProvider"]).run(None, feed)[0][..., : len(HEADS)]
    difference = float(np.abs(before - after).max())
    if difference > ONNX_TOLERANCE:
        raise RuntimeError(f"the intro's outputs moved by {difference:.2g} when the kinds head was added")


def add_kinds_head(
    model: ModelFile,
    data: TrainingData,
    valid: TrainingData,
    options: TrainOptions | None = None,
    source: dict[str, Any] | None = None,
) -> TrainReport:
    """``model`` with a kinds head trained on ``data`` (early stopping on ``valid``), every other weight, its
    normalisation and its calibration kept: its intro answers stay what they were (the new graph's intro channels
    are checked against the old graph's on an episode), and the head reads what the trained network already
    sees. ``data`` and ``valid`` come from ``prepare(tails=True)``."""
    import torch

    options = replace(options or TrainOptions(), freeze=True, shift=False, masks=0)
    inputs = InputOptions.from_json(model.meta["inputs"])
    normaliser = Normaliser.from_json(model.meta["normaliser"])
    old = network_of(model)
    if old.dims.kinds:
        raise ValueError("the model already has a kinds head")
    dims = replace(old.dims, kinds=True)
    from .network import IntroNet

    net = IntroNet(dims)
    missing, unexpected = net.load_state_dict(old.state_dict(), strict=False)
    if unexpected or any(not k.startswith("kind.") for k in missing):
        raise ValueError(f"the model's weights do not fit a kinds head beside them ({missing}, {unexpected})")
    train_eps = [normaliser.apply(e, inputs.drop) for e in [*data.episodes, *data.tails]]
    valid_eps = [normaliser.apply(e, inputs.drop) for e in [*valid.episodes, *valid.tails]]
    fitted = fit(train_eps, valid_eps, dims, options, init=net)
    calibration = Calibration(**model.meta.get("calibration", {}))
    _, figures = _validation(fitted.net, valid_eps, {**data.labels, **valid.labels}, inputs, calibration)
    onnx = export_onnx(fitted, train_eps[0])
    _same_intro(model.onnx, onnx, train_eps[0])
    weights = io.BytesIO()
    torch.save(fitted.net.state_dict(), weights)
    meta = {
        **model.meta,
        "heads": list(heads_of(dims)),
        "dims": dims.to_json(),
        "kinds": {
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            **fit_record(options, fitted, data, valid, source),
            "episodes": {"train": len(data.episodes), "tails": len(data.tails), "valid": len(valid.episodes)},
            "validation": figures,
        },
    }
    return TrainReport(ModelFile(meta, onnx, weights.getvalue()), fitted, figures, sorted(set(valid.series)))


# --- cross-validation -----------------------------------------------------------------------------------------


def series_folds(series: Sequence[str], folds: int, seed: int = 0) -> list[list[int]]:
    """Indices of each fold's held-out episodes: whole series, no series in two folds (GroupKFold, shuffled)."""
    names = sorted(set(series))
    if len(names) < folds:
        raise ValueError(f"{folds}-fold cross-validation needs at least {folds} series; the labels have {len(names)}")
    rng = np.random.default_rng(seed)
    rng.shuffle(names)
    # greedy: largest series first into the fold with the fewest episodes (balanced folds)
    sizes = {n: sum(s == n for s in series) for n in names}
    fold_of: dict[str, int] = {}
    load = [0] * folds
    for name in sorted(names, key=lambda n: -sizes[n]):
        k = int(np.argmin(load))
        fold_of[name] = k
        load[k] += sizes[name]
    return [[i for i, s in enumerate(series) if fold_of[s] == k] for k in range(folds)]


def cross_validate(
    data: TrainingData,
    folds: int,
    inputs: InputOptions | None = None,
    options: TrainOptions | None = None,
    on_fold: Callable[[int, dict[str, float]], None] | None = None,
    **dims: Any,
) -> dict[str, Any]:
    """K-fold by series: train on K−1 folds (early stopping on a series held out of them), score the K-th."""
    inputs = inputs or InputOptions()
    options = options or TrainOptions()
    per_fold = []
    began = time.perf_counter()
    for k, held in enumerate(series_folds(data.series, folds, options.seed)):
        rest = [i for i in range(len(data.episodes)) if i not in set(held)]
        report = train_model(data.subset(rest), inputs, replace(options, seed=options.seed + k), **dims)
        normaliser = Normaliser.from_json(report.model.meta["normaliser"])
        test_eps = [normaliser.apply(data.episodes[i], inputs.drop) for i in held]
        raws = predict_raw(report.fitted.net, test_eps)
        calibration = Calibration(**report.model.meta["calibration"])
        answers, _, _ = answers_of(raws, test_eps, inputs.window_length_s, calibration)
        figures = summary(evaluate(answers, truth_of(data, test_eps), inputs.span_s), window_figures(raws, test_eps))
        figures["best_epoch"] = report.fitted.best_epoch
        per_fold.append(figures)
        if on_fold:
            on_fold(k, figures)
    keys = [k for k in per_fold[0] if isinstance(per_fold[0][k], (int, float))]

    def over_folds(k: str, statistic: Callable[[np.ndarray], float]) -> float:
        values = np.array([f[k] for f in per_fold], dtype=np.float64)
        values = values[np.isfinite(values)]  # a figure undefined in a fold (no no-intro episode) is left out
        return float(statistic(values)) if values.size else math.nan

    mean = {k: over_folds(k, np.mean) for k in keys}
    std = {k: over_folds(k, np.std) for k in keys}
    return {
        "folds": per_fold,
        "mean": mean,
        "std": std,
        "seconds": round(time.perf_counter() - began, 1),
        "inputs": inputs.to_json(),
        "options": options.to_json(),
        "dims": dims,
    }


def plot_history(history: list[dict[str, float]], path: Path, title: str) -> None:
    """The training curve (train and validation loss, learning rate) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..atomic import atomic_path

    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    ax.plot(epochs, [h["train_loss"] for h in history], label="train loss")
    ax.plot(epochs, [h["val_loss"] for h in history], label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    best = int(np.argmin([h["val_loss"] for h in history]))
    ax.axvline(epochs[best], color="grey", ls="--", lw=1, label=f"kept: epoch {epochs[best]}")
    lr = ax.twinx()
    lr.step(epochs, [h["lr"] for h in history], color="tab:green", alpha=0.5, where="post", label="learning rate")
    lr.set_ylabel("learning rate")
    lr.set_yscale("log")
    lines = ax.get_legend_handles_labels()
    more = lr.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper right", fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(path, suffix=".png", durable=False) as tmp:
        fig.savefig(tmp)
    plt.close(fig)


# --- fine-tuning on reviewed labels ------------------------------------------------------------------------------

FINETUNE_LR = 1e-4
"""A tenth of training's: the reviewed episodes adjust the model, they do not retrain it."""

FINETUNE_EPOCHS = 10

RETRAIN_MIN_EPISODES = 30
"""Reviewed episodes from which retraining from scratch is also tried by default: with fewer, a model trained
on them alone cannot match one trained on a corpus (the CV on ~16 series scores below the shipped model)."""


def retrain_by_default(reviewed: TrainingData, base: TrainingData | None) -> bool:
    """Whether ``finetune`` also retrains from scratch when not told: with the original training data, or from
    RETRAIN_MIN_EPISODES reviewed episodes."""
    return base is not None or len(reviewed.episodes) >= RETRAIN_MIN_EPISODES


def _figure(scores: dict[str, float], name: str) -> float:
    """A figure, nan where there is none (no held-out episode states the intro, or the network has no kinds head)."""
    return float(scores.get(name, math.nan))


def _rank(scores: dict[str, float]) -> tuple[float, float, float]:
    """Higher is better: detection F1, then the median boundary error (lower), then the kinds' window accuracy
    (a kinds head); unknown counts worst."""
    f1, error, kinds = (_figure(scores, k) for k in ("detection_f1", "median_boundary_error_s", "kind_accuracy"))
    return (
        f1 if math.isfinite(f1) else -math.inf,
        -error if math.isfinite(error) else -math.inf,
        kinds if math.isfinite(kinds) else -math.inf,
    )


def _better(a: dict[str, float], b: dict[str, float]) -> bool:
    """``a`` is at least as good as ``b``: detection F1 at least as high, and where equal, boundaries no worse, and
    the kinds' window accuracy no lower (figures either lacks are not compared)."""
    fa, fb = _figure(a, "detection_f1"), _figure(b, "detection_f1")
    if math.isfinite(fa) and math.isfinite(fb) and fa != fb:
        return fa > fb
    for name, lower in (("median_boundary_error_s", True), ("kind_accuracy", False)):
        va, vb = _figure(a, name), _figure(b, name)
        if math.isfinite(va) and math.isfinite(vb) and (va > vb if lower else va < vb):
            return False
    return True


@dataclass(frozen=True)
class FinetuneReport:
    model: ModelFile
    before: dict[str, float]
    after: dict[str, float]
    held_out: list[str]
    chosen: str = "finetuned"
    """Which candidate ``model`` is: "finetuned" (the old weights adjusted) or "retrained" (from scratch)."""
    candidates: dict[str, dict[str, float]] = field(default_factory=dict)
    """Every candidate's figures on the held-out episodes."""

    @property
    def improved(self) -> bool:
        """Not worse on the held-out episodes than the model was."""
        return _better(self.after, self.before)


def network_of(model: ModelFile):  # noqa: ANN201 - IntroNet (torch)
    """The torch network stored in a model file (its weights.pt)."""
    import torch

    from .file import ModelFileError
    from .network import IntroNet

    if model.weights is None:
        raise ModelFileError("the model file holds no torch weights (an inference-only file): it cannot be fine-tuned")
    net = IntroNet(NetworkDims.from_json(model.meta["dims"]))
    net.load_state_dict(torch.load(io.BytesIO(model.weights)))
    return net.eval()


def finetune(
    model: ModelFile,
    data: TrainingData,
    options: TrainOptions | None = None,
    held_share: float = 0.25,
    base: TrainingData | None = None,
    retrain: TrainOptions | None = None,
) -> FinetuneReport:
    """Fine-tune ``model`` on reviewed episodes: a quarter of them (whole series where there are several)
    held out to compare before and after; the inputs keep the model's normalisation and calibration.

    With ``retrain`` (training options), a second candidate is trained from scratch, with the model's inputs
    and network shape, on the reviewed episodes not held out plus ``base`` (the original training data, where
    the user has it; a reviewed label replaces a base label of the same episode); the candidate better on the
    held-out episodes is kept. Fine-tuning suits a few corrections; retraining, once the corrections are many
    or differ from what the model learnt."""
    import torch

    options = options or TrainOptions(lr=FINETUNE_LR, epochs=FINETUNE_EPOCHS)
    inputs = InputOptions.from_json(model.meta["inputs"])
    if len(set(data.series)) >= 2:
        train_idx, held_idx = split_by_series(data.series, held_share, options.seed)
    else:  # one series: hold out episodes
        order = np.random.default_rng(options.seed).permutation(len(data.episodes))
        cut = max(1, round(held_share * len(order)))
        held_idx, train_idx = sorted(order[:cut].tolist()), sorted(order[cut:].tolist())
    if not train_idx or not held_idx:
        raise ValueError("fine-tuning needs at least two reviewed episodes (one to learn from, one to check)")
    held = data.subset(held_idx)

    def figures(candidate: ModelFile, network: Any = None) -> dict[str, float]:
        normaliser = Normaliser.from_json(candidate.meta["normaliser"])
        calibration = Calibration(**candidate.meta.get("calibration", {}))
        episodes = [normaliser.apply(e, inputs.drop) for e in [*held.episodes, *held.tails]]
        net = network if network is not None else network_of(candidate)
        return _validation(net, episodes, data.labels, inputs, calibration)[1]

    net = network_of(model)
    before = figures(model, net)
    normaliser = Normaliser.from_json(model.meta["normaliser"])
    learn = data.subset(train_idx)
    train_eps = [normaliser.apply(e, inputs.drop) for e in [*learn.episodes, *learn.tails]]
    fitted = fit(train_eps, [], net.dims, options, init=net)
    weights = io.BytesIO()
    torch.save(fitted.net.state_dict(), weights)
    record = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "episodes": len(train_idx),
        "held_out": len(held_idx),
        "before": before,
        "options": options.to_json(),
    }
    tuned = ModelFile(model.meta, export_onnx(fitted, train_eps[0]), weights.getvalue())
    candidates = {"finetuned": (tuned, figures(tuned, fitted.net))}
    if retrain is not None:
        reviewed = data.subset(train_idx)
        pool = _merged(base, reviewed) if base is not None else reviewed
        dims = NetworkDims.from_json(model.meta["dims"])
        shape = {
            k: getattr(dims, k)
            for k in ("channels", "series_channels", "embedding", "lstm_units", "bidirectional", "dropout", "kinds")
        }
        fresh = train_model(pool, inputs, retrain, source={"retrained_on": len(pool.episodes)}, **shape).model
        candidates["retrained"] = (fresh, figures(fresh))
        record["retrain_options"] = retrain.to_json()
        record["retrained_on"] = len(pool.episodes)
    chosen = max(candidates, key=lambda name: _rank(candidates[name][1]))  # ties: the fine-tuned (first)
    best, after = candidates[chosen]
    history = list(model.meta.get("finetuned", []))
    history.append(
        {
            **record,
            "after": after,
            "chosen": chosen,
            "candidates": {name: scores for name, (_, scores) in candidates.items()},
        }
    )
    kept = ModelFile({**best.meta, "finetuned": history}, best.onnx, best.weights)
    return FinetuneReport(
        kept,
        before,
        after,
        [e.id for e in held.episodes],
        chosen,
        {name: scores for name, (_, scores) in candidates.items()},
    )


def _merged(base: TrainingData, reviewed: TrainingData) -> TrainingData:
    """``base`` with ``reviewed`` added; a reviewed episode replaces the base's episode of the same id."""
    ids = {e.id for e in reviewed.episodes}
    keep = [i for i, e in enumerate(base.episodes) if e.id not in ids]
    kept = base.subset(keep)
    return TrainingData(
        [*kept.episodes, *reviewed.episodes], [*kept.series, *reviewed.series], {**kept.labels, **reviewed.labels}
    )
