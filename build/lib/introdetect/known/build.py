"""A library of known intros from labelled episodes: each labelled video analysed once, its intro fingerprinted."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..analysis import analyse_many
from ..grouping import labelled_videos, series_of
from ..labels import LabelSet
from ..result import Failure
from ..runner import ProgressHook, check_workers, executor
from ..settings import DEFAULT_MATCHING, AudioOptions, MatchingOptions
from .library import IntroLibrary, build_library_from_prints


def build_library(
    labels: LabelSet,
    videos: Iterable[str | os.PathLike[str]],
    options: AudioOptions | None = None,
    workers: int | None = None,
    progress: ProgressHook | None = None,
    matching: MatchingOptions = DEFAULT_MATCHING,
) -> tuple[IntroLibrary, list[Failure], list[str]]:
    """Analyse every labelled video once (``videos``: files, or folders searched for media) and build the
    library: (library, a Failure per video that could not be read, labelled ids without a video)."""
    workers = check_workers(workers)
    pairs, missing = labelled_videos(labels, videos)
    paths: list[Path] = [v for _, v in pairs]
    with executor(workers, None, len(paths)) as pool:
        found = analyse_many(paths, options or AudioOptions(), pool, progress=progress, matching=matching)
    library = build_library_from_prints(
        [(label, found.prints[v], series_of(v, labels)) for label, v in pairs if v in found.prints], matching
    )
    return library, found.failures, missing
