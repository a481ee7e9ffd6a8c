"""``introdetect library build`` (known intros from labelled episodes) and ``introdetect cache info|prune``."""

from pathlib import Path
from typing import Annotated

import typer

from .app import app
from .options import DEFAULT_WINDOW, AsJson, Policy, Progress, Videos, Window, Workers, audio_options
from .render import (
    check_output,
    failure_list,
    handled,
    names,
    notes,
    out,
    print_json,
    progress_hook,
    refused_rows,
    usage,
    writing,
)

cache_app = typer.Typer(help="The analysis cache of `detect`: how big it is, and pruning it.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")
CacheDir = Annotated[
    Path | None, typer.Option("--cache", help="The cache folder (default: ~/.cache/introdetect/analysis).")
]


@cache_app.command("info")
def cache_info(cache: CacheDir = None, as_json: AsJson = False) -> None:
    """Entries and size of the cache."""
    from ..cache import AnalysisCache

    store = AnalysisCache(cache)
    entries, size = store.usage()
    if as_json:
        print_json({"cache": str(store.root), "entries": entries, "bytes": size})
        return
    out.print(f"{store.root}: {entries} entries, {size / 1e6:.1f} MB")


@cache_app.command("prune")
def cache_prune(
    max_size: Annotated[
        str, typer.Option(help="Keep at most this much (500M, 5G); the least recently used entries go first.")
    ],
    cache: CacheDir = None,
    as_json: AsJson = False,
) -> None:
    """Shrink the cache to a size (a removed entry is only a later re-analysis)."""
    from ..cache import AnalysisCache, parse_size

    try:
        limit = parse_size(max_size)
    except ValueError as exc:
        usage(str(exc), "--max-size")
    store = AnalysisCache(cache)
    removed, freed = store.prune(limit)
    entries, size = store.usage()
    if as_json:
        print_json(
            {"cache": str(store.root), "removed": removed, "freed_bytes": freed, "entries": entries, "bytes": size}
        )
        return
    out.print(f"{store.root}: removed {removed} entries ({freed / 1e6:.1f} MB); {entries} left, {size / 1e6:.1f} MB")


library_app = typer.Typer(
    help="Known intros: build a library from labelled episodes, or inspect one.", no_args_is_help=True
)
app.add_typer(library_app, name="library")


@library_app.command("build")
def library_build(
    labels_file: Annotated[list[Path], typer.Option("--labels", help="VK label file(s) of the labelled episodes.")],
    videos: Videos,
    out_file: Annotated[Path, typer.Option("--out", help="Library file to write (.introlib).")],
    window: Window = DEFAULT_WINDOW,
    policy: Policy = "keep",
    workers: Workers = None,
    progress: Progress = True,
    as_json: AsJson = False,
) -> None:
    """Fingerprint every labelled intro once (refined from the audio where a series has several) and save them."""
    from ..known import build_library
    from ..labels import read_labels

    options = audio_options(window)
    check_output(out_file, "the library")
    with handled():
        label_set = read_labels(labels_file, policy=policy)
    refused_rows(label_set)
    with handled(), progress_hook(progress) as hook:
        library, failed, missing = build_library(label_set, videos, options, workers, hook)
    with writing(out_file, "the library"):
        library.save(out_file)
    refined = sum(e.refined for e in library.entries)
    flagged = [a.id for a in library.audits if a.flagged]
    if as_json:
        print_json(
            {
                "library": str(out_file),
                "known_intros": len(library),
                "series": sorted(library.series),
                "refined": refined,
                "flagged": flagged,
                "without_video": list(missing),
                "failed": [f.message for f in failed],
            }
        )
    else:
        out.print(
            f"library {out_file}: {len(library)} known intros of {len(library.series)} series "
            f"({refined} refined from the audio); {len(flagged)} labels flagged"
        )
    if missing:
        notes(as_json).print(f"{len(missing)} labelled ids have no video: {names(missing)}", markup=False)
    failure_list(failed)
