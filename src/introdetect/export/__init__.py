"""Exports for media players and servers: one writer per format behind one interface, chosen by name.

    outcome = export(read_result("detections.json"), "edl")      # a side file next to each episode's video
    outcome = export(detections, "csv", out="intros.csv")          # whole-result formats: one file

Adding a format touches one module: define a ``Writer`` subclass and list it in ``WRITERS``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SettingsError
from ..media import videos_by_id
from ..result import Detection, Failure, Kind
from ..settings import DEFAULT_MIN_CONFIDENCE
from .base import Writer
from .formats import WRITERS, get_writer

__all__ = ["WRITERS", "ExportOutcome", "Writer", "default_target", "export", "get_writer"]


@dataclass
class ExportOutcome:
    """What an export wrote: its files, how many episodes needed none (no intro), how many unsure parts it left
    out, and what failed."""

    written: list[Path] = field(default_factory=list)
    without: int = 0
    failures: list[Failure] = field(default_factory=list)
    unsure: int = 0


def default_target(result_file: str | os.PathLike[str], writer: Writer) -> Path:
    """Where a whole-result format goes by default: beside the result (``intros.json`` → ``intros.csv.csv``)."""
    result_file = Path(result_file)
    return result_file.with_name(f"{result_file.stem}.{writer.name}{writer.extension}")


def export(
    detections: Sequence[Detection],
    fmt: str,
    out: str | os.PathLike[str] | None = None,
    videos: Iterable[str | os.PathLike[str]] | None = None,
    edl_actions: Mapping[Kind, int] | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    include_unsure: bool = False,
) -> ExportOutcome:
    """Write ``detections`` in format ``fmt``. Whole-result formats: one file, ``out`` (required). Side-file
    formats: one file per episode with a part found, next to its video (the media path the result recorded, or the
    file of that id among ``videos``: files or folders), or in the folder ``out`` when given. A side file that
    cannot be written, or an episode whose video is unknown, is a Failure; the others are still written. In the
    formats a player acts on (every one but json and csv, which carry each part's confidence), a part answered
    with a confidence under ``min_confidence`` is unsure and marks nothing (``include_unsure``: it does);
    ``ExportOutcome.unsure`` counts the parts left out."""
    writer = get_writer(fmt, edl_actions)
    detections = list(detections)
    outcome = ExportOutcome()
    found = {d.id for d in detections if any(p.segment is not None for p in d.parts)}
    if writer.marks_skips and not include_unsure:
        outcome.unsure = sum(p.unsure(min_confidence) for d in detections for p in d.parts)
        detections = [d.sure_only(min_confidence) for d in detections]
    answers = {d.id: d for d in detections}
    if not writer.per_episode:
        if out is None:
            raise SettingsError(f"{writer.name} writes one file: say where (out)")
        outcome.written.append(writer.write_all(answers, out))
        return outcome
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
    by_id = videos_by_id(videos) if videos else {}
    for vid, answer in answers.items():
        video = by_id.get(vid) or (Path(answer.path) if answer.path else None)
        if video is None:
            where = f"of this id under {', '.join(map(str, videos))}" if videos else "recorded in the result"
            outcome.failures.append(Failure(vid, f"{vid}: no video {where}: say where the videos are"))
            continue
        if out is None and not video.is_file():
            outcome.failures.append(Failure(str(video), f"{video}: no such video (moved? give where the videos are)"))
            continue
        try:
            target = writer.write_episode(vid, answer, video, out)
        except OSError as exc:
            place = writer.side_file(video, out)
            outcome.failures.append(Failure(str(video), f"{place}: cannot write ({exc.strerror or exc})"))
            continue
        if target is None:
            outcome.without += vid not in found  # an episode whose parts were all unsure is counted as such
        else:
            outcome.written.append(target)
    return outcome
