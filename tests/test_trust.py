"""Trust: how far the confidences can be trusted (the reliability figures of ``evaluate``, worked out by hand),
and "not sure" rather than a wrong skip (parts under --min-confidence are unsure: marked so in the table, left
out of every export a player acts on unless --include-unsure)."""

from __future__ import annotations

import csv
import itertools
import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from introdetect._cli import app
from introdetect.export import export
from introdetect.metrics import EpisodeScore, answer_right, reliability_of
from introdetect.result import Detection, Kind, Method, Part, write_result
from introdetect.settings import DEFAULT_MIN_CONFIDENCE
from introdetect.timecode import Segment


def score(truth: Segment | None, predicted: Segment | None, confidence: float | None) -> EpisodeScore:
    errors = (None, None)
    if truth is not None and predicted is not None:
        errors = (abs(truth.start_s - predicted.start_s), abs(truth.end_s - predicted.end_s))
    return EpisodeScore("e", truth, predicted, 0.0, *errors, confidence, Method.RECURRING, ())


def test_reliability_figures_by_hand() -> None:
    intro = Segment(60.0, 90.0)
    scores = [
        score(intro, Segment(60.5, 90.8), 0.95),  # right: both ends within 1 s
        score(intro, Segment(62.0, 90.0), 0.95),  # wrong: 2 s off at the start, and sure of it
        score(None, None, 0.92),  # "no intro", right
        score(intro, None, 0.55),  # "no intro" of an episode with one: wrong, not sure
        score(intro, Segment(60.0, 90.0), None),  # no confidence: not rated
    ]
    assert [answer_right(s) for s in scores] == [True, False, True, False, True]
    r = reliability_of(scores)
    assert r.answers == 4 and r.sure == 3 and r.sure_right == pytest.approx(2 / 3)
    assert r.confidently_wrong == 1 and r.confidently_wrong_rate == pytest.approx(0.25)
    # bins: 0.5-0.6 holds 0.55 (share right 0), 0.9-1.0 holds 0.95, 0.95, 0.92 (mean 0.94, share right 2/3)
    assert [(b[0], b[1]) for b in r.bins] == [("0.5–0.6", 1), ("0.9–1.0", 3)]
    ece = (1 / 4) * abs(0 - 0.55) + (3 / 4) * abs(2 / 3 - (0.95 + 0.95 + 0.92) / 3)
    assert r.ece == pytest.approx(ece)


def test_the_ece_that_chance_alone_gives() -> None:
    """``ece_chance``: the ECE of a perfectly calibrated detector at these confidences. Answers at 1.0 are always
    right: 0. A hundred answers at 0.5, each right with that chance: the share right strays from 0.5 by
    E|p̂ − ½| = √(¼/100)·√(2/π) ≈ 0.040; four hundred, half that. The same figure on every run."""
    from introdetect.metrics import reliability_from

    assert reliability_from([1.0] * 50, [True] * 50).ece_chance == 0.0
    hundred = reliability_from([0.5] * 100, [True] * 50 + [False] * 50)
    assert hundred.ece == 0.0
    assert hundred.ece_chance == pytest.approx(0.05 * (2 / math.pi) ** 0.5, abs=0.005)
    assert reliability_from([0.5] * 400, [True] * 400).ece_chance == pytest.approx(0.020, abs=0.003)
    assert reliability_from([0.5] * 100, [False] * 100).ece_chance == hundred.ece_chance


def detections(folder: Path | None = None) -> list[Detection]:
    """Three episodes: e1 an intro at 0.95 and credits at 0.5, e2 a reviewer's intro, e3 an intro at 0.4."""
    where = {vid: {"path": str(folder / f"{vid}.mkv")} if folder else {} for vid in ("e1", "e2", "e3")}
    sure = Part(Kind.INTRO, Segment(60.0, 90.0), 0.95, Method.RECURRING)
    unsure = Part(Kind.CREDITS, Segment(1200.0, 1250.0), 0.5, Method.RECURRING)
    labelled = Part(Kind.INTRO, Segment(30.0, 50.0), None, Method.REVIEW)  # a person's mark: never unsure
    shaky = Part(Kind.INTRO, Segment(70.0, 95.0), 0.4, Method.MODEL)
    return [
        Detection("e1", (sure, unsure), "show", duration_s=1300.0, **where["e1"]),
        Detection("e2", (labelled,), "show", duration_s=1300.0, **where["e2"]),
        Detection("e3", (shaky,), "show", duration_s=1300.0, **where["e3"]),
    ]


def test_exports_a_player_acts_on_leave_unsure_parts_out(tmp_path: Path) -> None:
    found = detections()
    outcome = export(found, "jellyfin", tmp_path / "segments.json")
    assert outcome.unsure == 2
    segments = json.loads((tmp_path / "segments.json").read_text(encoding="utf-8"))
    kinds = {vid: [item["Type"] for item in page["Items"]] for vid, page in segments.items()}
    assert kinds == {"e1": ["Intro"], "e2": ["Intro"], "e3": []}  # e1's credits (0.5) and e3's intro (0.4): none
    outcome = export(found, "jellyfin", tmp_path / "all.json", include_unsure=True)
    everything = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    assert outcome.unsure == 0
    assert {vid: [item["Type"] for item in page["Items"]] for vid, page in everything.items()} == {
        "e1": ["Intro", "Outro"],
        "e2": ["Intro"],
        "e3": ["Intro"],
    }
    export(found, "csv", tmp_path / "parts.csv")  # data, not skip marks: every part with its confidence
    rows = list(csv.DictReader((tmp_path / "parts.csv").open(encoding="utf-8")))
    assert {(r["id"], r["kind"]) for r in rows if r["start_sec"]} == {
        ("e1", "intro"),
        ("e1", "credits"),
        ("e2", "intro"),
        ("e3", "intro"),
    }


def test_the_commands_say_what_is_unsure(tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    write_result(result, detections(tmp_path))
    runner = CliRunner()
    done = runner.invoke(app, ["export", str(result), "--format", "edl", "--out", str(tmp_path / "edl")])
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())
    assert f"2 unsure parts (confidence under {DEFAULT_MIN_CONFIDENCE:g}) left out" in text
    done = runner.invoke(
        app, ["export", str(result), "--format", "edl", "--out", str(tmp_path / "all"), "--include-unsure"]
    )
    assert done.exit_code == 0 and "unsure" not in done.output
    assert (tmp_path / "all" / "e3.edl").exists() and not (tmp_path / "edl" / "e3.edl").exists()
    from rich.console import Console

    from introdetect._cli.render import detection_table

    console = Console(width=300, record=True)
    console.print(detection_table(detections(), "parts", None, DEFAULT_MIN_CONFIDENCE))
    shown = console.export_text()
    assert "0.40 unsure" in shown and "0.50, unsure" in shown and "0.95 unsure" not in shown


def test_evaluate_prints_the_reliability_of_any_result(tmp_path: Path) -> None:
    predictions, truth = tmp_path / "p.json", tmp_path / "t.json"
    write_result(predictions, detections())
    truth_rows = {
        "e1": {"start": "0:01:00", "end": "0:01:30"},
        "e2": {"start": "0:00:30", "end": "0:00:50"},
        "e3": {"start": None, "end": None},
    }
    truth.write_text(json.dumps(truth_rows), encoding="utf-8")
    done = CliRunner().invoke(app, ["evaluate", str(predictions), str(truth)])
    assert done.exit_code == 0, done.output
    assert "confidently wrong" in done.output and "reliability of all answers" in done.output
    done = CliRunner().invoke(app, ["evaluate", str(predictions), str(truth), "--json"])
    reliability = json.loads(done.output)["reliability"]
    # e1 right at 0.95; e3 an intro where there is none, at 0.4; e2 has no confidence (a reviewer's mark)
    assert reliability["all"]["answers"] == 2 and reliability["all"]["confidently_wrong"] == 0
    assert reliability["model"]["answers"] == 1 and reliability["recurring"]["sure_right"] == 1.0


def test_trust_map_by_hand() -> None:
    """The map of trust.py: per method sigmoid(a·logit(c) + b + c_none·[no intro]); a method without an entry,
    other kinds and parts without a confidence as the detector gave them."""
    import math

    from introdetect.trust import TrustMap

    trust = TrustMap({"recurring": (2.0, -1.0, -3.0)})
    z = 2.0 * math.log(0.9 / 0.1) - 1.0
    assert trust.confidence(Method.RECURRING, 0.9, answered=True) == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-6)
    assert trust.confidence(Method.RECURRING, 0.9, answered=False) == pytest.approx(
        1 / (1 + math.exp(-(z - 3.0))), abs=1e-6
    )
    assert trust.confidence(Method.MODEL, 0.9, answered=True) == 0.9
    intro = Part(Kind.INTRO, Segment(10.0, 40.0), 0.9, Method.RECURRING)
    assert trust.part(intro).confidence == trust.confidence(Method.RECURRING, 0.9, True)
    credits = Part(Kind.CREDITS, Segment(900.0, 960.0), 0.9, Method.RECURRING)
    assert trust.part(credits) is credits
    label = Part(Kind.INTRO, Segment(10.0, 40.0), None, Method.RECURRING)
    assert trust.part(label) is label
    assert TrustMap.from_json(json.loads(json.dumps(trust.to_json()))).methods == trust.methods
    # the model's other parts by the map of their method and kind; the model's intro by its own, not theirs
    parts = TrustMap({"model:credits": (0.0, math.log(0.6 / 0.4), 0.0)})
    model_credits = Part(Kind.CREDITS, Segment(900.0, 960.0), 0.95, Method.MODEL)
    assert parts.part(model_credits).confidence == pytest.approx(0.6)
    assert parts.part(credits) is credits  # the season's credits: no map of theirs
    model_intro = Part(Kind.INTRO, Segment(10.0, 40.0), 0.95, Method.MODEL)
    assert parts.part(model_intro) is model_intro
    # however surely mapped, or not mapped at all, the model's parts stay unsure by default
    from introdetect.trust import MODEL_PART_MAX

    assert MODEL_PART_MAX < DEFAULT_MIN_CONFIDENCE
    sure = TrustMap({"model:credits": (0.0, 5.0, 0.0)})
    assert sure.part(model_credits).confidence == MODEL_PART_MAX
    recap = Part(Kind.RECAP, Segment(0.0, 30.0), 0.99, Method.MODEL)
    assert sure.part(recap).confidence == MODEL_PART_MAX
    # the replayed scenes' recaps by the map of theirs, with no bound; "no recap" as the detector said it
    replays = TrustMap({"recurring:recap": (0.0, math.log(0.7 / 0.3), 0.0)})
    found = Part(Kind.RECAP, Segment(0.0, 30.0), 0.9, Method.RECURRING)
    assert replays.part(found).confidence == pytest.approx(0.7)
    absent = Part(Kind.RECAP, None, 0.6, Method.RECURRING)
    assert replays.part(absent) is absent


def test_the_replays_recaps_and_previews_are_unsure_by_default() -> None:
    """The shipped map of the replayed scenes' parts (fitted on the held-out validation split: recaps right 11 of
    16, previews 8 of 17, whatever their own confidence) keeps them under the default --min-confidence: shown,
    reviewed first, exported for a player only with --include-unsure."""
    from introdetect.settings import DEFAULT_MIN_CONFIDENCE
    from introdetect.trust import TrustMap

    trust = TrustMap.load()
    for kind in (Kind.RECAP, Kind.PREVIEW):
        part = Part(kind, Segment(0.0, 30.0), 0.9, Method.RECURRING)
        assert 0.3 < trust.part(part).confidence < DEFAULT_MIN_CONFIDENCE, kind


def test_shipped_trust_map_is_fitted_and_monotone() -> None:
    """The shipped map was fitted (its provenance names the command and the data) and never makes a detector's
    surer answer less trusted than its less sure one; every value stays in [0, 1]."""
    from introdetect.trust import TrustMap

    trust = TrustMap.load()
    assert trust.methods and "bench/fit_trust.py" in trust.provenance["command"]
    grid = [i / 100 for i in range(101)]
    for method in trust.methods:
        for answered in (True, False):
            values = [trust.confidence(method, c, answered) for c in grid]
            assert all(0.0 <= v <= 1.0 for v in values)
            assert all(b >= a for a, b in itertools.pairwise(values)), (method, answered)


def test_a_constant_map_is_the_lower_bound_of_the_share_right() -> None:
    """A detector whose confidence does not order its answers is mapped onto constants (bench/fit_trust.py):
    the one-sided 95 % lower bound (Clopper–Pearson) of the share right, for its intros and its "none heard"
    apart."""
    from introdetect.trust import TrustMap, constant_coefficients

    trust = TrustMap({"known": constant_coefficients((40, 42), (6, 6))})
    assert trust.confidence("known", 0.99, True) == pytest.approx(0.8576, abs=1e-3)  # 40 of 42, not 0.95
    assert trust.confidence("known", 0.2, True) == trust.confidence("known", 0.99, True)
    assert trust.confidence("known", 0.99, False) == pytest.approx(0.05 ** (1 / 6), abs=1e-4)  # 6 of 6
    assert constant_coefficients((40, 42), (0, 0))[2] == 0.0  # no "none" answered: as the intros


def test_a_map_is_not_carried_past_the_confidences_it_was_fitted_on() -> None:
    """``TrustMap.reach``: a confidence above the highest its method gave in the fit (for intros and for "no intro"
    apart) is mapped as that highest one; below it, the map as fitted; the bounds survive the file."""
    from introdetect.trust import TrustMap

    trust = TrustMap({"model": (1.0, 0.0, 0.0)}, reach={"model": (None, 0.97)})
    assert trust.confidence("model", 0.9999, answered=False) == pytest.approx(0.97, abs=1e-6)
    assert trust.confidence("model", 0.9, answered=False) == pytest.approx(0.9, abs=1e-6)
    assert trust.confidence("model", 0.9999, answered=True) == pytest.approx(0.9999, abs=1e-6)  # no bound on intros
    again = TrustMap.from_json(json.loads(json.dumps(trust.to_json())))
    assert again.reach == trust.reach and again.methods == trust.methods
    # the shipped map: the model's "no intro" at its own 0.9999 is no surer than at the 0.97 it reached in the fit
    shipped = TrustMap.load()
    most = shipped.reach["model"][1]
    assert most is not None and most < 0.99
    assert shipped.confidence("model", 0.9999, False) == shipped.confidence("model", most, False) < 0.9


def test_the_fused_intro_is_mapped_by_the_answer_map_of_its_method() -> None:
    """``TrustMap.answer``: the fused intro's confidence by the map of the method that decided it
    (``answer:recurring``), after fusion compared the candidates under the detectors' maps; other kinds and
    methods without an answer map as given. ``decisions()`` drops the answer maps; the file keeps them.
    ``Candidates.answers`` applies both: the candidate's map first, then the answer's."""
    from introdetect.detectors.base import Candidate
    from introdetect.matching.confidence import logit
    from introdetect.pipeline import Candidates
    from introdetect.trust import TrustMap, answer_key

    trust = TrustMap(
        {"recurring": (1.0, 0.0, 0.0), answer_key(Method.RECURRING): (2.0, 0.5, -1.0)},
        reach={answer_key(Method.RECURRING): (0.9, None)},
    )
    intro = Part(Kind.INTRO, Segment(60.0, 90.0), 0.8, Method.RECURRING)
    z = 2.0 * logit(0.8) + 0.5
    assert trust.answer(intro).confidence == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-6)
    top = 1 / (1 + math.exp(-(2.0 * logit(0.9) + 0.5)))
    assert trust.answer(replace(intro, confidence=0.99)).confidence == pytest.approx(top, abs=1e-6)  # its reach
    none = Part(Kind.INTRO, None, 0.8, Method.RECURRING)
    assert trust.answer(none).confidence == pytest.approx(1 / (1 + math.exp(-(z - 1.0))), abs=1e-6)
    for other in (
        Part(Kind.CREDITS, Segment(900.0, 960.0), 0.8, Method.RECURRING),
        Part(Kind.INTRO, Segment(60.0, 90.0), 0.8, Method.MODEL),
        Part(Kind.INTRO, Segment(60.0, 90.0), None, Method.RECURRING),
    ):
        assert trust.answer(other) is other
    decisions = trust.decisions()
    assert set(decisions.methods) == {"recurring"} and decisions.answer(intro) is intro
    again = TrustMap.from_json(json.loads(json.dumps(trust.to_json())))
    assert again.methods == trust.methods and again.reach == trust.reach
    episode = Detection("e1", (), "show", duration_s=1300.0)
    candidate = Candidate(Kind.INTRO, Segment(60.0, 90.0), 0.8, Method.RECURRING, family="matching")
    fused = Candidates([episode], {"e1": [candidate]}).answers("matching", trust=trust).detections[0]
    assert fused.part(Kind.INTRO).confidence == pytest.approx(trust.answer(intro).confidence, abs=1e-6)
    decided = Candidates([episode], {"e1": [candidate]}).answers("matching", trust=decisions).detections[0]
    assert decided.part(Kind.INTRO).confidence == pytest.approx(0.8, abs=1e-6)
