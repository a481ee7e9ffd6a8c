"""A built-in sample episode made with ffmpeg, whose intro position is known by construction.

Used by ``introdetect demo`` and by the media tier of the tests. The sound is synthetic (ffmpeg's sources):
it exercises decoding, containers and the pipeline, not detection quality, which the corpus of real
recordings measures.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from introdetect.atomic import atomic_path
from introdetect.media import FFMPEG_QUIET
from introdetect.timecode import Segment

SAMPLE_RATE_HZ = 44_100  # the sample is written at a common delivery rate; introdetect resamples it


@dataclass(frozen=True)
class SampleEpisode:
    path: Path
    intro: Segment
    duration_s: float


def _jingle(duration_s: float) -> str:
    # a four-note arpeggio (A3 C#4 E4 A4) with plucked decay, repeated every 2 s: a recognisable sting
    expr = (
        "0.35*sin(2*PI*220*pow(2\\,floor(mod(t*2\\,4))*4/12)*t)*exp(-4*mod(t\\,0.5))"
        "+0.15*sin(4*PI*220*pow(2\\,floor(mod(t*2\\,4))*4/12)*t)*exp(-6*mod(t\\,0.5))"
    )
    return f"aevalsrc='{expr}':s={SAMPLE_RATE_HZ}:d={duration_s}"


def _ambience(duration_s: float, seed: int) -> str:
    return f"anoisesrc=color=pink:amplitude=0.08:seed={seed}:r={SAMPLE_RATE_HZ}:d={duration_s}"


def sample_command(
    path: str | os.PathLike[str],
    cold_open_s: float = 20.0,
    intro_s: float = 12.0,
    rest_s: float = 40.0,
    video: bool = True,
    audio_codec: str = "aac",
) -> list[str]:
    """ffmpeg arguments for an episode: pink-noise cold open, the jingle as intro, pink-noise content."""
    total = cold_open_s + intro_s + rest_s
    inputs = [
        "-f",
        "lavfi",
        "-i",
        _ambience(cold_open_s, 1),
        "-f",
        "lavfi",
        "-i",
        _jingle(intro_s),
        "-f",
        "lavfi",
        "-i",
        _ambience(rest_s, 2),
    ]
    graph = "[0:a][1:a][2:a]concat=n=3:v=0:a=1,aformat=channel_layouts=stereo[a]"
    cmd = [*FFMPEG_QUIET, *inputs]
    if video:
        cmd += ["-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=10:duration={total}"]
    cmd += ["-filter_complex", graph, "-map", "[a]"]
    if video:
        cmd += ["-map", "3:v", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    cmd += ["-c:a", audio_codec, "-t", f"{total}", "-y", str(path)]
    return cmd


def make_sample_episode(
    path: str | os.PathLike[str],
    cold_open_s: float = 20.0,
    intro_s: float = 12.0,
    rest_s: float = 40.0,
    video: bool = True,
) -> SampleEpisode:
    """Write the sample episode to ``path`` (format from its extension) and return where its intro is."""
    path = Path(path)
    with atomic_path(path, suffix=path.suffix) as tmp:
        subprocess.run(sample_command(tmp, cold_open_s, intro_s, rest_s, video), check=True, capture_output=True)
    return SampleEpisode(path, Segment(cold_open_s, cold_open_s + intro_s), cold_open_s + intro_s + rest_s)
