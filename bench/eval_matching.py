"""Quick loop for developing the matcher: detect on a corpus split from cached analyses, score, list misses.

    .venv/bin/python bench/eval_matching.py --corpus bench/out/corpus-full --split validation [--scorer F]

Analyses are cached under bench/out/prints-* (bench/common.py), so a rerun costs only the matching.
The benchmark of record, with costs measured end to end, is bench/run.py.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

from common import corpus_prints

from introdetect.detectors import RecurringDetector
from introdetect.matching.confidence import ConfidenceModel
from introdetect.matching.scoring import MotifScorer
from introdetect.metrics import evaluate, read_truth
from introdetect.result import Detection


def detections(corpus: Path, split: str, scorer: MotifScorer) -> dict[str, Detection]:
    prints, episodes = corpus_prints(corpus, split)
    by_series = defaultdict(list)
    for e in episodes:
        by_series[e["series"]].append(e["id"])
    detector = RecurringDetector(scorer, ConfidenceModel.load())
    result = {}
    for series, ids in sorted(by_series.items()):
        ids = sorted(ids)
        for vid, [c] in zip(ids, detector.detect_series(series, [prints[i] for i in ids]), strict=True):
            result[vid] = Detection(vid, (c.as_part(),), series)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO / "bench" / "out" / "corpus-full")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--scorer", type=Path)
    parser.add_argument("--tolerance", type=float, default=1.0)
    args = parser.parse_args()
    scorer = MotifScorer.load(args.scorer)
    found = detections(args.corpus, args.split, scorer)
    truth = read_truth(args.corpus / f"truth_{args.split}.json")
    ev = evaluate(found, truth)
    for name, fig in [("overall", ev.overall), *ev.strata.items()]:
        print(
            f"{name:>22}: n={fig.episodes:3d} F1={fig.f1:.2f} ±0.5s={fig.hits.get('±0.5s', 0):.2f} "
            f"±1s={fig.hits.get('±1s', 0):.2f} start MAE={fig.start_mae_s:.2f} end MAE={fig.end_mae_s:.2f} "
            f"false={fig.false_intro_rate:.2f}"
        )
    import numpy as np

    ds = [
        (found[v].intro.start_s - t.intro.start_s, found[v].intro.end_s - t.intro.end_s)
        for v, t in truth.items()
        if t.intro is not None and v in found and found[v].intro is not None
    ]
    if ds:
        d = np.array(ds)
        print(
            f"signed error: start median {np.median(d[:, 0]):+.2f} s, end median {np.median(d[:, 1]):+.2f} s; "
            f"median |error| of boundaries {np.median(np.abs(d)):.2f} s"
        )
    print("misses (|Δ| > tolerance):")
    for vid, t in sorted(truth.items()):
        d = found.get(vid)
        p = d.intro if d else None
        ok = (t.intro is None and p is None) or (
            t.intro is not None
            and p is not None
            and abs(p.start_s - t.intro.start_s) <= args.tolerance
            and abs(p.end_s - t.intro.end_s) <= args.tolerance
        )
        if not ok:
            print(f"  {vid}: truth {t.intro} got {p} conf {d.part().confidence if d else None} tags {t.tags}")


if __name__ == "__main__":
    main()
