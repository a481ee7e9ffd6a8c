"""Exports: each format written from a detect result and read back by what consumes it where that is at hand
(the label reader for JSON; Python's csv; ffmpeg muxing the chapters and ffprobe reading them back)."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from introdetect._cli import app
from introdetect.export import WRITERS, get_writer
from introdetect.labels import read_labels
from introdetect.result import Detection, Method, read_result
from introdetect.timecode import Segment

runner = CliRunner()

ANSWERS = {
    "show_s01e01": Detection.of_intro("show_s01e01", Segment(83.412, 133.655), 0.93, Method.RECURRING),
    "show_s01e02": Detection.of_intro("show_s01e02", None, 0.88, Method.RECURRING),
    "show_s01e03": Detection.of_intro("show_s01e03", Segment(2.0, 6.1), 0.75, Method.MODEL),
}


@pytest.fixture
def result_file(tmp_path: Path) -> Path:
    path = tmp_path / "result.json"
    path.write_text(get_writer("json").render(ANSWERS), encoding="utf-8")
    return path


def test_label_json_round_trips_through_the_label_reader(result_file: Path) -> None:
    labels = read_labels(result_file)
    assert labels["show_s01e01"].segment.start_s == pytest.approx(83.412, abs=1e-3)
    assert labels["show_s01e02"].no_intro
    assert {d.id: d for d in read_result(result_file)}["show_s01e03"].intro == Segment(2.0, 6.1)


def test_csv_reads_back_with_the_csv_module(result_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    result = runner.invoke(app, ["export", str(result_file), "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == list(ANSWERS)
    assert float(rows[0]["start_sec"]) == pytest.approx(83.412) and rows[1]["start"] == ""


def test_jellyfin_timestamps_follow_intro_skippers_rules(result_file: Path) -> None:
    result = runner.invoke(app, ["export", str(result_file), "--format", "jellyfin"])
    assert result.exit_code == 0, result.output
    rows = json.loads((result_file.parent / "result.jellyfin.json").read_text(encoding="utf-8"))
    first = rows["show_s01e01"]
    assert first == {
        "EpisodeId": "show_s01e01",
        "Valid": True,
        "IntroStart": 83.412,
        "IntroEnd": 133.655,
        "ShowSkipPromptAt": 78.412,
        "HideSkipPromptAt": 93.412,
    }
    assert rows["show_s01e02"]["Valid"] is False
    sting = rows["show_s01e03"]  # a 4 s sting at 2 s: prompt from 0, hidden at its end
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
    """EDL and WebVTT chapters next to the videos; the FFMETADATA chapter muxed into the file by ffmpeg and
    read back by ffprobe at the same times."""
    folder = tmp_path / "season"
    folder.mkdir()
    first = _video(folder / "show_s01e01.mka", 140.0)
    _video(folder / "show_s01e02.mka", 5.0)
    for fmt in ("edl", "vtt", "ffmetadata"):
        result = runner.invoke(app, ["export", str(result_file), "--format", fmt, "--videos", str(folder)])
        assert result.exit_code == 1, result.output  # show_s01e03 has no video: listed, the rest written
        assert "show_s01e03: no video" in result.output
    assert (folder / "show_s01e01.edl").read_text() == "83.412\t133.655\t3\n"
    assert not (folder / "show_s01e02.edl").exists()  # no intro, nothing to skip
    vtt = (folder / "show_s01e01.chapters.vtt").read_text()
    assert vtt.startswith("WEBVTT") and "00:01:23.412 --> 00:02:13.655" in vtt
    for container in ("mka", "mp4"):  # Matroska keeps both times; MP4 keeps chapter starts only
        muxed = tmp_path / f"with_chapters.{container}"
        subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-i",
                str(first),
                "-i",
                str(folder / "show_s01e01.ffmetadata"),
                "-map_metadata",
                "1",
                "-map_chapters",
                "1",
                "-codec",
                "copy",
                str(muxed),
            ],
            check=True,
        )
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(muxed)],
            check=True,
            capture_output=True,
            text=True,
        )
        before, intro = json.loads(probe.stdout)["chapters"]
        assert float(before["start_time"]) == 0.0 and before["tags"]["title"] == "Before the intro"
        assert float(intro["start_time"]) == pytest.approx(83.412, abs=1e-3) and intro["tags"]["title"] == "Intro"
        if container == "mka":
            assert float(intro["end_time"]) == pytest.approx(133.655, abs=1e-3)


def test_unknown_format_is_a_usage_error_and_unknown_videos_are_listed(result_file: Path) -> None:
    assert runner.invoke(app, ["export", str(result_file), "--format", "xml"]).exit_code == 2
    result = runner.invoke(app, ["export", str(result_file), "--format", "edl"])  # no paths in this result
    assert result.exit_code == 1 and result.output.count("no video recorded in the result") == 3, result.output
    assert set(WRITERS) == {"json", "csv", "edl", "ffmetadata", "vtt", "jellyfin"}


def test_a_bad_result_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["export", str(bad), "--format", "csv"])
    assert result.exit_code == 1 and "bad.json" in result.output and "Traceback" not in result.output
