"""Scoring predictions against truth: the design's window figures, boundary errors, and detection figures.

Conventions (every figure below follows them; tests/test_metrics.py works examples out by hand):

* An episode's answer is an intro ``Segment`` or ``None`` ("no intro"). An id in the truth without a
  prediction counts as a prediction of "no intro" and is listed in ``missing_predictions``; predictions for
  ids not in the truth are ignored and listed in ``unknown_predictions``.
* **Windows** (the design's figures): each episode is cut into 10 s windows every 5 s over its analysis span
  (the truth row's ``duration_sec`` capped at the analysis window, else the analysis window); a window is
  intro when its centre lies in the intro (as in ``windows.py``), for truth and prediction alike. Accuracy
  and F1 (positive class: intro) are pooled over all windows of all episodes. A missed intro makes its
  windows false negatives; a false intro makes its windows false positives.
* **Boundary errors**: |Δstart| and |Δend| in seconds, only where truth and prediction both have an intro
  (MAE is their mean over those episodes; misses and false intros are counted, not averaged in).
* **IoU** per episode: of the two segments; 1.0 when both say "no intro"; 0.0 when only one does.
* **Hits within ±t s**: share of the episodes whose truth has an intro where the prediction has an intro
  with both |Δstart| ≤ t and |Δend| ≤ t.
* **Detection** at IoU ≥ 0.5: TP when both have an intro and IoU ≥ 0.5; a predicted intro that is not a TP
  is a FP (on a no-intro episode, or misplaced); a true intro that is not a TP is a FN. A misplaced intro is
  therefore both a FP and a FN. Precision, recall, F1 from these counts (0 when undefined).
* **False-intro rate**: share of the no-intro episodes (in the truth) where an intro was predicted.
* **Strata**: ``short`` (true intro ≤ 15 s), ``long`` (> 15 s), ``late`` (true start past 300 s),
  ``no_intro``, one per tag found in the truth rows' ``tags`` (e.g. ``dialogue_over_intro``, ``pal_speedup``,
  ``recap``), and ``after_ident`` where the truth has an ident. Every figure is computed again within each
  stratum.
* **Other kinds** (ident, recap, credits, preview), each over the episodes whose truth states it (a label row
  with ``credits_start``/``credits_end``, null for none; a row that does not mention a kind does not score
  it): hits within ±1 s and ±2 s (both boundaries), detection at IoU ≥ 0.5 as above, and the false-part rate
  (share of the episodes without that part where one was marked).
* **Reliability** of the confidence, per method that decided the intro (``recurring``: a new season, ``known``: a
  known series, ``model``: a lone episode or the model's call) and over all: an answer (an intro, or "no intro",
  with its confidence) is *right* when it says "no intro" of an episode without one, or an intro whose both
  boundaries lie within RIGHT_WITHIN_S of the truth's. Per bin of confidence (tenths) the answers and the share
  right; the expected calibration error (the answers' mean |share right − confidence| over the bins, weighted
  by answers); the share right among the answers at confidence ≥ SURE_CONFIDENCE, and the *confidently
  wrong* rate (answers at ≥ SURE_CONFIDENCE that are wrong, over all answers).
* **Harm**, what a viewer feels: per episode, the seconds of story (the episode less every true part of every
  kind) inside the parts marked, i.e. what a "Skip" would skip of the story; over the episodes whose truth
  states every kind that was marked in them. Its mean and the share of episodes with more than HARM_S of it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import write_json_atomic
from .labels import states_intro
from .result import Detection, Kind, Method, read_result, read_rows
from .settings import DEFAULT_WINDOW_S, WindowOptions
from .timecode import Segment
from .windows import window_grid, window_labels

SHORT_INTRO_S = 15.0
"""Intros up to this long count as short title stings (the real labels' longest is 15 s), longer as themes."""

LATE_START_S = 300.0
"""Intros starting after this are 'late' (past the design's original 5-minute window)."""

HIT_TOLERANCES_S = (0.5, 1.0, 2.0)
DETECTION_IOU = 0.5

PART_TOLERANCES_S = (1.0, 2.0)
"""Boundary tolerances of the other kinds (the issue's targets: credits, recap and preview within ±2 s)."""

RIGHT_WITHIN_S = 1.0
"""s: an intro is a right answer when both its boundaries lie within this of the truth's (a skip a second off is
still the skip the viewer wanted; the issue's lone-episode target counts the same)."""

SURE_CONFIDENCE = 0.9
"""Answers at this confidence or above are the ones a player acts on without asking: their share right and the
confidently-wrong rate are the trust figures (the issue's targets: ≥ 97 % right, ≤ 1 % confidently wrong)."""

RELIABILITY_BINS = 10

CHANCE_DRAWS = 200
"""Draws of the chance ECE (``Reliability.ece_chance``): the ECE a perfectly calibrated detector would show on
answers at these confidences, each right with exactly its confidence, averaged over this many draws of a seeded
generator (the same figure on every run). 200 draws put its mean within ±0.002 on 72 answers."""

HARM_S = 5.0
"""Seconds of story skipped that a viewer notices as a wrong skip (more than a line of dialogue): the share of
episodes past it is the harm figure."""


@dataclass(frozen=True)
class Truth:
    """One episode's truth: its intro (None: it has none), the episode's length and its tags (the strata)."""

    intro: Segment | None
    duration_s: float | None = None
    tags: tuple[str, ...] = ()
    parts: Mapping[Kind, Segment | None] = field(default_factory=dict)
    """The other kinds the truth states: their span, or None where the episode has none of that kind."""
    intro_stated: bool = True
    """False where the truth says nothing of the intro (a reviewed row of other parts only): the episode is
    left out of the intro's figures, not counted as "no intro"."""

    def states(self, kind: Kind) -> bool:
        return self.intro_stated if kind == Kind.INTRO else kind in self.parts

    def span(self, kind: Kind) -> Segment | None:
        return self.intro if kind == Kind.INTRO else self.parts.get(kind)


def read_truth(path: str | Path) -> dict[str, Truth]:
    """Truth in the label format (``start``/``end`` or null, optional ``start_sec``/``end_sec``,
    ``duration_sec``, ``tags``), read as strictly as a result file (``result.read_rows``)."""
    out: dict[str, Truth] = {}
    for video_id, row, detection in read_rows(path):
        duration = row.get("duration_sec")
        tags = row.get("tags") or ()
        out[video_id] = Truth(
            detection.intro,
            float(duration) if isinstance(duration, (int, float)) and not isinstance(duration, bool) else None,
            tuple(str(t) for t in tags) if isinstance(tags, list) else (),
            _stated_parts(detection),
            states_intro(row),
        )
    return out


def _stated_parts(detection: Detection) -> dict[Kind, Segment | None]:
    return {p.kind: p.segment for p in detection.parts if p.kind != Kind.INTRO}


def truth_of(detections: Mapping[str, Detection]) -> dict[str, Truth]:
    """Answers taken as truth (reviewed labels, a model's training labels): their parts, no tags."""
    return {vid: Truth(d.intro, parts=_stated_parts(d)) for vid, d in detections.items()}


@dataclass(frozen=True)
class EpisodeScore:
    id: str
    truth: Segment | None
    predicted: Segment | None
    iou: float
    start_error_s: float | None
    end_error_s: float | None
    confidence: float | None
    method: Method | None
    strata: tuple[str, ...]


@dataclass
class Figures:
    episodes: int = 0
    with_intro: int = 0
    no_intro: int = 0
    window_accuracy: float = float("nan")
    window_f1: float = float("nan")
    start_mae_s: float = float("nan")
    end_mae_s: float = float("nan")
    median_boundary_error_s: float = float("nan")
    mean_iou: float = float("nan")
    hits: dict[str, float] = field(default_factory=dict)
    tp: int = 0
    fp: int = 0
    fn: int = 0
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0
    false_intros: int = 0  # episodes without an intro answered with one
    false_intro_rate: float = float("nan")


@dataclass
class Reliability:
    """How far a set of answers' confidences can be trusted (module doc): rows (bin "0.9–1.0", answers, mean
    confidence, share right), the expected calibration error, and the figures at SURE_CONFIDENCE.
    ``ece_chance``: the ECE that chance alone gives at these confidences and this many answers (CHANCE_DRAWS): a
    binned ECE is never 0 on a finite set, and on 72 answers a perfectly calibrated detector shows 0.05-0.11."""

    answers: int = 0
    bins: list[tuple[str, int, float, float]] = field(default_factory=list)
    ece: float = float("nan")
    sure: int = 0
    sure_right: float = float("nan")
    confidently_wrong: int = 0
    confidently_wrong_rate: float = float("nan")
    ece_chance: float = float("nan")


@dataclass
class Evaluation:
    overall: Figures
    strata: dict[str, Figures]
    episodes: list[EpisodeScore]
    missing_predictions: list[str]
    unknown_predictions: list[str]
    window_s: float
    kinds: dict[str, PartFigures] = field(default_factory=dict)
    harm: Harm | None = None
    reliability: dict[str, Reliability] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def clean(value: Any) -> Any:
            if isinstance(value, float):
                return None if math.isnan(value) else round(value, 6)
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, list):
                return [clean(v) for v in value]
            return value

        return clean(
            {
                "window_s": self.window_s,
                "overall": asdict(self.overall),
                "strata": {name: asdict(fig) for name, fig in self.strata.items()},
                "kinds": {name: asdict(fig) for name, fig in self.kinds.items()},
                "harm": None if self.harm is None else asdict(self.harm),
                "reliability": {name: asdict(r) for name, r in self.reliability.items()},
                "missing_predictions": self.missing_predictions,
                "unknown_predictions": self.unknown_predictions,
                "episodes": [
                    {
                        "id": e.id,
                        "truth": _pair(e.truth),
                        "predicted": _pair(e.predicted),
                        "iou": e.iou,
                        "start_error_s": e.start_error_s,
                        "end_error_s": e.end_error_s,
                        "confidence": e.confidence,
                        "method": None if e.method is None else str(e.method),
                        "strata": list(e.strata),
                    }
                    for e in self.episodes
                ],
            }
        )


@dataclass
class PartFigures:
    """One kind's figures over the episodes whose truth states it (module doc)."""

    episodes: int = 0
    with_part: int = 0
    hits: dict[str, float] = field(default_factory=dict)
    tp: int = 0
    fp: int = 0
    fn: int = 0
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0
    false_part_rate: float = float("nan")
    median_boundary_error_s: float = float("nan")


@dataclass
class Harm:
    """Seconds of story inside the parts marked, per episode (module doc)."""

    episodes: int = 0
    mean_s: float = float("nan")
    max_s: float = float("nan")
    over: int = 0  # episodes with more than HARM_S of story marked
    share_over: float = float("nan")
    worst: list[tuple[str, float]] = field(default_factory=list)  # the episodes past HARM_S, most first


def _total(spans: list[Segment]) -> float:
    """Seconds covered by the union of ``spans``."""
    total, reach = 0.0, -math.inf
    for span in sorted(spans, key=lambda x: x.start_s):
        start = max(span.start_s, reach)
        if span.end_s > start:
            total += span.end_s - start
        reach = max(reach, span.end_s)
    return total


def story_marked_s(marked: list[Segment], true_parts: list[Segment]) -> float:
    """Seconds of ``marked`` outside every span of ``true_parts`` (the story that would be skipped)."""
    inside = [
        Segment(max(m.start_s, t.start_s), min(m.end_s, t.end_s))
        for m in marked
        for t in true_parts
        if min(m.end_s, t.end_s) > max(m.start_s, t.start_s)
    ]
    return max(0.0, _total(marked) - _total(inside))


def part_figures(pairs: list[tuple[Segment | None, Segment | None]]) -> PartFigures:
    """(truth, predicted) of one kind per episode → its figures."""
    fig = PartFigures(episodes=len(pairs), with_part=sum(t is not None for t, _ in pairs))
    if not pairs:
        return fig
    errors = [
        max(abs(t.start_s - p.start_s), abs(t.end_s - p.end_s)) for t, p in pairs if t is not None and p is not None
    ]
    for tol in PART_TOLERANCES_S:
        hits = sum(e <= tol for e in errors)
        fig.hits[f"±{tol:g}s"] = _safe_div(hits, fig.with_part) if fig.with_part else float("nan")
    both = [(t, p) for t, p in pairs if t is not None and p is not None]
    if both:
        fig.median_boundary_error_s = float(
            np.median([e for t, p in both for e in (abs(t.start_s - p.start_s), abs(t.end_s - p.end_s))])
        )
    fig.tp = sum(t.iou(p) >= DETECTION_IOU for t, p in both)
    fig.fp = sum(p is not None for _, p in pairs) - fig.tp
    fig.fn = fig.with_part - fig.tp
    fig.precision = _safe_div(fig.tp, fig.tp + fig.fp)
    fig.recall = _safe_div(fig.tp, fig.tp + fig.fn)
    fig.f1 = _safe_div(2 * fig.precision * fig.recall, fig.precision + fig.recall)
    without = [p for t, p in pairs if t is None]
    if without:
        fig.false_part_rate = sum(p is not None for p in without) / len(without)
    return fig


def harm_of(predictions: Mapping[str, Detection], truth: Mapping[str, Truth]) -> Harm:
    """Story inside the marked parts, over the episodes whose truth states every kind marked in them."""
    per_episode: list[tuple[str, float]] = []
    for video_id in sorted(truth):
        t, found = truth[video_id], predictions.get(video_id)
        marked = [p for p in (found.parts if found else ()) if p.segment is not None]
        if not all(t.states(p.kind) for p in marked):
            continue
        true_parts = [s for kind in Kind if (s := t.span(kind)) is not None]
        per_episode.append((video_id, story_marked_s([p.segment for p in marked if p.segment], true_parts)))
    harm = Harm(episodes=len(per_episode))
    if per_episode:
        values = np.array([v for _, v in per_episode])
        harm.mean_s, harm.max_s = float(values.mean()), float(values.max())
        harm.worst = sorted(((vid, round(v, 2)) for vid, v in per_episode if v > HARM_S), key=lambda x: -x[1])
        harm.over = len(harm.worst)
        harm.share_over = harm.over / len(per_episode)
    return harm


def kind_figures(predictions: Mapping[str, Detection], truth: Mapping[str, Truth]) -> dict[str, PartFigures]:
    """Per kind other than the intro that some truth row states, its figures."""
    out: dict[str, PartFigures] = {}
    for kind in Kind:
        if kind == Kind.INTRO:
            continue
        pairs = []
        for video_id in sorted(truth):
            if not truth[video_id].states(kind):
                continue
            found = predictions.get(video_id)
            part = found.part(kind) if found is not None else None
            pairs.append((truth[video_id].span(kind), part.segment if part is not None else None))
        if pairs:
            out[str(kind)] = part_figures(pairs)
    return out


def answer_right(score: EpisodeScore) -> bool:
    """An answer is right when it says "no intro" of an episode without one, or an intro within RIGHT_WITHIN_S
    of the truth's at both ends."""
    if score.truth is None or score.predicted is None:
        return score.truth is None and score.predicted is None
    return max(score.start_error_s or 0.0, score.end_error_s or 0.0) <= RIGHT_WITHIN_S


def reliability_of(scores: list[EpisodeScore]) -> Reliability:
    """The reliability figures of the answers that carry a confidence (module doc)."""
    rated = [(s.confidence, answer_right(s)) for s in scores if s.confidence is not None]
    return reliability_from([x for x, _ in rated], [y for _, y in rated])


def reliability_from(confidences: Sequence[float], right: Sequence[bool]) -> Reliability:
    """The reliability figures of answers given as their confidences and whether each was right."""
    if not len(confidences):
        return Reliability()
    c = np.asarray(confidences, dtype=np.float64)
    r = np.asarray(right, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, RELIABILITY_BINS + 1)
    which = np.clip(np.digitize(c, edges[1:-1]), 0, RELIABILITY_BINS - 1)
    draws = np.random.default_rng(0).random((CHANCE_DRAWS, c.size)) < c  # right with exactly its confidence
    rows, ece, chance = [], 0.0, np.zeros(CHANCE_DRAWS)
    for b in range(RELIABILITY_BINS):
        sel = which == b
        if sel.any():
            rows.append(
                (f"{edges[b]:.1f}–{edges[b + 1]:.1f}", int(sel.sum()), float(c[sel].mean()), float(r[sel].mean()))
            )
            ece += sel.sum() / c.size * abs(r[sel].mean() - c[sel].mean())
            chance += sel.sum() / c.size * np.abs(draws[:, sel].mean(axis=1) - c[sel].mean())
    sure = c >= SURE_CONFIDENCE
    wrong = int(np.count_nonzero(sure & (r == 0)))
    return Reliability(
        int(c.size),
        rows,
        float(ece),
        int(sure.sum()),
        float(r[sure].mean()) if sure.any() else float("nan"),
        wrong,
        wrong / c.size,
        float(chance.mean()),
    )


def reliability_by_method(scores: list[EpisodeScore]) -> dict[str, Reliability]:
    """``reliability_of`` over every answer ("all") and per method that decided it."""
    out = {"all": reliability_of(scores)}
    methods = sorted({str(s.method) for s in scores if s.method is not None and s.confidence is not None})
    for method in methods:
        out[method] = reliability_of([s for s in scores if str(s.method) == method])
    return out


RELIABILITY_COLUMNS = (
    "method",
    "answers",
    "ECE",
    "ECE by chance",
    f"at ≥ {SURE_CONFIDENCE:g}",
    "right there",
    "confidently wrong",
)
"""The columns of the reliability table (``evaluate``)."""


def reliability_rows(evaluation: Evaluation) -> list[list[str]]:
    """One row of RELIABILITY_COLUMNS per method (all first)."""
    return [
        [
            name,
            str(r.answers),
            cell(r.ece),
            cell(r.ece_chance),
            str(r.sure),
            cell(r.sure_right),
            f"{r.confidently_wrong} ({cell(r.confidently_wrong_rate)})",
        ]
        for name, r in evaluation.reliability.items()
        if r.answers
    ]


def _pair(segment: Segment | None) -> list[float] | None:
    return None if segment is None else [segment.start_s, segment.end_s]


def window_truth(span_s: float, intro: Segment | None, options: WindowOptions) -> np.ndarray:
    """Intro or not per window over ``span_s`` seconds, by the same grid and centre rule as ``windows.py``."""
    # the frame rate only places each window's first frame, which the labels do not use
    return window_labels(window_grid(span_s, 1.0, options), intro).astype(bool)


def _stratum_names(truth: Truth) -> tuple[str, ...]:
    names: list[str] = []
    if truth.intro is None:
        names.append("no_intro")
    else:
        names.append("short" if truth.intro.duration_s <= SHORT_INTRO_S else "long")
        if truth.intro.start_s > LATE_START_S:
            names.append("late")
    names.extend(truth.tags)
    if truth.parts.get(Kind.IDENT) is not None:
        names.append("after_ident")  # an ident opens the episode: the intro must not be taken for it
    return tuple(dict.fromkeys(names))


def _safe_div(a: float, b: float) -> float:
    return a / b if b else 0.0


def _figures(scores: list[EpisodeScore], windows: dict[str, tuple[np.ndarray, np.ndarray]]) -> Figures:
    fig = Figures(episodes=len(scores))
    if not scores:
        return fig
    fig.with_intro = sum(s.truth is not None for s in scores)
    fig.no_intro = fig.episodes - fig.with_intro
    truth_w = np.concatenate([windows[s.id][0] for s in scores])
    pred_w = np.concatenate([windows[s.id][1] for s in scores])
    fig.window_accuracy = float(np.mean(truth_w == pred_w))
    w_tp = float(np.sum(truth_w & pred_w))
    w_fp = float(np.sum(~truth_w & pred_w))
    w_fn = float(np.sum(truth_w & ~pred_w))
    fig.window_f1 = _safe_div(2 * w_tp, 2 * w_tp + w_fp + w_fn)
    both = [s for s in scores if s.start_error_s is not None]
    if both:
        fig.start_mae_s = float(np.mean([s.start_error_s for s in both]))
        fig.end_mae_s = float(np.mean([s.end_error_s for s in both]))  # type: ignore[misc]
        fig.median_boundary_error_s = float(np.median([e for s in both for e in (s.start_error_s, s.end_error_s)]))
    fig.mean_iou = float(np.mean([s.iou for s in scores]))
    with_truth = [s for s in scores if s.truth is not None]
    for tol in HIT_TOLERANCES_S:
        hits = sum(
            s.start_error_s is not None and s.start_error_s <= tol and s.end_error_s <= tol  # type: ignore[operator]
            for s in with_truth
        )
        fig.hits[f"±{tol:g}s"] = _safe_div(hits, len(with_truth)) if with_truth else float("nan")
    fig.tp = sum(s.truth is not None and s.predicted is not None and s.iou >= DETECTION_IOU for s in scores)
    fig.fp = sum(s.predicted is not None for s in scores) - fig.tp
    fig.fn = sum(s.truth is not None for s in scores) - fig.tp
    fig.precision = _safe_div(fig.tp, fig.tp + fig.fp)
    fig.recall = _safe_div(fig.tp, fig.tp + fig.fn)
    fig.f1 = _safe_div(2 * fig.precision * fig.recall, fig.precision + fig.recall)
    no_intro = [s for s in scores if s.truth is None]
    fig.false_intros = sum(s.predicted is not None for s in no_intro)
    if no_intro:
        fig.false_intro_rate = fig.false_intros / len(no_intro)
    return fig


def evaluate(
    predictions: Mapping[str, Detection],
    truth: Mapping[str, Truth],
    window_s: float = DEFAULT_WINDOW_S,
    options: WindowOptions | None = None,
) -> Evaluation:
    """Score the intros of ``predictions`` (id → Detection) against ``truth`` (id → Truth) by the conventions
    in this module's doc."""
    options = options or WindowOptions()
    episodes: list[EpisodeScore] = []
    windows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    missing = sorted(set(truth) - set(predictions))
    for video_id in sorted(truth):
        t = truth[video_id]
        if not t.intro_stated:
            continue  # scored for the other parts it states (kind_figures), not for the intro
        found = predictions.get(video_id)
        part = found.part(Kind.INTRO) if found is not None else None
        predicted = part.segment if part is not None else None
        span = min(t.duration_s, window_s) if t.duration_s else window_s
        windows[video_id] = (window_truth(span, t.intro, options), window_truth(span, predicted, options))
        if t.intro is not None and predicted is not None:
            iou = t.intro.iou(predicted)
            start_error = abs(t.intro.start_s - predicted.start_s)
            end_error: float | None = abs(t.intro.end_s - predicted.end_s)
        else:
            iou = 1.0 if t.intro is None and predicted is None else 0.0
            start_error = end_error = None
        episodes.append(
            EpisodeScore(
                video_id,
                t.intro,
                predicted,
                iou,
                start_error,
                end_error,
                part.confidence if part else None,
                part.method if part else None,
                _stratum_names(t),
            )
        )
    by_stratum: dict[str, list[EpisodeScore]] = defaultdict(list)
    for score in episodes:
        for name in score.strata:
            by_stratum[name].append(score)
    return Evaluation(
        overall=_figures(episodes, windows),
        strata={name: _figures(scores, windows) for name, scores in sorted(by_stratum.items())},
        episodes=episodes,
        missing_predictions=missing,
        unknown_predictions=sorted(set(predictions) - set(truth)),
        window_s=window_s,
        kinds=kind_figures(predictions, truth),
        harm=harm_of(predictions, truth),
        reliability=reliability_by_method(episodes),
    )


FIGURE_COLUMNS = (
    "stratum",
    "episodes",
    "win acc",
    "win F1",
    "start MAE",
    "end MAE",
    "±0.5s",
    "±1s",
    "±2s",
    "P",
    "R",
    "F1",
    "false intro",
)
"""The columns of an evaluation table (``evaluate`` on the terminal, the report's HTML)."""


def cell(value: float, digits: int = 3) -> str:
    """A figure as table text ("–" where it has no cases)."""
    return "–" if value != value else f"{value:.{digits}f}"


def figure_rows(evaluation: Evaluation) -> list[list[str]]:
    """One row of FIGURE_COLUMNS per stratum, overall first, as text ("–" where a figure has no cases)."""
    return [
        [
            name,
            str(fig.episodes),
            cell(fig.window_accuracy),
            cell(fig.window_f1),
            cell(fig.start_mae_s, 2),
            cell(fig.end_mae_s, 2),
            *(cell(fig.hits.get(k, float("nan"))) for k in ("±0.5s", "±1s", "±2s")),
            cell(fig.precision),
            cell(fig.recall),
            cell(fig.f1),
            cell(fig.false_intro_rate),
        ]
        for name, fig in [("overall", evaluation.overall), *evaluation.strata.items()]
    ]


KIND_COLUMNS = ("kind", "episodes", "with part", "±1s", "±2s", "P", "R", "F1", "false part", "median err")
"""The columns of the per-kind table (the parts other than the intro)."""


def kind_rows(evaluation: Evaluation) -> list[list[str]]:
    """One row of KIND_COLUMNS per kind the truth states."""
    return [
        [
            name,
            str(fig.episodes),
            str(fig.with_part),
            *(cell(fig.hits.get(k, float("nan"))) for k in ("±1s", "±2s")),
            cell(fig.precision),
            cell(fig.recall),
            cell(fig.f1),
            cell(fig.false_part_rate),
            cell(fig.median_boundary_error_s, 2),
        ]
        for name, fig in evaluation.kinds.items()
    ]


def harm_line(evaluation: Evaluation) -> str | None:
    """The harm figure in one line (None when no episode could be scored for it)."""
    harm = evaluation.harm
    if harm is None or not harm.episodes:
        return None
    return (
        f"story inside marked parts: mean {harm.mean_s:.2f} s, max {harm.max_s:.1f} s; "
        f"{harm.over} of {harm.episodes} episodes ({harm.share_over:.1%}) over {HARM_S:g} s"
    )


def evaluate_files(pred_path: str | Path, truth_path: str | Path, window_s: float = DEFAULT_WINDOW_S) -> Evaluation:
    return evaluate({d.id: d for d in read_result(pred_path)}, read_truth(truth_path), window_s)


def write_evaluation(path: str | Path, evaluation: Evaluation) -> None:
    write_json_atomic(path, evaluation.to_json())
