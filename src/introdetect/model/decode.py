"""The network's per-window outputs → one episode's answer (pure numpy; the post-processing stage).

The start is read where the "start lies in this window" head is surest, refined by that window's regression
(and its overlapping neighbour's, weighted by their own certainty); the end likewise, among windows after the
start and within MAX_INTRO_S of it. The raw presence score is the geometric mean of the two boundary heads'
certainties and the intro head's mean probability over the windows centred inside the segment (the boundary
heads' alone for a sting too short to hold a window's centre); ``Calibration`` maps it to the probability
that the segment is the intro, fitted on held-out episodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..settings import MAX_PLAUSIBLE_INTRO_S, MIN_PLAUSIBLE_INTRO_S
from ..timecode import Segment

PRESENCE_THRESHOLD = 0.5
"""Calibrated confidence below which the model answers "no intro" (even odds)."""

NEIGHBOUR_SHARE = 0.5
"""A window next to the surest one joins the boundary estimate when its certainty is at least half as high
(50 % overlap: a boundary usually lies in two windows, and both see it)."""


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


@dataclass(frozen=True)
class WindowOutputs:
    """Per-window model outputs of one episode (T windows)."""

    start_s: np.ndarray  # (T,) window starts
    length_s: float
    intro: np.ndarray  # (T,) P(intro) by the centre rule
    start_in: np.ndarray  # (T,) P(the start lies in the window)
    end_in: np.ndarray
    start_at: np.ndarray  # (T,) where in the window, 0..1
    end_at: np.ndarray

    @classmethod
    def from_raw(cls, raw: np.ndarray, start_s: np.ndarray, length_s: float) -> WindowOutputs:
        """``raw`` (T, 6): the network's channels in ``network.HEADS`` order."""
        raw = np.asarray(raw, dtype=np.float64)
        logits = raw[:, :2]
        p = _sigmoid(logits[:, 1] - logits[:, 0])  # two-class softmax
        return cls(
            np.asarray(start_s, dtype=np.float64),
            length_s,
            p,
            _sigmoid(raw[:, 2]),
            _sigmoid(raw[:, 3]),
            np.clip(raw[:, 4], 0, 1),
            np.clip(raw[:, 5], 0, 1),
        )

    @property
    def centre_s(self) -> np.ndarray:
        return self.start_s + 0.5 * self.length_s


def _boundary(
    certainty: np.ndarray, at: np.ndarray, start_s: np.ndarray, length_s: float, allowed: np.ndarray
) -> tuple[float, float]:
    """(time, certainty) of the surest allowed window, refined with its sure neighbours."""
    masked = np.where(allowed, certainty, -1.0)
    best = int(np.argmax(masked))
    if masked[best] < 0:
        return math.nan, 0.0
    weights, times = [], []
    for w in (best - 1, best, best + 1):
        if 0 <= w < certainty.size and allowed[w] and certainty[w] >= NEIGHBOUR_SHARE * certainty[best]:
            weights.append(certainty[w])
            times.append(start_s[w] + at[w] * length_s)
    # neighbours' estimates only count where they agree with the surest one (within half a window)
    main = start_s[best] + at[best] * length_s
    pairs = [(wt, t) for wt, t in zip(weights, times, strict=True) if abs(t - main) <= 0.5 * length_s]
    total = sum(wt for wt, _ in pairs)
    return sum(wt * t for wt, t in pairs) / total, float(certainty[best])


def decode(outputs: WindowOutputs, duration_s: float) -> tuple[Segment | None, float, Segment]:
    """(intro or None by the raw score, raw presence score in [0, 1], best segment even when absent)."""
    o = outputs
    everywhere = np.ones(o.start_s.size, dtype=bool)
    start, start_sure = _boundary(o.start_in, o.start_at, o.start_s, o.length_s, everywhere)
    if math.isnan(start):
        start = 0.0
    window_end = o.start_s + o.length_s
    after = (window_end > start + MIN_PLAUSIBLE_INTRO_S) & (o.start_s < start + MAX_PLAUSIBLE_INTRO_S)
    end, end_sure = _boundary(o.end_in, o.end_at, o.start_s, o.length_s, after)
    if math.isnan(end) or end <= start + MIN_PLAUSIBLE_INTRO_S:
        end = min(start + MIN_PLAUSIBLE_INTRO_S, duration_s)
    segment = Segment(max(0.0, start), max(min(end, duration_s), start + 1e-3))
    inside = (o.centre_s >= segment.start_s) & (o.centre_s <= segment.end_s)
    if inside.any():
        score = float((start_sure * end_sure * float(o.intro[inside].mean())) ** (1 / 3))
    else:  # a sting shorter than the step: no window's centre lies in it, so the intro head has no say
        score = float(np.sqrt(start_sure * end_sure))
    return (segment if score >= PRESENCE_THRESHOLD else None), score, segment


@dataclass(frozen=True)
class Calibration:
    """Platt scaling of the raw presence score: confidence = σ(a · logit(score) + b), fitted on held-out episodes
    (identity when a = 1, b = 0)."""

    a: float = 1.0
    b: float = 0.0

    def __call__(self, score: float) -> float:
        s = min(max(score, 1e-6), 1 - 1e-6)
        return float(_sigmoid(np.array(self.a * math.log(s / (1 - s)) + self.b)))

    @classmethod
    def fit(cls, scores: np.ndarray, correct: np.ndarray) -> Calibration:
        """Fit on raw scores and whether each answer was right (an intro with IoU ≥ 0.5, or a right "no intro")."""
        from sklearn.linear_model import LogisticRegression

        scores = np.clip(np.asarray(scores, dtype=np.float64), 1e-6, 1 - 1e-6)
        correct = np.asarray(correct, dtype=int)
        if correct.min() == correct.max():
            return cls()
        z = np.log(scores / (1 - scores))[:, None]
        fit = LogisticRegression(C=10.0).fit(z, correct)
        return cls(float(fit.coef_[0, 0]), float(fit.intercept_[0]))


KIND_PRESENT = 0.5
"""A window belongs to a part of a kind where the kinds head gives that kind at least this probability (the
centre rule of its training: a window whose centre lies in the part)."""


@dataclass(frozen=True)
class KindCurves:
    """The kinds head's per-window probabilities over one episode: ``p`` (T, len(KINDS)), softmax per window, at
    windows starting at ``start_s`` (the episode's time: a head's windows, then a tail's)."""

    start_s: np.ndarray
    length_s: float
    p: np.ndarray
    bounds: np.ndarray | None = None
    """(T, 4, n) per part kind (columns: KINDS[1:]): P(its start lies in the window), P(its end does), where in
    the window each lies (0..1); None: no boundary heads (the kinds alone)."""

    @classmethod
    def from_raw(cls, raw: np.ndarray, start_s: np.ndarray, length_s: float, first: int, kinds: int) -> KindCurves:
        """``raw`` (T, C): the network's channels; the ``kinds`` kinds' logits from channel ``first`` on, then the
        part kinds' boundary heads (``inputs.KIND_HEADS``)."""
        raw = np.asarray(raw, dtype=np.float64)
        logits = raw[:, first : first + kinds]
        logits = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        n = kinds - 1
        rest = raw[:, first + kinds : first + kinds + 4 * n]
        bounds = None
        if rest.shape[1] == 4 * n:
            bounds = rest.reshape(-1, 4, n).copy()
            bounds[:, :2] = _sigmoid(bounds[:, :2])
            bounds[:, 2:] = np.clip(bounds[:, 2:], 0.0, 1.0)
        return cls(np.asarray(start_s, dtype=np.float64), length_s, e / e.sum(axis=1, keepdims=True), bounds)

    def between(self, start_s: float, end_s: float) -> KindCurves:
        """The windows starting in [start_s, end_s)."""
        keep = (self.start_s >= start_s) & (self.start_s < end_s)
        bounds = self.bounds[keep] if self.bounds is not None else None
        return KindCurves(self.start_s[keep], self.length_s, self.p[keep], bounds)


def kind_span(
    curves: KindCurves, column: int, end_s: float, holds_start: bool = True, holds_end: bool = True
) -> tuple[Segment, float] | None:
    """The part of the kind in ``column`` the curves hold: the run of consecutive windows (windows of one
    sequence, a step apart) given that kind at ≥ KIND_PRESENT with the most probability in all; its ends where
    the probability crosses KIND_PRESENT between the centres of its edge windows and their neighbours (the
    centre rule, read between two centres a step apart: a window that holds more of the part is surer of it),
    then where the kind's boundary heads read them, where they are sure, as the intro's are read (``decode``),
    within [0, ``end_s``] (from 0 when it holds the first window and the curves begin at the episode's start,
    ``holds_start``; to ``end_s``, the episode's end, when it holds the last and the curves run to the end,
    ``holds_end``); its confidence, the run's mean probability. None: no window of that kind."""
    if not curves.start_s.size:
        return None
    p = curves.p[:, column]
    on = p >= KIND_PRESENT
    if not on.any():
        return None
    step = float(np.median(np.diff(curves.start_s))) if curves.start_s.size > 1 else curves.length_s / 2
    centre = curves.start_s + 0.5 * curves.length_s
    best, best_mass, run = None, -1.0, []
    for w in range(p.size + 1):
        joined = w < p.size and on[w] and (not run or curves.start_s[w] - curves.start_s[run[-1]] <= 1.5 * step)
        if joined:
            run.append(w)
            continue
        if run and p[run].sum() > best_mass:
            best, best_mass = list(run), float(p[run].sum())
        run = [w] if w < p.size and on[w] else []
    assert best is not None

    def crossing(inside: int, outside: int) -> float:
        """Where the probability crosses KIND_PRESENT between an edge window of the run and its neighbour out of
        it (linear between their centres; half a step out where the neighbour is not the next window)."""
        if outside < 0 or outside >= p.size or abs(centre[outside] - centre[inside]) > 1.5 * step:
            return float(centre[inside] + (0.5 * step if outside > inside else -0.5 * step))
        share = (p[inside] - KIND_PRESENT) / max(p[inside] - p[outside], 1e-9)
        return float(centre[inside] + min(max(share, 0.0), 1.0) * (centre[outside] - centre[inside]))

    def refined(estimate: float, side: int) -> float:
        """The boundary heads' reading near ``estimate`` (windows holding a point within a window's length of
        it), where they are sure (KIND_PRESENT); else the estimate."""
        if curves.bounds is None:
            return estimate
        near = (curves.start_s <= estimate + curves.length_s) & (curves.start_s + 2 * curves.length_s >= estimate)
        certainty, at = curves.bounds[:, side, column - 1], curves.bounds[:, 2 + side, column - 1]
        time, sure = _boundary(certainty, at, curves.start_s, curves.length_s, near)
        return time if sure >= KIND_PRESENT and not math.isnan(time) else estimate

    # a run from the first window holds the episode's start; one to the last window, its end (no window's centre
    # lies in the last half window: the part runs on past the last centre as far as the audio does)
    start = 0.0 if holds_start and best[0] == 0 else max(0.0, refined(crossing(best[0], best[0] - 1), 0))
    end = end_s if holds_end and best[-1] == p.size - 1 else min(end_s, refined(crossing(best[-1], best[-1] + 1), 1))
    if end <= start:
        return None
    return Segment(start, end), float(p[best].mean())
