"""Awkward media, made with ffmpeg from a season of the tiny corpus (real recordings): several audio streams
chosen by language, audio-only files, 8 kHz mono, 7.1, wrong extensions, files cut at many points, a 3-hour
file. Each gives the right answer or a clear one-line error naming the file."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from introdetect import detect
from introdetect._cli import app
from introdetect.result import Kind
from introdetect.settings import AudioOptions, SettingsError

runner = CliRunner()


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def season(tiny_corpus: Path) -> list[Path]:
    """show01 of the tiny corpus's test split: three episodes whose intro recurs."""
    return sorted((tiny_corpus / "test" / "show01").iterdir())


@pytest.fixture(scope="module")
def reference(season: list[Path]) -> dict:
    return {d.id: d.intro for d in detect(season, workers=1, use="matching")}


def _close(found, reference: dict, iou: float = 0.8) -> list[str]:
    """Ids whose answer differs from the reference (IoU below ``iou``, or intro/none disagreeing)."""
    wrong = []
    for d in found:
        ref = reference[d.id]
        if (d.intro is None) != (ref is None) or (ref is not None and d.intro.iou(ref) < iou):
            part = d.part(Kind.INTRO)
            wrong.append(f"{d.id}: {d.intro} vs {ref} ({part.method}, {part.note})")
    return wrong


def _variant(season: list[Path], folder: Path, suffix: str, *args: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for episode in season:
        target = folder / f"{episode.stem}{suffix}"
        ffmpeg("-i", str(episode), *args, str(target))
        out.append(target)
    return out


def test_a_dubbed_release_is_read_in_the_language_asked(season, reference, speech_clip, tmp_path) -> None:
    """Two audio streams: English speech first, the original (tagged rus) second: --language picks it."""
    dubbed = []
    for episode in season:
        target = tmp_path / f"{episode.stem}.mkv"
        ffmpeg(
            "-i",
            str(episode),
            "-stream_loop",
            "-1",
            "-i",
            str(speech_clip),
            "-map",
            "0:v?",
            "-map",
            "1:a",
            "-map",
            "0:a",
            "-c:v",
            "copy",
            "-c:a",
            "flac",
            "-shortest",
            "-metadata:s:a:0",
            "language=eng",
            "-metadata:s:a:1",
            "language=rus",
            str(target),
        )
        dubbed.append(target)
    found = detect(dubbed, workers=1, use="matching", options=AudioOptions(language="ru"))  # 639-1 works too
    assert not _close(found, reference)
    first = detect(dubbed, workers=1, use="matching")  # the first stream: the speech, no shared intro
    assert _close(first, reference)
    result = runner.invoke(app, ["detect", str(dubbed[0]), "--language", "fre", "--no-progress", "--no-cache"])
    assert result.exit_code == 1
    assert f"{dubbed[0]}: no audio stream in language 'fre' (the file has: eng, rus)" in result.output
    with pytest.raises(SettingsError, match="ISO 639"):
        AudioOptions(language="russian")


@pytest.mark.parametrize(
    ("suffix", "args"),
    [
        (".m4a", ("-vn", "-c:a", "aac", "-b:a", "128k")),
        (".opus", ("-vn", "-ac", "2", "-c:a", "libopus", "-b:a", "96k")),
        (".flac", ("-vn", "-c:a", "flac")),
        (".wav", ("-vn", "-ac", "1", "-ar", "8000", "-c:a", "pcm_s16le")),  # 8 kHz mono (telephone-grade)
        (".mka", ("-vn", "-af", "pan=7.1|FL=c0|FR=c0|FC=c0|LFE=c0|BL=c0|BR=c0|SL=c0|SR=c0", "-c:a", "flac")),  # 7.1
    ],
)
def test_audio_only_8khz_and_71_give_the_same_intros(season, reference, tmp_path, suffix, args) -> None:
    files = _variant(season, tmp_path, suffix, *args)
    found = detect(files, workers=1, use="matching")
    assert not found.failures, found.failures
    assert not _close(found, reference, iou=0.7)


def test_a_wrong_extension_does_not_matter(season, reference, tmp_path) -> None:
    renamed = []
    for episode, suffix in zip(season, (".avi", ".mkv", ".mp4"), strict=False):
        target = tmp_path / f"{episode.stem}{suffix if suffix != episode.suffix else '.webm'}"
        target.write_bytes(episode.read_bytes())
        renamed.append(target)
    assert not _close(detect(renamed, workers=1, use="matching"), reference)


def test_files_cut_at_many_points_give_an_answer_or_one_line(season, tmp_path) -> None:
    data = season[0].read_bytes()
    cuts = []
    for share in (0.0005, 0.01, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 0.999):
        target = tmp_path / f"cut{share:g}{season[0].suffix}"
        target.write_bytes(data[: int(len(data) * share)])
        cuts.append(target)
    found = detect([*cuts, *season[1:]], workers=1)
    failed = {f.path: f.message for f in found.failures}
    for path, message in failed.items():
        assert message.startswith(path) and "\n" not in message and "internal error" not in message, message
    assert {d.id for d in found} | {Path(p).stem for p in failed} == {c.stem for c in [*cuts, *season[1:]]}
    assert any(str(c) in failed for c in cuts[:3])  # the first cuts have no audio to read
    assert any(str(c) not in failed for c in cuts[-4:])  # the last keep most of it


def test_a_three_hour_file_costs_its_window_only(season, tmp_path) -> None:
    """A 3 h file (8 kHz a-law, one episode's audio then silence): the answer comes from the first 480 s."""
    long = tmp_path / "long.mka"
    ffmpeg(
        "-i",
        str(season[0]),
        "-vn",
        "-af",
        "apad=whole_dur=10800",
        "-ac",
        "1",
        "-ar",
        "8000",
        "-c:a",
        "pcm_alaw",
        str(long),
    )
    began = time.monotonic()
    [d] = detect([long], workers=1)
    seconds = time.monotonic() - began
    assert d.analysed_s == pytest.approx(480, abs=1)
    assert seconds < 60  # decoding 3 h would take minutes; the window takes seconds


def test_a_hanging_ffmpeg_is_stopped_by_a_timeout_that_grows_with_the_window(tmp_path, monkeypatch) -> None:
    """A file that makes ffmpeg wait for ever (a concat list naming a FIFO nobody writes to) stops at the decode
    timeout, base + per-second of window; the batch goes on."""
    import os

    from introdetect import media

    assert media.decode_timeout_s(960) - media.decode_timeout_s(480) == pytest.approx(
        480 * media.DECODE_TIMEOUT_PER_WINDOW_S
    )
    os.mkfifo(tmp_path / "fifo")
    stuck = tmp_path / "stuck.mkv"
    stuck.write_text("ffconcat version 1.0\nfile fifo\n", encoding="utf-8")
    monkeypatch.setattr(media, "DECODE_TIMEOUT_BASE_S", 1.0)  # keep the test short; the rule is the same
    began = time.monotonic()
    with pytest.raises(media.MediaError, match=r"stuck.mkv: ffmpeg did not finish within 5 s"):
        media.decode_audio(stuck, AudioOptions(window_s=16))
    assert time.monotonic() - began < 15


def test_a_folder_is_searched_without_its_hidden_files_and_folders(tmp_path) -> None:
    """A write in progress (our own ``.name.part-…`` temporary files: a corpus build killed half-way left two that
    detect then failed on), macOS's ``._name`` resource forks and a trash folder are no episodes; a hidden file
    named on its own is still read, and a folder given by a hidden path is searched."""
    from introdetect.media import find_media

    for name in (
        "s1/e01.mkv",
        "s1/.e02.mkv.part-x1.mkv",
        "s1/._e01.mkv",
        ".Trash/e03.mkv",
        "s1/extra/e04.mp4",
        "s1/e01.srt",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert find_media([tmp_path]) == [tmp_path / "s1/e01.mkv", tmp_path / "s1/extra/e04.mp4"]
    assert find_media([tmp_path / "s1/._e01.mkv"]) == [tmp_path / "s1/._e01.mkv"]
    assert find_media([tmp_path / ".Trash"]) == [tmp_path / ".Trash/e03.mkv"]
