"""How sure an answer is: a logistic model over what the matcher saw for that one episode, so that answers
given with confidence c are right about c of the time.

"Right" means: an intro with both boundaries within 1 s of the truth, or "no intro" where there is none.
The weights come from the corpus's training series (``bench/train_confidence.py``, provenance in the JSON);
the reliability table on the validation and test splits is in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .logistic import LogisticModel

CONFIDENCE_FILE = "answer_confidence.json"


@dataclass(frozen=True)
class AnswerFeatures:
    answered_intro: float  # 1: the answer is an intro; 0: "no intro"
    motif_logit: float  # the scorer's log-odds that the series' chosen motif is its intro
    share: float  # share of the series' episodes that hold the motif
    agreement: float  # share of the motif's other episodes this episode's instance matches (0 when absent)
    partners: float  # share of the other episodes its region shares a stretch with
    log_density: float  # log(1 + matching hashes per second and partner) of its region
    log_episodes: float  # log of the number of episodes in the series
    log_spread: float  # log(1 + s) of how far its partners disagree on its boundaries (mean IQR)

    def vector(self) -> np.ndarray:
        """The features, and again multiplied by ``answered_intro``: what makes an intro answer right is
        not what makes a "no intro" answer right, so each kind of answer gets its own weights."""
        base = np.array([getattr(self, f.name) for f in fields(self)], dtype=np.float64)
        return np.concatenate([base, self.answered_intro * base[1:]])


FEATURE_NAMES = tuple(f.name for f in fields(AnswerFeatures)) + tuple(
    f"intro×{f.name}" for f in fields(AnswerFeatures)[1:]
)


def logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


class ConfidenceModel(LogisticModel):
    """Logistic regression over ``AnswerFeatures``: P(this answer is right)."""

    FILE = CONFIDENCE_FILE
    FEATURES = FEATURE_NAMES

    def confidence(self, features: AnswerFeatures) -> float:
        return float(self.predict(features.vector())[0])

    @classmethod
    def fit(cls, features: list[AnswerFeatures], right: list[bool], provenance: dict[str, Any]) -> ConfidenceModel:
        return cls.fit_rows(np.array([f.vector() for f in features]), right, provenance)


def reliability(confidences: list[float], right: list[bool], bins: int = 5) -> list[tuple[str, int, float, float]]:
    """Rows (bin, answers, mean confidence, share right) over equal-width confidence bins."""
    c, r = np.array(confidences), np.array(right, dtype=float)
    rows = []
    edges = np.linspace(0, 1, bins + 1)
    for lo, hi in itertools.pairwise(edges):
        sel = (c >= lo) & ((c < hi) | (hi == 1.0))
        if sel.any():
            rows.append((f"{lo:.1f}–{hi:.1f}", int(sel.sum()), float(c[sel].mean()), float(r[sel].mean())))
    return rows
