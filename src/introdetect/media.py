"""ffprobe / ffmpeg at the edge: commands built by pure functions, decoded audio as numpy arrays.

Times are on the media's presentation timeline: counted from the container's start as players, EDL files,
chapters and Jellyfin's ticks count them, whatever the chosen audio stream's own offset against it (an audio
delay in a remux, an MP4 edit list's empty edit, a second language's stream delayed differently). Every decode
logs where the stream's first sample lies on it (``MediaInfo.audio_start_s``). Audio written out is put on it
(``TIMELINE_FILTER``); an analysis's head is decoded from the stream's first sample (``STREAM_FILTER``), so that a
delayed release is analysed as its undelayed copy, and the delay is added to its answers (``pipeline``).

Every failure becomes a ``MediaError`` whose message is one line naming the file and the problem, with
ffmpeg's own last words where they help.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from scipy.io import wavfile

from .atomic import atomic_path
from .errors import MediaError
from .settings import AudioOptions

FFMPEG = os.environ.get("INTRODETECT_FFMPEG", "ffmpeg")
FFPROBE = os.environ.get("INTRODETECT_FFPROBE", "ffprobe")
FFMPEG_QUIET = (FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error")
"""The start of an ffmpeg command whose log is read for its errors only (encodes, renders)."""

PROBE_TIMEOUT_S = 30.0
"""ffprobe reads only headers; 30 s covers a slow network disk, while a hung probe is still cut off."""

DECODE_TIMEOUT_BASE_S = 30.0
DECODE_TIMEOUT_PER_WINDOW_S = 0.25
"""A decode may take 30 s plus a quarter of the window's length: ffmpeg decodes AAC at ~100× real time on
one core here, so this leaves a 25× margin for slow disks and busy machines, yet a hang on a broken file
of a 480 s window is cut off after 2.5 minutes instead of never."""

TRUNCATION_TOLERANCE_S = 1.0
"""Decoded audio may fall this far short of what the container promises before we suspect truncation:
containers round their durations, and encoder priming trims a few frames."""

SHORT_AUDIO_SHARE = 0.1
"""The container's duration is the longest stream's, and a video may outlast its audio by a second or two.
So a shortfall counts as truncation when ffmpeg also reported decoding errors, or when the audio misses
more than this share of what was expected (a file cut short loses far more)."""


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
    chapters: tuple[tuple[float, float, str], ...] = ()  # (start s, end s, title) on the presentation timeline
    start_s: float = 0.0  # the container's start on the file's own clock (what players count time from)
    audio_start_s: float | None = None  # where the decoded stream's first sample lies on the timeline


TIMELINE_HARD_COMP_S = 0.01
"""s: a gap (or an overlap) in the audio's timestamps longer than this is filled with silence (or trimmed), as a
player keeps audio in step with the clock; shorter ones are timestamp rounding (Matroska's 1 ms) and jitter."""

STREAM_FILTER = f"aresample=async=1:min_hard_comp={TIMELINE_HARD_COMP_S:g}"
"""The stream's own time (sample 0 its first sample), gaps in its timestamps filled: what the analysis of an
episode's head decodes, so that a release whose audio is delayed is analysed sample for sample as its undelayed
copy (the same frames, the same answers); its delay, read from the log, is added to every answer once
(``pipeline``)."""

TIMELINE_FILTER = f"{STREAM_FILTER}:first_pts=0"
"""ffmpeg counts time from the container's start; without this filter the decoded samples would count from the
chosen stream's first sample (two seconds early for a stream that starts two seconds late). ``first_pts=0``
pads a late stream's start with silence and trims samples before the start (priming with a negative time);
``async=1`` does the same for later gaps. With a seek (``-sseof``), 0 is the seek point."""

FIRST_FRAME_LABEL = "first"
"""The filter branch that shows the decoded stream's first sample's time (ashowinfo on one sample) in the log."""


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


MEDIA_SUFFIXES = frozenset(
    {
        ".mp4",
        ".mkv",
        ".mka",
        ".avi",
        ".mov",
        ".webm",
        ".ts",
        ".m4v",
        ".mp3",
        ".m4a",
        ".aac",
        ".ac3",
        ".opus",
        ".ogg",
        ".oga",
        ".flac",
        ".wav",
        ".wma",
        ".wmv",
        ".mpg",
        ".mpeg",
        ".flv",
    }
)
"""What a folder is searched for: the containers and audio files episodes come in (ffmpeg reads more, but a
folder also holds subtitles, posters and NFO files that must not be decoded)."""


def episode_id(path: str | os.PathLike[str]) -> str:
    """An episode's id is its file name without the extension (the VK id for the real data)."""
    return Path(path).stem


def _hidden(path: Path, root: Path) -> bool:
    """A file or folder under ``root`` whose name starts with a dot: a download or a write in progress (our own
    temporary files, ``.name.part-…``), macOS's ``._name`` resource forks beside every file copied from a Mac, a
    trash folder. Media servers skip them too; a hidden file named on its own is still read."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def find_media(paths: Iterable[str | os.PathLike[str]], suffixes: Iterable[str] = MEDIA_SUFFIXES) -> list[Path]:
    """Files as given; folders expanded to the media files inside them (recursively, sorted by path; hidden files
    and folders left out)."""
    wanted = {s.lower() for s in suffixes}
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                sorted(
                    p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in wanted and not _hidden(p, path)
                )
            )
        else:
            files.append(path)
    return files


def videos_by_id(videos: Iterable[str | os.PathLike[str]]) -> dict[str, Path]:
    """id (file stem) → video, folders searched (``find_media``); where two files share an id, the first."""
    by_id: dict[str, Path] = {}
    for video in find_media(videos):
        by_id.setdefault(episode_id(video), video)
    return by_id


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


ISO_639_1 = {
    "ru": "rus",
    "en": "eng",
    "uk": "ukr",
    "de": "ger",
    "fr": "fre",
    "es": "spa",
    "it": "ita",
    "ja": "jpn",
    "zh": "chi",
    "ko": "kor",
    "pt": "por",
    "pl": "pol",
    "tr": "tur",
    "kk": "kaz",
    "be": "bel",
}
"""Two-letter codes (and the bibliographic 639-2 code) of the languages most releases tag; Matroska and MP4
tags are 639-2 ("rus"), some tools write 639-1 ("ru") or the terminology code ("deu", "fra", "zho")."""

_TERMINOLOGY = {"ger": "deu", "fre": "fra", "chi": "zho"}


def _same_language(tag: str | None, wanted: str) -> bool:
    if not tag:
        return False
    names = {wanted.lower(), ISO_639_1.get(wanted.lower(), wanted.lower())}
    names |= {_TERMINOLOGY[n] for n in list(names) if n in _TERMINOLOGY}
    names |= {n for n, t in ISO_639_1.items() if t in names}
    return tag.lower() in names


def choose_language(info: MediaInfo, language: str) -> AudioStream:
    """The first audio stream tagged ``language``; a MediaError naming the languages there are otherwise."""
    for stream in info.audio_streams:
        if _same_language(stream.language, language):
            return stream
    if not info.audio_streams:
        choose_stream(info, 0)  # raises "no audio stream"
    found = ", ".join(s.language or "untagged" for s in info.audio_streams)
    raise MediaError(info.path, f"no audio stream in language {language!r} (the file has: {found})")


def stream_map(path: str | os.PathLike[str], options: AudioOptions) -> str:
    """ffmpeg's ``-map`` for the stream ``options`` choose: by position, or by language (one ffprobe run)."""
    if options.language is None:
        return f"0:a:{options.stream}"
    return f"0:{choose_language(probe(path), options.language).index}"


def timeline_graph(selected: str, show_start: bool, timeline: bool = True) -> list[str]:
    """``-filter_complex`` and ``-map`` arguments that put the stream ``selected`` (``0:a:N`` or ``0:I``) on
    the presentation timeline (``TIMELINE_FILTER``; ``timeline`` False: on its own, ``STREAM_FILTER``) and, with
    ``show_start``, log its first sample's time on the timeline."""
    chain = TIMELINE_FILTER if timeline else STREAM_FILTER
    if not show_start:
        return ["-filter_complex", f"[{selected}]{chain}[out]", "-map", "[out]"]
    graph = (
        f"[{selected}]asplit=2[main][{FIRST_FRAME_LABEL}];"
        f"[{FIRST_FRAME_LABEL}]atrim=end_sample=1,ashowinfo,anullsink;[main]{chain}[out]"
    )
    return ["-filter_complex", graph, "-map", "[out]"]


def decode_command(
    path: str | os.PathLike[str],
    options: AudioOptions,
    output: str = "-",
    container: str = "f32le",
    selected: str | None = None,
    tail: bool = False,
    timeline: bool = True,
    seek_s: float | None = None,
) -> list[str]:
    """ffmpeg arguments that decode the first ``window_s`` of one audio stream to mono float at the rate (with
    ``tail``: the last ``tail_s`` instead, by a seek from the end; with ``seek_s``: ``window_s`` from that time
    of the timeline on, by a seek as accurate), on the presentation timeline
    (``timeline_graph``: sample 0 is the container's start, or the seek point; ``timeline`` False, for a head:
    sample 0 is the stream's first sample).

    ``-t`` before ``-i`` stops reading the input at the window, so a 45-minute file costs only its window;
    ``-sseof`` seeks to the tail (ffmpeg's accurate seek: decoding starts at the keyframe before it and what
    precedes the tail is dropped), so the tail costs only itself.
    The log is kept at info level with level tags: its input summary replaces a separate ffprobe run (which
    would parse a large file's index a second time), and its [error] lines become our messages.
    """
    return [
        FFMPEG,
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "level+info",
        *(["-sseof", f"-{options.tail_s:.6f}"] if tail else ["-t", f"{options.window_s:.3f}"]),
        *(["-ss", f"{seek_s:.6f}"] if seek_s is not None and not tail else []),
        "-i",
        str(path),
        *timeline_graph(
            selected or f"0:a:{options.stream}",
            show_start=not tail and seek_s is None,
            timeline=timeline or tail or seek_s is not None,
        ),
        "-vn",
        "-sn",
        "-dn",
        "-ac",
        "1",
        "-ar",
        str(options.sample_rate),
        "-c:a",
        "pcm_f32le",
        # without this ffmpeg flushes every ~2 KB packet into a pipe: 20 000 writes cost 25 % of the decode
        "-flush_packets",
        "0",
        "-f",
        container,
        "-y",
        output,
    ]


PREVIEW_BITRATE = "64k"
"""Opus at 64 kbit/s: speech and music are clear enough to place a boundary; a 10-minute preview is ~5 MB."""


def preview_command(
    path: str | os.PathLike[str], options: AudioOptions, output: str, selected: str | None = None
) -> list[str]:
    """ffmpeg arguments that encode the analysis window of the stream ``options`` choose to Opus/WebM at
    ``output``: what the review page plays where the browser cannot play the file itself, on the presentation
    timeline as every decode is (its time 0 is the container's start)."""
    return [
        *FFMPEG_QUIET,
        "-t",
        f"{options.window_s:.3f}",
        "-i",
        str(path),
        *timeline_graph(selected or f"0:a:{options.stream}", show_start=False),
        "-vn",
        "-sn",
        "-dn",
        "-c:a",
        "libopus",
        "-b:a",
        PREVIEW_BITRATE,
        "-f",
        "webm",
        "-y",
        output,
    ]


def _expected_s(info: MediaInfo, span_s: float) -> float | None:
    if info.duration_s is None:
        return None
    return min(info.duration_s, span_s)


def _check_length(path: Path, decoded_s: float, expected_s: float | None, problem: str) -> None:
    """``problem``: ffmpeg's last error-level message while decoding, or "" when it reported none."""
    if decoded_s <= 0:
        raise MediaError(path, f"no audio could be decoded ({problem or 'no message'})")
    shortfall = 0.0 if expected_s is None else expected_s - decoded_s
    if shortfall > TRUNCATION_TOLERANCE_S and (problem or shortfall > SHORT_AUDIO_SHARE * expected_s):  # type: ignore[operator]
        detail = problem or "stream ends early"
        raise MediaError(
            path, f"truncated or corrupt: decoded {decoded_s:.1f} s of the expected {expected_s:.1f} s ({detail})"
        )


_LOG_LINE = re.compile(
    r"^(?:\[[^\]]* @ 0x[0-9a-f]+\] )?\[(?P<level>trace|debug|verbose|info|warning|error|fatal|panic)\] ?(?P<text>.*)$"
)
_INPUT = re.compile(r"^Input #0, (?P<format>.+?), from '")
_DURATION = re.compile(
    r"^\s*Duration: (?:(?P<h>\d+):(?P<m>\d+):(?P<s>[\d.]+)|N/A)(?:, start: (?P<start>-?[\d.]+))?"
)
_FIRST_FRAME = re.compile(r"^n:0 pts:-?\d+ pts_time:(?P<time>-?[\d.e+-]+)")
_CHAPTER = re.compile(r"^\s*Chapter #\d+:\d+: start (?P<start>-?[\d.]+), end (?P<end>-?[\d.]+)")
_TITLE = re.compile(r"^\s*title\s*: (?P<title>.*)$")
_STREAM = re.compile(
    r"^\s*Stream #0:(?P<index>\d+)(?:\[0x[0-9a-f]+\])?(?:\((?P<lang>[^)]+)\))?: (?P<kind>\w+): (?P<rest>.*)$"
)
_LAYOUTS = {
    "mono": 1,
    "stereo": 2,
    "2.1": 3,
    "3.0": 3,
    "quad": 4,
    "4.0": 4,
    "4.1": 5,
    "5.0": 5,
    "5.1": 6,
    "6.1": 7,
    "7.1": 8,
}


@dataclass
class FfmpegLog:
    """What ffmpeg said while decoding: its input summary and its error-level messages."""

    format_name: str | None = None
    duration_s: float | None = None
    streams: list[tuple[int, str | None, str, str]] | None = None  # (index, language, kind, description)
    problems: list[str] | None = None
    chapters: list[list] | None = None  # [start s, end s, title] from the input summary
    start_s: float = 0.0  # the container's start ("Duration: …, start: S")
    first_sample_s: float | None = None  # the decoded stream's first sample on the timeline (ashowinfo)

    @property
    def has_input(self) -> bool:
        return self.format_name is not None

    @property
    def last_problem(self) -> str:
        return self.problems[-1] if self.problems else "no message"

    def media_info(self, path: str) -> MediaInfo:
        audio: list[AudioStream] = []
        other: list[str] = []
        for index, lang, kind, rest in self.streams or []:
            if kind == "Audio":
                parts = [p.strip() for p in rest.split(",")]
                codec = parts[0].split()[0] if parts and parts[0] else "?"
                rate = next((int(p.split()[0]) for p in parts if p.endswith(" Hz")), 0)
                layout = parts[2].split("(")[0].strip() if len(parts) > 2 else ""
                channels = _LAYOUTS.get(
                    layout, int(layout.split()[0]) if layout.split()[:1] and layout.split()[0].isdigit() else 0
                )
                language = None if lang in (None, "und") else lang
                audio.append(AudioStream(index, len(audio), codec, channels, rate, language))
            else:
                other.append(f"{kind.lower()} {rest.split(',')[0].split()[0] if rest else '?'}")
        # the summary prints chapters on the file's own clock; the timeline starts at the container's start
        chapters = tuple(
            (float(a) - self.start_s, float(b) - self.start_s, str(t)) for a, b, t in self.chapters or []
        )
        return MediaInfo(
            path,
            self.format_name or "?",
            self.duration_s,
            tuple(audio),
            tuple(other),
            chapters,
            self.start_s,
            self.first_sample_s,
        )


def parse_log(stderr: bytes) -> FfmpegLog:
    """Read ffmpeg's ``-loglevel level+info`` output (a pure function of the text)."""
    log = FfmpegLog(streams=[], problems=[], chapters=[])
    section = None
    chapter = False  # in a chapter's block of the input summary
    for raw in stderr.decode("utf-8", "replace").splitlines():
        match = _LOG_LINE.match(raw)
        level, text = (match["level"], match["text"]) if match else ("info", raw)
        if level in ("error", "fatal", "panic"):
            log.problems.append(" ".join(text.split()))  # type: ignore[union-attr]
            continue
        if level != "info":
            continue
        if log.first_sample_s is None and (m := _FIRST_FRAME.match(text)):
            log.first_sample_s = float(m["time"])
        elif m := _INPUT.match(text):
            log.format_name, section = m["format"], "input"
        elif text.startswith(("Output #", "Stream mapping")):
            section = "output"
        elif section == "input" and (m := _DURATION.match(text)):
            if m["h"] is not None:
                log.duration_s = int(m["h"]) * 3600 + int(m["m"]) * 60 + float(m["s"])
            if m["start"] is not None:
                log.start_s = float(m["start"])
        elif section == "input" and (m := _STREAM.match(text)):
            log.streams.append((int(m["index"]), m["lang"], m["kind"], m["rest"]))  # type: ignore[union-attr]
            chapter = False  # a stream's metadata title is not a chapter's
        elif section == "input" and (m := _CHAPTER.match(text)):
            log.chapters.append([float(m["start"]), float(m["end"]), ""])  # type: ignore[union-attr]
            chapter = True
        elif section == "input" and chapter and (m := _TITLE.match(text)) and not log.chapters[-1][2]:  # type: ignore[index]
            log.chapters[-1][2] = m["title"].strip()  # type: ignore[index]
    return log


READ_BLOCK_BYTES = 1 << 18
"""Bytes read from ffmpeg's pipe at a time (~3 s of audio): large reads keep the reader thread cheap."""


class _Drain(threading.Thread):
    """Reads a pipe to its end into a queue, so ffmpeg never stalls on a full pipe while we compute."""

    def __init__(self, pipe, blocks: queue.Queue | None) -> None:  # noqa: ANN001
        super().__init__(daemon=True)
        self.pipe, self.blocks, self.data = pipe, blocks, bytearray()

    def run(self) -> None:
        # read(n) on a buffered pipe waits for n bytes (or the end): ffmpeg writes one small packet at a time,
        # and handing those on one by one would cost more than the decoding itself
        while chunk := self.pipe.read(READ_BLOCK_BYTES):
            if self.blocks is None:
                self.data += chunk
            else:
                self.blocks.put(chunk)
        if self.blocks is not None:
            self.blocks.put(None)


def stream_audio(
    path: str | os.PathLike[str],
    options: AudioOptions | None = None,
    on_info: Callable[[MediaInfo], None] | None = None,
    tail: bool = False,
    timeline: bool = True,
    seek_s: float | None = None,
) -> Iterator[np.ndarray]:
    """Decode the analysis window of ``path`` (with ``tail``: its last ``options.tail_s``; with ``seek_s``:
    ``options.window_s`` from that time of the timeline on) and yield it as consecutive mono float32 blocks, on
    the presentation timeline (``timeline`` False, for a head: from the stream's first sample, which
    ``MediaInfo.audio_start_s`` places on the timeline).

    One ffmpeg process, no separate probe: the streams and the duration (for the truncation check) come
    from ffmpeg's own log. A reader thread keeps ffmpeg's pipe drained while the caller works on blocks.
    Raises MediaError (one line naming the file) for every failure, at the latest after the last block.
    ``on_info`` receives the MediaInfo read from ffmpeg's log once decoding has succeeded.
    """
    options = options or AudioOptions()
    path = check_file(path)
    command = decode_command(
        path, options, selected=stream_map(path, options), tail=tail, timeline=timeline, seek_s=seek_s
    )
    span_s = options.tail_s if tail else options.window_s
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        require_tools()
        raise
    deadline = time.monotonic() + decode_timeout_s(span_s)
    blocks: queue.Queue[bytes | None] = queue.Queue()
    out_reader, err_reader = _Drain(process.stdout, blocks), _Drain(process.stderr, None)
    out_reader.start()
    err_reader.start()
    finished = False
    try:
        carry = b""
        decoded = 0
        while True:
            remaining = deadline - time.monotonic()
            try:
                chunk = blocks.get(timeout=max(remaining, 0.001))
            except queue.Empty:
                raise MediaError(
                    path,
                    f"ffmpeg did not finish within {decode_timeout_s(span_s):g} s (file damaged or disk stalled?)",
                ) from None
            if chunk is None:
                break
            data = carry + chunk
            usable = len(data) - len(data) % 4
            carry = data[usable:]
            if usable:
                block = np.frombuffer(data[:usable], dtype="<f4").astype(np.float32, copy=False)
                decoded += block.size
                yield block
        process.wait(timeout=max(deadline - time.monotonic(), 1.0))
        err_reader.join(timeout=5)
        log = parse_log(bytes(err_reader.data))
        info = log.media_info(str(path))
        if process.returncode != 0:
            if not log.has_input:
                raise MediaError(path, f"not a readable media file ({log.last_problem})")
            if any("matches no streams" in p for p in log.problems):
                choose_stream(info, options.stream)  # raises the precise message
            raise MediaError(path, f"ffmpeg failed to decode audio ({log.last_problem})")
        if on_info is not None:
            on_info(info)
        problem = log.last_problem if log.problems else ""
        expected = _expected_s(info, span_s)
        if expected is not None and seek_s is not None and not tail and info.duration_s is not None:
            expected = min(span_s, info.duration_s - seek_s)  # what lies past the seek point
        if expected is not None and not timeline and not tail and (info.audio_start_s or 0.0) > 0:
            expected -= info.audio_start_s  # counted from the stream's first sample: its delay is not in it
        _check_length(path, decoded / options.sample_rate, expected, problem)
        finished = True
    finally:
        if not finished and process.poll() is None:
            process.kill()
        process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe:
                pipe.close()


def decode_audio(path: str | os.PathLike[str], options: AudioOptions | None = None) -> np.ndarray:
    """Decode the analysis window of ``path`` into a mono float32 array at ``options.sample_rate``."""
    blocks = list(stream_audio(path, options))
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


@dataclass(frozen=True)
class ExtractedAudio:
    path: str
    duration_s: float
    sample_rate: int
    source_duration_s: float | None
    stream: AudioStream


class WavWriter:
    """Mono 32-bit float WAV (IEEE float, format tag 3), written as blocks arrive; sizes patched at close."""

    def __init__(self, handle: BinaryIO, sample_rate: int) -> None:
        self.handle, self.sample_rate, self.samples = handle, sample_rate, 0
        handle.write(self._header(0))

    def _header(self, samples: int) -> bytes:
        data_bytes = samples * 4
        fmt = struct.pack("<HHIIHH", 3, 1, self.sample_rate, self.sample_rate * 4, 4, 32)
        return (
            b"RIFF"
            + struct.pack("<I", 4 + 8 + len(fmt) + 8 + data_bytes)
            + b"WAVE"
            + b"fmt "
            + struct.pack("<I", len(fmt))
            + fmt
            + b"data"
            + struct.pack("<I", data_bytes)
        )

    def write(self, block: np.ndarray) -> None:
        self.handle.write(np.ascontiguousarray(block, dtype="<f4").tobytes())
        self.samples += block.size

    def close(self) -> None:
        if self.samples * 4 > 0xFFFFFFFF - 64:
            raise ValueError("audio too long for a WAV file (4 GiB)")
        self.handle.seek(0)
        self.handle.write(self._header(self.samples))


def extract_audio(
    path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    options: AudioOptions | None = None,
    sinks: Sequence[Callable[[np.ndarray], None]] = (),
) -> ExtractedAudio:
    """Decode the analysis window of ``path`` into a mono float32 WAV at ``out_path``, atomically.

    Each block is also handed to every ``sinks`` callable as it is decoded (e.g. a FeatureAccumulator's
    ``push``), so that features or fingerprints come from the same single decode.
    """
    options = options or AudioOptions()
    path = check_file(path)
    probed: list[MediaInfo] = []
    with atomic_path(out_path, suffix=".wav", durable=False) as tmp, open(tmp, "wb") as handle:
        writer = WavWriter(handle, options.sample_rate)
        for block in stream_audio(path, options, on_info=probed.append):
            writer.write(block)
            for sink in sinks:
                sink(block)
        writer.close()
    info = probed[0]
    return ExtractedAudio(
        str(out_path),
        writer.samples / options.sample_rate,
        options.sample_rate,
        info.duration_s,
        choose_stream(info, options.stream),
    )


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
