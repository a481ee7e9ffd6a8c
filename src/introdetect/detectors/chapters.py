"""The file's own chapters as an episode detector: a chapter titled as a kind of part is that part.

Releases often carry chapters ("Intro", "Opening", "Previously", "Ending", "Preview"…, in Russian "Заставка",
"Титры"…): authored by whoever cut the file, they are the surest evidence there is, and Jellyfin's Intro
Skipper and Plex read them first too. The chapters come from the ffmpeg log of the head window's decode (its
input summary lists them), so they cost nothing. A title matching no pattern ("Chapter 3", "Episode") says
nothing; a chapter of implausible length for its kind (an "Opening" of 20 minutes: a first act) is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from ..analysis import EpisodeAnalysis
from ..result import Kind, Method
from ..settings import digest
from ..timecode import Segment
from .base import Candidate, DetectorContext

_END = r"(?![\s:]+(?:end|конец))"
"""Not "Intro End" / "Opening: End": such a chapter marks where the part ends, not the part."""

PATTERNS: dict[Kind, str] = {
    Kind.INTRO: r"(^|\s)(intro|introduction|op|opening|заставка|опенинг|интро)" + _END + r"(\s|:|$)",
    Kind.CREDITS: r"(^|\s)(credits?|ed|ending|outro|end credits|титры|эндинг)" + _END + r"(\s|:|$)",
    Kind.RECAP: r"(^|\s)(re?cap|summary|previously|ранее|в предыдущих сериях)" + _END + r"(\s|:|$)",
    Kind.PREVIEW: r"(^|\s)(preview|pv|next time|next episode|coming up|teaser|превью|анонс|в следующей серии)"
    + _END
    + r"(\s|:|$)",
    Kind.IDENT: r"(^|\s)(ident|logo|studio logo|network logo|заставка канала)" + _END + r"(\s|:|$)",
}
"""Chapter titles per kind (case-insensitive; the English words of Intro Skipper's defaults, the Russian ones of
VK releases). The ident's come first: "заставка канала" (the channel's ident) is not the intro's "заставка"."""

MAX_PART_S = {Kind.INTRO: 180.0, Kind.CREDITS: 600.0, Kind.RECAP: 300.0, Kind.PREVIEW: 180.0, Kind.IDENT: 30.0}
"""The longest chapter taken for each kind, s: an intro runs to 2–3 minutes (settings.MAX_PLAUSIBLE_INTRO_S), a
recap or preview to a few, end credits of a film-length episode to 10; longer is an act titled loosely."""

CONFIDENCE = 0.97
"""How sure a titled chapter is: authored, but chapters are sometimes off by a cut or copied between
releases."""

_ORDER = (Kind.IDENT, Kind.INTRO, Kind.CREDITS, Kind.RECAP, Kind.PREVIEW)


def kind_of(title: str) -> Kind | None:
    """The kind a chapter title names, or None."""
    text = " ".join(title.lower().split())
    return next((k for k in _ORDER if re.search(PATTERNS[k], text)), None)


def chapter_parts(chapters: tuple[tuple[float, float, str], ...]) -> dict[Kind, Segment]:
    """The parts the chapters name (the first chapter of each kind; adjacent chapters of one kind joined)."""
    out: dict[Kind, Segment] = {}
    for start, end, title in sorted(chapters):
        kind = kind_of(title)
        if kind is None or end <= start or start < 0:
            continue
        if kind in out:
            if abs(out[kind].end_s - start) < 0.5:  # "Opening" then "Opening (2)"
                out[kind] = Segment(out[kind].start_s, end)
            continue
        out[kind] = Segment(start, end)
    return {k: s for k, s in out.items() if s.duration_s <= MAX_PART_S[k]}


@dataclass(frozen=True)
class ChapterDetector:
    """Parts named by the file's chapters (module doc)."""

    name: ClassVar[str] = "chapters"
    family: ClassVar[str] = "chapters"
    kinds: ClassVar[frozenset[Kind]] = frozenset(Kind)
    needs_features: ClassVar[bool] = False
    needs_tail_features: ClassVar[bool] = False

    @classmethod
    def build(cls, context: DetectorContext) -> ChapterDetector:
        return cls()

    def key(self) -> str:
        return digest(
            self.name, {str(k): v for k, v in PATTERNS.items()}, {str(k): v for k, v in MAX_PART_S.items()}, CONFIDENCE
        )

    def detect(self, analysis: EpisodeAnalysis) -> list[Candidate]:
        found = chapter_parts(analysis.chapters)
        return [
            Candidate(kind, span, CONFIDENCE, Method.CHAPTER, note="a chapter of the file")
            for kind, span in found.items()
        ]
