"""The file's own chapters as evidence: titles read as kinds the way Intro Skipper's and mpv's patterns read them
(and the Russian of VK releases), the chapters read from ffmpeg's log of the decode, a titled chapter standing
for its part."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import mux_chapters

from introdetect import detect
from introdetect.detectors.chapters import chapter_parts, kind_of
from introdetect.media import parse_log
from introdetect.metrics import read_truth
from introdetect.result import Kind, Method
from introdetect.timecode import Segment


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Intro", Kind.INTRO),
        ("OP", Kind.INTRO),
        ("Opening Credits", Kind.INTRO),
        ("Заставка", Kind.INTRO),
        ("Intro End", None),  # where the intro ends, not the intro
        ("Ending Credits", Kind.CREDITS),
        ("ED", Kind.CREDITS),
        ("Титры", Kind.CREDITS),
        ("Previously", Kind.RECAP),
        ("Recap", Kind.RECAP),
        ("Next Time", Kind.PREVIEW),
        ("Preview", Kind.PREVIEW),
        ("Заставка канала", Kind.IDENT),
        ("Episode", None),
        ("Chapter 3", None),
        ("Cold Open", None),
    ],
)
def test_titles_read_as_kinds(title: str, kind: Kind | None) -> None:
    assert kind_of(title) == kind


def test_an_act_titled_loosely_is_not_a_part() -> None:
    parts = chapter_parts(((0.0, 1200.0, "Opening"), (1200.0, 1250.0, "Ending")))
    assert Kind.INTRO not in parts and parts[Kind.CREDITS] == Segment(1200.0, 1250.0)


def test_chapters_come_from_the_decodes_log() -> None:
    log = parse_log(
        b"[info] Input #0, matroska,webm, from 'a.mkv':\n[info]   Duration: 00:00:30.02, start: 0.000000\n"
        b"[info]   Chapters:\n[info]     Chapter #0:0: start 0.000000, end 5.000000\n[info]       Metadata:\n"
        b"[info]         title           : Previously\n[info]     Chapter #0:1: start 5.000000, end 12.500000\n"
        b"[info]   Stream #0:0: Audio: aac (LC), 44100 Hz, mono, fltp\n[info]     Metadata:\n"
        b"[info]       title           : Commentary\n"
    )
    assert log.media_info("a.mkv").chapters == ((0.0, 5.0, "Previously"), (5.0, 12.5, ""))


def test_a_titled_chapter_stands_for_its_part(tiny_corpus: Path, tmp_path: Path) -> None:
    source = next(tiny_corpus.glob("test/*/*.mkv"))
    truth = read_truth(tiny_corpus / "truth_test.json")[source.stem]
    intro = truth.intro or Segment(10.0, 20.0)
    credits = truth.span(Kind.CREDITS)
    meta = tmp_path / "chapters.txt"
    marks = [
        (0.0, intro.start_s, "Episode"),
        (intro.start_s, intro.end_s, "Opening"),
        (intro.end_s, credits.start_s, "Episode"),
        (credits.start_s, credits.end_s, "Ending"),
    ]
    meta.write_text(
        ";FFMETADATA1\n"
        + "".join(
            f"[CHAPTER]\nTIMEBASE=1/1000\nSTART={round(a * 1000)}\nEND={round(b * 1000)}\ntitle={t}\n"
            for a, b, t in marks
        ),
        encoding="utf-8",
    )
    video = tmp_path / source.name
    mux_chapters(source, meta, video)
    [answer] = detect([video], workers=1)  # a lone episode of an unknown series: nothing to match it with
    part = answer.part(Kind.INTRO)
    assert part.method == Method.CHAPTER and abs(part.segment.start_s - intro.start_s) < 0.01
    assert answer.part(Kind.CREDITS).method == Method.CHAPTER
    # chapters are on the file's own clock; the timeline starts at the container's start (here Opus's pre-skip
    # puts it 7 ms before 0), as players count time
    start = float(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=start_time", "-of", "csv=p=0", str(video)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    found = answer.part(Kind.CREDITS).segment
    assert found.start_s == pytest.approx(credits.start_s - start, abs=0.0015)
    assert found.end_s == pytest.approx(credits.end_s - start, abs=0.0015)
