"""Reliability of any prediction file's confidences: answers per confidence bin, their mean confidence and
the share that is right (both boundaries within ±1 s, or "no intro" where there is none).

    .venv/bin/python bench/reliability.py PREDICTIONS.json TRUTH.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

from introdetect.matching.confidence import reliability  # noqa: E402
from introdetect.metrics import read_truth  # noqa: E402
from introdetect.result import read_result  # noqa: E402

TOLERANCE_S = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("predictions", type=Path)
    parser.add_argument("truth", type=Path)
    args = parser.parse_args()
    found, truth = {d.id: d for d in read_result(args.predictions)}, read_truth(args.truth)
    confidences, right = [], []
    for vid, t in truth.items():
        a = found.get(vid)
        if a is None or a.part().confidence is None:
            continue
        if t.intro is None or a.intro is None:
            ok = t.intro is None and a.intro is None
        else:
            ok = (
                abs(a.intro.start_s - t.intro.start_s) <= TOLERANCE_S
                and abs(a.intro.end_s - t.intro.end_s) <= TOLERANCE_S
            )
        confidences.append(a.part().confidence)
        right.append(ok)
    print(f"`.venv/bin/python bench/reliability.py {args.predictions} {args.truth}`: {len(right)} answers")
    print("\n| confidence | answers | mean confidence | share right |\n|---|---:|---:|---:|")
    for name, count, mean, share in reliability(confidences, right):
        print(f"| {name} | {count} | {mean:.2f} | {share:.2f} |")


if __name__ == "__main__":
    main()
