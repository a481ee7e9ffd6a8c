"""Whole-library throughput: 1 and 2 local workers, a re-run on an unchanged library (content cache), one new
episode in a season, and the Dask scheduler's overhead per episode (a LocalCluster of 2 worker processes).

    .venv/bin/python bench/bench_scale.py --corpus /tmp/corpus-full [--count 40] [--write-docs]

The episodes are the first whole series of the corpus's test split, up to COUNT; every run is the fused
`detect` (matching + the shipped model), as `introdetect detect` runs it. Each configuration runs once, in
this order, in one process (the model is loaded before timing); ratios compare runs of this one session.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

from common import machine, write_docs_block

from introdetect import detect
from introdetect.cache import AnalysisCache
from introdetect.detectors.model import DEFAULT_MODEL, load_model
from introdetect.result import Kind


def _series_videos(corpus: Path, count: int) -> list[Path]:
    out: list[Path] = []
    for folder in sorted(p for p in (corpus / "test").iterdir() if p.is_dir()):
        members = sorted(p for p in folder.iterdir() if p.is_file())
        if out and len(out) + len(members) > count:
            break
        out += members
    return out


def _warm() -> None:
    load_model(DEFAULT_MODEL)


CORES: dict[str, float] = {}


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (ffmpeg decoders, pool workers)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _timed(label: str, **kw) -> tuple[float, dict]:
    began, cpu = time.perf_counter(), _cpu_s()
    found = detect(**kw)
    seconds = time.perf_counter() - began
    CORES[label] = (_cpu_s() - cpu) / seconds
    print(f"{label}: {seconds:.1f} s, {CORES[label]:.2f} cores busy", flush=True)
    return seconds, {d.id: (d.intro, d.part(Kind.INTRO).method) for d in found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    videos = _series_videos(args.corpus, args.count)
    n = len(videos)
    load_model(DEFAULT_MODEL)
    t1, a1 = _timed("1 worker", paths=videos, workers=1)
    t2, a2 = _timed("2 workers", paths=videos, workers=2)
    with tempfile.TemporaryDirectory() as tmp:
        cache = AnalysisCache(Path(tmp) / "cache")
        first, _ = _timed(
            "2 workers, cache cold (season without its last episode)", paths=videos[:-1], workers=2, cache=cache
        )
        rerun, a_re = _timed("2 workers, unchanged library (cache warm)", paths=videos[:-1], workers=2, cache=cache)
        grown, a_grown = _timed("2 workers, one new episode", paths=videos, workers=2, cache=cache)
        size_mb = sum(p.stat().st_size for p in (Path(tmp) / "cache").rglob("*.pkl")) / 1e6
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm)  # each worker loads the model once, as a long-lived cluster would have
        t_dask, a_dask = _timed("Dask LocalCluster, 2 workers", paths=videos, scheduler=client)
    same = a1 == a2 == a_grown == a_dask and all(a_re[k] == a1[k] for k in a_re)
    per_episode = first / (n - 1)
    lines = [
        f"Machine: {machine()}. Date: {time.strftime('%Y-%m-%d')}. Command: `.venv/bin/python bench/bench_scale.py "
        f"--corpus {args.corpus} --count {args.count} --write-docs`.",
        "",
        f"{n} episodes ({len({v.parent for v in videos})} series of the test split), fused detect (matching + "
        f"the shipped model), 480 s window. Answers identical in every configuration: {'yes' if same else 'NO'}.",
        "",
        "| run | seconds | per episode | ratio |",
        "|---|---:|---:|---|",
        f"| 1 local worker | {t1:.1f} | {t1 / n:.2f} | 1.00; {CORES['1 worker']:.2f} cores busy |",
        f"| 2 local workers | {t2:.1f} | {t2 / n:.2f} | speed-up {t1 / t2:.2f}× (target ≥ 1.7×); "
        f"{CORES['2 workers']:.2f} cores busy |",
        f"| 2 workers, cold cache ({n - 1} episodes) | {first:.1f} | {per_episode:.2f} | storing costs "
        f"{(first / (n - 1)) / (t2 / n) - 1:+.0%} per episode |",
        f"| re-run, unchanged library | {rerun:.2f} | {rerun / (n - 1):.3f} | {rerun / first:.1%} of the first run "
        f"(target ≤ 5 %) |",
        f"| one new episode added to its season | {grown:.1f} | – | {grown / per_episode:.2f}× one episode's cost "
        f"in the batch: its decode alone in one process, then its season matched again (the other "
        f"{len({v.parent for v in videos}) - 1} seasons read back) |",
        f"| Dask LocalCluster, 2 worker processes | {t_dask:.1f} | {t_dask / n:.2f} | scheduler overhead "
        f"{(t_dask - t2) / n * 1000:+.0f} ms per episode against 2 local processes (prints travel to the "
        "client for the cache and back for matching) |",
        "",
        f"One worker already keeps {CORES['1 worker']:.2f} of this machine's {os.cpu_count()} cores busy: ffmpeg "
        "decodes in its own process while Python computes the spectrum of the blocks already decoded. Two "
        f"workers can therefore gain at most {os.cpu_count() / CORES['1 worker']:.2f}× here; they reach "
        f"{t1 / t2:.2f}× ({t1 / t2 / (os.cpu_count() / CORES['1 worker']):.0%} of that ceiling). On a machine "
        "with more cores than workers, each worker brings its own ~1.5 cores' worth.",
        "",
        f"Cache size: {size_mb:.0f} MB for {n - 1} episodes ({size_mb / (n - 1):.2f} MB each).",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        write_docs_block("bench_scale", text, "Whole libraries: workers, cache, Dask (bench/bench_scale.py)")


if __name__ == "__main__":
    main()
