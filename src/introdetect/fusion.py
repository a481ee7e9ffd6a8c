"""One part per kind from the candidates of every detector (pure: candidates in, a Part out).

For the intro, the design's rule made concrete, between the matching's candidate (a known intro, or what
recurs across the season) and the model's:

* a known intro (found by lookup in the series' labelled intros) stands: it is the most precise evidence;
* across a season, what recurs decides, unless the recurrence evidence is weaker: the matcher found no intro
  and is less sure of that than the model is of its intro (both confidences mapped onto the share right,
  below: the likelier answer stands, when it is likely right itself: MODEL_OVER_NONE), or the matcher
  found another intro and the model, sure of its own (≥ MODEL_SURE, the design's 0.7, on the model's own
  calibration: under it what recurs decides), is right more often there than the matcher (mapped), and the
  matcher is not sure of its own (under MATCHER_SURE, mapped);
* the model's "no intro" never removes an intro that recurs: one episode's audio alone is weaker evidence
  than the same piece heard across the season (on the corpus's test split the model misses whole series
  with near-certainty: docs/MODEL.md);
* an episode with no siblings and no known intro is answered by the model alone; wherever the model answers (so,
  too, where it overrules a season's matching), if a stretch of the head that its own tail replays
  (``detectors/inside.py``: the theme again in the end credits) and the model's span name the same piece
  (IoU ≥ AGREE_IOU, the stretch at least INSIDE_COVERAGE of the span), the stretch's frame-precise boundaries
  stand, with the model's confidence (such a stretch alone is no intro: a cue may recur inside an episode too),
  but its end only where it ends at most CUT_SHORT_S before the model's (the credits may cut the theme short);
  where the model hears no intro in a lone episode, the earliest such stretch whose replay starts the episode's
  end credits is its intro, *unsure* (INSIDE_INTRO_CONFIDENCE: a score cue may quote the end theme);
* a season's intro (recurring or known) that a stretch of the head its own tail replays starts with (within
  REPLAY_START_S) ends where that replay ends, up to REPLAY_REACH_S later: the credits play the theme clean,
  where the partners may carry dialogue over its last bars and share it only up to there;
* a chapter of the file titled as a part (``detectors/chapters.py``) stands for its kind, over everything but a
  known intro (labels the user gave).

Where the model and the matcher agree (IoU ≥ AGREE_IOU), the matcher's frame-precise boundaries are kept, except
at an end the model, likely right, places more than BEYOND_S beyond the recurring piece (the piece is then part of
the intro: its first bars lost their hashes).
Every part records which method decided, and the other method's view in its note and evidence.

The fused answer's confidence is the deciding detector's, the surer of the two where they agree. Each detector
calibrates its own on the corpus it was fitted on (the matcher's by ``matching/confidence.py``, the model's by
its Platt scaling); before these rules compare them, the pipeline maps every intro candidate's confidence by
the trust map (``trust.py``: fitted per method on series made from source packages nothing else saw), so that
"the model is likelier" means it is right more often on new material (there, the model's own 0.99 was right a
fifth of the time and overruled the matcher wrongly in 8 of 10 cases). The fused intro's confidence is mapped
once more after these rules, by the answer map of the method that decided (``TrustMap.answer``, fitted on the
fused answers of the same split), so the bounds here stay on the scale they were chosen on. A fitted
combination was tried (``bench/train_fused_confidence.py``): with only 5 wrong answers among 64 to learn from,
it came out worse on the test splits than the detectors' own confidences (docs/BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .detectors.base import Candidate
from .detectors.inside import INSIDE_FAMILY
from .result import Evidence, Kind, Match, Method, Opinion, Part
from .timecode import Segment

MODEL_SURE = 0.7
"""The design's threshold: below this model confidence (its own, Platt-calibrated on the corpus it was trained
on) the recurrence evidence decides. Above it, between two intros, the likelier on new material stands (the
mapped confidences): where the matcher's and the model's intros disagree and one is right, that picks it in
10 of 12 cases on the held-out packages' validation split (seed 0, where that map was fitted) and 7 of 11 on test; the
former rule (the matcher's intro under 0.5 and the model's over 0.7, both mapped) in 9 and 2: mapped, the
model never reached 0.7, so it never decided."""

MATCHER_SURE = 0.6
"""A recurring intro this likely right (mapped) is never moved by the model's intro elsewhere. With the model
shipped on 2026-12-03 and its map, the model's surer answer overruled recurring intros heard across their season
wrongly on our own corpora: the parts corpus's test split (show02 e05 at 0.78, show05 e06 at 0.87, a piece heard
in all six episodes) and the tiny structured corpus (show02 e04 at 0.64, with a 58 s head window). On the
held-out packages' validation split every recurring intro it overruled was at most 0.56 (12 of 15 overrules
right, none of the matcher's answers right among them; test: at most 0.47, 6 of 8 right), so any bound from 0.57
to 0.64 keeps those and none of the wrong ones: 0.6."""

MODEL_LIKELY = 0.45
"""An end the model places beyond the recurring piece moves it only when the model is about as often right as
wrong (mapped; ``_widened``). Until 2026-12-03 also the floor for overruling a season's "no intro" (now
MODEL_OVER_NONE): 0.45 rather than 0.5 was the largest floor that let the model's intro stand in the held-out
validation split's two-episode season (seed 1's show05, the model's 4 s sting at 0.47 and 0.48, right, under the
previous model's map)."""

MODEL_OVER_NONE = 0.7
"""The model's intro overrules a season's "no intro" only when it is likelier right than that "none" and likely
right itself (mapped ≥ the design's "sure"): a 3 s piece near the end of an episode without an intro is not.
Chosen on 2026-12-03 with the model shipped then and its map (which maps its answers higher than the previous
model's map did): on the held-out validation split every floor from 0.48 to 0.71 keeps the same answers (the
model's right intros over a wrong "none" at 0.71 and 0.94; none wrong above 0.48), and the tiny corpus's show04
e03, an episode without an intro, got the model's 12 s cue at 0.62 under the former floor of 0.45 (a false
intro); on the held-out test split the floor costs one right intro (seed 0's show04 e03 at 0.53, seen there
after choosing)."""


BEYOND_S = 5.0
"""Where the model and the matcher name the same intro, the recurring piece's boundaries stand, except at an end
the model places more than this many seconds beyond it while likely right (MODEL_LIKELY, mapped): then the piece
is part of the intro, not its edge (an EQ'd release loses the hashes of a theme's bass-only first bars: held-out
validation's show05, whose recurring piece began 21-26 s into its 65 s theme where the model's span began within
0.8 s of it, 5 of 6 such answers right). A model's span is loose by a second or two, never by five."""

AGREE_IOU = 0.5
"""Two answers overlapping this much name the same intro (the detection criterion of the metrics)."""

MODEL_FAMILY = "model"
"""The family of the model's candidates (``detectors/model.py``)."""

NOTE_MODEL_ALONE = "the only episode of its series: the model answers alone"

NOTE_IN_CREDITS = "the theme heard lies in the end credits: not an intro"

NOTE_INSIDE = "boundaries of the stretch its own tail replays"

NOTE_INSIDE_START = "start of the stretch its own tail replays, end the model's (the credits cut the theme short)"

INSIDE_COVERAGE = 0.8
"""A stretch its own tail replays sets a lone episode's intro only when it is at least this share of the model's
span: the credits may replay a part of the theme (cut short, speech over its first bars), and then its
boundaries are not the intro's (tiny-parts show02 e03: 50.7-57.1 s replayed of an intro at 49.4-60.8 s, which
the model's span ends at 60.5 s); a model's span is loose by a second or two either way, not by a fifth."""

CUT_SHORT_S = 2.0
"""A stretch its own tail replays that ends more than this before the model's span (s) was cut short in the
credits (they replay the theme's first part, then cut to the names' own music), and the intro ends where the model
says, from the stretch's start. On the held-out validation split's lone episodes the stretches that set a right end
ended at most 0.8 s before the model's (and up to 1.9 s after it), the two cut short 4.1 and 7.7 s before it, where
the model's end lay within 0.4 s of the truth (both seeds, 2026-12-04, ``bench/heldout.py --regimes lone``; on
test, seen after, one more: 2.7 s)."""

NOTE_REPLAY_END = "end where its own credits' replay of it ends"

REPLAY_START_S = 1.0
"""A stretch its own tail replays names the intro answered when it starts within this of the intro (s): the
credits play the theme from its first bar, as the intro does (the recurring answers' starts lie within 0.1 s of
the truth in 126 of 132 held-out season episodes, within 1 s in all: both splits and seeds, 2026-12-04,
``bench/heldout.py --regimes season --out out/hk-b6``)."""

REPLAY_REACH_S = 3.0
"""How far past a season's intro (s) the replay in its own credits may move its end (``_run_on``). Held-out
validation seed 1 show03: a 47 s theme whose partners carry dialogue over its last 1.6 s, so that all they share
ends 1.6 s early (two of three such episodes' credits replay it whole); seed 1 test show10 e05, 1.0 s early. On
the recurring detector's inputs dumped from every held-out season and our corpus's test split (a one-off
script, 2026-12-04), reaches of 2, 3 and 5 s give the same answers: two ends within ±1 s more, none fewer, one
0.9 s nearer the truth. 3 s bounds what a wrong replay can add."""

THEME_CREDITS_CONFIDENCE = 0.5
"""How sure the credits a lone episode's own theme replay implies are (no map is fitted for them): on the held-out
test split's lone episodes whose credits nothing else found, 5 of 9 such answers had both ends within ±2 s and
the other 4 ended early (none held story); on validation 0 of 3, all ending 2.4 s early on 6 s credits. Unsure
by default: shown and reviewed, exported only with ``--include-unsure``."""

NOTE_INSIDE_INTRO = "the stretch of its head its own credits replay from their start, where the model heard no intro"

INSIDE_INTRO_CONFIDENCE = 0.5
"""How sure the intro of a lone episode is where the model heard none but its own end credits replay a stretch
of its head from their start (``detectors/inside.theme_credits``), before the answer map of what recurs: on the
held-out validation split's lone episodes (both seeds, 2026-12-04; a one-off count of the inside detector's
candidates from ``bench/heldout.py --regimes lone``'s cache), 1 of the 2 such answers was right (seed 0 show09 e02's 4 s sting at 10:32, within 0.4 s), the other a
score cue of an episode without intro quoting its end theme (seed 1 show01 e06, 15 s). Unsure by default: shown
and reviewed first, exported only with ``--include-unsure``."""

IN_CREDITS_SHARE = 0.5
"""An intro with more than this share of its length inside the episode's end credits is the theme replayed
there (an episode without an intro whose head window reached its end), never the intro."""

USES: dict[str, tuple[str, ...] | None] = {"fused": None, "matching": ("matching",), "model": ("model",)}
"""What answers, by detector family: every detector fused (default; None: every family: matching, the model and
the file's chapters), matching alone (known intros and recurrence), the model alone (each episode on its own)."""


NOTE_NOT_KNOWN = "none of the known intros heard: the season's matching answers"

PROVISIONAL_HELD = 0.8
"""Share of a provisional known answer (the part of a known intro an episode holds) that the season's matching
must hold for its answer to stand instead: the episode's version of the intro contains what it shares with the
known one; a span holding less of it is another piece."""


def allowed(candidates: Sequence[Candidate], use: str) -> list[Candidate]:
    """The candidates of the detector families ``use`` names."""
    families = USES[use]
    return [c for c in candidates if families is None or c.family in families]


def _describe(model: Candidate) -> str:
    if model.segment is None:
        return f"model: no intro ({model.confidence:.2f})"
    return f"model: {model.segment} ({model.confidence:.2f})"


def _note(*parts: str | None) -> str | None:
    text = "; ".join(p for p in parts if p)
    return text or None


def _widened(piece: Segment, model: Candidate) -> tuple[Segment, str]:
    """The recurring ``piece`` with each end the model, likely right (MODEL_LIKELY, mapped), places more than
    BEYOND_S outside it, and which ends moved ("" for none)."""
    span = model.segment
    if span is None or model.confidence is None or model.confidence < MODEL_LIKELY:
        return piece, ""
    start = span.start_s if piece.start_s - span.start_s > BEYOND_S else piece.start_s
    end = span.end_s if span.end_s - piece.end_s > BEYOND_S else piece.end_s
    moved = " and ".join(name for name, m in (("start", start != piece.start_s), ("end", end != piece.end_s)) if m)
    return Segment(start, end), moved


def decide(matcher: Candidate, model: Candidate) -> Part:
    """Which intro stands between the matching's and the model's (the rules in the module's docstring)."""
    assert model.confidence is not None
    if matcher.method == Method.KNOWN and matcher.segment is not None:
        return replace(matcher.as_part(), note=_note(matcher.note, _describe(model)))
    if matcher.method == Method.UNMATCHED:
        return Part(Kind.INTRO, model.segment, model.confidence, Method.MODEL, NOTE_MODEL_ALONE)
    matcher_conf = matcher.confidence if matcher.confidence is not None else 0.0
    agree = (
        matcher.segment is not None and model.segment is not None and matcher.segment.iou(model.segment) >= AGREE_IOU
    )
    if agree:
        segment, widened = _widened(matcher.segment, model)
        return replace(
            matcher.as_part(),
            segment=segment,
            confidence=max(matcher_conf, model.confidence),
            note=_note(
                matcher.note, _describe(model) + ", agrees" + (f"; {widened} from the model" if widened else "")
            ),
        )
    if matcher.segment is None:  # "no intro" against the model's intro: the likelier stands, if right more often
        overrule = model.confidence > matcher_conf and model.confidence >= MODEL_OVER_NONE
    else:  # two intros: the model's, where it is sure by its own calibration and right more often (mapped)
        own = model.evidence.model.confidence if model.evidence.model is not None else model.confidence
        overrule = (
            own is not None and own >= MODEL_SURE and matcher_conf < MATCHER_SURE and model.confidence > matcher_conf
        )
    if model.segment is not None and overrule:
        note = f"{matcher.method} answer overruled ({matcher_conf:.2f})"
        return Part(Kind.INTRO, model.segment, model.confidence, Method.MODEL, note)
    return replace(matcher.as_part(), note=_note(matcher.note, _describe(model)))


def fuse_intro(candidates: Sequence[Candidate], use: str = "fused") -> Part:
    """The intro part of an episode from its candidates, by the detectors ``use`` names (USES)."""
    intro = [c for c in allowed(candidates, use) if c.kind == Kind.INTRO]
    chapter = next((c for c in intro if c.family == "chapters" and c.segment is not None), None)
    rest = [c for c in intro if c.family != "chapters"]
    decided = _fuse_intro(rest)
    if chapter is not None and not (decided.method == Method.KNOWN and decided.segment is not None):
        # the file's own chapter stands (a known intro, looked up from labels, stands over it)
        view = f"{decided.method}: {decided.segment} ({decided.confidence:.2f})" if decided.segment else None
        return replace(chapter.as_part(), note=_note(chapter.note, view), evidence=decided.evidence)
    return decided


def _sharpened(part: Part, inside: Sequence[Candidate]) -> Part:
    """The model's answer with the boundaries of the stretch its episode's tail replays, where they name the same
    piece (the rules in the module's docstring)."""
    if part.method != Method.MODEL or part.segment is None or not inside:
        return part
    span = part.segment
    best = max(inside, key=lambda c: c.segment.iou(span) if c.segment is not None else -1.0)
    if best.segment is None or best.segment.iou(span) < AGREE_IOU:
        return part
    if best.segment.duration_s < INSIDE_COVERAGE * span.duration_s:
        return part  # a replay cut short: part of the intro, the model's looser span is nearer the whole
    if span.end_s - best.segment.end_s > CUT_SHORT_S:  # the credits cut the theme short: the model's end
        note = f"{NOTE_INSIDE_START} (replayed: {best.segment}; model: {span})"
        return replace(part, segment=Segment(best.segment.start_s, span.end_s), note=_note(part.note, note))
    return replace(part, segment=best.segment, note=_note(part.note, f"{NOTE_INSIDE} (model: {span})"))


def _run_on(part: Part, inside: Sequence[Candidate]) -> Part:
    """A season's intro (recurring or known) ending where its own tail's replay of it ends, where one starts with
    it (REPLAY_START_S) and ends after it, within REPLAY_REACH_S (the rules in the module's docstring)."""
    span = part.segment
    if part.method not in (Method.RECURRING, Method.KNOWN) or span is None:
        return part
    ends = [
        c.segment.end_s
        for c in inside
        if c.segment is not None
        and abs(c.segment.start_s - span.start_s) <= REPLAY_START_S
        and span.end_s < c.segment.end_s <= span.end_s + REPLAY_REACH_S
    ]
    if not ends:
        return part
    end = max(ends)
    return replace(part, segment=Segment(span.start_s, end), note=_note(part.note, f"{NOTE_REPLAY_END} (was {span})"))


def _fuse_intro(intro: Sequence[Candidate]) -> Part:
    inside = [c for c in intro if c.family == INSIDE_FAMILY and c.segment is not None]
    return _run_on(_sharpened(_fuse_answers([c for c in intro if c.family != INSIDE_FAMILY]), inside), inside)


def _matching_answer(found: Sequence[Candidate]) -> Candidate | None:
    """The matching family's answer: the first detector's, unless it is provisional: a known intro of which the
    episode holds part only, where a later one's span holds PROVISIONAL_HELD of it (the season's matching heard
    the episode's own version whole), or "none of the known intros heard", where a later one heard an intro
    (another version of it, which the labels never bounded)."""
    first = found[0] if found else None
    if first is not None and first.provisional and first.segment is None:
        # none of the known intros heard: the season's matching may hear another version of it
        heard = next((c for c in found[1:] if c.segment is not None), None)
        return replace(heard, note=_note(heard.note, NOTE_NOT_KNOWN)) if heard is not None else first
    if first is None or not first.provisional or first.segment is None:
        return first
    for later in found[1:]:
        if (
            later.segment is not None
            and later.segment.overlap_s(first.segment) >= PROVISIONAL_HELD * first.segment.duration_s
        ):
            return replace(later, note=_note(later.note, f"{first.method} (part of the known intro): {first.segment}"))
    return first


def _fuse_answers(intro: Sequence[Candidate]) -> Part:
    model = next((c for c in intro if c.family == MODEL_FAMILY), None)
    matcher = _matching_answer([c for c in intro if c.family == "matching"])
    if model is None:
        return matcher.as_part() if matcher is not None else Part(Kind.INTRO, None, None, Method.UNMATCHED)
    if matcher is None:
        return replace(model.as_part(), evidence=Evidence(curve=model.evidence.curve, model=model.evidence.model))
    opinion = (
        None if matcher.method == Method.UNMATCHED else Opinion(matcher.segment, matcher.confidence, matcher.method)
    )
    evidence = Evidence(
        matches=matcher.evidence.matches, curve=model.evidence.curve, model=model.evidence.model, matcher=opinion
    )
    return replace(decide(matcher, model), evidence=evidence)


def _in_credits(candidate: Candidate, credits: Part | None) -> bool:
    span = candidate.segment
    if credits is None or credits.segment is None or span is None or candidate.kind != Kind.INTRO:
        return False
    return span.overlap_s(credits.segment) > IN_CREDITS_SHARE * span.duration_s


def _surest_of_both(a: float | None, b: float | None) -> float | None:
    """The lesser of two confidences that must both hold (None: the other alone)."""
    known = [x for x in (a, b) if x is not None]
    return min(known) if known else None


def fuse(candidates: Sequence[Candidate], use: str = "fused") -> tuple[Part, ...]:
    """Every part an episode's candidates support: any kind other than the intro, the surest candidate of that
    kind (the first proposed among equals; the model's kinds head only where no other detector proposes the kind,
    "none" included: what recurs across a season is surer than one episode's audio, and precise to the frame);
    then the intro by the rules above, where an intro candidate lying
    inside the credits (the theme replayed there) says "no intro" instead (a model's "no intro" never removes
    an intro that recurs, so the matcher's stands), no surer than the credits and the candidate both are."""
    given = allowed(candidates, use)
    parts = []
    for kind in Kind:
        # what recurs inside a lone episode is evidence (below, and for the intro's boundaries), not an answer
        of_kind = [c for c in given if c.kind == kind and c.family != INSIDE_FAMILY] if kind != Kind.INTRO else []
        chapter = next((c for c in of_kind if c.family == "chapters"), None)
        # the model's part of one episode's audio answers only where no other detector speaks of the kind
        heard = [c for c in of_kind if c.family != MODEL_FAMILY] or of_kind
        if chapter is not None:  # the file's own chapter stands
            parts.append(chapter.as_part())
        elif heard:
            parts.append(max(heard, key=lambda c: c.confidence if c.confidence is not None else -1.0).as_part())
    credits = next((p for p in parts if p.kind == Kind.CREDITS and p.segment is not None), None)
    kept = []
    for c in given:
        if not _in_credits(c, credits):
            kept.append(c)
        else:  # the theme in the credits: "no intro", as sure as the credits are and the candidate was (the
            # candidate may be a real intro that the credits' span reached: held-out packages had one at 0.95)
            sure = _surest_of_both(credits.confidence if credits is not None else None, c.confidence)
            kept.append(replace(c, segment=None, confidence=sure, note=_note(c.note, NOTE_IN_CREDITS)))
    inside = [c for c in given if c.family == INSIDE_FAMILY]
    intro = _theme_replayed(fuse_intro(kept, "fused"), inside)
    return (intro, *_with_theme_credits(parts, intro, inside))


def _theme_replays(inside: Sequence[Candidate]) -> list[tuple[Candidate, Segment]]:
    """The inside detector's credits (a lone episode's: where its tail replays a stretch of its head from its
    start), each with the stretch of the head it replays."""
    return [
        (c, c.evidence.matches[0].segment)
        for c in inside
        if c.kind == Kind.CREDITS and c.segment is not None and c.evidence.matches
    ]


def _theme_replayed(intro: Part, inside: Sequence[Candidate]) -> Part:
    """Where the model heard no intro in a lone episode, the earliest stretch of its head that its own end credits
    replay from their start (the inside detector's credits, which only a lone episode gets): the intro's theme,
    as most series play it, *unsure* (INSIDE_INTRO_CONFIDENCE). A score cue quoting the end theme is one too,
    hence no surer."""
    if intro.method != Method.MODEL or intro.segment is not None:
        return intro
    stretches = [stretch for _, stretch in _theme_replays(inside)]
    if not stretches:
        return intro
    stretch = min(stretches, key=lambda s: s.start_s)
    heard = f" ({intro.confidence:.2f})" if intro.confidence is not None else ""
    note = f"{NOTE_INSIDE_INTRO}; model: no intro{heard}"
    evidence = replace(intro.evidence, matches=(Match(stretch, (), 1.0, Method.RECURRING),))
    return Part(Kind.INTRO, stretch, INSIDE_INTRO_CONFIDENCE, Method.RECURRING, note, evidence)


def _with_theme_credits(parts: list[Part], intro: Part, inside: Sequence[Candidate]) -> list[Part]:
    """``parts`` with the end credits a lone episode's own tail implies (``detectors/inside.theme_credits``: where
    it replays its intro from the first bar), where nothing else found credits: the stretch of the head that
    the tail replays must be the intro answered (IoU ≥ AGREE_IOU); *unsure* (THEME_CREDITS_CONFIDENCE)."""
    if intro.segment is None or any(p.kind == Kind.CREDITS and p.segment is not None for p in parts):
        return parts
    implied = [(c, stretch) for c, stretch in _theme_replays(inside) if stretch.iou(intro.segment) >= AGREE_IOU]
    if not implied:
        return parts
    best, _ = max(implied, key=lambda pair: pair[1].iou(intro.segment))
    credits = replace(best.as_part(), confidence=THEME_CREDITS_CONFIDENCE)
    return [p for p in parts if p.kind != Kind.CREDITS] + [credits]
