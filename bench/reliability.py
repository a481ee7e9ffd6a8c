"""Reliability of prediction files' confidences (``introdetect evaluate``'s figures: per method the expected
calibration error, the share right among answers at >= 0.9 and the confidently wrong; an intro is right with
both ends within ±1 s, "no intro" where there is none), and what each --min-confidence would keep: the answers at
or above it and their share right. Written to docs/BENCHMARKS.md ("Trust") with --docs.

    python bench/reliability.py out/parts/parts-test.json:out/corpus-parts/truth_test.json [--docs]
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import numpy as np
from common import machine, write_docs_block

from introdetect.metrics import RELIABILITY_COLUMNS, answer_right, evaluate, read_truth, reliability_rows
from introdetect.result import read_result
from introdetect.settings import DEFAULT_MIN_CONFIDENCE

THRESHOLDS = tuple(sorted({0.5, 0.7, DEFAULT_MIN_CONFIDENCE, 0.9, 0.95, 0.99}))


def block(predictions: Path, truth_path: Path) -> str:
    found, truth = {d.id: d for d in read_result(predictions)}, read_truth(truth_path)
    result = evaluate(found, truth)
    rows = ["| " + " | ".join(RELIABILITY_COLUMNS) + " |", "|" + "---|" * len(RELIABILITY_COLUMNS)]
    rows += ["| " + " | ".join(row) + " |" for row in reliability_rows(result)]
    rated = [(s.confidence, answer_right(s)) for s in result.episodes if s.confidence is not None]
    c = np.array([x for x, _ in rated])
    r = np.array([y for _, y in rated], dtype=float)
    kept = ["| --min-confidence | answers kept | share right |", "|---|---|---|"]
    for t in THRESHOLDS:
        sel = c >= t
        kept.append(
            f"| {t:g} | {int(sel.sum())} of {c.size} | {r[sel].mean():.3f} |" if sel.any() else f"| {t:g} | 0 | – |"
        )
    return f"`{predictions}` against `{truth_path}`:\n\n" + "\n".join(rows) + "\n\n" + "\n".join(kept) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", help="PREDICTIONS.json:TRUTH.json")
    parser.add_argument("--docs", action="store_true", help="write the figures into docs/BENCHMARKS.md")
    args = parser.parse_args()
    parts = [block(*map(Path, pair.split(":", 1))) for pair in args.pairs]
    text = f"`python bench/reliability.py {' '.join(args.pairs)} --docs`, {date.today()}, {machine()}.\n\n" + "\n".join(
        parts
    )
    print(text)
    if args.docs:
        write_docs_block("trust", text, "Trust: the confidence against the share right")


if __name__ == "__main__":
    main()
