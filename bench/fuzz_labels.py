"""The label reader fuzzed with the tests' hypothesis strategies, at benchmark scale (CI runs a few hundred).

    .venv/bin/python bench/fuzz_labels.py [--examples 10000] [--seed 0]

Every generated file is read by read_labels (each policy; statistics computed) and read_result; the only
acceptable failure is a LabelError whose message is one line naming the file. Prints the outcomes by kind
and the number of crashes (must be 0) for docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]
sys.path.insert(0, str(REPO / "tests"))

from hypothesis import HealthCheck, given, seed, settings
from test_fuzz_labels import RAW, check_label_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    outcomes: Counter = Counter()
    crashes: list[str] = []
    cases = 0

    @seed(args.seed)
    @settings(max_examples=args.examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(RAW)
    def run(data: bytes) -> None:
        nonlocal cases
        cases += 1
        try:
            check_label_bytes(data, outcomes)
        except Exception as exc:  # noqa: BLE001 - counted: the figure this script exists for
            crashes.append(f"{type(exc).__name__}: {exc}"[:200])
            raise

    began = time.perf_counter()
    try:
        run()
    except Exception:  # noqa: BLE001 - hypothesis re-raises the shrunk failure; it is listed below
        pass
    seconds = time.perf_counter() - began
    print(
        f"{cases} generated files ({args.examples} asked, seed {args.seed}), {seconds:.0f} s; crashes: {len(crashes)}"
    )
    for kind, count in sorted(outcomes.items()):
        print(f"  {kind}: {count}")
    for crash in crashes[:10]:
        print(f"  CRASH {crash}")
    sys.exit(1 if crashes else 0)


if __name__ == "__main__":
    main()
