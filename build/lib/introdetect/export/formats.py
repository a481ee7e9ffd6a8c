"""Every export format: one class each."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping

from ..result import Detection, Kind, Method, Part
from ..timecode import format_timecode
from .base import Writer

SHOW_PROMPT_ADJUSTMENT_S = 5.0
"""Intro Skipper's default: the skip prompt shows this long before the intro starts (never before 0)."""

HIDE_PROMPT_ADJUSTMENT_S = 10.0
"""Intro Skipper's default: the skip prompt hides this long after the intro starts."""

EDL_ACTION_COMMERCIAL = 3
"""Kodi's EDL action 3 ("commercial break"): the player offers to skip it; mpv's EDL scripts read it too."""


def _part(answer: Detection) -> Part:
    """The intro part (an answer with no word on the intro reads as an unmatched "no intro")."""
    return answer.part(Kind.INTRO) or Part(Kind.INTRO, None, None, Method.UNMATCHED)


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


class LabelJson(Writer):
    """The VK label format keyed by id (``start``/``end`` as H:MM:SS.mmm, null for no intro) with seconds,
    confidence and method: what ``introdetect labels`` and ``evaluate`` read back."""

    name, extension = "json", ".json"

    def render(self, answers: Mapping[str, Detection]) -> str:
        rows = {}
        for vid, a in answers.items():
            intro = a.intro
            rows[vid] = {
                "start": format_timecode(intro.start_s, 3) if intro else None,
                "end": format_timecode(intro.end_s, 3) if intro else None,
                "start_sec": _rounded(intro.start_s) if intro else None,
                "end_sec": _rounded(intro.end_s) if intro else None,
                "confidence": _rounded(_part(a).confidence, 4),
                "method": str(_part(a).method),
            }
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


class Csv(Writer):
    """One row per episode: id, start, end (H:MM:SS.s), start_sec, end_sec, confidence, method."""

    name, extension = "csv", ".csv"

    def render(self, answers: Mapping[str, Detection]) -> str:
        buffer = io.StringIO()
        table = csv.writer(buffer, lineterminator="\n")
        table.writerow(["id", "start", "end", "start_sec", "end_sec", "confidence", "method"])
        for vid, a in answers.items():
            i = a.intro
            table.writerow(
                [
                    vid,
                    format_timecode(i.start_s, 1) if i else "",
                    format_timecode(i.end_s, 1) if i else "",
                    f"{i.start_s:.3f}" if i else "",
                    f"{i.end_s:.3f}" if i else "",
                    "" if _part(a).confidence is None else f"{_part(a).confidence:.4f}",
                    str(_part(a).method),
                ]
            )
        return buffer.getvalue()


class Edl(Writer):
    """Kodi/mpv edit decision list next to the video: ``start end 3`` in seconds (the intro as a skippable
    break)."""

    name, extension, per_episode = "edl", ".edl", True

    def render_episode(self, episode_id: str, answer: Detection) -> str | None:
        if answer.intro is None:
            return None
        return f"{answer.intro.start_s:.3f}\t{answer.intro.end_s:.3f}\t{EDL_ACTION_COMMERCIAL}\n"


class FfMetadata(Writer):
    """ffmpeg's FFMETADATA1 chapters (milliseconds), to mux into the file:
    ``ffmpeg -i in.mkv -i in.ffmetadata -map_metadata 1 -map_chapters 1 -codec copy out.mkv``.
    A "Before the intro" chapter fills 0 → start when the intro does not open the file: MP4's chapter track
    cannot begin later than 0, so without it an MP4 would move the intro's chapter to the start."""

    name, extension, per_episode = "ffmetadata", ".ffmetadata", True

    def render_episode(self, episode_id: str, answer: Detection) -> str | None:
        if answer.intro is None:
            return None
        start, end = (round(1000 * t) for t in (answer.intro.start_s, answer.intro.end_s))
        chapters = [(0, start, "Before the intro")] if start > 0 else []
        chapters.append((start, end, "Intro"))
        body = "".join(f"\n[CHAPTER]\nTIMEBASE=1/1000\nSTART={a}\nEND={b}\ntitle={t}\n" for a, b, t in chapters)
        return ";FFMETADATA1\n" + body


class WebVttChapters(Writer):
    """WebVTT chapters (``<video>.chapters.vtt``: not ``.vtt``, which players would load as subtitles)."""

    name, extension, per_episode = "vtt", ".chapters.vtt", True

    def render_episode(self, episode_id: str, answer: Detection) -> str | None:
        if answer.intro is None:
            return None

        def stamp(t: float) -> str:
            ms = round(t * 1000)
            return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"

        return f"WEBVTT\n\nintro\n{stamp(answer.intro.start_s)} --> {stamp(answer.intro.end_s)}\nIntro\n"


class Jellyfin(Writer):
    """Intro timestamps as Jellyfin's Intro Skipper serves them (``EpisodeId``, ``Valid``, ``IntroStart``,
    ``IntroEnd``, ``ShowSkipPromptAt``, ``HideSkipPromptAt``), keyed by id; the prompt times follow the
    plugin's defaults, the hide time capped at the intro's end (a 4 s sting has no 10 s prompt)."""

    name, extension = "jellyfin", ".json"

    def render(self, answers: Mapping[str, Detection]) -> str:
        rows = {}
        for vid, a in answers.items():
            if a.intro is None:
                rows[vid] = {
                    "EpisodeId": vid,
                    "Valid": False,
                    "IntroStart": 0.0,
                    "IntroEnd": 0.0,
                    "ShowSkipPromptAt": 0.0,
                    "HideSkipPromptAt": 0.0,
                }
                continue
            start, end = a.intro.start_s, a.intro.end_s
            rows[vid] = {
                "EpisodeId": vid,
                "Valid": True,
                "IntroStart": round(start, 3),
                "IntroEnd": round(end, 3),
                "ShowSkipPromptAt": round(max(0.0, start - SHOW_PROMPT_ADJUSTMENT_S), 3),
                "HideSkipPromptAt": round(min(start + HIDE_PROMPT_ADJUSTMENT_S, end), 3),
            }
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


WRITERS: dict[str, type[Writer]] = {w.name: w for w in (LabelJson, Csv, Edl, FfMetadata, WebVttChapters, Jellyfin)}


def get_writer(name: str) -> Writer:
    try:
        return WRITERS[name]()
    except KeyError:
        raise ValueError(f"unknown export format {name!r}; known: {', '.join(WRITERS)}") from None
