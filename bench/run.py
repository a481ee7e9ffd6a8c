"""The benchmark: every detector on the corpus's test split, quality per stratum and cost, into the docs.

    .venv/bin/python bench/run.py --corpus bench/out/corpus-full [--split test] [--write-docs]

Build the corpus first (`make corpus SIZE=full`, or bench/corpus.py). Detectors so far are the two
baselines: the position prior (fitted on the train split) and the re-implementation of Intro Skipper's
Chromaprint matcher (per series, on the split's episodes). Cost: seconds per episode, against ffmpeg
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
sys.path.insert(0, str(REPO / "src"))

from common import machine  # noqa: E402
from introdetect.atomic import write_json_atomic  # noqa: E402
from introdetect.baselines.intro_skipper import IntroSkipperOptions, detect_season, fingerprint  # noqa: E402
from introdetect.baselines.prior import PositionPrior  # noqa: E402
from introdetect.media import FFMPEG  # noqa: E402
from introdetect.metrics import Answer, Evaluation, evaluate, read_answers  # noqa: E402
from introdetect.settings import DEFAULT_WINDOW_S  # noqa: E402

DOCS = REPO / "docs" / "BENCHMARKS.md"
BEGIN, END = "<!-- bench_run:begin -->", "<!-- bench_run:end -->"


def _episodes(corpus: Path, split: str) -> dict[str, dict[str, Any]]:
    manifest = json.loads((corpus / "corpus.json").read_text(encoding="utf-8"))
    return {e["id"]: e for e in manifest["episodes"] if e["split"] == split}


def run_prior(corpus: Path, split: str) -> dict[str, Answer]:
    prior = PositionPrior.fit(read_answers(corpus / "truth_train.json"))
    return prior.predict(_episodes(corpus, split))


def run_intro_skipper(corpus: Path, split: str) -> dict[str, Answer]:
    options = IntroSkipperOptions()
    episodes = _episodes(corpus, split)
    prints = {}
    for vid, entry in episodes.items():
        length = min(options.analysis_share * entry["duration_s"], options.analysis_limit_s)
        prints[vid] = fingerprint(corpus / entry["file"], length)
    by_series: dict[str, list[str]] = defaultdict(list)
    for vid in sorted(episodes):
        by_series[episodes[vid]["series"]].append(vid)
    answers: dict[str, Answer] = {}
    for ids in by_series.values():
        answers.update(detect_season(prints, ids, options))
    return answers


DETECTORS = {"position_prior": run_prior, "intro_skipper": run_intro_skipper}


def _child(name: str, corpus: str, split: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    start = time.perf_counter()
    answers = DETECTORS[name](Path(corpus), split)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((answers, seconds, peak_mb))


def run_detector(name: str, corpus: Path, split: str) -> tuple[dict[str, Answer], float, float]:
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
            raise RuntimeError(f"{command(corpus / entry['file'])[0]} failed on {entry['file']}: {result.stderr[-200:]!r}")
    return time.perf_counter() - start


def floor_command(path: Path) -> list[str]:
    return [FFMPEG, "-nostdin", "-loglevel", "error", "-t", f"{DEFAULT_WINDOW_S:g}", "-i", str(path),
            "-map", "0:a:0", "-vn", "-f", "null", "-"]  # fmt: skip


def fpcalc_command(path: Path) -> list[str]:
    return ["fpcalc", "-raw", "-length", f"{DEFAULT_WINDOW_S:g}", str(path)]


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None or value != value else f"{value:.{digits}f}"


def quality_table(results: dict[str, Evaluation]) -> list[str]:
    lines = ["| detector | stratum | episodes | F1 @IoU≥0.5 | P | R | hits ±1 s | hits ±2 s | start MAE s | "
             "end MAE s | window F1 | false-intro rate |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, ev in results.items():
        for stratum, fig in [("overall", ev.overall), *ev.strata.items()]:
            lines.append(
                f"| {name} | {stratum} | {fig.episodes} | {_fmt(fig.f1)} | {_fmt(fig.precision)} | {_fmt(fig.recall)} | "
                f"{_fmt(fig.hits.get('±1s'))} | {_fmt(fig.hits.get('±2s'))} | {_fmt(fig.start_mae_s, 1)} | "
                f"{_fmt(fig.end_mae_s, 1)} | {_fmt(fig.window_f1)} | {_fmt(fig.false_intro_rate)} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO / "bench" / "out" / "corpus-full")
    parser.add_argument("--split", default="test")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    corpus: Path = args.corpus
    if not (corpus / "corpus.json").exists():
        sys.exit(f"{corpus}: no corpus.json; build it first (make corpus SIZE=full)")
    manifest = json.loads((corpus / "corpus.json").read_text(encoding="utf-8"))
    episodes = _episodes(corpus, args.split)
    truth = read_answers(corpus / f"truth_{args.split}.json")
    out = REPO / "bench" / "out" / f"predictions-{manifest['size']}-{args.split}"

    results: dict[str, Evaluation] = {}
    cost: dict[str, tuple[float, float]] = {}
    for name in DETECTORS:
        answers, seconds, peak = run_detector(name, corpus, args.split)
        write_json_atomic(out / f"{name}.json", {
            vid: {"start_sec": a.intro.start_s if a.intro else None, "end_sec": a.intro.end_s if a.intro else None,
                  "start": None, "end": None, "confidence": a.confidence, "method": a.method}
            for vid, a in answers.items()})  # fmt: skip
        results[name] = evaluate(answers, truth)
        cost[name] = (seconds / len(episodes), peak)
        print(f"{name}: F1 {results[name].overall.f1:.3f}, {seconds / len(episodes):.3f} s/episode, {peak:.0f} MB")
    floor = _time_each(corpus, episodes, floor_command) / len(episodes)
    fpcalc = _time_each(corpus, episodes, fpcalc_command) / len(episodes) if shutil.which("fpcalc") else None

    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run {date} on {machine()}; command: `.venv/bin/python bench/run.py --corpus {corpus.relative_to(REPO) if corpus.is_relative_to(REPO) else corpus} "
        f"--split {args.split}`; corpus: size {manifest['size']}, seed {manifest['seed']}, {len(episodes)} {args.split} "
        f"episodes of {len({e['series'] for e in episodes.values()})} series (none seen in training).",
        "",
        *quality_table(results),
        "",
        "| detector | s / episode | × floor (ffmpeg decode of 480 s) | × fpcalc (480 s) | peak memory MB |",
        "|---|---:|---:|---:|---:|",
        *[f"| {name} | {sec:.3f} | {sec / floor:.2f} | {_fmt(sec / fpcalc if fpcalc else None)} | {peak:.0f} |"
          for name, (sec, peak) in cost.items()],
        f"| (floor: ffmpeg decode) | {floor:.3f} | 1.00 | {_fmt(floor / fpcalc if fpcalc else None)} | – |",
        f"| (fpcalc -raw -length 480) | {_fmt(fpcalc, 3)} | {_fmt(fpcalc / floor if fpcalc else None)} | 1.00 | – |",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        doc = DOCS.read_text(encoding="utf-8")
        block = f"{BEGIN}\n{text}\n{END}"
        if BEGIN in doc:
            doc = doc[: doc.index(BEGIN)] + block + doc[doc.index(END) + len(END) :]
        else:
            doc += "\n## Detectors on the corpus (bench/run.py)\n\n" + block + "\n"
        DOCS.write_text(doc, encoding="utf-8")
        print(f"updated {DOCS}")


if __name__ == "__main__":
    main()
