"""Which series an episode belongs to (one rule for detect and for the library of known intros, so that a
labelled episode and a new one of the same series land under the same name), and which video a label is of."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .labels import Label, LabelSet, parse_episode_name
from .media import videos_by_id

_SEASON_DIR = re.compile(r"^(season|series|saison|staffel|сезон|s)\s*\d+$|^\d+\s*(season|сезон)$", re.IGNORECASE)


def series_of(path: str | os.PathLike[str], labels: LabelSet | None = None) -> str:
    """The series an episode belongs to: its label's name (as read, look-alike letters mended), else
    S01E02 / 1x02 in the file name, else its folder (skipping a "Season 1" level)."""
    path = Path(path)
    label = labels.get(path.stem) if labels is not None else None
    if label is not None and label.episode is not None:
        return label.episode.series_key
    parsed = parse_episode_name(path.stem)
    if parsed is not None:
        return parsed.series_key
    folder = path.resolve().parent
    if _SEASON_DIR.match(folder.name.strip()) and folder.parent != folder:
        folder = folder.parent
    return " ".join(folder.name.casefold().split()) or "(no series)"


def group_series(
    paths: Sequence[str | os.PathLike[str]], labels: LabelSet | None = None, series: str | None = None
) -> dict[str, list[Path]]:
    """Episodes by series (``series`` puts them all in one)."""
    return SeriesNames(labels, series).group(paths)


@dataclass(frozen=True)
class SeriesNames:
    """Which series each episode of one ``detect`` call belongs to: ``series`` for all when given; else
    ``series_of``, except that an episode without a label of its own is named by ``aliases`` (from
    ``labelled_aliases``): the name its file or folder gives (``show03`` from ``show03_s01e03.mkv``, or its
    folder's for a video id) is, for the labelled videos it shares with, the series their labels name in words
    ("Сериал 03. 1 сезон, 1 серия"). Without it an episode of a known series is answered as an unknown one."""

    labels: LabelSet | None = None
    series: str | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)

    def of(self, path: str | os.PathLike[str]) -> str:
        if self.series:
            return self.series
        name = series_of(path, self.labels)
        label = self.labels.get(Path(path).stem) if self.labels is not None else None
        if label is not None and label.episode is not None:
            return name
        return self.aliases.get(name, name)

    def group(self, paths: Sequence[str | os.PathLike[str]]) -> dict[str, list[Path]]:
        """Episodes by series."""
        groups: dict[str, list[Path]] = defaultdict(list)
        for p in paths:
            groups[self.of(p)].append(Path(p))
        return dict(groups)


def labelled_aliases(pairs: Iterable[tuple[Label, Path]], labels: LabelSet) -> dict[str, str]:
    """Per name that labelled videos' files or folders give (``series_of`` without labels), the series their
    labels name, where that is one series and another name (two series' videos named alike name neither)."""
    found: dict[str, set[str]] = defaultdict(set)
    for _, video in pairs:
        found[series_of(video)].add(series_of(video, labels))
    return {own: next(iter(named)) for own, named in found.items() if len(named) == 1 and own not in named}


def labelled_videos(
    labels: LabelSet, videos: Iterable[str | os.PathLike[str]], no_intro: bool = False, parts: bool = False
) -> tuple[list[tuple[Label, Path]], list[str]]:
    """Pairs of usable labels and their video (matched by file stem = id; folders searched); ids without a
    video are listed. ``no_intro``: labels that say "no intro" count too (a model learns from them; a library
    of known intros has no use for them). ``parts``: so do rows that label other parts only (a kinds head
    learns from them)."""
    by_id = videos_by_id(videos)
    pairs, missing = [], []
    for label in labels.labels:
        if not (label.usable or (parts and label.parts and not label.has_error)):
            continue
        if label.segment is None and not (no_intro and label.no_intro) and not (parts and label.parts):
            continue
        if label.id in by_id:
            pairs.append((label, by_id[label.id]))
        else:
            missing.append(label.id)
    return pairs, missing
