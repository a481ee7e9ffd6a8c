"""Fusion of the detectors' candidates (pure: Detections and model answers in, one Detection out)."""

from __future__ import annotations

import numpy as np

from introdetect.detect import METHOD_KNOWN, METHOD_NONE_LONE, METHOD_RECURRING, Detection
from introdetect.fusion import METHOD_MODEL, MODEL_SURE, fuse
from introdetect.model.decode import WindowOutputs
from introdetect.model.infer import ModelAnswer
from introdetect.timecode import Segment


def _model(intro: Segment | None, confidence: float) -> ModelAnswer:
    outputs = WindowOutputs.from_raw(np.zeros((4, 6)), np.arange(4) * 5.0, 10.0)
    best = intro or Segment(0.0, 5.0)
    return ModelAnswer("e", intro, confidence, confidence if intro else 1 - confidence, best, outputs)


def _matched(intro: Segment | None, confidence: float | None, method: str = METHOD_RECURRING) -> Detection:
    return Detection("e", intro, confidence, method, "show")


def test_a_known_intro_stands_whatever_the_model_says() -> None:
    known = _matched(Segment(60.0, 90.0), 0.95, METHOD_KNOWN)
    fused = fuse(known, _model(Segment(200.0, 230.0), 0.99))
    assert fused.intro == known.intro and fused.method == METHOD_KNOWN and "model" in fused.note


def test_a_lone_episode_is_answered_by_the_model_alone() -> None:
    lone = _matched(None, None, METHOD_NONE_LONE)
    fused = fuse(lone, _model(Segment(12.0, 40.0), 0.8))
    assert fused.method == METHOD_MODEL and fused.intro == Segment(12.0, 40.0) and fused.confidence == 0.8


def test_agreement_keeps_the_matchers_boundaries_and_the_surer_confidence() -> None:
    matched = _matched(Segment(60.04, 90.02), 0.6)
    fused = fuse(matched, _model(Segment(59.5, 90.8), 0.9))
    assert fused.intro == matched.intro and fused.method == METHOD_RECURRING and fused.confidence == 0.9


def test_a_sure_model_overrules_a_matcher_that_found_nothing() -> None:
    """Matching found no intro (e.g. it is covered by speech in this episode); the model is sure."""
    fused = fuse(_matched(None, 0.4), _model(Segment(30.0, 45.0), MODEL_SURE + 0.1))
    assert fused.method == METHOD_MODEL and fused.intro == Segment(30.0, 45.0)


def test_an_unsure_model_leaves_the_recurrence_evidence_to_decide() -> None:
    """Under the design's 0.7 the model does not decide, however weak the matcher is."""
    matched = _matched(Segment(100.0, 130.0), 0.3)
    fused = fuse(matched, _model(Segment(10.0, 20.0), MODEL_SURE - 0.05))
    assert fused.intro == matched.intro and fused.method == METHOD_RECURRING


def test_a_sure_matcher_is_not_overruled_by_a_less_sure_model() -> None:
    matched = _matched(Segment(100.0, 130.0), 0.95)
    fused = fuse(matched, _model(None, 0.8))
    assert fused.intro == matched.intro and fused.method == METHOD_RECURRING


def test_the_models_no_intro_never_removes_a_recurring_intro() -> None:
    """Even a doubtful recurring intro stays when the model hears none: recurrence is the stronger evidence."""
    matched = _matched(Segment(100.0, 130.0), 0.3)
    fused = fuse(matched, _model(None, 0.99))
    assert fused.intro == matched.intro and fused.method == METHOD_RECURRING


def test_a_sure_model_moves_a_doubtful_recurring_intro() -> None:
    matched = _matched(Segment(300.0, 330.0), 0.3)
    fused = fuse(matched, _model(Segment(40.0, 70.0), 0.9))
    assert fused.intro == Segment(40.0, 70.0) and fused.method == METHOD_MODEL


def test_no_model_changes_nothing() -> None:
    matched = _matched(Segment(1.0, 2.0), 0.5)
    assert fuse(matched, None) is matched
