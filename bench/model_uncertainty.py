"""Which way of widening the model's confidence under shift works, measured on the held-out corpus (issue 15, item 3):
the model's own calibrated confidence (Platt scaling on the training corpus's validation split), a temperature
fitted on the held-out validation split (the trust map's form for the model: sigmoid(a · logit(c) + b + c·[no
intro]), fitted here the same way), and Monte Carlo dropout (the network run MC_PASSES times with its dropout
layers on: the share of passes whose answer is the deterministic one, and that share fed to the same fitted map as
a second term). Each lone episode of the validation and test splits, answered by the model alone from its first
480 s (what a lone episode gets); right: both ends within ±1 s, or no intro where there is none.

Per method and split: AUROC (how well the confidence tells right from wrong answers: 0.5 is chance), the
expected calibration error, the answers at >= 0.9 and their share right. Fits on validation, figures on both.
An ensemble is not measured: one model is trained (23 min on 2 cores each); the shipped model is the only one.

    python bench/model_uncertainty.py --corpus bench/out/corpus-heldout [--docs]

Features are cached under --out (one .npz per episode), so a rerun only runs the network.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from common import corpus_parser, machine, write_docs_block

from introdetect.analysis import analyse_episode
from introdetect.features.episode import EpisodeFeatures
from introdetect.features.store import load_features, save_features
from introdetect.matching.confidence import logit
from introdetect.metrics import read_truth, reliability_from
from introdetect.model.infer import IntroModel
from introdetect.model.job import network_of
from introdetect.settings import AudioOptions
from introdetect.timecode import Segment

MC_PASSES = 30
"""Dropout passes per episode: the share agreeing is then known to about ±0.09 (binomial at 0.5), finer than
the reliability bins (0.1)."""
SPLITS = ("validation", "test")
RIGHT_S = 1.0


@dataclass
class Row:
    split: str
    id: str
    confidence: float
    answered: bool
    right: bool
    agreement: float  # share of dropout passes whose answer is the deterministic one (IoU >= 0.5, or both none)
    spread_s: float  # median absolute deviation of the dropout passes' starts and ends, s (0 for no intro)


def cached_features(path: Path, cache: Path) -> EpisodeFeatures:
    """The episode's features of its default head window, computed once and kept under ``cache`` (the project's
    feature files, ``features/store.py``)."""
    file = cache / f"{path.stem}.npz"
    if file.exists():
        return load_features(file)
    features = analyse_episode(path, AudioOptions(), features=True).features
    assert features is not None
    save_features(file, features)
    return features


def _same(a: Segment | None, b: Segment | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and a.iou(b) >= 0.5)


def _right(found: Segment | None, truth: Segment | None) -> bool:
    if truth is None or found is None:
        return truth is None and found is None
    return abs(found.start_s - truth.start_s) <= RIGHT_S and abs(found.end_s - truth.end_s) <= RIGHT_S


def measure(corpus: Path, split: str, cache: Path, model: IntroModel, net, seed: int = 0) -> list[Row]:
    import torch

    truth = read_truth(corpus / f"truth_{split}.json")
    videos = sorted(p for p in (corpus / split).rglob("*") if p.is_file() and p.stem in truth)
    rows = []
    torch.manual_seed(seed)
    for path in videos:
        features = cached_features(path, cache)
        inputs = model.inputs_of(features, path.stem)
        first = model.answer(inputs)
        feed = [torch.from_numpy(x[None]) for x in (inputs.patch, inputs.series, inputs.extra)]
        passes = []
        with torch.no_grad():
            for _ in range(MC_PASSES):
                raw = net(*feed)[0].numpy()
                passes.append(model.answer(inputs, raw).intro)
        agree = float(np.mean([_same(p, first.intro) for p in passes]))
        spans = [p for p in passes if p is not None]
        spread = 0.0
        if first.intro is not None and spans:
            starts = np.array([p.start_s for p in spans])
            ends = np.array([p.end_s for p in spans])
            spread = float(
                max(np.median(np.abs(starts - first.intro.start_s)), np.median(np.abs(ends - first.intro.end_s)))
            )
        real = truth[path.stem].intro
        rows.append(
            Row(
                split,
                path.stem,
                float(first.confidence),
                first.intro is not None,
                bool(_right(first.intro, real)),
                agree,
                spread,
            )
        )
    return rows


def _auroc(scores: list[float], right: list[bool]) -> float:
    pos = [s for s, r in zip(scores, right) if r]
    neg = [s for s, r in zip(scores, right) if not r]
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def _design(rows: list[Row], terms: str) -> np.ndarray:
    cols = [[logit(r.confidence), 0.0 if r.answered else 1.0] for r in rows]
    if "mc" in terms:
        cols = [c + [logit(min(max(r.agreement, 0.02), 0.98)), np.log1p(r.spread_s)] for c, r in zip(cols, rows)]
    return np.array(cols)


def main() -> None:
    parser = corpus_parser(__doc__.splitlines()[0], "uncertainty")
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression

    args.out.mkdir(parents=True, exist_ok=True)
    model = IntroModel.load()
    net = network_of(model.file)
    for m in net.modules():  # dropout on, everything else (batch norm) as in inference
        if m.__class__.__name__ == "Dropout":
            m.train()
    began = time.perf_counter()
    rows = {s: measure(args.corpus, s, args.out, model, net) for s in SPLITS}
    seconds = time.perf_counter() - began
    fits = {}
    for terms in ("temperature", "temperature+mc"):
        y = np.array([r.right for r in rows["validation"]])
        fits[terms] = LogisticRegression(C=1.0, max_iter=1000).fit(_design(rows["validation"], terms), y)

    def scored(name: str, rs: list[Row]) -> list[float]:
        if name == "own":
            return [r.confidence for r in rs]
        if name == "mc agreement":
            return [r.agreement for r in rs]
        return list(fits[name].predict_proba(_design(rs, name))[:, 1])

    lines = [
        "| split | confidence | answers | right | AUROC | ECE | at ≥ 0.9 | right there |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for split in SPLITS:
        rs = rows[split]
        right = [r.right for r in rs]
        for name in ("own", "temperature", "mc agreement", "temperature+mc"):
            conf = scored(name, rs)
            rel = reliability_from(conf, right)
            there = f"{rel.sure_right:.2f}" if rel.sure else "–"
            lines.append(
                f"| {split} | {name} | {len(rs)} | {sum(right)} | {_auroc(conf, right):.2f} | {rel.ece:.3f} | "
                f"{rel.sure} | {there} |"
            )
    coefficients = {k: [round(float(v), 3) for v in (*f.coef_[0], f.intercept_[0])] for k, f in fits.items()}
    note = (
        f"Fitted on validation (coefficients of logit(c), [no intro], then logit(agreement), log1p(spread s); "
        f"intercept last): {json.dumps(coefficients)}. {MC_PASSES} dropout passes per episode; "
        f"{seconds:.0f} s for {sum(len(r) for r in rows.values())} episodes (features from --out's cache where there)."
    )
    lines += ["", note]
    text = "\n".join(lines) + "\n"
    print(text)
    (args.out / "rows.json").write_text(json.dumps({s: [r.__dict__ for r in rs] for s, rs in rows.items()}, indent=1))
    if args.docs:
        head = f"`python bench/model_uncertainty.py --corpus {args.corpus} --docs` ({date.today()}, {machine()}):\n\n"
        write_docs_block("model-uncertainty", head + text, "The model's uncertainty under shift (issue 15)")


if __name__ == "__main__":
    main()
