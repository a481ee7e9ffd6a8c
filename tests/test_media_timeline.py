"""Times on the media's own timeline: a release whose audio starts late (a remux's audio delay, an MP4 edit list's
empty edit), early, in an MPEG-TS whose clock starts at 1001 s, or in a second language's stream delayed
differently, is answered at the times a player shows: the undelayed answers plus the delay, in the result, in the
exports (chapters muxed back and read by ffprobe), in the review page's audio and against labels made with a
player. Real recordings: the clean tiny corpus's first test season (intro copies answered to the frame)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import ffmpeg

from introdetect import detect
from introdetect.export import export
from introdetect.known import build_library
from introdetect.labels import read_labels
from introdetect.media import decode_audio, preview_command
from introdetect.result import Kind
from introdetect.settings import AudioOptions
from introdetect.timecode import format_timecode

ON_TIMELINE_S = 0.1  # the bar: within ±0.1 s of the intro's time on the player's timeline
RATE = 22050


def ffprobe(path: Path, *shown: str) -> dict:
    """ffprobe's JSON of ``path`` (``shown``: -show_format, -show_streams, -show_chapters): independent of us."""
    command = ["ffprobe", "-v", "error", "-print_format", "json", *shown, str(path)]
    return json.loads(subprocess.run(command, capture_output=True, check=True).stdout)


def ffprobe_offset(path: Path, audio: int = 0) -> float:
    """The audio stream's start against the container's start, as ffprobe reports them."""
    data = ffprobe(path, "-show_format", "-show_streams")
    streams = [s for s in data["streams"] if s["codec_type"] == "audio"]
    return float(streams[audio]["start_time"]) - float(data["format"]["start_time"])


def delayed(source: Path, out: Path, delay_s: float) -> Path:
    """``source`` remuxed with its audio moved by ``delay_s`` against its video (``-itsoffset``), codecs copied."""
    ffmpeg("-i", str(source), "-itsoffset", f"{delay_s}", "-i", str(source), "-map", "0:v", "-map", "1:a",
           "-c", "copy", str(out))  # fmt: skip
    return out


@pytest.fixture(scope="module")
def releases(clean_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    season = clean_corpus / "test" / "show01"
    e1, e2, e3 = sorted(season.glob("*.mp4"))
    root = tmp_path_factory.mktemp("releases")
    folders = {name: root / name for name in ("delayed", "ts", "dub", "in-step", "moved")}
    for folder in folders.values():
        folder.mkdir()
    delayed(e1, folders["delayed"] / e1.name, 2.0)  # MP4: the delay is an empty edit in the audio's edit list
    delayed(e2, folders["delayed"] / f"{e2.stem}.mkv", 0.4)
    delayed(e3, folders["delayed"] / f"{e3.stem}.mkv", -0.4)  # audio first: the video starts 0.4 s late
    for e in (e1, e2):
        (folders["ts"] / e.name).symlink_to(e)
    ffmpeg(
        "-i", str(e3), "-c", "copy", "-output_ts_offset", "1001.4", "-f", "mpegts", str(folders["ts"] / f"{e3.stem}.ts")
    )
    for e, delay in ((e1, 1.5), (e2, 0.4), (e3, 0.0)):  # a dub whose stream is delayed apart from the original's
        ffmpeg("-i", str(e), "-itsoffset", f"{delay}", "-i", str(e), "-map", "0:v", "-map", "0:a", "-map", "1:a",
               "-c", "copy", "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=rus",
               str(folders["dub"] / f"{e.stem}.mkv"))  # fmt: skip
    for e, delay in ((e1, 2.0), (e2, 0.4), (e3, 1.0)):  # the same packets, in step and moved: nothing else differs
        delayed(e, folders["in-step"] / f"{e.stem}.mkv", 0.0)
        delayed(e, folders["moved"] / f"{e.stem}.mkv", delay)
    return {"season": season, **folders}


@pytest.fixture(scope="module")
def base(releases: dict[str, Path]) -> dict:
    found = detect([releases["season"]], workers=2).by_id()
    assert all(d.intro is not None for d in found.values())  # the clean season: every intro found
    return found


def files(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.iterdir())}


def check_shifted(answers: dict, base: dict, offsets: dict[str, float]) -> None:
    for vid, offset in offsets.items():
        was, now = base[vid].intro, answers[vid].intro
        assert now is not None, vid
        assert now.start_s == pytest.approx(was.start_s + offset, abs=ON_TIMELINE_S), (vid, offset, was, now)
        assert now.end_s == pytest.approx(was.end_s + offset, abs=ON_TIMELINE_S), (vid, offset, was, now)


def test_a_delayed_release_is_answered_on_the_players_timeline(releases: dict[str, Path], base: dict) -> None:
    media = files(releases["delayed"])
    offsets = {vid: ffprobe_offset(path) for vid, path in media.items()}
    assert offsets["show01_s01e01"] == pytest.approx(2.0, abs=0.05) and offsets["show01_s01e03"] == 0.0
    answers = detect([releases["delayed"]], workers=2, series="show01").by_id()
    check_shifted(answers, base, offsets)
    for vid, d in answers.items():  # the offset applied is recorded (and is in the result file's evidence)
        assert d.audio_start_s == pytest.approx(offsets[vid], abs=0.03), vid
        assert (d.to_json()["evidence"].get("audio_start_sec") or 0.0) == pytest.approx(offsets[vid], abs=0.03)


def test_an_mpeg_ts_clock_and_a_dubbed_stream_delayed_apart(releases: dict[str, Path], base: dict) -> None:
    ts = detect([releases["ts"]], workers=2, series="show01").by_id()
    check_shifted(ts, base, dict.fromkeys(ts, 0.0))  # its clock starts at 1001.4 s: players count from there
    media = files(releases["dub"])
    rus = detect([releases["dub"]], workers=2, series="show01", options=AudioOptions(language="rus")).by_id()
    check_shifted(rus, base, {vid: ffprobe_offset(path, audio=1) for vid, path in media.items()})
    assert rus["show01_s01e01"].audio_start_s == pytest.approx(1.5, abs=0.05)
    eng = detect([releases["dub"]], workers=2, series="show01").by_id()  # the first stream: not delayed
    check_shifted(eng, base, dict.fromkeys(eng, 0.0))


def test_exports_land_on_the_intro_on_the_players_timeline(
    releases: dict[str, Path], base: dict, tmp_path: Path
) -> None:
    media = files(releases["delayed"])
    answers = detect([releases["delayed"]], workers=2, series="show01")
    by_id = answers.by_id()
    sides = tmp_path / "sides"
    # the times are what is tested here, not the trust: unsure parts (a 3-episode season's) are written too
    outcome = export(answers.detections, "ffmetadata", sides, include_unsure=True)
    assert not outcome.failures
    for vid in ("show01_s01e01", "show01_s01e02"):
        muxed = tmp_path / f"{vid}{media[vid].suffix}"
        ffmpeg("-i", str(media[vid]), "-i", str(sides / f"{vid}.ffmetadata"), "-map", "0", "-map_metadata", "1",
               "-map_chapters", "1", "-c", "copy", str(muxed))  # fmt: skip
        read = ffprobe(muxed, "-show_chapters", "-show_format")
        start = float(read["format"].get("start_time", 0.0))
        intro = next(c for c in read["chapters"] if c["tags"]["title"] == "Intro")
        expected = base[vid].intro.start_s + ffprobe_offset(media[vid])
        assert float(intro["start_time"]) - start == pytest.approx(expected, abs=ON_TIMELINE_S), vid
    export(answers.detections, "edl", sides, include_unsure=True)
    export(answers.detections, "jellyfin", tmp_path / "segments.json", include_unsure=True)
    segments = json.loads((tmp_path / "segments.json").read_text(encoding="utf-8"))
    for vid, d in by_id.items():  # the exports write the answers' times as they are: no offset added twice
        intro = d.intro
        line = next(
            line for line in (sides / f"{vid}.edl").read_text().splitlines() if line.startswith(f"{intro.start_s:.3f}")
        )
        assert float(line.split()[1]) == pytest.approx(intro.end_s, abs=0.001)
        [ticks] = [s for s in segments[vid]["Items"] if s["Type"] == "Intro"]
        assert ticks["StartTicks"] == round(intro.start_s * 1e7) and ticks["EndTicks"] == round(intro.end_s * 1e7)


def envelope(audio: np.ndarray, hop: int = 220) -> np.ndarray:
    n = audio.size // hop
    return np.sqrt(np.mean(audio[: n * hop].reshape(n, hop) ** 2, axis=1))


def lag_s(a: np.ndarray, b: np.ndarray, hop: int = 220) -> float:
    """How much later ``a``'s sound is than ``b``'s (cross-correlation of 10 ms loudness envelopes)."""
    x, y = envelope(a, hop), envelope(b, hop)
    n = min(x.size, y.size)
    x, y = x[:n] - x[:n].mean(), y[:n] - y[:n].mean()
    corr = np.fft.irfft(np.fft.rfft(x, 2 * n) * np.conj(np.fft.rfft(y, 2 * n)))
    k = int(np.argmax(corr))
    return (k if k < n else k - 2 * n) * hop / RATE


def test_the_review_pages_audio_keeps_the_offset(releases: dict[str, Path], tmp_path: Path) -> None:
    delayed_ep = files(releases["delayed"])["show01_s01e01"]
    options = AudioOptions(window_s=90)
    preview = tmp_path / "preview.webm"
    subprocess.run(preview_command(delayed_ep, options, str(preview)), check=True, capture_output=True)
    heard = decode_audio(preview, options)
    assert lag_s(heard, decode_audio(delayed_ep, options)) == pytest.approx(0.0, abs=0.03)
    original = releases["season"] / "show01_s01e01.mp4"
    assert lag_s(heard, decode_audio(original, options)) == pytest.approx(ffprobe_offset(delayed_ep), abs=0.05)


def test_labels_made_with_a_player_agree_with_the_audio(
    releases: dict[str, Path], base: dict, clean_corpus: Path, tmp_path: Path
) -> None:
    """Labels of the delayed release, as a player shows its intros (the truth plus the delay), pass the audit
    against the audio, and the known intros they make are found in a sibling at its own timeline's times."""
    media = files(releases["delayed"])
    truth = json.loads((clean_corpus / "truth_test.json").read_text(encoding="utf-8"))
    rows = {}
    for vid in ("show01_s01e01", "show01_s01e02"):
        offset = ffprobe_offset(media[vid])
        start, end = truth[vid]["start_sec"] + offset, truth[vid]["end_sec"] + offset
        rows[vid] = {"name": truth[vid]["name"], "start": format_timecode(start, 2), "end": format_timecode(end, 2)}
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    label_set = read_labels([labels])
    library, failed, missing = build_library(label_set, [media["show01_s01e01"], media["show01_s01e02"]])
    assert not failed and not missing
    assert library.audits and not any(a.flagged for a in library.audits), library.audits
    [answer] = detect([media["show01_s01e03"]], library=library, series=library.entries[0].series, workers=1)
    assert answer.part(Kind.INTRO).method.value == "known"
    check_shifted({answer.id: answer}, base, {answer.id: ffprobe_offset(media["show01_s01e03"])})


def test_a_delay_moves_every_part_by_itself_and_changes_nothing_else(releases: dict[str, Path]) -> None:
    """The same audio packets, once in step with the video and once delayed: the analysis counts from the
    stream's first sample, so every part of every episode (intro, credits, whatever else is found) is the in-step
    answer plus the delay, to the millisecond, and its confidence is the same."""
    in_step = detect([releases["in-step"]], workers=2, series="show01").by_id()
    moved = detect([releases["moved"]], workers=2, series="show01").by_id()
    for vid, d in moved.items():
        delay = d.audio_start_s - in_step[vid].audio_start_s
        assert delay > 0.3, vid
        assert [p.kind for p in d.parts] == [p.kind for p in in_step[vid].parts], vid
        for was, now in zip(in_step[vid].parts, d.parts, strict=True):
            assert now.confidence == was.confidence and now.method == was.method, (vid, now.kind)
            if was.segment is None:
                assert now.segment is None, (vid, now.kind)
                continue
            assert now.segment.start_s == pytest.approx(was.segment.start_s + delay, abs=0.002), (vid, now.kind)
            assert now.segment.end_s == pytest.approx(was.segment.end_s + delay, abs=0.002), (vid, now.kind)
