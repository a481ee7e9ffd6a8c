"""Build the evaluation corpus: the same as `introdetect-eval corpus`, kept here beside the benchmarks.

.venv/bin/python bench/corpus.py --size full --out bench/out/corpus-full [--seed 0]
"""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / d) for d in ("src", "eval/src")]

from introdetect_eval.cli import app  # noqa: E402

if __name__ == "__main__":
    app(["corpus", *sys.argv[1:]], prog_name="bench/corpus.py")
