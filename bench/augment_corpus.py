"""Render acoustic variants of a corpus's train split for training (``introdetect_eval.corpus.augment``): each
episode's head as another release would sound (codec and bitrate, EQ, reverb, compression, a noise bed, level,
±4 % speed), its truth scaled with the speed.

    .venv/bin/python bench/augment_corpus.py --corpus bench/out/corpus-full --out bench/out/corpus-full-variants
    .venv/bin/python bench/train_default.py ... --variants bench/out/corpus-full-variants

Only train splits: the variants teach; early stopping, calibration and every figure stay on the corpora as built.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

from common import refuse_heldout_packages
from introdetect_eval.corpus.augment import augment_split

from introdetect.runner import RichProgress


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--variants", type=int, default=1, help="variants per episode")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    refuse_heldout_packages(args.corpus, "train")
    with RichProgress() as hook:
        failed = augment_split(
            args.corpus, "train", args.out, args.variants, seed=args.seed, workers=args.workers, progress=hook
        )
    for failure in failed:
        print(f"failed: {failure.message}", file=sys.stderr)
    if failed:
        raise SystemExit(f"{len(failed)} variants failed (the others are written)")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
