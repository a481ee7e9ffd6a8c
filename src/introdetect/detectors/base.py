"""The one interface every detector implements (PySceneDetect's habit: one interface module, a folder of
implementations).

A detector proposes ``Candidate`` parts of any kinds it can see; ``fusion`` decides the episode's parts from
every detector's candidates. Two shapes of detector:

* an **episode detector** sees one episode's analysis (its print and frame features) and runs inside that
  episode's analysis task, next to the decode (the features never travel);
* a **series detector** sees the prints of a season's episodes and answers each of them. Series detectors
  run in their registration order, each told what the ones before it proposed for every episode; an episode
  answered by one for every kind the next one proposes is not given to that one (a known intro stands: the
  season is not matched again for it), unless that answer is ``provisional``: then the next one hears the
  whole season and answers the open episodes.

A detector of a new kind of part needs nothing else: fusion takes, per kind it has no rule for, the surest
candidate of the detectors ``use`` allows. A detector that competes on a kind fusion has rules for (the intro)
needs its place in those rules too.

A detector's ``key()`` is a digest of everything that shapes its answers (its fitted models, its options):
it enters the cache keys of what it answered, so changing a model or a constant is never answered from an
old cache entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from ..result import Kind, Part

if TYPE_CHECKING:
    from ..analysis import EpisodeAnalysis
    from ..known.library import IntroLibrary
    from ..matching.confidence import ConfidenceModel
    from ..matching.recurring import EpisodePrint
    from ..matching.scoring import MotifScorer
    from ..settings import MatchingOptions


@dataclass(frozen=True)
class Candidate(Part):
    """A part one detector proposes (kind, span or None for "none of this kind here", confidence in [0, 1] or
    None, method, note, evidence), and the family of the detector that proposed it: the pipeline sets it,
    fusion and ``use`` read it."""

    family: str = ""
    provisional: bool = False
    """An answer that leaves its kind open to the series detectors after it, which then hear the whole season
    and may answer the episode better (a known intro of which the episode holds only part: another version of
    it); fusion takes their answer where it holds most of this one (``fusion``)."""

    def as_part(self) -> Part:
        return Part(self.kind, self.segment, self.confidence, self.method, self.note, self.evidence)


@dataclass(frozen=True)
class DetectorContext:
    """What detectors are built from: the model file (None: no model), the library of known intros, the fitted
    scorers of matching and its options. ``build`` of each detector takes what it needs, or declines."""

    model: str | None
    library: IntroLibrary | None
    scorer: MotifScorer
    confidence: ConfidenceModel
    matching: MatchingOptions


class EpisodeDetector(Protocol):
    """One episode's analysis → candidates (runs in the episode's task, beside its decode)."""

    name: ClassVar[str]
    family: ClassVar[str]  # "matching" or "model": what ``detect(use=…)`` switches on and off
    kinds: ClassVar[frozenset[Kind]]
    needs_features: ClassVar[bool]  # the analysis computes the model's frame features for it
    needs_tail_features: bool  # and those of the tail (a model with a kinds head)

    def key(self) -> str: ...

    def detect(self, analysis: EpisodeAnalysis) -> list[Candidate]: ...


class SeriesDetector(Protocol):
    """A season's prints → each episode's candidates, or None for an episode it has nothing to say about."""

    name: ClassVar[str]
    family: ClassVar[str]
    kinds: ClassVar[frozenset[Kind]]
    remote: ClassVar[bool]  # runs as a task on the executor (its results cached); else in this process
    # its candidates answer their kinds, so later detectors of those kinds skip the episode; False: evidence
    # only (``inside.py``), run on every episode
    answers: ClassVar[bool]

    def key(self) -> str: ...

    def detect_series(
        self, series: str, prints: Sequence[EpisodePrint], earlier: Sequence[Sequence[Candidate]] = ()
    ) -> list[list[Candidate] | None]:
        """``earlier``: per episode, what the detectors before this one proposed (empty: nothing, or not
        given): a detector whose rules need another part (the replays need the intro) reads it there."""
        ...
