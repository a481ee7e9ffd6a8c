"""Every export format: one class each."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Mapping
from xml.sax.saxutils import escape

from ..errors import SettingsError
from ..result import Detection, Kind, Method, Part
from ..timecode import Segment, format_timecode
from .base import Writer

SHOW_PROMPT_ADJUSTMENT_S = 5.0
"""Intro Skipper's default: the skip prompt shows this long before the intro starts (never before 0)."""

HIDE_PROMPT_ADJUSTMENT_S = 10.0
"""Intro Skipper's default: the skip prompt hides this long after the intro starts."""

EDL_ACTIONS = {"cut": 0, "mute": 1, "scene": 2, "commercial": 3}
"""Kodi's EDL actions: 0 cut (never played), 1 mute, 2 scene marker (a chapter point the viewer can jump to),
3 commercial break (skipped automatically, once)."""

EDL_DEFAULT_ACTION = 2
"""Every part a scene marker by default: the viewer decides; a wrong "commercial" would skip story unasked."""

CHAPTER_TITLES = {
    Kind.IDENT: "Ident",
    Kind.RECAP: "Recap",
    Kind.INTRO: "Intro",
    Kind.CREDITS: "Ending Credits",
    Kind.PREVIEW: "Preview",
}
"""Chapter titles that the players' skippers recognise: Intro Skipper's default chapter patterns (Intro, Recap,
Credits, Preview, as words) and mpv chapterskip's default categories (``^Intro``, ``^Ending``, ``Preview$``):
hence "Ending Credits", which both read as the credits. An ident matches neither: it is marked, not skipped."""

STORY_TITLE = "Episode"
"""The chapters between the parts (matching none of the skippers' patterns)."""

JELLYFIN_TYPES = {Kind.INTRO: "Intro", Kind.CREDITS: "Outro", Kind.RECAP: "Recap", Kind.PREVIEW: "Preview"}
"""Jellyfin's MediaSegmentType per kind (it has no type for an ident: idents are left out)."""

INTRO_SKIPPER_MODES = {
    Kind.INTRO: "Introduction",
    Kind.CREDITS: "Credits",
    Kind.RECAP: "Recap",
    Kind.PREVIEW: "Preview",
}
"""Intro Skipper's analysis modes per kind (its segments are keyed by them)."""

TICKS_PER_S = 10_000_000
"""Jellyfin's ticks: 100 ns."""

NAMESPACE = uuid.UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427")
"""Fixed namespace of the segment and item ids introdetect makes (uuid5: the same episode, the same ids)."""


def _part(answer: Detection) -> Part:
    """The intro part (an answer with no word on the intro reads as an unmatched "no intro")."""
    return answer.part(Kind.INTRO) or Part(Kind.INTRO, None, None, Method.UNMATCHED)


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def found(answer: Detection) -> list[Part]:
    """The parts found in an episode, in time order."""
    return sorted((p for p in answer.parts if p.segment is not None), key=lambda p: p.segment.start_s)  # type: ignore[union-attr]


def chapters(answer: Detection) -> list[tuple[float, float, str]]:
    """The episode as chapters (start s, end s, title): each part found, the story between them titled
    STORY_TITLE, from 0 (an MP4 chapter track cannot begin later) to the media's end where it is known, else to
    the last part's end. A part overlapping the one before starts where that one ends."""
    out: list[tuple[float, float, str]] = []
    reach = 0.0
    for part in found(answer):
        span = part.segment
        assert span is not None
        start = max(span.start_s, reach)
        if span.end_s <= start:
            continue
        if start > reach:
            out.append((reach, start, STORY_TITLE))
        out.append((start, span.end_s, CHAPTER_TITLES[part.kind]))
        reach = span.end_s
    if out and answer.duration_s is not None and answer.duration_s > reach:
        out.append((reach, answer.duration_s, STORY_TITLE))
    return out


def _time_text(seconds: float) -> str:
    return format_timecode(seconds, 3)


class LabelJson(Writer):
    """The VK label format keyed by id (``start``/``end`` as H:MM:SS.mmm, null for no intro) with seconds,
    confidence and method, and each other kind answered as ``<kind>_start``/``<kind>_end`` (null: none): what
    ``introdetect labels`` and ``evaluate`` read back."""

    name, extension = "json", ".json"
    marks_skips = False

    def render(self, answers: Mapping[str, Detection]) -> str:
        rows = {}
        for vid, a in answers.items():
            intro = a.intro
            row = {
                "start": _time_text(intro.start_s) if intro else None,
                "end": _time_text(intro.end_s) if intro else None,
                "start_sec": _rounded(intro.start_s) if intro else None,
                "end_sec": _rounded(intro.end_s) if intro else None,
                "confidence": _rounded(_part(a).confidence, 4),
                "method": str(_part(a).method),
            }
            for part in a.parts:
                if part.kind != Kind.INTRO:
                    s = part.segment
                    row[f"{part.kind}_start"] = _time_text(s.start_s) if s else None
                    row[f"{part.kind}_end"] = _time_text(s.end_s) if s else None
            rows[vid] = row
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


class Csv(Writer):
    """One row per part answered (an episode without an intro: its intro row with empty times; a kind looked for
    and not found likewise): id, kind, start, end (H:MM:SS.s), start_sec, end_sec, confidence, method."""

    name, extension = "csv", ".csv"
    marks_skips = False

    def render(self, answers: Mapping[str, Detection]) -> str:
        buffer = io.StringIO()
        table = csv.writer(buffer, lineterminator="\n")
        table.writerow(["id", "kind", "start", "end", "start_sec", "end_sec", "confidence", "method"])
        for vid, a in answers.items():
            parts = a.parts if a.part(Kind.INTRO) else (_part(a), *a.parts)
            for part in parts:
                i = part.segment
                table.writerow(
                    [
                        vid,
                        str(part.kind),
                        format_timecode(i.start_s, 1) if i else "",
                        format_timecode(i.end_s, 1) if i else "",
                        f"{i.start_s:.3f}" if i else "",
                        f"{i.end_s:.3f}" if i else "",
                        "" if part.confidence is None else f"{part.confidence:.4f}",
                        str(part.method),
                    ]
                )
        return buffer.getvalue()


class Edl(Writer):
    """Kodi/mpv edit decision list next to the video: ``start end action`` in seconds, a line per part found;
    the action per kind (``actions``: kind → 0 cut, 1 mute, 2 scene marker, 3 commercial break), every kind a
    scene marker unless told."""

    name, extension, per_episode = "edl", ".edl", True

    def __init__(self, actions: Mapping[Kind, int] | None = None) -> None:
        actions = dict(actions or {})
        bad = {k: v for k, v in actions.items() if v not in EDL_ACTIONS.values()}
        if bad:
            kind, value = next(iter(bad.items()))
            raise SettingsError(f"EDL action for {kind} must be one of 0, 1, 2, 3, got {value!r}")
        self.actions = {kind: actions.get(kind, EDL_DEFAULT_ACTION) for kind in Kind}

    def render_episode(self, episode_id: str, answer: Detection) -> str | None:
        parts = found(answer)
        if not parts:
            return None
        return "".join(
            f"{p.segment.start_s:.3f}\t{p.segment.end_s:.3f}\t{self.actions[p.kind]}\n"  # type: ignore[union-attr]
            for p in parts
        )


class FfMetadata(Writer):
    """ffmpeg's FFMETADATA1 chapters (milliseconds), to mux into the file:
    ``ffmpeg -i in.mkv -i in.ffmetadata -map_metadata 1 -map_chapters 1 -codec copy out.mkv``. The chapters of
    ``chapters``: every part found, titled as the players' skippers read them, and the story between."""

    name, extension, per_episode = "ffmetadata", ".ffmetadata", True

    def render_episode(self, episode_id: str, answer: Detection) -> str | None:
        marks = chapters(answer)
        if not marks:
            return None
        body = "".join(
            f"\n[CHAPTER]\nTIMEBASE=1/1000\nSTART={round(1000 * a)}\nEND={round(1000 * b)}\ntitle={t}\n"
            for a, b, t in marks
        )
        return ";FFMETADATA1\n" + body


class MatroskaChapters(Writer):
    """Matroska chapters XML (``mkvmerge --chapters video.chapters.xml``, or mkvpropedit), the chapters of
    ``chapters``."""

    name, extension, per_episode = "mkvchapters", ".chapters.xml", True

    def render_episode(self, episode_id: str, answer: Detection) -> str | None:
        marks = chapters(answer)
        if not marks:
            return None

        def stamp(t: float) -> str:
            ns = round(t * 1e9)
            return f"{ns // 3_600_000_000_000:02d}:{ns // 60_000_000_000 % 60:02d}:{ns // 1_000_000_000 % 60:02d}.{ns % 1_000_000_000:09d}"

        atoms = "".join(
            "    <ChapterAtom>\n"
            f"      <ChapterUID>{uuid.uuid5(NAMESPACE, f'{episode_id}/{i}').int >> 65}</ChapterUID>\n"
            f"      <ChapterTimeStart>{stamp(a)}</ChapterTimeStart>\n"
            f"      <ChapterTimeEnd>{stamp(b)}</ChapterTimeEnd>\n"
            "      <ChapterDisplay>\n"
            f"        <ChapterString>{escape(t)}</ChapterString>\n"
            "        <ChapterLanguage>eng</ChapterLanguage>\n"
            "      </ChapterDisplay>\n"
            "    </ChapterAtom>\n"
            for i, (a, b, t) in enumerate(marks)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE Chapters SYSTEM "matroskachapters.dtd">\n'
            f"<Chapters>\n  <EditionEntry>\n{atoms}  </EditionEntry>\n</Chapters>\n"
        )


class WebVttChapters(Writer):
    """WebVTT chapters (``<video>.chapters.vtt``: not ``.vtt``, which players would load as subtitles), the
    chapters of ``chapters``, each cue named by its kind."""

    name, extension, per_episode = "vtt", ".chapters.vtt", True

    def render_episode(self, episode_id: str, answer: Detection) -> str | None:
        marks = chapters(answer)
        if not marks:
            return None

        def stamp(t: float) -> str:
            ms = round(t * 1000)
            return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"

        cues = "".join(f"\n{i + 1}\n{stamp(a)} --> {stamp(b)}\n{t}\n" for i, (a, b, t) in enumerate(marks))
        return "WEBVTT\n" + cues


class Jellyfin(Writer):
    """Jellyfin's media segments (10.10+), keyed by id, each episode as its ``/MediaSegments/{itemId}`` answer:
    ``{"Items": [MediaSegmentDto…], "TotalRecordCount", "StartIndex"}``, a DTO per part found (``Id``,
    ``ItemId``, ``Type`` Intro/Outro/Recap/Preview, ``StartTicks``/``EndTicks`` in 100 ns). The ids are
    uuid5 of the episode id (Jellyfin's own item id is not known here: a provider maps it)."""

    name, extension = "jellyfin", ".json"

    def render(self, answers: Mapping[str, Detection]) -> str:
        rows = {}
        for vid, a in answers.items():
            item = uuid.uuid5(NAMESPACE, vid)
            items = [
                {
                    "Id": str(uuid.uuid5(item, str(p.kind))),
                    "ItemId": str(item),
                    "Type": JELLYFIN_TYPES[p.kind],
                    "StartTicks": round(p.segment.start_s * TICKS_PER_S),  # type: ignore[union-attr]
                    "EndTicks": round(p.segment.end_s * TICKS_PER_S),  # type: ignore[union-attr]
                }
                for p in found(a)
                if p.kind in JELLYFIN_TYPES
            ]
            rows[vid] = {"Items": items, "TotalRecordCount": len(items), "StartIndex": 0}
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


class IntroSkipper(Writer):
    """Timestamps as Jellyfin's Intro Skipper serves them, keyed by id, then by its analysis mode (Introduction,
    Credits, Recap, Preview): ``EpisodeId``, ``Valid``, ``IntroStart``, ``IntroEnd``, ``ShowSkipPromptAt``,
    ``HideSkipPromptAt``; the prompt times follow the plugin's defaults, the hide time capped at the part's end
    (a 4 s sting has no 10 s prompt). A mode looked for and not found is ``Valid: false``."""

    name, extension = "intro-skipper", ".json"

    def render(self, answers: Mapping[str, Detection]) -> str:
        rows = {}
        for vid, a in answers.items():
            modes = {}
            for kind, mode in INTRO_SKIPPER_MODES.items():
                part = a.part(kind) or (_part(a) if kind == Kind.INTRO else None)
                if part is not None:
                    modes[mode] = _skipper_row(vid, part.segment)
            rows[vid] = modes
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


def _skipper_row(vid: str, span: Segment | None) -> dict[str, object]:
    if span is None:
        return {
            "EpisodeId": vid,
            "Valid": False,
            "IntroStart": 0.0,
            "IntroEnd": 0.0,
            "ShowSkipPromptAt": 0.0,
            "HideSkipPromptAt": 0.0,
        }
    return {
        "EpisodeId": vid,
        "Valid": True,
        "IntroStart": round(span.start_s, 3),
        "IntroEnd": round(span.end_s, 3),
        "ShowSkipPromptAt": round(max(0.0, span.start_s - SHOW_PROMPT_ADJUSTMENT_S), 3),
        "HideSkipPromptAt": round(min(span.start_s + HIDE_PROMPT_ADJUSTMENT_S, span.end_s), 3),
    }


WRITERS: dict[str, type[Writer]] = {
    w.name: w for w in (LabelJson, Csv, Edl, FfMetadata, MatroskaChapters, WebVttChapters, Jellyfin, IntroSkipper)
}


def get_writer(name: str, edl_actions: Mapping[Kind, int] | None = None) -> Writer:
    """The writer of format ``name`` (``edl_actions``: the EDL's action per kind, see ``Edl``)."""
    try:
        cls = WRITERS[name]
    except KeyError:
        raise ValueError(f"unknown export format {name!r}; known: {', '.join(WRITERS)}") from None
    return Edl(edl_actions) if cls is Edl else cls()
