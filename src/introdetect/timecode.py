"""The one time type of introdetect: ``Segment`` in seconds, and ``H:MM:SS`` parsing and formatting."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .errors import TimecodeError

# H:MM:SS with optional fraction, or M:SS / MM:SS. Minutes and seconds need two digits when a larger unit
# precedes them, so "1:2" (one minute two seconds? one hour two minutes?) is rejected, not guessed.
_HMS = re.compile(r"^(?P<h>\d+):(?P<m>[0-5]\d):(?P<s>[0-5]\d(?:[.,]\d+)?)$")
_MS = re.compile(r"^(?P<m>\d{1,2}):(?P<s>[0-5]\d(?:[.,]\d+)?)$")


def parse_timecode(text: str) -> float:
    """``"0:01:42"`` → 102.0; ``"1:02:03.5"`` → 3723.5; ``"01:42"`` → 102.0.

    Raises TimecodeError for anything else, with the offending text in the message.
    """
    if not isinstance(text, str):
        raise TimecodeError(f"expected a time string like 0:01:42, got {type(text).__name__} {text!r}")
    stripped = text.strip()
    match = _HMS.match(stripped)
    if match:
        hours = int(match["h"])
    else:
        match = _MS.match(stripped)
        hours = 0
    if not match:
        raise TimecodeError(f"{text!r} is not a time of the form H:MM:SS")
    return hours * 3600 + int(match["m"]) * 60 + float(match["s"].replace(",", "."))


def format_timecode(seconds: float, decimals: int = 0) -> str:
    """102.0 → ``"0:01:42"``; with ``decimals=1``: ``"0:01:42.0"``. Rounds to the requested precision."""
    if not math.isfinite(seconds) or seconds < 0:
        raise TimecodeError(f"cannot format {seconds!r} as a time")
    scale = 10**decimals
    total = round(seconds * scale)
    whole, fraction = divmod(total, scale)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}"
    if decimals:
        text += f".{fraction:0{decimals}d}"
    return text


@dataclass(frozen=True, order=True)
class Segment:
    """A span of time in seconds from the start of the episode, ``start_s <= end_s``."""

    start_s: float
    end_s: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s)):
            raise ValueError(f"segment bounds must be finite, got {self.start_s}, {self.end_s}")
        if self.start_s < 0 or self.end_s < self.start_s:
            raise ValueError(f"invalid segment [{self.start_s}, {self.end_s}]: need 0 <= start <= end")

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def centre_s(self) -> float:
        return 0.5 * (self.start_s + self.end_s)

    def contains(self, t: float) -> bool:
        """True when ``start_s <= t <= end_s`` (both ends belong to the segment)."""
        return self.start_s <= t <= self.end_s

    def overlap_s(self, other: Segment) -> float:
        return max(0.0, min(self.end_s, other.end_s) - max(self.start_s, other.start_s))

    def shifted(self, by_s: float) -> Segment:
        """This span ``by_s`` later (earlier when negative), kept at 0 or after."""
        return self.mapped(1.0, by_s)

    def mapped(self, scale: float, by_s: float) -> Segment:
        """This span on another clock, ``t · scale + by_s`` (a copy played at another speed and offset), kept at
        0 or after."""
        return Segment(max(0.0, self.start_s * scale + by_s), max(0.0, self.end_s * scale + by_s))

    def iou(self, other: Segment) -> float:
        """Intersection over union of the two spans; 0 when both are empty."""
        inter = self.overlap_s(other)
        union = self.duration_s + other.duration_s - inter
        return inter / union if union > 0 else 0.0

    def __str__(self) -> str:
        return f"{format_timecode(self.start_s, 1)}–{format_timecode(self.end_s, 1)}"
