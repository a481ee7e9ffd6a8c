"""How sure an answer is: a logistic model over what the matcher saw for that one episode, so that answers
given with confidence c are right about c of the time.

"Right" means: an intro with both boundaries within 1 s of the truth, or "no intro" where there is none.
The weights come from the corpus's training series (``bench/train_confidence.py``, provenance in the JSON);
the reliability table on the validation and test splits is in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import asdict, dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

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


@dataclass(frozen=True)
class ConfidenceModel:
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    provenance: dict[str, Any]

    def confidence(self, features: AnswerFeatures) -> float:
        x = (features.vector() - np.array(self.mean)) / np.array(self.scale)
        return float(1.0 / (1.0 + np.exp(-(x @ np.array(self.coef) + self.intercept))))

    def to_json(self) -> dict[str, Any]:
        return {"features": list(FEATURE_NAMES), **asdict(self)}

    @classmethod
    def load(cls, path: str | Path | None = None) -> ConfidenceModel:
        if path is None:
            text = (resources.files("introdetect") / "data" / CONFIDENCE_FILE).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text)
        if tuple(data.get("features", ())) != FEATURE_NAMES:
            raise ValueError(f"confidence model was made for {data.get('features')}, not {list(FEATURE_NAMES)}")
        return cls(tuple(data["mean"]), tuple(data["scale"]), tuple(data["coef"]), float(data["intercept"]),
                   dict(data.get("provenance", {})))  # fmt: skip

    @classmethod
    def fit(cls, features: list[AnswerFeatures], right: list[bool], provenance: dict[str, Any]) -> ConfidenceModel:
        from sklearn.linear_model import LogisticRegression

        x = np.array([f.vector() for f in features])
        mean, scale = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-3)
        model = LogisticRegression(C=1.0, max_iter=1000).fit((x - mean) / scale, right)
        return cls(tuple(mean.round(6)), tuple(scale.round(6)), tuple(model.coef_[0].round(6)),
                   round(float(model.intercept_[0]), 6), provenance)  # fmt: skip


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
