"""Fit the fused answer's confidence on the corpora's validation splits, and check it on their test splits.

    .venv/bin/python bench/train_fused_confidence.py --corpus /tmp/corpus-full --corpus /tmp/corpus-small [--write] [--write-docs]

For every episode of a split: the matcher's answer (seasons as the corpus has them) and the shipped model's,
from one decode (``pipeline.candidates``), fused by ``fusion.fuse_intro``; "right" = both boundaries within 1 s,
or "no intro" where there is none (as for the matcher's own confidence). The fitted weights go to
src/introdetect/data/fused_confidence.json with this command, the date and the machine. (``detect`` does not use
them: they came out worse than the deciding detector's own confidence; docs/BENCHMARKS.md.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

from dataclasses import dataclass, fields

import numpy as np
from common import machine, write_docs_block

from introdetect.atomic import write_json_atomic
from introdetect.fusion import AGREE_IOU, fuse_intro
from introdetect.matching.confidence import logit, reliability
from introdetect.matching.logistic import LogisticModel
from introdetect.metrics import read_truth
from introdetect.pipeline import candidates
from introdetect.result import Kind, Method

TOLERANCE_S = 1.0


@dataclass(frozen=True)
class FusionFeatures:
    """What the fused confidence is computed from (one episode)."""

    model_decided: float  # 1 when the model's answer was taken
    answered_intro: float  # 1 when the fused answer is an intro
    matcher_logit: float  # log-odds of the matcher's confidence in its own answer (0 for a lone episode)
    model_logit: float  # log-odds of the model's presence score (intro here vs none)
    agree: float  # 1 when both found an intro and they overlap (IoU ≥ AGREE_IOU)
    lone: float  # 1 when there was nothing to match against

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, f.name) for f in fields(self)], dtype=np.float64)


class FusedConfidence(LogisticModel):
    """P(the fused answer is right) from ``FusionFeatures``."""

    FILE = "fused_confidence.json"
    FEATURES = tuple(f.name for f in fields(FusionFeatures))

    def confidence(self, features: FusionFeatures) -> float:
        return float(self.predict(features.vector())[0])


def fusion_features(given: list, fused) -> FusionFeatures:  # noqa: ANN001 - candidates and the fused part
    matcher = next(c for c in given if c.kind == Kind.INTRO and c.method != Method.MODEL)
    model = next(c for c in given if c.kind == Kind.INTRO and c.method == Method.MODEL)
    lone = matcher.method == Method.UNMATCHED
    presence = model.confidence if model.segment is not None else 1.0 - model.confidence
    agree = (
        matcher.segment is not None and model.segment is not None and matcher.segment.iou(model.segment) >= AGREE_IOU
    )
    return FusionFeatures(
        float(fused.method == Method.MODEL),
        float(fused.segment is not None),
        0.0 if lone else logit(matcher.confidence or 0.0),
        logit(presence),
        float(agree),
        float(lone),
    )


def rows(corpus: Path, split: str) -> list[tuple[object, bool, float]]:
    """(features, right, unfitted confidence) of every episode of the split."""
    manifest = json.loads((corpus / "corpus.json").read_text())
    videos = [corpus / e["file"] for e in manifest["episodes"] if e["split"] == split]
    truth = read_truth(corpus / f"truth_{split}.json")
    found = candidates(videos, workers=2)  # one decode per episode: matcher's and model's answers
    out = []
    for d in found.episodes:
        given = found.found[d.id]
        fused = fuse_intro(given)
        t, answer = truth[d.id].intro, fused.segment
        if t is None or answer is None:
            right = t is None and answer is None
        else:
            right = abs(answer.start_s - t.start_s) <= TOLERANCE_S and abs(answer.end_s - t.end_s) <= TOLERANCE_S
        out.append((fusion_features(given, fused), right, fused.confidence if fused.confidence is not None else 0.5))
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
