"""Fit the fused answer's confidence on the corpora's validation splits, and check it on their test splits.

    .venv/bin/python bench/train_fused_confidence.py --corpus /tmp/corpus-full --corpus /tmp/corpus-small [--write] [--write-docs]

For every episode of a split: the matcher's answer (seasons as the corpus has them) and the shipped model's,
from one decode (``detect.candidates``), fused by ``fusion.decide``; "right" = both boundaries within 1 s,
or "no intro" where there is none (as for the matcher's own confidence). The fitted weights go to
src/introdetect/data/fused_confidence.json with this command, the date and the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

import numpy as np
from common import machine, write_docs_block

from introdetect.detect import candidates
from introdetect.atomic import write_json_atomic
from introdetect.fusion import FusedConfidence, decide
from introdetect.matching.confidence import reliability
from introdetect.metrics import read_answers

TOLERANCE_S = 1.0


def rows(corpus: Path, split: str) -> list[tuple[object, bool, float]]:
    """(features, right, unfitted confidence) of every episode of the split."""
    manifest = json.loads((corpus / "corpus.json").read_text())
    videos = [corpus / e["file"] for e in manifest["episodes"] if e["split"] == split]
    truth = read_answers(corpus / f"truth_{split}.json")
    found = candidates(videos, workers=2)  # one decode per episode: matcher's and model's answers
    out = []
    for m in found.matched:
        fused, features = decide(m, found.model[m.id])
        t = truth[m.id].intro
        if t is None or fused.intro is None:
            right = t is None and fused.intro is None
        else:
            right = (
                abs(fused.intro.start_s - t.start_s) <= TOLERANCE_S and abs(fused.intro.end_s - t.end_s) <= TOLERANCE_S
            )
        out.append((features, right, fused.confidence if fused.confidence is not None else 0.5))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, action="append", required=True)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    command = "bench/train_fused_confidence.py " + " ".join(f"--corpus {c}" for c in args.corpus)
    valid = [r for c in args.corpus for r in rows(c, "validation")]
    model = FusedConfidence.fit_rows(
        np.array([f.vector() for f, _, _ in valid]),
        [r for _, r, _ in valid],
        {
            "command": f".venv/bin/python {command} --write",
            "machine": machine(),
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "answers": len(valid),
            "right": int(sum(r for _, r, _ in valid)),
        },
    )
    test = [r for c in args.corpus for r in rows(c, "test")]
    lines = [
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}; command: `.venv/bin/python {command}`. "
        f"Fitted on the validation splits ({len(valid)} answers, {sum(r for _, r, _ in valid)} right); "
        f'"right" = both boundaries within ±{TOLERANCE_S:g} s, or no intro where there is none.',
        "",
        "| split | confidence | bin | answers | mean confidence | share right |",
        "|---|---|---|---:|---:|---:|",
    ]
    for split, data in (("validation", valid), ("test", test)):
        fitted = [model.confidence(f) for f, _, _ in data]
        raw = [c for _, _, c in data]
        for name, conf in (("fitted", fitted), ("deciding detector's own", raw)):
            for b, count, mean, share in reliability(conf, [r for _, r, _ in data]):
                lines.append(f"| {split} | {name} | {b} | {count} | {mean:.2f} | {share:.2f} |")
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_json_atomic(REPO / "src" / "introdetect" / "data" / FusedConfidence.FILE, model.to_json())
    if args.write_docs:
        write_docs_block("fused_confidence", text, "Fused confidence: reliability (bench/train_fused_confidence.py)")


if __name__ == "__main__":
    main()
