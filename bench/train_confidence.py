"""Fit the answer-confidence model on the training series, and show its reliability on validation and test.

    .venv/bin/python bench/train_confidence.py --corpus bench/out/corpus-full [--corpus ...] [--write] [--write-docs]

An answer is right when it is an intro with both boundaries within 1 s of the truth, or "no intro" where
the truth has none. The model's weights go to src/introdetect/data/answer_confidence.json (with the command
and date); the reliability table (answers per confidence bin, mean confidence, share right) to
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

from common import corpus_prints, machine, write_docs_block  # noqa: E402

from introdetect.atomic import write_json_atomic  # noqa: E402
from introdetect.detectors.recurring import series_answers  # noqa: E402
from introdetect.matching.confidence import CONFIDENCE_FILE, ConfidenceModel, reliability  # noqa: E402
from introdetect.matching.scoring import MotifScorer  # noqa: E402
from introdetect.timecode import Segment  # noqa: E402

TOLERANCE_S = 1.0


def answers(corpus: Path, split: str) -> list[tuple[object, bool]]:
    prints, episodes = corpus_prints(corpus, split)
    scorer = MotifScorer.load()
    by_series = defaultdict(list)
    for e in episodes:
        by_series[e["series"]].append(e)
    rows = []
    for eps in by_series.values():
        eps.sort(key=lambda e: e["id"])
        if len(eps) < 2:
            continue
        for e, (segment, features) in zip(eps, series_answers([prints[x["id"]] for x in eps], scorer), strict=True):
            truth = Segment(*e["truth"]) if e["truth"] else None
            if truth is None or segment is None:
                right = truth is None and segment is None
            else:
                right = (
                    abs(segment.start_s - truth.start_s) <= TOLERANCE_S
                    and abs(segment.end_s - truth.end_s) <= TOLERANCE_S
                )
            rows.append((features, right))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, action="append")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    corpora = args.corpus or [REPO / "bench" / "out" / "corpus-full"]
    train = [row for c in corpora for row in answers(c, "train")]
    model = ConfidenceModel.fit(
        [f for f, _ in train],
        [r for _, r in train],
        {
            "command": ".venv/bin/python bench/train_confidence.py "
            + " ".join(f"--corpus {c}" for c in corpora)
            + " --write",
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "answers": len(train),
            "right": sum(r for _, r in train),
        },
    )
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run {date} on {machine()}; command: `.venv/bin/python bench/train_confidence.py "
        + " ".join(f"--corpus {c}" for c in corpora)
        + "`. Fitted on the train split "
        f'({len(train)} answers); "right" = both boundaries within ±{TOLERANCE_S:g} s, or no intro where there is none.',
        "",
        "| split | confidence | answers | mean confidence | share right |",
        "|---|---|---:|---:|---:|",
    ]
    for split in ("validation", "test"):
        rows = [row for c in corpora for row in answers(c, split)]
        conf = [model.confidence(f) for f, _ in rows]
        for name, count, mean, share in reliability(conf, [r for _, r in rows]):
            lines.append(f"| {split} | {name} | {count} | {mean:.2f} | {share:.2f} |")
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_json_atomic(REPO / "src" / "introdetect" / "data" / CONFIDENCE_FILE, model.to_json())
    if args.write_docs:
        write_docs_block("reliability", text, "Confidence: reliability (bench/train_confidence.py)")


if __name__ == "__main__":
    main()
