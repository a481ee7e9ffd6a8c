"""What introdetect answers for an episode, and the files that hold those answers.

An episode's answer (``Detection``) is a list of **parts**: each of a ``Kind`` (ident, recap, intro, credits,
preview; the story is what is left), with its span, its confidence in [0, 1], the ``Method`` that decided
and the ``Evidence`` it rests on. A part whose span is None says "none of this kind here" (with how sure
that is). A file that could not be analysed is a ``Failure``, never a Detection.

Every consumer (metrics, exports, report, timeline, review page) reads these types and nothing of the
pipeline. Result files are the VK label format keyed by id, extended: the intro's ``start``/``end`` at the
top level (so ``introdetect labels`` and any VK tool read them), exact ``start_sec``/``end_sec``,
``confidence``, ``method``, ``note``, ``evidence``; then ``segments``, every part found (the intro too), each
``{"kind", "start_sec", "end_sec", "confidence", "method"}``, and ``absent``, each kind looked for and not
found ``{"kind", "confidence", "method"}``; a copy of another episode's file has ``version_of`` (that one's
id: its answers are that one's, mapped onto the copy's audio). Files of 0.2 (other kinds under ``parts``) and label files with
``recap_start``/``recap_end``-style keys read as well.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from .atomic import write_json_atomic
from .errors import ResultFileError, TimecodeError
from .labels import PART_KEYS, load_label_rows, shown
from .timecode import Segment, format_timecode, parse_timecode


class Kind(StrEnum):
    """The parts of an episode that are not story."""

    IDENT = "ident"  # a network or studio logo with its sound, at 0:00 or after the cold open
    RECAP = "recap"  # "previously on": an announcer line or sting, then scenes of earlier episodes
    INTRO = "intro"  # the opening titles: a 2 s sting to a 2-minute theme
    CREDITS = "credits"  # end credits (the theme again, or an end theme)
    PREVIEW = "preview"  # "next time": a sting, then scenes of the next episode


class Method(StrEnum):
    """What decided a part."""

    KNOWN = "known"  # looked up among the labelled parts of the series (a library of known intros)
    RECURRING = "recurring"  # what recurs across the episodes of the season
    MODEL = "model"  # the supervised model, from the episode's own audio
    UNMATCHED = "unmatched"  # nothing could answer: a lone episode of an unknown series, no model
    CHAPTER = "chapter"  # a chapter of the file titled as that part
    REVIEW = "review"  # a person confirmed or corrected it (the review page)
    LABEL = "label"  # a label file's row (truth, or any file without a method)
    EXTERNAL = "external"  # another tool's answer (the baselines; a method name introdetect does not know)

    @classmethod
    def read(cls, text: object) -> Method:
        """A result file's ``method``: LABEL when absent, EXTERNAL when it names no method of ours."""
        if not isinstance(text, str):
            return cls.LABEL
        try:
            return cls(text)
        except ValueError:
            return cls.EXTERNAL


def seconds(value: float) -> float:
    """Seconds as result files hold them: to the millisecond."""
    return round(float(value), 3)


def segment_json(segment: Segment | None) -> dict[str, Any]:
    """``start_sec``/``end_sec`` of a segment (None: none), to the millisecond."""
    return {
        "start_sec": seconds(segment.start_s) if segment else None,
        "end_sec": seconds(segment.end_s) if segment else None,
    }


def _segment_of(row: Mapping[str, Any]) -> Segment | None:
    start, end = row.get("start_sec"), row.get("end_sec")
    return Segment(float(start), float(end)) if start is not None and end is not None else None


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


# --- evidence -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A piece of the episode heard elsewhere: in its siblings (method RECURRING, ``probability`` the scorer's
    that this motif is the intro) or in a known part of its series (KNOWN, the lookup's confidence)."""

    segment: Segment
    partners: tuple[str, ...]
    probability: float
    method: Method = Method.RECURRING

    def shifted(self, by_s: float) -> Match:
        return self.mapped(1.0, by_s)

    def mapped(self, scale: float, by_s: float) -> Match:
        return replace(self, segment=self.segment.mapped(scale, by_s))

    def to_json(self) -> dict[str, Any]:
        return {
            **segment_json(self.segment),
            "with": list(self.partners),
            "probability": round(self.probability, 4),
            "kind": str(self.method),
        }

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> Match:
        segment = _segment_of(row)
        if segment is None:
            raise ValueError("a match needs start_sec and end_sec")
        return cls(
            segment,
            tuple(str(x) for x in row.get("with", [])),
            float(row.get("probability", 0.0)),
            Method.read(row.get("kind", "recurring")),
        )


@dataclass(frozen=True)
class Curve:
    """A probability per window (the model's P(intro) by the centre rule), at window centres
    ``start_s + i * step_s``."""

    start_s: float
    step_s: float
    values: tuple[float, ...]

    def times(self) -> list[float]:
        return [self.start_s + self.step_s * i for i in range(len(self.values))]

    def shifted(self, by_s: float) -> Curve:
        return self.mapped(1.0, by_s)

    def mapped(self, scale: float, by_s: float) -> Curve:
        return replace(self, start_s=self.start_s * scale + by_s, step_s=self.step_s * scale)

    def to_json(self) -> dict[str, Any]:
        return {"start_sec": self.start_s, "step_sec": self.step_s, "intro_probability": list(self.values)}

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> Curve:
        return cls(float(row["start_sec"]), float(row["step_sec"]), tuple(float(v) for v in row["intro_probability"]))


@dataclass(frozen=True)
class Opinion:
    """One detector's own answer for a part, kept where fusion decided between several."""

    segment: Segment | None
    confidence: float | None
    method: Method

    def shifted(self, by_s: float) -> Opinion:
        return self.mapped(1.0, by_s)

    def mapped(self, scale: float, by_s: float) -> Opinion:
        return replace(self, segment=self.segment.mapped(scale, by_s) if self.segment is not None else None)

    def to_json(self, with_method: bool = True) -> dict[str, Any]:
        out = {**segment_json(self.segment), "confidence": _rounded(self.confidence)}
        return {**out, "method": str(self.method)} if with_method else out

    @classmethod
    def from_json(cls, row: Mapping[str, Any], method: Method | None = None) -> Opinion:
        confidence = row.get("confidence")
        return cls(
            _segment_of(row),
            None if confidence is None else float(confidence),
            method if method is not None else Method.read(row.get("method")),
        )


@dataclass(frozen=True)
class Evidence:
    """What a part rests on, for the review page and the report: the pieces that recurred, the model's curve,
    and, where fusion decided, the model's and the matching's own answers."""

    matches: tuple[Match, ...] = ()
    curve: Curve | None = None
    model: Opinion | None = None
    matcher: Opinion | None = None

    def shifted(self, by_s: float) -> Evidence:
        """The same evidence ``by_s`` later (its analysis's times moved onto the media's timeline)."""
        return self.mapped(1.0, by_s)

    def mapped(self, scale: float, by_s: float) -> Evidence:
        """The same evidence on another clock, ``t · scale + by_s`` (a version of the episode)."""
        return Evidence(
            tuple(m.mapped(scale, by_s) for m in self.matches),
            self.curve.mapped(scale, by_s) if self.curve is not None else None,
            self.model.mapped(scale, by_s) if self.model is not None else None,
            self.matcher.mapped(scale, by_s) if self.matcher is not None else None,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.matches:
            out["matches"] = [m.to_json() for m in self.matches]
        if self.curve is not None:
            out["curve"] = self.curve.to_json()
        if self.model is not None:
            out["model"] = self.model.to_json(with_method=False)
        if self.matcher is not None:
            out["matcher"] = self.matcher.to_json()
        return out

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> Evidence:
        """The inverse of ``to_json`` (ValueError/TypeError/KeyError on a malformed row)."""
        curve, model, matcher = row.get("curve"), row.get("model"), row.get("matcher")
        return cls(
            matches=tuple(Match.from_json(m) for m in row.get("matches", [])),
            curve=None if curve is None else Curve.from_json(curve),
            model=None if model is None else Opinion.from_json(model, Method.MODEL),
            matcher=None if matcher is None else Opinion.from_json(matcher),
        )


# --- parts and detections -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One part of an episode. ``segment`` None: none of this kind here (``confidence``: how sure of that)."""

    kind: Kind
    segment: Segment | None
    confidence: float | None
    method: Method
    note: str | None = None
    evidence: Evidence = field(default_factory=Evidence)

    def unsure(self, min_confidence: float) -> bool:
        """A part found with a confidence under ``min_confidence``: no player should skip it unasked. A part with
        no confidence (a label, a reviewer's mark) is never unsure; "none of this kind" marks nothing."""
        return self.segment is not None and self.confidence is not None and self.confidence < min_confidence

    def shifted(self, by_s: float):  # noqa: ANN201 - the same type (a Candidate stays one)
        """This part ``by_s`` later: its span and its evidence."""
        return self.mapped(1.0, by_s)

    def mapped(self, scale: float, by_s: float):  # the same type (a Candidate stays one)
        """This part on another clock, ``t · scale + by_s``: its span and its evidence (a version of the
        episode at another speed or offset)."""
        if scale == 1.0 and not by_s:
            return self
        segment = self.segment.mapped(scale, by_s) if self.segment is not None else None
        return replace(self, segment=segment, evidence=self.evidence.mapped(scale, by_s))

    def to_json(self) -> dict[str, Any]:
        s = self.segment
        out: dict[str, Any] = {
            "start": format_timecode(s.start_s, 1) if s else None,
            "end": format_timecode(s.end_s, 1) if s else None,
            **segment_json(s),
            "confidence": _rounded(self.confidence),
            "method": str(self.method),
        }
        return out


@dataclass(frozen=True)
class Detection:
    """One episode's answer: at most one part of each kind, its series, its media and how much was analysed."""

    id: str
    parts: tuple[Part, ...]
    series: str | None = None
    path: str | None = None
    analysed_s: float | None = None
    duration_s: float | None = None  # the media's length, where it is known (its tail was analysed)
    # where the audio analysed starts on the media's timeline (its delay, already in every time above)
    audio_start_s: float | None = None
    # another file of the same episode whose answers stand for this one's (mapped onto this file's own audio)
    version_of: str | None = None
    # seconds decoded between the head and the tail (the story, where the season asked for the scenes its recaps
    # and previews replay); None: none
    story_s: float | None = None

    def __post_init__(self) -> None:
        kinds = [p.kind for p in self.parts]
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"{self.id}: more than one part of a kind: {', '.join(map(str, kinds))}")
        order = list(Kind)  # one order everywhere (ident, recap, intro, credits, preview): files read back equal
        object.__setattr__(self, "parts", tuple(sorted(self.parts, key=lambda p: order.index(p.kind))))

    @classmethod
    def of_intro(
        cls,
        id: str,
        intro: Segment | None,
        confidence: float | None,
        method: Method,
        **fields: Any,
    ) -> Detection:
        """A detection with one part, the intro (``fields``: series, path, analysed_s)."""
        return cls(id, (Part(Kind.INTRO, intro, confidence, method),), **fields)

    def part(self, kind: Kind = Kind.INTRO) -> Part | None:
        return next((p for p in self.parts if p.kind == kind), None)

    @property
    def intro(self) -> Segment | None:
        """The intro's span (None: no intro, or no answer about it)."""
        part = self.part(Kind.INTRO)
        return part.segment if part else None

    def sure_only(self, min_confidence: float) -> Detection:
        """This detection without its unsure parts (``Part.unsure``): what an export marks for a player."""
        return replace(self, parts=tuple(p for p in self.parts if not p.unsure(min_confidence)))

    def with_part(self, part: Part) -> Detection:
        """This detection with ``part`` in place of its part of the same kind."""
        others = tuple(p for p in self.parts if p.kind != part.kind)
        order = list(Kind)
        return replace(self, parts=tuple(sorted((*others, part), key=lambda p: order.index(p.kind))))

    def to_json(self) -> dict[str, Any]:
        intro = self.part(Kind.INTRO)
        head = intro.to_json() if intro else {"start": None, "end": None, **segment_json(None), "confidence": None}
        evidence = intro.evidence.to_json() if intro else {}
        if self.audio_start_s:
            evidence = {"audio_start_sec": seconds(self.audio_start_s), **evidence}
        if self.story_s is not None:
            evidence = {"story_sec": seconds(self.story_s), **evidence}
        if self.analysed_s is not None:
            evidence = {"analysed_sec": seconds(self.analysed_s), **evidence}
        found = [_segment_row(p) for p in self.parts if p.segment is not None]
        absent = [_absent_row(p) for p in self.parts if p.segment is None and p.kind != Kind.INTRO]
        return {
            **head,
            **({"series": self.series} if self.series else {}),
            **({"path": str(Path(self.path).resolve())} if self.path else {}),
            **({"duration_sec": seconds(self.duration_s)} if self.duration_s is not None else {}),
            **({"version_of": self.version_of} if self.version_of else {}),
            **({"note": intro.note} if intro and intro.note else {}),
            **({"evidence": evidence} if evidence else {}),
            "segments": found,
            **({"absent": absent} if absent else {}),
        }


def _segment_row(part: Part) -> dict[str, Any]:
    """An entry of ``segments``: a part found (the intro's note and evidence stay at the top level)."""
    evidence = part.evidence.to_json() if part.kind != Kind.INTRO else {}
    return {
        "kind": str(part.kind),
        **segment_json(part.segment),
        "confidence": _rounded(part.confidence),
        "method": str(part.method),
        **({"note": part.note} if part.note and part.kind != Kind.INTRO else {}),
        **({"evidence": evidence} if evidence else {}),
    }


def _absent_row(part: Part) -> dict[str, Any]:
    """An entry of ``absent``: a kind looked for and not found, with how sure that is."""
    return {
        "kind": str(part.kind),
        "confidence": _rounded(part.confidence),
        "method": str(part.method),
        **({"note": part.note} if part.note else {}),
    }


@dataclass(frozen=True)
class Failure:
    """A file that could not be analysed: ``message`` is one line naming it and the problem."""

    path: str
    message: str

    @property
    def id(self) -> str:
        return Path(self.path).stem

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class DetectResult:
    """What ``detect`` returns: a detection per analysed episode (in the order of the paths) and a failure per
    file that could not be analysed. Iterating it gives the detections."""

    detections: list[Detection]
    failures: list[Failure] = field(default_factory=list)

    def __iter__(self) -> Iterator[Detection]:
        return iter(self.detections)

    def __len__(self) -> int:
        return len(self.detections)

    def __getitem__(self, index: int) -> Detection:
        return self.detections[index]

    def by_id(self) -> dict[str, Detection]:
        return {d.id: d for d in self.detections}


# --- files ----------------------------------------------------------------------------------------------


def result_json(detections: Iterable[Detection]) -> dict[str, Any]:
    """The result object: the label format keyed by id, with exact seconds, confidence, method and evidence."""
    return {d.id: d.to_json() for d in detections}


def write_result(path: str | os.PathLike[str], detections: Iterable[Detection]) -> None:
    """The result file (``result_json``), written atomically. Failures have no answer and no row: the command
    line lists them."""
    write_json_atomic(Path(path), result_json(detections))


def _time(row: Mapping[str, Any], key: str, where: str) -> float | None:
    exact = row.get(f"{key}_sec")
    if isinstance(exact, (int, float)) and not isinstance(exact, bool) and math.isfinite(exact):
        return float(exact)
    text = row.get(key)
    if text is None:
        return None
    try:
        return parse_timecode(text)
    except TimecodeError as exc:
        raise ResultFileError(f"{where}: {key}: {exc}") from None


def _read_part(kind: Kind, row: Mapping[str, Any], where: str, evidence_row: Any) -> Part:
    start, end = _time(row, "start", where), _time(row, "end", where)
    if (start is None) != (end is None):
        raise ResultFileError(f"{where}: start and end must both be times or both null")
    segment = None
    if start is not None and end is not None:
        if end <= start or start < 0:
            raise ResultFileError(f"{where}: end {end:g} s is not after start {start:g} s")
        segment = Segment(start, end)
    confidence = row.get("confidence")
    if confidence is not None and not (
        isinstance(confidence, (int, float)) and not isinstance(confidence, bool) and 0.0 <= confidence <= 1.0
    ):
        raise ResultFileError(f"{where}: confidence must be a number in [0, 1], got {confidence!r}")
    evidence = Evidence()
    if isinstance(evidence_row, dict):
        try:
            evidence = Evidence.from_json(evidence_row)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ResultFileError(f"{where}: evidence: {exc}") from None
    note = row.get("note")
    return Part(
        kind,
        segment,
        None if confidence is None else float(confidence),
        Method.read(row.get("method")),
        note if isinstance(note, str) else None,
        evidence,
    )


def _kind_of(name: Any, where: str) -> Kind:
    try:
        kind = Kind(name)
    except ValueError:
        raise ResultFileError(f"{where}: unknown kind {name!r}") from None
    return kind


def _other_parts(row: Mapping[str, Any], where: str) -> list[Part]:
    """The parts other than the intro a row holds: ``segments`` and ``absent`` (this version), ``parts`` (0.2),
    or a label file's ``<kind>_start``/``<kind>_end`` keys (labels.PART_KEYS)."""
    parts: dict[Kind, Part] = {}

    def add(kind: Kind, part_row: Any, label: str) -> None:
        if kind == Kind.INTRO:
            return  # the top level is the intro's
        if not isinstance(part_row, dict):
            raise ResultFileError(f"{where}: {label}: each entry must be an object")
        if kind in parts:
            raise ResultFileError(f"{where}: {label}: more than one {kind}")
        parts[kind] = _read_part(kind, part_row, f"{where}: {kind}", part_row.get("evidence"))

    for key in ("segments", "absent"):
        entries = row.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise ResultFileError(f"{where}: {key} must be a list")
        for entry in entries:
            kind = _kind_of(entry.get("kind") if isinstance(entry, dict) else None, f"{where}: {key}")
            if key == "absent":
                entry = {**entry, "start_sec": None, "end_sec": None}
            add(kind, entry, key)
    old = row.get("parts")
    if isinstance(old, dict):
        for name, part_row in old.items():
            kind = _kind_of(name, f"{where}: parts")
            if kind == Kind.INTRO or not isinstance(part_row, dict):
                raise ResultFileError(f"{where}: parts: {name} must be an object of a kind other than intro")
            add(kind, part_row, "parts")
    for name in PART_KEYS:
        keys = (f"{name}_start", f"{name}_end")
        if Kind(name) not in parts and any(k in row for k in keys):
            add(Kind(name), {"start": row.get(keys[0]), "end": row.get(keys[1]), "method": row.get("method")}, name)
    return list(parts.values())


def parse_row(video_id: str, row: Any, file: str) -> Detection:
    """One row of a result (or label) file as a Detection; ResultFileError names the file and the id."""
    where = f"{file}: {shown(video_id)}"
    if not isinstance(row, dict):
        raise ResultFileError(f"{where}: expected an object, got {type(row).__name__}")
    evidence = row.get("evidence")
    parts = [_read_part(Kind.INTRO, row, where, evidence), *_other_parts(row, where)]
    order = list(Kind)
    parts.sort(key=lambda p: order.index(p.kind))
    analysed = evidence.get("analysed_sec") if isinstance(evidence, dict) else None
    audio_start = evidence.get("audio_start_sec") if isinstance(evidence, dict) else None
    story = evidence.get("story_sec") if isinstance(evidence, dict) else None
    text = {k: row[k] if isinstance(row.get(k), str) else None for k in ("series", "path", "version_of")}
    duration = row.get("duration_sec")
    return Detection(
        video_id,
        tuple(parts),
        text["series"],
        text["path"],
        _number(analysed),
        _number(duration),
        _number(audio_start),
        text["version_of"],
        _number(story),
    )


def _number(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def read_rows(path: str | os.PathLike[str]) -> list[tuple[str, dict[str, Any], Detection]]:
    """Every row of a result or label file in file order: (id, the raw row, its Detection). Strict: a row
    that cannot be read is an error, since scoring must not quietly score something else than was written."""
    rows, duplicates = load_label_rows(path)
    file = str(path)
    if duplicates:
        raise ResultFileError(f"{file}: id {shown(duplicates[0])} appears more than once")
    return [(vid, row, parse_row(vid, row, file)) for vid, row in rows]


def read_result(path: str | os.PathLike[str]) -> list[Detection]:
    """A result file of ``write_result`` (or any file in the label format: answers without evidence, method
    "label"), in file order."""
    return [d for _, _, d in read_rows(path)]
