"""Exports: each format written from a detect result and read back by what consumes it where that is at hand
(the label reader for JSON; Python's csv; ffmpeg muxing the chapters and ffprobe reading them back)."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import mux_chapters
from typer.testing import CliRunner

from introdetect._cli import app
from introdetect.export import WRITERS
from introdetect.labels import read_labels
from introdetect.result import Detection, Kind, Method, Part, read_result, write_result
from introdetect.timecode import Segment

runner = CliRunner()

FIRST = Detection(
    "show_s01e01",
    (
        Part(Kind.RECAP, Segment(0.0, 20.5), 0.9, Method.RECURRING),
        Part(Kind.INTRO, Segment(83.412, 133.655), 0.93, Method.RECURRING),
        Part(Kind.CREDITS, Segment(1200.0, 1250.0), 0.95, Method.RECURRING),
        Part(Kind.PREVIEW, None, 0.7, Method.RECURRING),
    ),
    duration_s=1280.0,
)
"""A recap from 0, the intro after a cold open, credits, a post-credits scene to 1280 s; no preview."""

INTRO_SKIPPER_PATTERNS = {
    "intro": r"(^|\s)(Intro|Introduction|OP|Opening)(?!\sEnd)(\s|$)",
    "credits": r"(^|\s)(Credits?|ED|Ending|Outro)(?!\sEnd)(\s|$)",
    "recap": r"(^|\s)(Re?cap|Sum{1,2}ary|Prev(ious(ly)?)?|(Last|Earlier)(\s\w+)?|Catch[ -]up)(?!\sEnd)(\s|:|$)",
    "preview": r"(^|\s)(Preview|PV|Sneak\s?Peek|Coming\s?(Up|Soon)|Next\s+(time|on|episode)|Extra|Teaser|Trailer)"
    r"(?!\sEnd)(\s|:|$)",
}
"""Intro Skipper's default chapter patterns (its PluginConfiguration)."""

CHAPTERSKIP = {"prologue": ("^Prologue", "^Intro"), "ending": ("^ED", " ED$", "^Ending"), "preview": ("Preview$",)}
"""mpv chapterskip's default categories (Lua patterns that read the same as regular expressions)."""


def _skipper_kind(title: str) -> str | None:
    return next((k for k, pattern in INTRO_SKIPPER_PATTERNS.items() if re.search(pattern, title)), None)


def _chapterskip(title: str) -> str | None:
    return next((c for c, patterns in CHAPTERSKIP.items() if any(re.search(p, title) for p in patterns)), None)


ANSWERS = {
    "show_s01e01": FIRST,
    "show_s01e02": Detection.of_intro("show_s01e02", None, 0.88, Method.RECURRING),
    "show_s01e03": Detection.of_intro("show_s01e03", Segment(2.0, 6.1), 0.9, Method.MODEL),
}


@pytest.fixture
def result_file(tmp_path: Path) -> Path:
    """A detect result file (``write_result``), as ``export`` reads it."""
    path = tmp_path / "result.json"
    write_result(path, ANSWERS.values())
    return path


def test_label_json_round_trips_through_the_label_reader(result_file: Path, tmp_path: Path) -> None:
    exported = tmp_path / "labels.json"
    assert runner.invoke(app, ["export", str(result_file), "--format", "json", "--out", str(exported)]).exit_code == 0
    labels = read_labels(exported)
    assert labels["show_s01e01"].segment.start_s == pytest.approx(83.412, abs=1e-3)
    assert labels["show_s01e02"].no_intro
    assert {d.id: d for d in read_result(exported)}["show_s01e03"].intro == Segment(2.0, 6.1)


def test_csv_reads_back_with_the_csv_module(result_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    result = runner.invoke(app, ["export", str(result_file), "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["id"], r["kind"]) for r in rows][:5] == [
        ("show_s01e01", "recap"),
        ("show_s01e01", "intro"),
        ("show_s01e01", "credits"),
        ("show_s01e01", "preview"),
        ("show_s01e02", "intro"),
    ]
    assert float(rows[1]["start_sec"]) == pytest.approx(83.412) and rows[4]["start"] == ""
    assert float(rows[2]["end_sec"]) == 1250.0 and rows[3]["start"] == "" and rows[3]["confidence"] == "0.7000"


def test_label_json_carries_every_kind_as_label_keys(result_file: Path, tmp_path: Path) -> None:
    exported = tmp_path / "labels.json"
    assert runner.invoke(app, ["export", str(result_file), "--format", "json", "--out", str(exported)]).exit_code == 0
    label = read_labels(exported)["show_s01e01"]
    assert label.part("credits") == Segment(1200.0, 1250.0) and label.part("recap") == Segment(0.0, 20.5)
    assert "preview" in dict(label.parts) and label.part("preview") is None  # looked for, none


def test_jellyfin_media_segments_have_the_dto_shape_in_ticks(result_file: Path) -> None:
    result = runner.invoke(app, ["export", str(result_file), "--format", "jellyfin"])
    assert result.exit_code == 0, result.output
    rows = json.loads((result_file.parent / "result.jellyfin.json").read_text(encoding="utf-8"))
    first = rows["show_s01e01"]
    assert first["TotalRecordCount"] == 3 and first["StartIndex"] == 0
    by_type = {item["Type"]: item for item in first["Items"]}
    assert set(by_type) == {"Recap", "Intro", "Outro"}
    assert by_type["Intro"]["StartTicks"] == 834_120_000 and by_type["Outro"]["EndTicks"] == 12_500_000_000
    assert all(set(i) == {"Id", "ItemId", "Type", "StartTicks", "EndTicks"} for i in first["Items"])
    assert len({i["ItemId"] for i in first["Items"]}) == 1 and len({i["Id"] for i in first["Items"]}) == 3
    assert rows["show_s01e02"] == {"Items": [], "TotalRecordCount": 0, "StartIndex": 0}


def test_intro_skipper_timestamps_follow_its_rules(result_file: Path) -> None:
    result = runner.invoke(app, ["export", str(result_file), "--format", "intro-skipper"])
    assert result.exit_code == 0, result.output
    rows = json.loads((result_file.parent / "result.intro-skipper.json").read_text(encoding="utf-8"))
    assert set(rows["show_s01e01"]) == {"Introduction", "Recap", "Credits", "Preview"}
    assert rows["show_s01e01"]["Credits"]["IntroStart"] == 1200.0 and not rows["show_s01e01"]["Preview"]["Valid"]
    first = rows["show_s01e01"]["Introduction"]
    assert first == {
        "EpisodeId": "show_s01e01",
        "Valid": True,
        "IntroStart": 83.412,
        "IntroEnd": 133.655,
        "ShowSkipPromptAt": 78.412,
        "HideSkipPromptAt": 93.412,
    }
    assert rows["show_s01e02"]["Introduction"]["Valid"] is False
    sting = rows["show_s01e03"]["Introduction"]  # a 4 s sting at 2 s: prompt from 0, hidden at its end
    assert sting["ShowSkipPromptAt"] == 0.0 and sting["HideSkipPromptAt"] == 6.1


def _video(path: Path, seconds: float) -> Path:
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-c:a",
            "aac",
            str(path),
        ],
        check=True,
    )
    return path


def test_side_files_next_to_each_video_and_chapters_muxed_by_ffmpeg(result_file: Path, tmp_path: Path) -> None:
    """EDL and WebVTT chapters next to the videos; the FFMETADATA chapters muxed into the file by ffmpeg and read
    back by ffprobe at the same times, titled so that Intro Skipper's and mpv chapterskip's patterns read each
    part as its kind and the story as none; Matroska chapters XML parsed as mkvmerge would."""
    folder = tmp_path / "season"
    folder.mkdir()
    first = _video(folder / "show_s01e01.mka", 1280.0)
    _video(folder / "show_s01e02.mka", 5.0)
    for fmt in ("edl", "vtt", "ffmetadata", "mkvchapters"):
        result = runner.invoke(app, ["export", str(result_file), "--format", fmt, "--videos", str(folder)])
        assert result.exit_code == 1, result.output  # show_s01e03 has no video: listed, the rest written
        assert "show_s01e03: no video" in result.output
    # every part a scene marker unless told; the intro as a commercial break when asked
    assert (folder / "show_s01e01.edl").read_text() == "0.000\t20.500\t2\n83.412\t133.655\t2\n1200.000\t1250.000\t2\n"
    assert not (folder / "show_s01e02.edl").exists()  # no part found, nothing to mark
    asked = runner.invoke(
        app, ["export", str(result_file), "--format", "edl", "--videos", str(folder), "--edl-action", "intro=3"]
    )
    assert asked.exit_code == 1 and "83.412\t133.655\t3" in (folder / "show_s01e01.edl").read_text()
    bad = runner.invoke(app, ["export", str(result_file), "--format", "edl", "--edl-action", "intro=7"])
    assert bad.exit_code == 2 and "0, 1, 2, 3" in " ".join(bad.output.split())
    vtt = (folder / "show_s01e01.chapters.vtt").read_text()
    assert vtt.startswith("WEBVTT") and "00:01:23.412 --> 00:02:13.655\nIntro" in vtt
    expected = [
        (0.0, 20.5, "Recap", "recap", None),
        (20.5, 83.412, "Episode", None, None),
        (83.412, 133.655, "Intro", "intro", "prologue"),
        (133.655, 1200.0, "Episode", None, None),
        (1200.0, 1250.0, "Ending Credits", "credits", "ending"),
        (1250.0, 1280.0, "Episode", None, None),  # the post-credits scene is story
    ]
    tree = ET.parse(folder / "show_s01e01.chapters.xml")
    atoms = [
        (a.findtext("ChapterTimeStart"), a.findtext("ChapterTimeEnd"), a.findtext("ChapterDisplay/ChapterString"))
        for a in tree.getroot().iter("ChapterAtom")
    ]
    assert [t for _, _, t in atoms] == [e[2] for e in expected] and atoms[2][0] == "00:01:23.412000000"
    for container in ("mka", "mp4"):  # Matroska keeps both times; MP4 keeps chapter starts only
        muxed = tmp_path / f"with_chapters.{container}"
        mux_chapters(first, folder / "show_s01e01.ffmetadata", muxed)
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(muxed)],
            check=True,
            capture_output=True,
            text=True,
        )
        read = json.loads(probe.stdout)["chapters"]
        assert len(read) == len(expected)
        for chapter, (start, end, title, skipper, chapterskip) in zip(read, expected, strict=True):
            assert float(chapter["start_time"]) == pytest.approx(start, abs=1e-3)
            if container == "mka":
                assert float(chapter["end_time"]) == pytest.approx(end, abs=1e-3)
            name = chapter["tags"]["title"]
            assert name == title and _skipper_kind(name) == skipper and _chapterskip(name) == chapterskip


def test_unknown_format_is_a_usage_error_and_unknown_videos_are_listed(result_file: Path) -> None:
    assert runner.invoke(app, ["export", str(result_file), "--format", "xml"]).exit_code == 2
    result = runner.invoke(app, ["export", str(result_file), "--format", "edl"])  # no paths in this result
    assert result.exit_code == 1 and result.output.count("no video recorded in the result") == 3, result.output
    assert set(WRITERS) == {"json", "csv", "edl", "ffmetadata", "mkvchapters", "vtt", "jellyfin", "intro-skipper"}


def test_a_bad_result_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["export", str(bad), "--format", "csv"])
    assert result.exit_code == 1 and "bad.json" in result.output and "Traceback" not in result.output
