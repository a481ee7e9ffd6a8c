"""A baseline written from Intro Skipper's published method (the Jellyfin plugin's Chromaprint analyzer).

Per season: Chromaprint fingerprints of the first 25 % of each episode (at most 10 minutes), made by
ffmpeg's chromaprint muxer as the plugin does; episodes are compared pairwise in queue order: shifts come
from fingerprint points that match exactly (or within ±2, the plugin's "inverted index shift"); at each
shift, points within 6 differing bits count as similar; the longest run of similar points with gaps of at
most 3.5 s is the shared intro, accepted when it lasts 15–120 s. An intro starting in the first 5 s is
moved to 0, and long matches lose a little at the end, as in the plugin. The plugin's last step (moving
the end to a nearby silence) is left out: it needs its silence detector and changes little on our corpus.

This is the field's reference behaviour; introdetect's own detectors are measured against it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from introdetect.errors import MediaError
from introdetect.media import FFMPEG_QUIET, check_file
from introdetect.result import Detection, Method
from introdetect.timecode import Segment

SECONDS_PER_POINT = 0.1238
"""Chromaprint's default: 4096-sample frames with 2/3 overlap at 11 025 Hz (1365.33 samples)."""


@dataclass(frozen=True)
class IntroSkipperOptions:
    analysis_share: float = 0.25  # fingerprint this share of each episode …
    analysis_limit_s: float = 600.0  # … but at most 10 minutes
    max_bit_differences: int = 6
    inverted_index_shift: int = 2
    max_time_skip_s: float = 3.5
    min_intro_s: float = 15.0
    max_intro_s: float = 120.0


def fingerprint_command(path: str | os.PathLike[str], length_s: float) -> list[str]:
    return [
        *FFMPEG_QUIET,
        "-i",
        str(path),
        "-to",
        f"{length_s:.3f}",
        "-ac",
        "2",
        "-f",
        "chromaprint",
        "-fp_format",
        "raw",
        "-",
    ]


def fingerprint(path: str | os.PathLike[str], length_s: float) -> np.ndarray:
    """Raw Chromaprint points (uint32) of the first ``length_s`` seconds, from ffmpeg's chromaprint muxer."""
    path = check_file(path)
    result = subprocess.run(fingerprint_command(path, length_s), capture_output=True, timeout=60 + length_s / 4)
    if result.returncode != 0:
        last = (result.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[-1]
        raise MediaError(path, f"chromaprint fingerprint failed ({last})")
    return np.frombuffer(result.stdout[: len(result.stdout) // 4 * 4], dtype="<u4").astype(np.uint32)


def longest_run(times: np.ndarray, max_skip_s: float) -> tuple[float, float] | None:
    """The longest stretch of sorted ``times`` whose neighbours are at most ``max_skip_s`` apart."""
    if times.size < 2:
        return None
    breaks = np.flatnonzero(np.diff(times) > max_skip_s)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [times.size - 1]])
    lengths = times[ends] - times[starts]
    best = int(np.argmax(lengths))
    if lengths[best] <= 0:
        return None
    return float(times[starts[best]]), float(times[ends[best]])


def _shifts(lhs: np.ndarray, rhs: np.ndarray, spread: int) -> set[int]:
    """Offsets (rhs index − lhs index) at which some point of lhs equals a point of rhs (± ``spread``)."""
    # like the plugin's dictionary, each point value keeps the index of its last occurrence
    lhs_index = {int(v): i for i, v in enumerate(lhs)}
    rhs_index = {int(v): i for i, v in enumerate(rhs)}
    shifts = set()
    for value, i in lhs_index.items():
        for delta in range(-spread, spread + 1):
            j = rhs_index.get((value + delta) & 0xFFFFFFFF)
            if j is not None:
                shifts.add(j - i)
    return shifts


def compare(lhs: np.ndarray, rhs: np.ndarray, options: IntroSkipperOptions) -> tuple[Segment, Segment] | None:
    """The longest shared run between two episodes' fingerprints, in each episode's own time."""
    best: tuple[float, tuple[float, float], tuple[float, float]] | None = None
    for shift in _shifts(lhs, rhs, options.inverted_index_shift):
        left, right = (0, shift) if shift >= 0 else (-shift, 0)
        count = min(lhs.size - left, rhs.size - right)
        if count <= 0:
            continue
        differing = np.bitwise_count(lhs[left : left + count] ^ rhs[right : right + count])
        similar = np.flatnonzero(differing <= options.max_bit_differences)
        if similar.size < 2:
            continue
        lhs_run = longest_run((similar + left) * SECONDS_PER_POINT, options.max_time_skip_s)
        if lhs_run is None or lhs_run[1] - lhs_run[0] < options.min_intro_s:
            continue
        rhs_run = longest_run((similar + right) * SECONDS_PER_POINT, options.max_time_skip_s)
        if rhs_run is None:
            continue
        duration = lhs_run[1] - lhs_run[0]
        if best is None or duration > best[0]:
            best = (duration, lhs_run, rhs_run)
    if best is None:
        return None
    duration, (ls, le), (rs, re) = best
    trim = 2 * options.max_time_skip_s if duration >= 90 else options.max_time_skip_s if duration >= 30 else 0.0
    ls, rs = (0.0 if ls <= 5 else ls), (0.0 if rs <= 5 else rs)
    return Segment(ls, max(ls, le - trim)), Segment(rs, max(rs, re - trim))


def detect_season(
    fingerprints: Mapping[str, np.ndarray], order: Sequence[str], options: IntroSkipperOptions | None = None
) -> dict[str, Detection]:
    """Intro Skipper's season loop: each episode is compared with the ones after it in the queue until one
    pair yields a valid intro; each episode keeps the longest intro found for it."""
    options = options or IntroSkipperOptions()
    found: dict[str, Segment] = {}
    queue = list(order)
    while queue:
        current = queue.pop(0)
        for other in queue:
            result = compare(fingerprints[current], fingerprints[other], options)
            if result is None or result[1].duration_s > options.max_intro_s:
                continue
            for vid, segment in ((current, result[0]), (other, result[1])):
                if vid not in found or segment.duration_s > found[vid].duration_s:
                    found[vid] = segment
            break
    return {vid: Detection.of_intro(vid, found.get(vid), None, Method.EXTERNAL) for vid in order}
