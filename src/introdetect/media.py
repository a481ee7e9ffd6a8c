"""ffprobe / ffmpeg at the edge: commands built by pure functions, decoded audio as numpy arrays.

Every failure becomes a ``MediaError`` whose message is one line naming the file and the problem, with
ffmpeg's own last words where they help.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from .atomic import atomic_path
from .settings import AudioOptions

FFMPEG = os.environ.get("INTRODETECT_FFMPEG", "ffmpeg")
FFPROBE = os.environ.get("INTRODETECT_FFPROBE", "ffprobe")

PROBE_TIMEOUT_S = 30.0
"""ffprobe reads only headers; 30 s covers a slow network disk, while a hung probe is still cut off."""

DECODE_TIMEOUT_BASE_S = 30.0
DECODE_TIMEOUT_PER_WINDOW_S = 0.25
"""A decode may take 30 s plus a quarter of the window's length: ffmpeg decodes AAC at ~100× real time on
one core here, so this leaves a 25× margin for slow disks and busy machines, yet a hang on a broken file
of a 480 s window is cut off after 2.5 minutes instead of never."""

TRUNCATION_TOLERANCE_S = 1.0
"""Decoded audio may fall this far short of what the container promises before we call the file truncated
(containers round their durations, and encoder priming trims a few frames)."""


class MediaError(Exception):
    """A media file cannot be used. ``str()`` is one line: ``<file>: <problem>``."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass(frozen=True)
class AudioStream:
    index: int  # stream index in the container
    audio_index: int  # position among the audio streams (what ffmpeg's 0:a:N selects)
    codec: str
    channels: int
    sample_rate: int
    language: str | None


@dataclass(frozen=True)
class MediaInfo:
    path: str
    format_name: str
    duration_s: float | None
    audio_streams: tuple[AudioStream, ...]
    other_streams: tuple[str, ...]


def _last_line(stderr: bytes | str) -> str:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def require_tools() -> None:
    """Fail with a clear message when ffmpeg/ffprobe are not installed."""
    for tool in (FFMPEG, FFPROBE):
        if shutil.which(tool) is None:
            raise MediaError(tool, "not found on PATH: install ffmpeg (Debian: apt-get install ffmpeg)")


def check_file(path: str | os.PathLike[str]) -> Path:
    """The checks that need no ffmpeg: the file exists, is a file, is not empty."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise MediaError(path, "no such file") from None
    except OSError as exc:
        raise MediaError(path, f"cannot read: {exc.strerror}") from None
    if path.is_dir():
        raise MediaError(path, "is a folder, not a media file")
    if size == 0:
        raise MediaError(path, "empty file (0 bytes)")
    return path


def probe_command(path: str | os.PathLike[str]) -> list[str]:
    return [FFPROBE, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", "--", str(path)]


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Read container and stream facts with ffprobe."""
    path = check_file(path)
    try:
        result = subprocess.run(probe_command(path), capture_output=True, timeout=PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise MediaError(path, f"ffprobe did not answer within {PROBE_TIMEOUT_S:g} s") from None
    except FileNotFoundError:
        require_tools()
        raise
    if result.returncode != 0:
        raise MediaError(path, f"not a readable media file ({_last_line(result.stderr)})")
    try:
        data = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise MediaError(path, "ffprobe gave unreadable output") from None
    fmt = data.get("format", {})
    audio: list[AudioStream] = []
    other: list[str] = []
    for stream in data.get("streams", []):
        kind = stream.get("codec_type")
        if kind == "audio":
            audio.append(
                AudioStream(
                    index=int(stream.get("index", len(audio))),
                    audio_index=len(audio),
                    codec=str(stream.get("codec_name", "?")),
                    channels=int(stream.get("channels", 0) or 0),
                    sample_rate=int(stream.get("sample_rate", 0) or 0),
                    language=(stream.get("tags") or {}).get("language"),
                )
            )
        else:
            other.append(f"{kind} {stream.get('codec_name', '?')}")
    duration = fmt.get("duration")
    return MediaInfo(
        path=str(path),
        format_name=str(fmt.get("format_name", "?")),
        duration_s=float(duration) if duration not in (None, "N/A") else None,
        audio_streams=tuple(audio),
        other_streams=tuple(other),
    )


def choose_stream(info: MediaInfo, stream: int) -> AudioStream:
    if not info.audio_streams:
        found = ", ".join(info.other_streams) or "nothing"
        raise MediaError(info.path, f"no audio stream (found: {found})")
    if stream >= len(info.audio_streams):
        raise MediaError(
            info.path, f"audio stream {stream} requested, the file has {len(info.audio_streams)} (0-based)"
        )
    return info.audio_streams[stream]


def decode_timeout_s(window_s: float) -> float:
    return DECODE_TIMEOUT_BASE_S + DECODE_TIMEOUT_PER_WINDOW_S * window_s


def decode_command(
    path: str | os.PathLike[str], options: AudioOptions, output: str = "-", container: str = "f32le"
) -> list[str]:
    """ffmpeg arguments that decode the first ``window_s`` of one audio stream to mono float at the rate.

    ``-t`` before ``-i`` stops reading the input at the window, so a 45-minute file costs only its window.
    """
    return [
        FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error",
        "-t", f"{options.window_s:.3f}", "-i", str(path),
        "-map", f"0:a:{options.stream}", "-vn", "-sn", "-dn",
        "-ac", "1", "-ar", str(options.sample_rate),
        "-c:a", "pcm_f32le", "-f", container, "-y", output,
    ]  # fmt: skip


def _expected_s(info: MediaInfo, options: AudioOptions) -> float | None:
    if info.duration_s is None:
        return None
    return min(info.duration_s, options.window_s)


def _check_length(path: Path, decoded_s: float, expected_s: float | None, stderr: bytes) -> None:
    if decoded_s <= 0:
        raise MediaError(path, f"no audio could be decoded ({_last_line(stderr)})")
    if expected_s is not None and decoded_s < expected_s - TRUNCATION_TOLERANCE_S:
        detail = _last_line(stderr) if stderr.strip() else "stream ends early"
        raise MediaError(
            path, f"truncated or corrupt: decoded {decoded_s:.1f} s of the expected {expected_s:.1f} s ({detail})"
        )


def _run_ffmpeg(path: Path, command: list[str], options: AudioOptions) -> subprocess.CompletedProcess[bytes]:
    timeout = decode_timeout_s(options.window_s)
    try:
        result = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise MediaError(path, f"ffmpeg did not finish within {timeout:g} s (file damaged or disk stalled?)") from None
    except FileNotFoundError:
        require_tools()
        raise
    if result.returncode != 0:
        raise MediaError(path, f"ffmpeg failed to decode audio ({_last_line(result.stderr)})")
    return result


def decode_audio(path: str | os.PathLike[str], options: AudioOptions | None = None) -> np.ndarray:
    """Decode the analysis window of ``path`` into a mono float32 array at ``options.sample_rate``."""
    options = options or AudioOptions()
    path = check_file(path)
    info = probe(path)
    choose_stream(info, options.stream)
    result = _run_ffmpeg(path, decode_command(path, options), options)
    audio = np.frombuffer(result.stdout, dtype="<f4").astype(np.float32, copy=False)
    _check_length(path, audio.size / options.sample_rate, _expected_s(info, options), result.stderr)
    return audio


@dataclass(frozen=True)
class ExtractedAudio:
    path: str
    duration_s: float
    sample_rate: int
    source_duration_s: float | None
    stream: AudioStream


def extract_audio(
    path: str | os.PathLike[str], out_path: str | os.PathLike[str], options: AudioOptions | None = None
) -> ExtractedAudio:
    """Decode the analysis window of ``path`` into a mono float32 WAV at ``out_path``, atomically."""
    options = options or AudioOptions()
    path = check_file(path)
    info = probe(path)
    stream = choose_stream(info, options.stream)
    with atomic_path(out_path, suffix=".wav", durable=False) as tmp:
        result = _run_ffmpeg(path, decode_command(path, options, output=str(tmp), container="wav"), options)
        samples = _wav_samples(tmp)
        duration = samples / options.sample_rate
        _check_length(path, duration, _expected_s(info, options), result.stderr)
    return ExtractedAudio(str(out_path), duration, options.sample_rate, info.duration_s, stream)


def _wav_samples(path: Path) -> int:
    with open(path, "rb") as handle:
        header = handle.read(4096)
    data_at = header.find(b"data")
    if header[:4] != b"RIFF" or data_at < 0:
        return 0
    size = os.path.getsize(path) - (data_at + 8)
    return max(0, size // 4)


def read_wav(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read a WAV written by ``extract_audio`` (or any PCM/float WAV) as mono float32 and its rate."""
    path = check_file(path)
    try:
        rate, data = wavfile.read(path, mmap=False)
    except (ValueError, EOFError, OSError) as exc:
        raise MediaError(path, f"not a readable WAV file ({exc})") from None
    if data.ndim > 1:
        data = data.mean(axis=1)
    if data.dtype.kind == "i":
        data = data / float(-np.iinfo(data.dtype).min)
    elif data.dtype.kind == "u":
        data = (data.astype(np.float32) - 128.0) / 128.0
    return np.ascontiguousarray(data, dtype=np.float32), int(rate)


def load_audio(path: str | os.PathLike[str], options: AudioOptions | None = None) -> np.ndarray:
    """Audio for analysis from any input: a WAV at the project rate is read directly, anything else decoded."""
    options = options or AudioOptions()
    path = Path(path)
    if path.suffix.lower() == ".wav":
        try:
            audio, rate = read_wav(path)
        except MediaError:
            rate = -1
        if rate == options.sample_rate:
            limit = int(round(options.window_s * rate))
            return audio[:limit]
    return decode_audio(path, options)
