"""Fit the motif scorer (which recurring motif is the intro) on the corpus's training series.

    .venv/bin/python bench/train_scorer.py --corpus bench/out/corpus-full [--write]

A motif is labelled "intro" when, in most of its episodes that have an intro, its main region overlaps the
true intro with IoU >= 0.5. The fitted weights go to src/introdetect/data/motif_scorer.json with the
command, corpus and date that made them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

from common import corpus_prints, machine

from introdetect.atomic import write_json_atomic
from introdetect.matching.scoring import FEATURE_NAMES, SCORER_FILE, MotifScorer
from introdetect.matching.series import analyse_series
from introdetect.timecode import Segment


def labelled_motifs(corpus: Path, split: str):
    prints, episodes = corpus_prints(corpus, split)
    by_series = defaultdict(list)
    for e in episodes:
        by_series[e["series"]].append(e)
    rows = []
    for series, eps in sorted(by_series.items()):
        eps.sort(key=lambda e: e["id"])
        analysis = analyse_series([prints[e["id"]] for e in eps], None)
        for motif, features in zip(analysis.motifs, analysis.features, strict=True):
            hits = total = 0
            for k in motif.episodes:
                truth = eps[k]["truth"]
                if truth is None:
                    continue
                total += 1
                r = motif.main_region(k)
                rate = prints[eps[k]["id"]].profile.frame_rate
                hits += Segment(r.start / rate, max(r.end, r.start + 1) / rate).iou(Segment(*truth)) >= 0.5
            rows.append((f"{corpus.name}/{series}", features, total > 0 and hits >= 0.5 * total))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        help="a corpus to learn from (repeatable; default bench/out/corpus-full)",
    )
    parser.add_argument("--split", default="train")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    corpora = args.corpus or [REPO / "bench" / "out" / "corpus-full"]
    rows = [row for corpus in corpora for row in labelled_motifs(corpus, args.split)]
    features = [f for _, f, _ in rows]
    labels = [y for _, _, y in rows]
    print(f"{len(rows)} motifs in {len({s for s, _, _ in rows})} series, {sum(labels)} intros")
    scorer = MotifScorer.fit(
        features,
        labels,
        {
            "command": ".venv/bin/python bench/train_scorer.py "
            + " ".join(f"--corpus {c}" for c in corpora)
            + f" --split {args.split} --write",
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "motifs": len(rows),
            "intros": int(sum(labels)),
        },
    )
    for name, c in zip(FEATURE_NAMES, scorer.coef, strict=True):
        print(f"  {name:>14}: {c:+.3f}")
    p = scorer.probability(features)
    # per series: is the top motif the intro?
    by_series = defaultdict(list)
    for (series, _, y), prob in zip(rows, p, strict=True):
        by_series[series].append((prob, y))
    right = sum(max(v)[1] or (max(v)[0] < 0.5 and not any(y for _, y in v)) for v in by_series.values())
    print(f"top motif right in {right}/{len(by_series)} series (in-sample)")
    if args.write:
        write_json_atomic(REPO / "src" / "introdetect" / "data" / SCORER_FILE, scorer.to_json())
        print("written")


if __name__ == "__main__":
    main()
