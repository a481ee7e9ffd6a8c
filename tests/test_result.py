"""The one result type: an episode's parts, written and read back unchanged; files of other tools read too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from introdetect.errors import ResultFileError
from introdetect.result import (
    Curve,
    Detection,
    Evidence,
    Kind,
    Match,
    Method,
    Opinion,
    Part,
    read_result,
    write_result,
)
from introdetect.timecode import Segment


def _detection() -> Detection:
    """An intro found by recurrence (the model agreed), end credits found too, 480 s analysed."""
    intro = Part(
        Kind.INTRO,
        Segment(41.7, 46.8),
        0.93,
        Method.RECURRING,
        "model: 0:00:41.5–0:00:47.0 (0.88), agrees",
        Evidence(
            matches=(Match(Segment(41.7, 46.8), ("e2", "e3"), 0.97),),
            curve=Curve(5.0, 5.0, (0.1, 0.9, 0.2)),
            model=Opinion(Segment(41.5, 47.0), 0.88, Method.MODEL),
            matcher=Opinion(Segment(41.7, 46.8), 0.93, Method.RECURRING),
        ),
    )
    credits = Part(Kind.CREDITS, Segment(1290.0, 1320.5), 0.7, Method.RECURRING)
    preview = Part(Kind.PREVIEW, None, 0.8, Method.RECURRING)
    return Detection("show_s01e01", (intro, credits, preview), "show", None, 480.0)


def test_a_detection_with_several_parts_reads_back_the_same(tmp_path: Path) -> None:
    d = _detection()
    write_result(tmp_path / "r.json", [d])
    [back] = read_result(tmp_path / "r.json")
    assert back == d
    row = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["show_s01e01"]
    assert row["start"] == "0:00:41.7" and row["method"] == "recurring"  # the intro where the label format has it
    assert row["evidence"]["analysed_sec"] == 480.0
    # the output contract: every part found in ``segments``, the kinds looked for and not found in ``absent``
    assert row["segments"] == [
        {"kind": "intro", "start_sec": 41.7, "end_sec": 46.8, "confidence": 0.93, "method": "recurring"},
        {"kind": "credits", "start_sec": 1290.0, "end_sec": 1320.5, "confidence": 0.7, "method": "recurring"},
    ]
    assert row["absent"] == [{"kind": "preview", "confidence": 0.8, "method": "recurring"}]


def test_files_of_version_0_2_and_labels_with_part_keys_read_as_parts(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    rows = {
        "a": {"start": None, "end": None, "parts": {"credits": {"start_sec": 1200.0, "end_sec": 1250.0}}},
        "b": {
            "start": "0:00:40",
            "end": "0:00:50",
            "recap_start": "0:00:03",
            "recap_end": "0:00:31",
            "credits_start": None,
            "credits_end": None,
        },
    }
    path.write_text(json.dumps(rows), encoding="utf-8")
    a, b = read_result(path)
    assert a.part(Kind.CREDITS).segment == Segment(1200.0, 1250.0)
    assert b.part(Kind.RECAP).segment == Segment(3.0, 31.0) and b.part(Kind.RECAP).method == Method.LABEL
    assert b.part(Kind.CREDITS) is not None and b.part(Kind.CREDITS).segment is None  # labelled: none
    assert b.part(Kind.PREVIEW) is None  # not labelled


def test_one_part_of_each_kind_at_most() -> None:
    part = Part(Kind.INTRO, None, 0.5, Method.MODEL)
    with pytest.raises(ValueError, match="more than one part"):
        Detection("e", (part, part))
    other = _detection().with_part(Part(Kind.INTRO, None, 0.6, Method.REVIEW))
    assert other.intro is None and [p.kind for p in other.parts] == [Kind.INTRO, Kind.CREDITS, Kind.PREVIEW]


def test_label_files_and_other_tools_files_read_as_detections(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    rows = {
        "a": {"start": "0:00:10", "end": "0:00:20"},  # a label: method "label"
        "b": {"start": None, "end": None, "method": "chromaprint", "confidence": 0.4},  # another tool's
    }
    path.write_text(json.dumps(rows), encoding="utf-8")
    a, b = read_result(path)
    assert a.part().method == Method.LABEL and a.intro == Segment(10.0, 20.0) and a.analysed_s is None
    assert b.part().method == Method.EXTERNAL and b.intro is None and b.part().confidence == 0.4


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"start": None, "end": None, "parts": {"outro": {"start": None, "end": None}}}, "unknown kind 'outro'"),
        ({"start": None, "end": None, "parts": {"credits": 3}}, "must be an object"),
        ({"start": None, "end": None, "segments": [{"kind": "outro"}]}, "unknown kind 'outro'"),
        ({"start": None, "end": None, "segments": {"kind": "credits"}}, "segments must be a list"),
        ({"start": None, "end": None, "segments": [{"kind": "credits", "start_sec": 9, "end_sec": 3}]}, "not after"),
        ({"start": None, "end": None, "evidence": {"matches": [1]}}, "evidence"),
        ({"start": None, "end": None, "confidence": True}, "confidence must be a number"),
    ],
)
def test_a_row_that_does_not_read_names_the_file_and_the_id(tmp_path: Path, row: dict, problem: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"e1": row}), encoding="utf-8")
    with pytest.raises(ResultFileError, match=problem) as info:
        read_result(path)
    assert str(path) in str(info.value) and "e1" in str(info.value)
