"""One answer per episode from the candidates of every detector (pure: Detections in, a Detection out).

The design's rule, made concrete:

* a known intro (found by lookup in the series' labelled intros) stands: it is the most precise evidence;
* across a season, what recurs decides, unless the model is sure (confidence ≥ MODEL_SURE, the design's 0.7)
  of an intro and the recurrence evidence is weaker: the matcher found no intro and is less sure of that
  than the model is of its intro, or the matcher's intro is one it doubts (confidence < MATCHER_UNSURE);
* the model's "no intro" never removes an intro that recurs: one episode's audio alone is weaker evidence
  than the same piece heard across the season (on the corpus's test split the model misses whole series
  with near-certainty: docs/MODEL.md);
* an episode with no siblings and no known intro is answered by the model alone.

Where the model and the matcher agree (IoU ≥ AGREE_IOU), the matcher's frame-precise boundaries are kept.
Every answer records which method decided, and the other method's view in its note.

The fused answer's confidence is the deciding detector's own (each calibrated on held-out series: the
matcher's by ``matching/confidence.py``, the model's by its Platt scaling), the surer of the two where they
agree. A fitted combination (``FusedConfidence``, a logistic model over ``FusionFeatures``) was calibrated on
the corpora's validation splits by ``bench/train_fused_confidence.py``: with only 5 wrong answers among 64 to
learn from it came out worse on the test splits than the detectors' own confidences (its answers at
0.8–1.0 were 82 % right, theirs 93 %; docs/BENCHMARKS.md), so ``detect`` does not use it; ``fuse`` takes
one when a better-fitted one exists.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from .detect import METHOD_FAILED, METHOD_KNOWN, METHOD_NONE_LONE, Detection
from .matching.confidence import logit
from .matching.logistic import LogisticModel
from .model.infer import ModelAnswer

MODEL_SURE = 0.7
"""The design's threshold: below this model confidence the recurrence evidence decides."""

MATCHER_UNSURE = 0.5
"""A matcher's intro with less confidence than this is one it doubts (less than even odds)."""

AGREE_IOU = 0.5
"""Two answers overlapping this much name the same intro (the detection criterion of the metrics)."""

METHOD_MODEL = "model"
NOTE_MODEL_ALONE = "the only episode of its series: the model answers alone"


@dataclass(frozen=True)
class FusionFeatures:
    """What the fused confidence is computed from (one episode)."""

    model_decided: float  # 1 when the model's answer was taken
    answered_intro: float  # 1 when the fused answer is an intro
    matcher_logit: float  # log-odds of the matcher's confidence in its own answer (0 for a lone episode)
    model_logit: float  # log-odds of the model's presence score (intro here vs none)
    agree: float  # 1 when both found an intro and they overlap (IoU ≥ AGREE_IOU)
    lone: float  # 1 when there was nothing to match against

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, f.name) for f in fields(self)], dtype=np.float64)


class FusedConfidence(LogisticModel):
    """P(the fused answer is right) from ``FusionFeatures``."""

    FILE = "fused_confidence.json"
    FEATURES = tuple(f.name for f in fields(FusionFeatures))

    def confidence(self, features: FusionFeatures) -> float:
        return float(self.predict(features.vector())[0])


def _describe(answer: ModelAnswer) -> str:
    if answer.intro is None:
        return f"model: no intro ({answer.confidence:.2f})"
    return f"model: {answer.intro} ({answer.confidence:.2f})"


def _note(*parts: str | None) -> str | None:
    text = "; ".join(p for p in parts if p)
    return text or None


def fuse(matched: Detection, model: ModelAnswer | None, calibration: FusedConfidence | None = None) -> Detection:
    """The fused answer of one episode from the matcher's ``matched`` and the model's answer (None: no model).
    With ``calibration``, its confidence is the fitted P(right); without, the deciding detector's own."""
    if model is None or matched.method == METHOD_FAILED:
        return matched
    if matched.method == METHOD_KNOWN and matched.intro is not None:
        return replace(matched, note=_note(matched.note, _describe(model)))
    fused, features = decide(matched, model)
    if calibration is not None:
        fused = replace(fused, confidence=calibration.confidence(features))
    return fused


def decide(matched: Detection, model: ModelAnswer) -> tuple[Detection, FusionFeatures]:
    """Which answer stands (the rules in the module's docstring), and what its confidence is computed from."""
    lone = matched.method == METHOD_NONE_LONE
    matcher_conf = matched.confidence if matched.confidence is not None else 0.0
    agree = matched.intro is not None and model.intro is not None and matched.intro.iou(model.intro) >= AGREE_IOU

    def features(model_decided: bool, intro: object) -> FusionFeatures:
        return FusionFeatures(
            float(model_decided),
            float(intro is not None),
            0.0 if lone else logit(matcher_conf),
            logit(model.presence),
            float(agree),
            float(lone),
        )

    if lone:
        return (
            replace(
                matched, intro=model.intro, confidence=model.confidence, method=METHOD_MODEL, note=NOTE_MODEL_ALONE
            ),
            features(True, model.intro),
        )
    if agree:
        return (
            replace(
                matched,
                confidence=max(matcher_conf, model.confidence),
                note=_note(matched.note, _describe(model) + ", agrees"),
            ),
            features(False, matched.intro),
        )
    weaker = matcher_conf < model.confidence if matched.intro is None else matcher_conf < MATCHER_UNSURE
    if model.intro is not None and model.confidence >= MODEL_SURE and weaker:
        return (
            replace(
                matched,
                intro=model.intro,
                confidence=model.confidence,
                method=METHOD_MODEL,
                note=_note(f"{matched.method} answer overruled ({matcher_conf:.2f})"),
            ),
            features(True, model.intro),
        )
    return replace(matched, note=_note(matched.note, _describe(model))), features(False, matched.intro)
