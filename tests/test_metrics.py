"""evaluate on hand-made cases whose figures were worked out by hand (the working is in the comments)."""

import json

import pytest

from introdetect.errors import ResultFileError
from introdetect.metrics import Truth, evaluate, evaluate_files, read_truth, window_truth
from introdetect.result import Detection, Kind, Method, read_result
from introdetect.settings import WindowOptions
from introdetect.timecode import Segment

S = Segment

TRUTH = {
    # 60 s → 11 windows (centres 5…55); intro windows: centres 20, 25, 30
    "A": Truth(S(20, 30), duration_s=60),
    # 400 s → 79 windows; intro windows: centres 310, 315, 320 (late)
    "B": Truth(S(310, 320), duration_s=400),
    # 30 s → 5 windows, no intro
    "C": Truth(None, duration_s=30),
    "D": Truth(None, duration_s=30),
    # 120 s → 23 windows; intro windows: centres 40…100 (13); a long, sped-up intro
    "E": Truth(S(40, 100), duration_s=120, tags=("pal_speedup",)),
    # 20 s → 3 windows (centres 5, 10, 15); intro window: centre 5
    "F": Truth(S(0, 5), duration_s=20),
}


def P(segment: S | None, confidence: float | None = None) -> Detection:
    """A prediction: an intro (or none) with a confidence, as another tool would give it."""
    return Detection.of_intro("x", segment, confidence, Method.EXTERNAL)


PRED = {
    "A": P(S(21, 30.5), confidence=0.9),  # windows 25, 30 → TP 2, FN 1, TN 8; IoU 9/10.5; Δ 1 and 0.5
    "B": P(None),  # missed: FN 3, TN 76
    "C": P(S(10, 14)),  # false intro: window 10 → FP 1, TN 4
    "D": P(None),  # right: TN 5, IoU 1
    "E": P(S(70, 130)),  # misplaced: IoU 30/90; windows 70…115: TP 7, FP 3, FN 6, TN 7; Δ 30 and 30
    # F has no prediction: counts as "no intro": FN 1, TN 2
    "Z": P(S(1, 2)),  # not in the truth: ignored
}


@pytest.fixture(scope="module")
def result():
    return evaluate(PRED, TRUTH)


def test_window_figures(result):
    o = result.overall
    # TP 9, FP 4, FN 11, TN 8+76+4+5+7+2 = 102; 126 windows in all
    assert o.window_accuracy == pytest.approx(111 / 126)
    assert o.window_f1 == pytest.approx(18 / 33)


def test_boundary_and_iou(result):
    o = result.overall
    assert o.start_mae_s == pytest.approx((1 + 30) / 2)
    assert o.end_mae_s == pytest.approx((0.5 + 30) / 2)
    assert o.median_boundary_error_s == pytest.approx(15.5)  # median of 1, 0.5, 30, 30
    assert o.mean_iou == pytest.approx((9 / 10.5 + 0 + 0 + 1 + 30 / 90 + 0) / 6)
    scores = {e.id: e for e in result.episodes}
    assert scores["A"].iou == pytest.approx(9 / 10.5) and scores["D"].iou == 1.0 and scores["F"].iou == 0.0
    # hits over the 4 episodes with an intro: only A, and only from ±1 s (its start is 1 s off)
    assert o.hits == {"±0.5s": 0.0, "±1s": 0.25, "±2s": 0.25}


def test_detection_figures(result):
    o = result.overall
    # TP: A. Predicted intros A, C, E → FP 2 (C false, E misplaced). True intros A, B, E, F → FN 3
    assert (o.tp, o.fp, o.fn) == (1, 2, 3)
    assert o.precision == pytest.approx(1 / 3) and o.recall == pytest.approx(1 / 4)
    assert o.f1 == pytest.approx(2 / 7)
    assert o.false_intro_rate == pytest.approx(0.5) and o.false_intros == 1  # C of C, D
    assert (o.episodes, o.with_intro, o.no_intro) == (6, 4, 2)


def test_strata(result):
    assert set(result.strata) == {"short", "long", "late", "no_intro", "pal_speedup"}
    assert [e.id for e in result.episodes if "short" in e.strata] == ["A", "B", "F"]
    late = result.strata["late"]
    assert (late.episodes, late.tp, late.fn, late.recall) == (1, 0, 1, 0.0)
    long = result.strata["pal_speedup"]
    assert long.window_f1 == pytest.approx(14 / 23)  # E alone: TP 7, FP 3, FN 6
    assert result.strata["no_intro"].false_intro_rate == 0.5
    short = result.strata["short"]
    assert (short.tp, short.fp, short.fn) == (1, 0, 2)


def test_missing_and_unknown(result):
    assert result.missing_predictions == ["F"]
    assert result.unknown_predictions == ["Z"]


def test_perfect_and_empty():
    perfect = evaluate({vid: P(t.intro) for vid, t in TRUTH.items()}, TRUTH)
    assert perfect.overall.f1 == 1.0 and perfect.overall.window_accuracy == 1.0
    assert perfect.overall.false_intro_rate == 0.0 and perfect.overall.hits["±0.5s"] == 1.0
    nothing = evaluate({}, TRUTH)
    assert nothing.overall.tp == 0 and nothing.overall.recall == 0.0 and nothing.overall.precision == 0.0


def test_window_truth_matches_windows_module():
    from introdetect.windows import window_grid, window_labels

    for span, intro in ((60, S(20, 30)), (3, S(0, 2)), (481, S(470, 480)), (100, None)):
        grid = window_grid(span, 21.5, WindowOptions())
        assert window_truth(span, intro, WindowOptions()).tolist() == window_labels(grid, intro).astype(bool).tolist()


def test_read_result_and_truth(tmp_path):
    path = tmp_path / "pred.json"
    path.write_text(
        json.dumps(
            {
                "a": {"start": "0:00:20.5", "end": "0:00:30.25", "confidence": 0.8, "method": "recurring"},
                "b": {"start": "0:00:20", "end": "0:00:30", "start_sec": 19.9, "end_sec": 30.1},
                "c": {"start": None, "end": None, "confidence": 0.6},
                "d": {"start": "0:01:00", "end": "0:01:10", "duration_sec": 900, "tags": ["dialogue_over_intro"]},
            }
        )
    )
    answers = {d.id: d for d in read_result(path)}
    assert answers["a"].intro == S(20.5, 30.25) and answers["a"].part(Kind.INTRO).method == Method.RECURRING
    assert answers["b"].intro == S(19.9, 30.1)  # the exact seconds win over the rounded text
    assert answers["b"].part(Kind.INTRO).method == Method.LABEL  # a row without a method is a label's
    assert answers["c"].intro is None and answers["c"].part(Kind.INTRO).confidence == 0.6
    truth = read_truth(path)
    assert truth["d"].tags == ("dialogue_over_intro",) and truth["d"].duration_s == 900


def test_a_method_introdetect_does_not_know_reads_as_external(tmp_path):
    path = tmp_path / "pred.json"
    path.write_text(json.dumps({"a": {"start": "0:00:20", "end": "0:00:30", "method": "chromaprint"}}))
    [d] = read_result(path)
    assert d.part(Kind.INTRO).method == Method.EXTERNAL


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"start": "0:00:20", "end": None}, "both be times or both null"),
        ({"start": "0:00:30", "end": "0:00:20"}, "is not after start"),
        ({"start": "1:2", "end": "0:00:20"}, "H:MM:SS"),
        ({"start": "0:00:01", "end": "0:00:02", "confidence": 2}, "confidence"),
        ("x", "expected an object"),
    ],
)
def test_bad_prediction_rows(tmp_path, row, problem):
    path = tmp_path / "pred.json"
    path.write_text(json.dumps({"a": row}))
    with pytest.raises(ResultFileError, match=problem) as info:
        read_result(path)
    assert str(path) in str(info.value)


def test_files_round_trip(tmp_path):
    def dump(answers, name):
        rows = {
            k: {
                "start_sec": a.intro.start_s if a.intro else None,
                "end_sec": a.intro.end_s if a.intro else None,
                "start": None if a.intro is None else "0:00:00",
                "end": None if a.intro is None else "0:00:01",
                "duration_sec": getattr(a, "duration_s", None),
                "tags": list(getattr(a, "tags", ())),
            }
            for k, a in answers.items()
        }
        (tmp_path / name).write_text(json.dumps(rows))
        return tmp_path / name

    result = evaluate_files(dump(PRED, "p.json"), dump(TRUTH, "t.json"))
    assert result.overall.f1 == pytest.approx(2 / 7)
    assert json.loads(json.dumps(result.to_json()))["overall"]["tp"] == 1


def _parts(**spans: S | None) -> Detection:
    """A prediction with an intro and other parts (kind name → span, None: none found)."""
    intro = spans.pop("intro", None)
    from introdetect.result import Part

    parts = (Part(Kind.INTRO, intro, 0.9, Method.RECURRING),) + tuple(
        Part(Kind(k), v, 0.9, Method.RECURRING) for k, v in spans.items()
    )
    return Detection("x", parts)


def test_other_kinds_are_scored_where_the_truth_states_them_and_harm_counts_story_skipped() -> None:
    truth = {
        # credits 1200–1260 s; recap 2–30 s; no preview
        "a": Truth(S(40, 50), 1300, parts={Kind.CREDITS: S(1200, 1260), Kind.RECAP: S(2, 30), Kind.PREVIEW: None}),
        # no credits
        "b": Truth(S(40, 50), 1300, parts={Kind.CREDITS: None}),
        # the truth says nothing of credits: not scored for them, nor for harm where credits are marked
        "c": Truth(S(40, 50), 1300),
    }
    pred = {
        # credits 1.5 s early at the start, 0.5 s late at the end: a hit at ±2 s, not at ±1 s; the recap
        # found as 2–33 s (3 s of story inside); the preview none, right
        "a": _parts(intro=S(40, 50), credits=S(1198.5, 1260.5), recap=S(2, 33), preview=None),
        # false credits, 20 s of story
        "b": _parts(intro=S(40, 50), credits=S(1280, 1300)),
        "c": _parts(intro=S(40, 50), credits=S(1280, 1300)),
    }
    result = evaluate(pred, truth)
    credits = result.kinds["credits"]
    assert (credits.episodes, credits.with_part) == (2, 1)
    assert credits.hits == {"±1s": 0.0, "±2s": 1.0}
    assert (credits.tp, credits.fp, credits.fn, credits.false_part_rate) == (1, 1, 0, 1.0)
    assert result.kinds["recap"].hits == {"±1s": 0.0, "±2s": 0.0} and result.kinds["recap"].tp == 1
    assert result.kinds["preview"].episodes == 1 and result.kinds["preview"].false_part_rate == 0.0
    # harm: a: 1.5 s before the credits + 0.5 s after + 3 s after the recap = 5.0 s (not over 5 s); b: 20 s;
    # c: not scored (its truth does not state credits)
    harm = result.harm
    assert harm.episodes == 2 and harm.mean_s == pytest.approx(12.5) and harm.over == 1 and harm.worst == [("b", 20.0)]
