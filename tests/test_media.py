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
    # the stream chosen enters the graph that puts it on the presentation timeline, whose output is decoded
    graph = cmd[cmd.index("-filter_complex") + 1]
    assert graph.startswith("[0:a:1]") and "first_pts=0" in graph and "ashowinfo" in graph
    assert cmd[cmd.index("-map") + 1] == "[out]"
    assert cmd[cmd.index("-ar") + 1] == "22050" and cmd[cmd.index("-ac") + 1] == "1"
    tail = decode_command("in put.mkv", AudioOptions(tail_s=120.5), tail=True)
    assert tail[tail.index("-sseof") + 1] == "-120.500000" and "ashowinfo" not in tail[tail.index("-filter_complex") + 1]


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
        ("truncated_no_index", "not a readable media file ("),
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


def test_parse_log_reads_ffmpeg_input_summary():
    from introdetect.media import parse_log

    text = b"""[info] Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':
[info]   Duration: 00:22:00.50, start: 0.000000, bitrate: 1465 kb/s
[info]   Stream #0:0[0x1](und): Video: h264 (Constrained Baseline) (avc1 / 0x31637661), yuv420p, 640x360
[info]   Stream #0:1[0x2](rus): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, 5.1(side), fltp, 384 kb/s (default)
[info]   Stream #0:2[0x3](eng): Audio: ac3, 48000 Hz, stereo, fltp, 192 kb/s
[info] Stream mapping:
[info]   Stream #0:1 -> #0:0 (aac (native) -> pcm_f32le (native))
[aac @ 0x55] [error] Input buffer exhausted before END element found
"""
    log = parse_log(text)
    info = log.media_info("x.mp4")
    assert log.duration_s == 1320.5 and log.format_name.startswith("mov,mp4")
    assert [(s.codec, s.channels, s.sample_rate, s.language) for s in info.audio_streams] == [
        ("aac", 6, 48000, "rus"),
        ("ac3", 2, 48000, "eng"),
    ]
    assert info.other_streams == ("video h264",)
    assert log.last_problem == "Input buffer exhausted before END element found"
    assert not parse_log(b"[error] x.mp4: Invalid data found when processing input").has_input


def test_extract_feeds_sinks_with_the_same_samples(sample_episode, tmp_path):
    blocks = []
    extract_audio(sample_episode.path, tmp_path / "a.wav", AudioOptions(window_s=30), sinks=[blocks.append])
    y, _ = read_wav(tmp_path / "a.wav")
    np.testing.assert_array_equal(np.concatenate(blocks), y)


def test_wav_is_readable_by_ffprobe(sample_episode, tmp_path):
    extract_audio(sample_episode.path, tmp_path / "a.wav", AudioOptions(window_s=10))
    info = probe(tmp_path / "a.wav")
    assert info.audio_streams[0].codec == "pcm_f32le" and info.audio_streams[0].sample_rate == 22050
    assert info.duration_s == pytest.approx(10, abs=0.01)


def test_media_error_survives_pickling():
    import pickle

    error = pickle.loads(pickle.dumps(MediaError("a b.mp4", "no audio stream")))
    assert str(error) == "a b.mp4: no audio stream" and error.problem == "no audio stream"


def test_video_longer_than_audio_is_not_truncation(tmp_path):
    """An mp4 whose picture runs 1.5 s past its 20 s of audio: the container says 21.5 s; not an error."""
    from conftest import ffmpeg

    path = tmp_path / "long video.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x36:rate=4:duration=21.5",
        "-f",
        "lavfi",
        "-i",
        "anoisesrc=color=pink:d=20:r=48000",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        str(path),
    )
    assert probe(path).duration_s == pytest.approx(21.5, abs=0.1)
    audio = decode_audio(path, AudioOptions(window_s=480))
    assert audio.size / 22050 == pytest.approx(20, abs=0.1)
