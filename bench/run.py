"""The benchmark: every detector on the corpus's test split, quality per stratum and cost, into the docs.

    .venv/bin/python bench/run.py --corpus bench/out/corpus-full [--split test] [--write-docs]

Build the corpus first (`make corpus SIZE=full`, or bench/corpus.py). Detectors: the two baselines (the
position prior fitted on the train split; the re-implementation of Intro Skipper's Chromaprint matcher, per
series) and introdetect itself: with no labels (what recurs across each series' episodes), and for known
series (a library from the train split's labels and videos; each unseen episode of those series answered
alone, the library's build time left out of the per-episode cost); the shipped model alone, each episode on
its own; and the default, matching and the model fused. Cost: seconds per episode, against ffmpeg
decoding the same 480 s windows (the floor) and against Chromaprint's own `fpcalc` on the same files
(Debian's libchromaprint-tools), and each detector's peak memory (its own process; the ffmpeg processes
it starts are not counted).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

from common import floor_command, machine, write_docs_block  # noqa: E402
from introdetect_eval.baselines.intro_skipper import IntroSkipperOptions, detect_season, fingerprint  # noqa: E402
from introdetect_eval.baselines.prior import PositionPrior  # noqa: E402

from introdetect.metrics import Evaluation, Truth, evaluate, read_truth  # noqa: E402
from introdetect.result import Detection, write_result  # noqa: E402
from introdetect.settings import DEFAULT_WINDOW_S  # noqa: E402


def _episodes(corpus: Path, split: str) -> dict[str, dict[str, Any]]:
    manifest = json.loads((corpus / "corpus.json").read_text(encoding="utf-8"))
    return {e["id"]: e for e in manifest["episodes"] if e["split"] == split}


def run_prior(corpus: Path, split: str) -> dict[str, Detection]:
    prior = PositionPrior.fit(read_truth(corpus / "truth_train.json"))
    return prior.predict(_episodes(corpus, split))


def run_intro_skipper(corpus: Path, split: str) -> dict[str, Detection]:
    options = IntroSkipperOptions()
    episodes = _episodes(corpus, split)
    prints = {}
    for vid, entry in episodes.items():
        length = min(options.analysis_share * entry["duration_s"], options.analysis_limit_s)
        prints[vid] = fingerprint(corpus / entry["file"], length)
    by_series: dict[str, list[str]] = defaultdict(list)
    for vid in sorted(episodes):
        by_series[episodes[vid]["series"]].append(vid)
    answers: dict[str, Detection] = {}
    for ids in by_series.values():
        answers.update(detect_season(prints, ids, options))
    return answers


def _run_detect(corpus: Path, split: str, use: str) -> dict[str, Detection]:
    from introdetect import detect

    episodes = _episodes(corpus, split)
    found = detect([corpus / e["file"] for e in episodes.values()], workers=2, use=use)
    return found.by_id()


def run_introdetect(corpus: Path, split: str) -> dict[str, Detection]:
    """introdetect's matching with no labels: every episode of the split, series from the file names
    (show07_s01e02), answered by what recurs across each series."""
    return _run_detect(corpus, split, "matching")


def run_model(corpus: Path, split: str) -> dict[str, Detection]:
    """The shipped model alone: each episode answered on its own (no siblings, no labels)."""
    return _run_detect(corpus, split, "model")


def run_fused(corpus: Path, split: str) -> dict[str, Detection]:
    """detect's default: matching and the model fused (fusion.py), no labels."""
    return _run_detect(corpus, split, "fused")


def run_known(corpus: Path, split: str) -> tuple[dict[str, Detection], float]:
    """Known series, one new episode at a time: a library from the train split's labels and videos, then
    each episode of ``split`` (the unseen episodes of training series) answered alone. Returns the answers
    and the seconds spent building the library (left out of the per-episode cost)."""
    from introdetect import build_library, detect, read_labels

    start = time.perf_counter()
    train = _episodes(corpus, "train")
    library, failed, _ = build_library(
        read_labels(corpus / "truth_train.json"), [corpus / e["file"] for e in train.values()], workers=2
    )
    if failed:
        raise RuntimeError(f"library build failed: {failed[:3]}")
    build_s = time.perf_counter() - start
    labels = read_labels(corpus / f"truth_{split}.json")
    answers = {}
    for vid, entry in _episodes(corpus, split).items():
        [d] = detect([corpus / entry["file"]], labels=labels, library=library, workers=1, use="matching")
        answers[vid] = d
    return answers, build_s


DETECTORS = {  # name: (function, split it answers; None: the --split argument)
    "position_prior": (run_prior, None),
    "intro_skipper": (run_intro_skipper, None),
    "introdetect": (run_introdetect, None),
    "introdetect_model": (run_model, None),
    "introdetect_fused": (run_fused, None),
    "introdetect_known": (run_known, "seen"),
}


def _child(name: str, corpus: str, split: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    start = time.perf_counter()
    answers = DETECTORS[name][0](Path(corpus), split)
    seconds = time.perf_counter() - start
    if isinstance(answers, tuple):  # (answers, seconds of set-up that is not per-episode work)
        answers, setup = answers
        seconds -= setup
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((answers, seconds, peak_mb))


def run_detector(name: str, corpus: Path, split: str) -> tuple[dict[str, Detection], float, float]:
    """Run one detector in its own process: its answers, wall seconds and peak resident memory (MB)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(name, str(corpus), split, queue))
    process.start()
    answers, seconds, peak = queue.get()
    process.join()
    return answers, seconds, peak


def _time_each(corpus: Path, episodes: dict[str, dict[str, Any]], command) -> float:  # noqa: ANN001
    start = time.perf_counter()
    for entry in episodes.values():
        result = subprocess.run(command(corpus / entry["file"]), capture_output=True)
        # fpcalc exits with 3 when a file ends before -length, after printing the fingerprint
        if result.returncode != 0 and b"FINGERPRINT=" not in result.stdout:
            raise RuntimeError(
                f"{command(corpus / entry['file'])[0]} failed on {entry['file']}: {result.stderr[-200:]!r}"
            )
    return time.perf_counter() - start


def fpcalc_command(path: Path) -> list[str]:
    return ["fpcalc", "-raw", "-length", f"{DEFAULT_WINDOW_S:g}", str(path)]


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None or value != value else f"{value:.{digits}f}"


def median_boundary_error(answers: dict[str, Detection], truth: dict[str, Truth]) -> float:
    errors = [
        abs(getattr(answers[vid].intro, side) - getattr(t.intro, side))
        for vid, t in truth.items()
        if t.intro is not None and vid in answers and answers[vid].intro is not None
        for side in ("start_s", "end_s")
    ]
    return float(sorted(errors)[len(errors) // 2]) if errors else float("nan")


def quality_table(results: dict[str, Evaluation]) -> list[str]:
    lines = [
        "| detector | stratum | episodes | F1 @IoU≥0.5 | P | R | hits ±0.5 s | hits ±1 s | hits ±2 s | "
        "start MAE s | end MAE s | window F1 | false-intro rate |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, ev in results.items():
        for stratum, fig in [("overall", ev.overall), *ev.strata.items()]:
            lines.append(
                f"| {name} | {stratum} | {fig.episodes} | {_fmt(fig.f1)} | {_fmt(fig.precision)} | {_fmt(fig.recall)} | "
                f"{_fmt(fig.hits.get('±0.5s'))} | {_fmt(fig.hits.get('±1s'))} | {_fmt(fig.hits.get('±2s'))} | {_fmt(fig.start_mae_s, 1)} | "
                f"{_fmt(fig.end_mae_s, 1)} | {_fmt(fig.window_f1)} | {_fmt(fig.false_intro_rate)} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO / "bench" / "out" / "corpus-full")
    parser.add_argument("--split", default="test")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--only", action="append", help="run only this detector (repeatable)")
    args = parser.parse_args()
    corpus: Path = args.corpus
    if not (corpus / "corpus.json").exists():
        sys.exit(f"{corpus}: no corpus.json; build it first (make corpus SIZE=full)")
    manifest = json.loads((corpus / "corpus.json").read_text(encoding="utf-8"))
    episodes = _episodes(corpus, args.split)
    truth = read_truth(corpus / f"truth_{args.split}.json")
    out = REPO / "bench" / "out" / f"predictions-{manifest['size']}-{args.split}"

    results: dict[str, Evaluation] = {}
    medians: dict[str, float] = {}
    cost: dict[str, tuple[float, float]] = {}
    for name, (_, own_split) in DETECTORS.items():
        if args.only and name not in args.only:
            continue
        split = own_split or args.split
        answers, seconds, peak = run_detector(name, corpus, split)
        label = name if split == args.split else f"{name} ({split} split)"
        write_result(out / f"{name}.json", answers.values())
        split_truth = truth if split == args.split else read_truth(corpus / f"truth_{split}.json")
        results[label] = evaluate(answers, split_truth)
        medians[label] = median_boundary_error(answers, split_truth)
        n = len(split_truth)
        cost[label] = (seconds / n, peak)
        print(f"{label}: F1 {results[label].overall.f1:.3f}, {seconds / n:.3f} s/episode, {peak:.0f} MB")
    floor = _time_each(corpus, episodes, lambda path: floor_command(path, DEFAULT_WINDOW_S)) / len(episodes)
    fpcalc = _time_each(corpus, episodes, fpcalc_command) / len(episodes) if shutil.which("fpcalc") else None

    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run {date} on {machine()}; command: `.venv/bin/python bench/run.py --corpus {corpus.relative_to(REPO) if corpus.is_relative_to(REPO) else corpus} "
        f"--split {args.split}`; corpus: size {manifest['size']}, seed {manifest['seed']}, {len(episodes)} {args.split} "
        f"episodes of {len({e['series'] for e in episodes.values()})} series (none seen in training).",
        "",
        *quality_table(results),
        "",
        "Median boundary error (both boundaries of every episode where truth and answer have an intro): "
        + "; ".join(f"{name} {_fmt(m)} s" for name, m in medians.items())
        + ".",
        "",
        "| detector | s / episode | × floor (ffmpeg decode of 480 s) | × fpcalc (480 s) | peak memory MB |",
        "|---|---:|---:|---:|---:|",
        *[
            f"| {name} | {sec:.3f} | {sec / floor:.2f} | {_fmt(sec / fpcalc if fpcalc else None)} | {peak:.0f} |"
            for name, (sec, peak) in cost.items()
        ],
        f"| (floor: ffmpeg decode) | {floor:.3f} | 1.00 | {_fmt(floor / fpcalc if fpcalc else None)} | – |",
        f"| (fpcalc -raw -length 480) | {_fmt(fpcalc, 3)} | {_fmt(fpcalc / floor if fpcalc else None)} | 1.00 | – |",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        write_docs_block("bench_run", text, "Detectors on the corpus (bench/run.py)")


if __name__ == "__main__":
    main()
