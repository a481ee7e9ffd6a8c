"""Cost of detect on one season: 10 episodes against ffmpeg's decode of the same windows, and how the cost
per episode grows from 10 to 40 episodes; peak memory; quality on the season as a check.

    .venv/bin/python bench/bench_detect.py --corpus bench/out/corpus-season [--write-docs]

Build the season first: `introdetect corpus --size season --out bench/out/corpus-season` (one series of 40
episodes of 20–26 minutes). Each run is its own process (peak memory is that process's, the ffmpeg
decoders it starts are not counted). The floor is ffmpeg decoding the same 480 s windows, one file after
another (what a one-core decoder costs) and two at a time (what the two cores can do, as detect uses both).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

from common import floor_command, machine, write_docs_block  # noqa: E402

from introdetect.settings import DEFAULT_WINDOW_S  # noqa: E402


def _child(paths: list[str], queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from introdetect import detect
    from introdetect.analysis import analyse_many
    from introdetect.detectors import RecurringDetector
    from introdetect.matching.confidence import ConfidenceModel
    from introdetect.matching.scoring import MotifScorer
    from introdetect.runner import executor
    from introdetect.settings import AudioOptions

    start = time.perf_counter()
    found = detect(paths, workers=2)
    total = time.perf_counter() - start
    # the matching alone, on analyses made beforehand
    with executor(2, None, len(paths)) as pool:
        prints = analyse_many([Path(p) for p in paths], AudioOptions(), pool).prints
    start = time.perf_counter()
    RecurringDetector(MotifScorer.load(), ConfidenceModel.load()).detect_series(
        "bench", [prints[Path(p)] for p in paths]
    )
    matching = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(({d.id: (d.intro.start_s, d.intro.end_s) if d.intro else None for d in found}, total, matching, peak))


def run(paths: list[str]) -> tuple[dict, float, float, float]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(paths, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def floor(paths: list[str], parallel: int) -> float:
    def decode(path: str) -> None:
        subprocess.run(floor_command(path, DEFAULT_WINDOW_S), check=True)

    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(decode, paths))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO / "bench" / "out" / "corpus-season")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    manifest = json.loads((args.corpus / "corpus.json").read_text(encoding="utf-8"))
    episodes = sorted(manifest["episodes"], key=lambda e: e["id"])
    paths = [str(args.corpus / e["file"]) for e in episodes]
    truth = {e["id"]: e["truth"] for e in episodes}
    rows = []
    for n in (10, 40):
        subset = paths[:n]
        floor(subset[:2], 2)  # warm the page cache for both measurements alike
        found, total, matching, peak = run(subset)
        one, two = floor(subset, 1), floor(subset, 2)
        hits = sum(
            1
            for vid, seg in found.items()
            if (truth[vid] is None and seg is None)
            or (
                truth[vid] is not None
                and seg is not None
                and abs(seg[0] - truth[vid][0]) <= 1
                and abs(seg[1] - truth[vid][1]) <= 1
            )
        )
        rows.append((n, total, matching, one, two, peak, hits))
        print(rows[-1])
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run {date} on {machine()}; command: `.venv/bin/python bench/bench_detect.py --corpus {args.corpus}`; "
        f"season of {len(episodes)} episodes (corpus size season, seed {manifest['seed']}), 480 s windows, 2 workers.",
        "",
        "| episodes | detect s | s / episode | of which matching s | floor 1 decoder s | × floor (1) | floor 2 decoders s | × floor (2) | peak MB | within ±1 s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {n} | {t:.1f} | {t / n:.3f} | {m:.2f} | {o:.1f} | {t / o:.2f} | {w:.1f} | {t / w:.2f} | {p:.0f} | {h}/{n} |"
            for n, t, m, o, w, p, h in rows
        ],
        "",
        f"Cost per episode from 10 to 40 episodes: {rows[1][1] / 40 / (rows[0][1] / 10) - 1:+.0%} (target ≤ +20 %); "
        f"matching alone {rows[0][2] / 10 * 1000:.0f} → {rows[1][2] / 40 * 1000:.0f} ms per episode.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        write_docs_block("bench_detect", text, "detect: cost on one season (bench/bench_detect.py)")


if __name__ == "__main__":
    main()
