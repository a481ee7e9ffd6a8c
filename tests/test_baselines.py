"""The baselines on arrays with known answers: the position prior, and Intro Skipper's matching steps."""

import numpy as np
import pytest
from introdetect_eval.baselines.intro_skipper import (
    SECONDS_PER_POINT,
    IntroSkipperOptions,
    compare,
    detect_season,
    longest_run,
)
from introdetect_eval.baselines.prior import PositionPrior

from introdetect.metrics import Truth
from introdetect.timecode import Segment


def test_position_prior_takes_medians():
    truth = {
        "a": Truth(Segment(10, 20)),
        "b": Truth(Segment(30, 35)),
        "c": Truth(Segment(50, 70)),
        "d": Truth(None),
    }
    prior = PositionPrior.fit(truth)
    assert (prior.start_s, prior.length_s, prior.intro_share) == (30, 10, 0.75)
    answers = prior.predict(["x", "y"])
    assert answers["x"].intro == Segment(30, 40) and answers["y"].part().confidence == 0.75
    with pytest.raises(ValueError):
        PositionPrior.fit({"d": Truth(None)})


def test_longest_run():
    times = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 12.0, 13.0, 20.0])
    assert longest_run(times, 3.5) == (10.0, 13.0)
    assert longest_run(times, 10.0) == (0.0, 20.0)
    assert longest_run(np.array([5.0]), 3.5) is None


def _shared(rng, length=2000, shared=(400, 600), at=900, flips=3):
    """Two fingerprints: rhs holds lhs[shared] at index ``at``, with ``flips`` bits changed per point."""
    lhs = rng.integers(0, 2**32, size=length, dtype=np.uint64).astype(np.uint32)
    rhs = rng.integers(0, 2**32, size=length, dtype=np.uint64).astype(np.uint32)
    piece = lhs[shared[0] : shared[1]].copy()
    for _ in range(flips):
        piece ^= np.uint32(1) << rng.integers(0, 32, size=piece.size).astype(np.uint32)
    rhs[at : at + piece.size] = piece
    return lhs, rhs


def test_compare_finds_the_shared_run():
    rng = np.random.default_rng(3)
    lhs, rhs = _shared(rng)
    found = compare(lhs, rhs, IntroSkipperOptions())
    assert found is not None
    left, right = found
    # 200 points ≈ 24.6 s: under 30 s, so no end trimming
    assert left.start_s == pytest.approx(400 * SECONDS_PER_POINT) and right.start_s == pytest.approx(
        900 * SECONDS_PER_POINT
    )
    assert left.duration_s == pytest.approx(199 * SECONDS_PER_POINT)


def test_compare_rejects_short_and_noisy_matches():
    rng = np.random.default_rng(4)
    lhs, rhs = _shared(rng, shared=(400, 480))  # 80 points ≈ 10 s < 15 s
    assert compare(lhs, rhs, IntroSkipperOptions()) is None
    lhs, rhs = _shared(rng, flips=12)  # up to 12 bits differ per point: more than 6
    assert compare(lhs, rhs, IntroSkipperOptions()) is None


def test_season_loop_keeps_longest():
    rng = np.random.default_rng(5)
    theme = rng.integers(0, 2**32, size=300, dtype=np.uint64).astype(np.uint32)
    prints = {}
    for name, at in (("e1", 100), ("e2", 400), ("e3", 40)):
        fp = rng.integers(0, 2**32, size=1500, dtype=np.uint64).astype(np.uint32)
        fp[at : at + 300] = theme
        prints[name] = fp
    prints["e4"] = rng.integers(0, 2**32, size=1500, dtype=np.uint64).astype(np.uint32)  # no intro
    answers = detect_season(prints, ["e1", "e2", "e3", "e4"])
    assert answers["e1"].intro.start_s == pytest.approx(100 * SECONDS_PER_POINT)
    assert answers["e2"].intro.start_s == pytest.approx(400 * SECONDS_PER_POINT)
    # e3's intro starts at 4.95 s: within the first 5 s, so moved to 0 as the plugin does
    assert answers["e3"].intro.start_s == 0.0
    assert answers["e4"].intro is None
