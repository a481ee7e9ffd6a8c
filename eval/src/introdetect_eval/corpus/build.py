"""Build a corpus: plan it, render every episode in parallel, write the truth files and the manifest.

Layout of the output folder::

    corpus.json              manifest: seed, size, sources (package, path, licence), series, episodes; the
                             size's split_packages and sparse_speech where it has them
    truth_train.json         VK-format truth per split (null start/end: no intro), with start_sec, end_sec,
    truth_validation.json    duration_sec and tags (the episode's variations) for the evaluation's strata, and
                             every other part (ident_start/ident_end, recap_…, credits_…, preview_…; null: none)
    truth_test.json
    truth_seen.json          new episodes of train series (for detecting known intros)
    train/<series>/<id>.<ext>, validation/…, test/…, seen/…

A rebuild with the same seed and size skips episodes whose file exists and whose plan is unchanged.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Collection
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from introdetect.atomic import write_json_atomic
from introdetect.errors import SettingsError
from introdetect.result import Failure
from introdetect.runner import ProgressHook, Tracker, check_workers, process_pool
from introdetect.timecode import format_timecode

from ..debsources import DEFAULT_CACHE
from .plan import SIZES, EpisodePlan, SeriesPlan, plan_corpus, plan_summary
from .render import render_episode
from .sources import Catalog, SourceLibrary, build_catalog

MANIFEST = "corpus.json"
SPLITS = ("train", "validation", "test", "seen")


@dataclass
class CorpusResult:
    folder: Path
    episodes: int = 0
    rendered: int = 0
    up_to_date: int = 0
    failed: list[Failure] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def episode_path(folder: Path, plan: EpisodePlan) -> Path:
    return folder / plan.split / plan.series / f"{plan.id}.{plan.encoding.container}"


def _truth_row(plan: EpisodePlan) -> dict[str, Any]:
    truth = plan.truth
    others: dict[str, Any] = {}
    for kind, span in plan.part_truth.items():
        others[f"{kind}_start"] = None if span is None else format_timecode(span.start_s, 2)
        others[f"{kind}_end"] = None if span is None else format_timecode(span.end_s, 2)
    return {
        "name": plan.name,
        "start": None if truth is None else format_timecode(truth.start_s, 2),
        "end": None if truth is None else format_timecode(truth.end_s, 2),
        "start_sec": None if truth is None else round(truth.start_s, 4),
        "end_sec": None if truth is None else round(truth.end_s, 4),
        **others,
        "duration_sec": round(plan.file_duration_s, 3),
        "tags": list(plan.tags),
    }


def _source_ref(catalog: Catalog, package: str, path: str) -> dict[str, str]:
    return {"package": package, "path": path, "licence": catalog.licences.get(package, "?")}


def _manifest(
    folder: Path, seed: int, size: str, catalog: Catalog, series: list[SeriesPlan], episodes: list[EpisodePlan]
) -> dict[str, Any]:
    used: dict[tuple[str, str], set[str]] = defaultdict(set)
    for plan in episodes:
        for event in plan.events:
            used[(event.source.package, event.source.path)].add(event.kind)
    return {
        "seed": seed,
        "size": size,
        "packages": {name: {"licence": catalog.licences[name]} for name in catalog.roots},
        "sources": [{**_source_ref(catalog, p, f), "used_as": sorted(kinds)} for (p, f), kinds in sorted(used.items())],
        "series": [
            {
                "slug": s.slug,
                "name": s.name,
                "split": s.split,
                "intro_kind": s.intro_kind,
                "intro": {
                    **_source_ref(catalog, s.intro.source.package, s.intro.source.path),
                    "offset_s": s.intro.offset_s,
                    "length_s": s.intro.length_s,
                },
                "network_logo": None if s.logo is None else s.logo.source.path,
                "dialogue_groups": list(s.dialogue_groups),
                "typical_cold_open_s": round(s.cold_open_s, 2),
            }
            for s in series
        ],
        "episodes": [
            {
                "id": e.id,
                "split": e.split,
                "series": e.series,
                "file": str(episode_path(folder, e).relative_to(folder)),
                "plan_hash": e.plan_hash(),
                "duration_s": round(e.file_duration_s, 3),
                "truth": None if e.truth is None else [round(e.truth.start_s, 4), round(e.truth.end_s, 4)],
                "variations": e.variations,
                "encoding": asdict(e.encoding),
                "events": [
                    {
                        "kind": ev.kind,
                        "start_s": ev.start_s,
                        "length_s": ev.length_s,
                        "package": ev.source.package,
                        "path": ev.source.path,
                        "offset_s": ev.offset_s,
                    }
                    for ev in e.events
                    if ev.kind != "dialogue"
                ],
                "dialogue_lines": sum(ev.kind == "dialogue" for ev in e.events),
            }
            for e in episodes
        ],
        "summary": plan_summary(episodes),
    }


_WORKER: dict[str, Any] = {}


def _render_worker(catalog: Catalog, plan: EpisodePlan, out: str) -> str:
    library = _WORKER.get("library")
    if library is None or _WORKER.get("catalog") is not catalog:
        library = _WORKER["library"] = SourceLibrary(catalog)
        _WORKER["catalog"] = catalog
    render_episode(plan, library, Path(out))
    return plan.id


def build_corpus(
    folder: str | os.PathLike[str],
    size: str = "tiny",
    seed: int = 0,
    workers: int | None = None,
    cache: Path = DEFAULT_CACHE,
    progress: ProgressHook | None = None,
    without: frozenset[str] | set[str] = frozenset(),
    splits: Collection[str] | None = None,
) -> CorpusResult:
    """Build (or bring up to date) the corpus of ``size`` from ``seed`` in ``folder``; ``without`` names
    variations switched off (plan.SWITCHES); ``splits`` (None: all) the splits built (the same plans: a split
    built alone is the one the whole corpus has). The manifest lists those and the other splits' episodes already
    there and up to date (their files and plans as it listed them): a split built after another does not hide it
    (it did, and a benchmark then found no episode of the first)."""
    if size not in SIZES:
        raise SettingsError(f"corpus size must be one of {', '.join(SIZES)}, got {size!r}")
    unknown = sorted(set(splits or ()) - set(SPLITS))
    if unknown:
        raise SettingsError(f"corpus splits are {', '.join(SPLITS)}, got {', '.join(unknown)}")
    workers = check_workers(workers if workers is not None else min(2, os.cpu_count() or 1))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spec = SIZES[size]
    catalog = build_catalog(spec.packages, cache)
    library = SourceLibrary(catalog)
    series, episodes = plan_corpus(spec, catalog, library, seed, frozenset(without))
    previous: dict[str, str] = {}
    if (folder / MANIFEST).exists():
        try:
            old = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            previous = {e["id"]: e["plan_hash"] for e in old.get("episodes", [])}
        except (json.JSONDecodeError, KeyError, TypeError):
            previous = {}

    def built(plan: EpisodePlan) -> bool:
        return episode_path(folder, plan).exists() and previous.get(plan.id) == plan.plan_hash()

    planned = episodes
    kept: list[EpisodePlan] = []  # the other splits' episodes already there, as the manifest listed them
    if splits is not None:
        kept = [e for e in episodes if e.split not in splits and built(e)]
        listed = set(splits) | {e.split for e in kept}
        series = [x for x in series if x.split in listed]
        episodes = [e for e in episodes if e.split in splits]
    result = CorpusResult(folder, episodes=len(episodes))
    todo = []
    for plan in episodes:
        path = episode_path(folder, plan)
        for stale in path.parent.glob(f"{plan.id}.*"):  # the same episode in another container, from an older plan
            if stale != path and stale.suffix.lower() in {".mp4", ".mkv", ".mp3"}:
                stale.unlink()
        if built(plan):
            result.up_to_date += 1
        else:
            todo.append((plan, path))
    tracker = Tracker(progress, "corpus", len(todo))
    with process_pool(workers) as pool:
        futures = {pool.submit(_render_worker, catalog, plan, str(path)): plan for plan, path in todo}
        for future in as_completed(futures):
            plan = futures[future]
            try:
                future.result()
                result.rendered += 1
            except Exception as exc:  # noqa: BLE001 - a batch goes on; reported at the end
                result.failed.append(Failure(plan.id, f"{plan.id}: {exc}"))
            tracker.advance()
    for split in SPLITS:
        rows = {e.id: _truth_row(e) for e in episodes if e.split == split}
        if rows:
            write_json_atomic(folder / f"truth_{split}.json", rows)
    listed_ids = {e.id for e in (*episodes, *kept)}
    manifest = _manifest(folder, seed, size, catalog, series, [e for e in planned if e.id in listed_ids])
    manifest["without"] = sorted(without)
    if spec.split_packages:
        manifest["split_packages"] = {split: list(names) for split, names in spec.split_packages.items()}
    if spec.sparse_speech:  # the splits whose seasons speak little (CorpusSize.sparse_speech)
        manifest["sparse_speech"] = list(spec.sparse_speech)
    write_json_atomic(folder / MANIFEST, manifest)
    result.summary = manifest["summary"]
    return result
