"""The supervised model as an episode detector: one episode's frame features → its intro, with the model's
P(intro) curve as evidence; a model with a kinds head also proposes the other parts it hears, over the head's
windows and the tail's (``MODEL_KINDS``). Runs through ONNX Runtime (no torch), the model loaded once per
process."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from ..analysis import EpisodeAnalysis
from ..cache import file_digest
from ..matching.profile import quiet_runs
from ..matching.recurring import EpisodePrint
from ..model.decode import KindCurves, kind_span
from ..model.infer import IntroModel, ModelAnswer
from ..model.inputs import KINDS
from ..resources import default_model_path
from ..result import Curve, Evidence, Kind, Method, Opinion
from ..settings import MODEL_UNSURE_BELOW, digest
from ..timecode import Segment
from .base import Candidate, DetectorContext

DEFAULT_MODEL = "default"
"""``detect(model=DEFAULT_MODEL)``: the model shipped in the package (None: no model)."""

MODEL_RULES = "kinds-13"
"""Version of how the model's outputs become answers beyond the file (``IntroModel.heard_further``, the kinds'
runs and their bounds: ``kind_candidates``), in the cache key: bump when it changes."""

_MODELS: dict[str, IntroModel] = {}


def load_model(source: str) -> IntroModel:
    """The model of ``source`` (a path, or DEFAULT_MODEL), loaded once per process."""
    if source not in _MODELS:
        _MODELS[source] = IntroModel.load(None if source == DEFAULT_MODEL else source)
    return _MODELS[source]


def model_path(source: str) -> Path:
    return default_model_path() if source == DEFAULT_MODEL else Path(source)


EARLY_KINDS = (Kind.IDENT, Kind.RECAP)
"""Parts a kinds head proposes from the head's windows before the tail (they open an episode)."""

LATE_KINDS = (Kind.CREDITS, Kind.PREVIEW)
"""Parts it proposes from the tail's windows only (they close it): a theme the head mistakes for credits is the
intro (held-out test show15 e04: the kinds head called the intro at 6:08 of a 12:20 episode its credits)."""

MODEL_KINDS = (*EARLY_KINDS, *LATE_KINDS)
"""The parts a kinds head proposes besides the intro (which its intro heads answer, with their boundaries)."""


MIN_PART_S = {Kind.RECAP: 15.0}
"""The shortest part of a kind the model proposes (s): real recaps run 15 s to 2 minutes (``replay.RECAP_LEAD_S``);
on the held-out validation split's lone episodes, 9 of the 12 recaps the head proposed that overlapped no recap
were shorter, and 1 of the 6 right ones."""


def kind_candidates(curves: KindCurves, kinds: tuple[Kind, ...], end_s: float, late: bool) -> list[Candidate]:
    """A candidate per kind of ``kinds`` the curves hold (``decode.kind_span``; ``late``: the curves of the tail,
    which run to the episode's end, else of the head before it, which begin at its start); nothing for a kind
    they do not (or shorter than the MIN_PART_S of its kind): one episode's audio saying "no credits" is no evidence
    against a season's."""
    out = []
    for kind in kinds:
        found = kind_span(curves, KINDS.index(kind.value), end_s, holds_start=not late, holds_end=late)
        if found is not None and found[0].duration_s >= MIN_PART_S.get(kind, 0.0):
            out.append(Candidate(kind, found[0], round(found[1], 4), Method.MODEL))
    return out


ONSET_DB = 20.0
"""The model's intro starts at its theme's first frame within this many dB of the theme's loud frames (their 90th
percentile), where that lies after the start the model's boundary head gives: the head places a start to about a
second, and on a quiet lead-in before the theme (a cue's tail, a room rising) it is early. On the held-out
validation split's lone episodes 10, 15 and 20 dB gave the same (34 → 35 of 63 answers within ±1 s); 20 moves the
fewest starts, so the fewest it can get wrong (on test, seen after: 10 dB took two right starts 0.6-0.8 s past
the theme's attack). Measured in docs/BENCHMARKS.md."""

ONSET_LOOK_S = 2.0
"""How far after the model's start its theme's first loud frame may lie (s): the lead-ins the boundary head takes
for the theme run 1-1.8 s on the held-out splits; 1.5 and 3 s gave the same on validation."""


def _theme_frames(head: EpisodePrint, intro: Segment | None, drop_db: float) -> tuple[int, int, float] | None:
    """The frames [first, last) of ``intro`` (on ``head``'s timeline) and the level ``drop_db`` under their loud
    frames (``Profile.loud_level``); None without an intro or a print, or where the intro is too short to have a
    level."""
    if intro is None or not head.profile.n_frames:
        return None
    profile, rate = head.profile, head.profile.frame_rate
    first = max(0, round((intro.start_s - head.start_s) * rate))
    last = min(profile.n_frames, round((intro.end_s - head.start_s) * rate))
    if last - first < 2:
        return None
    return first, last, profile.loud_level(first, last, drop_db)


def loud_onset(head: EpisodePrint, intro: Segment | None) -> Segment | None:
    """``intro`` (the model's, on ``head``'s timeline) started at its theme's first loud frame (ONSET_DB) within
    ONSET_LOOK_S of its start; as it was where none lies there, or the intro is too short to have a level."""
    frames = _theme_frames(head, intro, ONSET_DB)
    if intro is None or frames is None:
        return intro
    first, last, level = frames
    onset = head.profile.first_loud(first, min(last, first + round(ONSET_LOOK_S * head.profile.frame_rate)), level)
    if onset is None or onset == first:
        return intro
    return Segment(head.seconds(onset), intro.end_s)


OFFSET_DB = 25.0
"""The model's intro ends after its theme's last frame within this many dB of the theme's loud frames (their 90th
percentile), where that lies before the end the boundary head gives (within OFFSET_LOOK_S): the head places an
end to about a second, and past a sting's last note it often takes the quiet after it. On the held-out validation
split's lone episodes (both seeds, one-off script over ``out/hk-f1``'s answers and the heads' loudness) 25 dB moved
19 ends, 3 of them into ±0.5 s of the truth and none out of it; 20 dB moved 29, 5 in and 2 out (a theme fading
out over its last second: the truth runs to where it is still heard); 30 dB, 8 and none either way. None crossed
±1 s either way."""

OFFSET_LOOK_S = 2.0
"""How far before the model's end its theme's last loud frame may lie (s): 1, 2 and 3 s moved the same ends on
validation at OFFSET_DB."""


def loud_offset(head: EpisodePrint, intro: Segment | None) -> Segment | None:
    """``intro`` (the model's, on ``head``'s timeline) ended just after its theme's last loud frame (OFFSET_DB)
    within OFFSET_LOOK_S before its end; as it was where that frame is its last, or none lies there."""
    frames = _theme_frames(head, intro, OFFSET_DB)
    if intro is None or frames is None:
        return intro
    first, last, level = frames
    look = max(first, last - round(OFFSET_LOOK_S * head.profile.frame_rate))
    final = head.profile.last_loud(look, last, level)
    if final is None or final + 1 >= last:
        return intro
    return Segment(intro.start_s, head.seconds(final + 1))


OPENING_LOOK_S = 2.5
"""How far into the file the model's intro may start and still be taken to open it (s): the boundary head
places a start to about a second, and its first window is centred 5 s in, so an intro that opens the file was
started 0.7-2.2 s late on the held-out validation split's lone episodes (a 4 s sting, a 73 s theme)."""

OPENING_PAUSE_S = 0.2
"""The longest quiet stretch (under the theme's ONSET_DB level) that may lie before such an intro's start for it
to open the file (s): a frame or two of a codec's priming. Where something else comes first (a cold open's line,
an ident) a pause of 0.4 s or more lies between it and the intro on the held-out splits (0.42-1.9 s), and the
intros that open the file have none (every frame before the model's start at the theme's level)."""


def from_the_opening(head: EpisodePrint, intro: Segment | None) -> Segment | None:
    """``intro`` (the model's) started at the file's start where it starts within OPENING_LOOK_S of it and sounds
    from there on at the theme's level (ONSET_DB under its loud frames) with no pause longer than OPENING_PAUSE_S
    before its start: the theme opens the file; as it was otherwise."""
    frames = _theme_frames(head, intro, ONSET_DB)
    if intro is None or frames is None or head.start_s != 0.0 or not 0.0 < intro.start_s <= OPENING_LOOK_S:
        return intro
    first, _, level = frames
    runs = quiet_runs(head.profile.loudness_db[:first], level)
    if runs.size and int((runs[:, 1] - runs[:, 0]).max()) > OPENING_PAUSE_S * head.profile.frame_rate:
        return intro
    return Segment(0.0, intro.end_s)


def curve_of(answer: ModelAnswer) -> Curve:
    """The model's P(intro) per window, at window centres."""
    out = answer.outputs
    step = float(out.start_s[1] - out.start_s[0]) if len(out.start_s) > 1 else out.length_s / 2
    start = float(out.start_s[0]) + out.length_s / 2 if len(out.start_s) else out.length_s / 2
    return Curve(start, step, tuple(round(float(v), 3) for v in out.intro))


def candidate_of(answer: ModelAnswer) -> Candidate:
    """The model's answer as a candidate: its intro (or none), its confidence, its curve."""
    evidence = Evidence(curve=curve_of(answer), model=Opinion(answer.intro, answer.confidence, Method.MODEL))
    return Candidate(Kind.INTRO, answer.intro, answer.confidence, Method.MODEL, evidence=evidence)


@dataclass(frozen=True)
class ModelDetector:
    """The CNN + LSTM of ``model/``: where the intro is, from the episode alone."""

    name: ClassVar[str] = "model"
    family: ClassVar[str] = "model"
    kinds: ClassVar[frozenset[Kind]] = frozenset({Kind.INTRO, *MODEL_KINDS})
    needs_features: ClassVar[bool] = True

    source: str  # a model file, or DEFAULT_MODEL

    @property
    def needs_tail_features(self) -> bool:
        return load_model(self.source).has_kinds

    @classmethod
    def build(cls, context: DetectorContext) -> ModelDetector | None:
        if context.model is None:
            return None
        load_model(context.model)  # a bad model file fails here, once, before any decoding
        return cls(context.model)

    def key(self) -> str:
        return digest(
            self.name,
            MODEL_RULES,
            ONSET_DB,
            ONSET_LOOK_S,
            OFFSET_DB,
            OFFSET_LOOK_S,
            OPENING_LOOK_S,
            OPENING_PAUSE_S,
            MODEL_UNSURE_BELOW,
            file_digest(model_path(self.source)),
        )

    def detect(self, analysis: EpisodeAnalysis) -> list[Candidate]:
        if analysis.features is None:
            return []
        model = load_model(self.source)
        tail = analysis.print.tail
        tail_start = tail.start_s if tail is not None else float("inf")
        answer = model.predict(analysis.features, analysis.id, tail_start)
        heard = analysis.print
        answer = replace(answer, intro=from_the_opening(heard, loud_offset(heard, loud_onset(heard, answer.intro))))
        found = [candidate_of(answer)]
        if answer.kinds is None:
            return found
        head = analysis.features
        early = answer.kinds.between(0.0, tail_start)
        if analysis.print.reached_end and head.duration_s <= model.inputs.span_s:  # the model's span holds the end
            late, end = answer.kinds.between(tail_start, float("inf")), head.duration_s
        elif analysis.tail_features is not None:
            late = model.tail_kinds(analysis.tail_features, analysis.tail_start_s, analysis.id)
            end = analysis.tail_start_s + analysis.tail_features.duration_s
        else:  # no tail analysed: no credits nor preview to hear
            late, end = answer.kinds.between(0.0, 0.0), float("inf")
        return found + kind_candidates(early, EARLY_KINDS, end, False) + kind_candidates(late, LATE_KINDS, end, True)
