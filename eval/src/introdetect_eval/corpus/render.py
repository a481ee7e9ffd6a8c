"""Turn an episode plan into a media file: mix the events, then encode with ffmpeg (atomically)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from introdetect.atomic import atomic_path
from introdetect.errors import IntrodetectError
from introdetect.media import FFMPEG_QUIET

from .plan import LEVEL_DB, PAL_SPEEDUP, EpisodePlan, Event
from .sources import MIX_RATE_HZ, SourceLibrary

PEAK_CEILING = 0.95
"""The mix is scaled down as a whole when it would peak above this: a broadcast limiter, not clipping."""

SILENCE_RMS = 1e-5
"""Excerpts quieter than this (digital silence) are left as they are instead of being amplified to level."""


ENCODER_SPEED = {
    "libopus": ["-compression_level", "5"],
    "libmp3lame": ["-compression_level", "7"],
}
"""Faster encoder settings, still ordinary release settings (measured on 2 min of a corpus mix: Opus 0.66 s,
MP3 0.56 s of CPU). AAC keeps ffmpeg's default coder: its 'fast' coder was slower on real mixes (2.96 s
against 2.13 s), though faster on noise. The full corpus must build in under an hour on 2 cores."""


class RenderError(IntrodetectError):
    """ffmpeg could not render an episode of the corpus."""


def _event_audio(event: Event, library: SourceLibrary) -> np.ndarray:
    """The event's samples at their level, faded. A looped bed is returned as one period, levelled and
    rotated to the event's phase; ``mix`` repeats it."""
    if event.loop:
        base = library.audio(event.source)
        phase = int(event.offset_s * MIX_RATE_HZ) % max(base.size, 1)
        base = np.concatenate([base[phase:], base[:phase]])
    else:
        # a line played at another rate (pitch follows, as with tape): one resampling does both
        base = library.audio(event.source, event.offset_s, event.length_s * event.rate, speed=event.rate)
    if base.size == 0:
        return base
    rms = float(np.sqrt(np.mean(np.square(base, dtype=np.float64))))
    target = 10.0 ** ((LEVEL_DB[event.kind] + event.gain_db) / 20.0)
    audio = base * np.float32(target / rms if rms > SILENCE_RMS else 1.0)
    if event.loop:
        return audio
    _fade(audio, event.fade_in_s, event.fade_out_s)
    return audio


def _fade(audio: np.ndarray, fade_in_s: float, fade_out_s: float) -> None:
    n = audio.size
    fade_in = min(int(fade_in_s * MIX_RATE_HZ), n // 2)
    fade_out = min(int(fade_out_s * MIX_RATE_HZ), n // 2)
    if fade_in:
        audio[:fade_in] *= np.linspace(0.0, 1.0, fade_in, dtype=np.float32)
    if fade_out:
        audio[n - fade_out :] *= np.linspace(1.0, 0.0, fade_out, dtype=np.float32)


def mix(plan: EpisodePlan, library: SourceLibrary) -> np.ndarray:
    """The episode's mono mix at MIX_RATE_HZ, before the per-file variations (gain, EQ, speed)."""
    total = int(round(plan.duration_s * MIX_RATE_HZ))
    out = np.zeros(total, dtype=np.float32)
    for event in plan.events:
        audio = _event_audio(event, library)
        if event.loop and audio.size:
            _add_loop(out, audio, event)
            continue
        start = int(round(event.start_s * MIX_RATE_HZ))
        if start < 0:  # an event planned to begin before the episode: keep what falls inside it
            audio, start = audio[-start:], 0
        if start >= total or audio.size == 0:
            continue
        stop = min(total, start + audio.size)
        out[start:stop] += audio[: stop - start]
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > PEAK_CEILING:
        out *= PEAK_CEILING / peak
    return out


def _add_loop(out: np.ndarray, period: np.ndarray, event: Event) -> None:
    """Add a bed that repeats ``period`` from the event's start for its length, faded in and out."""
    start = int(round(event.start_s * MIX_RATE_HZ))
    stop = min(out.size, start + int(round(event.length_s * MIX_RATE_HZ)))
    for at in range(start, stop, period.size):
        end = min(stop, at + period.size)
        out[at:end] += period[: end - at]
    fade_in = min(int(event.fade_in_s * MIX_RATE_HZ), (stop - start) // 2)
    fade_out = min(int(event.fade_out_s * MIX_RATE_HZ), (stop - start) // 2)
    # fade the bed alone: subtract the part of it that the fades remove
    if fade_in:
        ramp = 1.0 - np.linspace(0.0, 1.0, fade_in, dtype=np.float32)
        idx = np.arange(start, start + fade_in)
        out[idx] -= period[(idx - start) % period.size] * ramp
    if fade_out:
        ramp = np.linspace(0.0, 1.0, fade_out, dtype=np.float32)
        idx = np.arange(stop - fade_out, stop)
        out[idx] -= period[(idx - start) % period.size] * ramp


def encode_command(plan: EpisodePlan, path: Path) -> list[str]:
    """ffmpeg arguments that encode the raw mono mix (stdin) with the episode's variations and codec."""
    enc = plan.encoding
    filters = []
    if plan.variations.get("volume_change"):
        filters.append(f"volume={plan.variations['gain_db']}dB")
    if plan.variations.get("eq_change"):
        filters.append(str(plan.variations["eq"]))
    if plan.variations.get("pal_speedup"):
        filters.append(f"asetrate={MIX_RATE_HZ * PAL_SPEEDUP:.6f},aresample={MIX_RATE_HZ}")
    filters.append("alimiter=limit=0.97:level=false")
    cmd = [
        *FFMPEG_QUIET,
        "-y",
        "-f",
        "f32le",
        "-ar",
        str(MIX_RATE_HZ),
        "-ac",
        "1",
        "-i",
        "pipe:0",
    ]
    if enc.video:  # a picture as long as the audio, so that the container's duration is the audio's
        cmd += ["-f", "lavfi", "-i", f"color=c=0x203848:size=64x36:rate=4:duration={plan.file_duration_s:.3f}"]
    cmd += ["-filter:a", ",".join(filters), "-map", "0:a"]
    if enc.video:
        cmd += ["-map", "1:v", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "stillimage", "-pix_fmt", "yuv420p"]
    cmd += ["-c:a", enc.audio_codec, "-b:a", enc.bitrate, "-ar", str(enc.sample_rate), "-ac", str(enc.channels)]
    cmd += ENCODER_SPEED.get(enc.audio_codec, [])
    cmd += ["-metadata", f"title={plan.name}", str(path)]
    return cmd


def render_episode(plan: EpisodePlan, library: SourceLibrary, out_path: Path) -> None:
    """Mix and encode ``plan`` to ``out_path`` (written to a temporary file, then renamed)."""
    audio = mix(plan, library)
    with atomic_path(out_path, suffix=out_path.suffix, durable=False) as tmp:
        process = subprocess.Popen(encode_command(plan, tmp), stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdin is not None
        try:
            step = MIX_RATE_HZ * 30
            for start in range(0, audio.size, step):
                process.stdin.write(audio[start : start + step].tobytes())
            process.stdin.close()
        except BrokenPipeError:
            pass
        stderr = process.stderr.read() if process.stderr else b""
        if process.wait() != 0:
            last = (stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[-1]
            raise RenderError(f"{out_path}: ffmpeg could not encode the episode ({last})")
