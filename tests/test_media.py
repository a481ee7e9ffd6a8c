"""ffmpeg edge: commands as lists, decoding media made with ffmpeg, and every kind of bad input."""

import numpy as np
import pytest

from introdetect.media import MediaError, decode_audio, decode_command, extract_audio, probe, read_wav
from introdetect.settings import AudioOptions


def test_decode_command_is_a_pure_list():
    cmd = decode_command("in put.mkv", AudioOptions(window_s=300, stream=1))
    assert cmd[0].endswith("ffmpeg")
    assert cmd[cmd.index("-t") + 1] == "300.000" and cmd.index("-t") < cmd.index("-i")  # input option: stops reading
    assert cmd[cmd.index("-i") + 1] == "in put.mkv"
    assert cmd[cmd.index("-map") + 1] == "0:a:1"
    assert cmd[cmd.index("-ar") + 1] == "22050" and cmd[cmd.index("-ac") + 1] == "1"


def test_probe_sample(sample_episode):
    info = probe(sample_episode.path)
    assert len(info.audio_streams) == 1 and info.audio_streams[0].codec == "aac"
    assert info.duration_s == pytest.approx(72, abs=0.2)
    assert any(s.startswith("video") for s in info.other_streams)


def test_decode_whole_short_file_and_window(sample_episode):
    audio = decode_audio(sample_episode.path, AudioOptions(window_s=480))
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.size / 22050 == pytest.approx(72, abs=0.1)  # shorter than the window: fine, whole file
    head = decode_audio(sample_episode.path, AudioOptions(window_s=25))
    assert head.size / 22050 == pytest.approx(25, abs=0.05)
    # the jingle starts at 20 s: the louder tonal part begins there
    rms = np.sqrt(np.mean(audio[: 72 * 22050].reshape(72, 22050) ** 2, axis=1))
    assert rms[21:31].mean() > 2 * rms[:19].mean()


def test_extract_writes_wav_atomically(sample_episode, tmp_path):
    out = tmp_path / "a.wav"
    info = extract_audio(sample_episode.path, out, AudioOptions(window_s=30))
    assert info.duration_s == pytest.approx(30, abs=0.05)
    y, rate = read_wav(out)
    assert rate == 22050 and y.size == round(info.duration_s * 22050)
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"]


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("missing", "no such file"),
        ("zero", "empty file (0 bytes)"),
        ("text", "not a readable media file"),
        ("no_audio", "no audio stream (found: video h264)"),
        ("truncated_no_index", "not a readable media file (" ),
        ("truncated_data", "truncated or corrupt: decoded"),
    ],
)
def test_bad_media_one_line_no_partial_output(bad_media, tmp_path, kind, problem):
    path = bad_media[kind]
    out = tmp_path / "out.wav"
    with pytest.raises(MediaError) as info:
        extract_audio(path, out, AudioOptions(window_s=480))
    message = str(info.value)
    assert message.startswith(str(path)) and problem in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []


def test_stream_out_of_range(sample_episode):
    with pytest.raises(MediaError, match="audio stream 2 requested, the file has 1"):
        decode_audio(sample_episode.path, AudioOptions(stream=2))


def test_options_validated():
    with pytest.raises(ValueError):
        AudioOptions(window_s=0)
    with pytest.raises(ValueError):
        AudioOptions(sample_rate=100)
    assert AudioOptions().settings_hash != AudioOptions(window_s=300).settings_hash
