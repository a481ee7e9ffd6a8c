"""Which features earn their place, and at what cost: the design's "feature analysis and optimisation" step.

    .venv/bin/python bench/model_study.py --corpus /tmp/corpus-full [--epochs 10] [--only auc,ablation,sweep]
    .venv/bin/python bench/model_study.py --corpus /tmp/corpus-full --write-docs   # tables + plot → docs/MODEL.md

1. Single-feature informativeness on the train split's windows: each input row averaged over a window, its
   ROC AUC for "intro window" (folded: max(AUC, 1 − AUC)) and its mutual information with the label.
2. Ablations (hold-out: fit on the train split, early stopping on validation, scored on validation): the
   model without each feature group.
3. Sweeps: STFT hop 512 / 1024 / 2048 (features recomputed), windows of 10 / 20 s (step half the window),
   wider filters and LSTM, a lighter boundary weight: accuracy against the cost of features, training and
   inference. (5 s windows need a 2.5 s step, 20 frames at 8 Hz, not a whole number of pooled frames; they
   and a 16 Hz model frame rate were left out for time.)

Every run's figures are kept in bench/out/model_study/*.json, so an interrupted study resumes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

import numpy as np
from common import machine

from introdetect.labels import read_labels
from introdetect.model import job
from introdetect.model.inputs import EXTRA, FEATURE_GROUPS, SERIES_FEATURES, InputOptions
from introdetect.model.train import TrainOptions
from introdetect.settings import FeatureOptions

OUT = REPO / "bench" / "out" / "model_study"
ROW_GROUPS = {
    **{f"mfcc_{i}": "mfcc" for i in range(20)},
    **{f"contrast_{i}": "contrast" for i in range(7)},
    "rms": "loudness (RMS)",
    "centroid": "spectral centroid",
    "bandwidth": "spectral spread",
    "flatness": "spectral flatness",
    "onset": "onset strength",
    "tempo_local": "tempo",
    "beats": "beats",
    "repetition": "repetition",
    **{f"chroma_{i}": "chroma" for i in range(12)},
    "tempo_bpm": "tempo",
    "beat_interval_cv": "beat variation",
    "repetition_mean": "repetition",
    "position": "position",
}


def load(corpus: Path, split: str, cache: Path, inputs: InputOptions, features: FeatureOptions | None = None):
    labels = read_labels(corpus / f"truth_{split}.json", policy="skip")
    videos = sorted(p for p in (corpus / split).rglob("*") if p.is_file())
    return job.prepare(labels, videos, inputs, cache, workers=2, features=features)


def auc_table(train) -> list[dict]:
    from sklearn.feature_selection import mutual_info_classif
    from sklearn.metrics import roc_auc_score

    names = [f"mfcc_{i}" for i in range(20)] + [f"contrast_{i}" for i in range(7)]
    names += list(SERIES_FEATURES[:-1]) + [f"chroma_{i}" for i in range(12)] + list(EXTRA)
    rows, labels = [], []
    for e in train.episodes:
        step = e.patch.shape[1] // (e.n_windows + 1)
        frames = np.vstack([e.patch, e.series])
        for w in range(e.n_windows):
            rows.append(np.concatenate([frames[:, w * step : (w + 2) * step].mean(axis=1), e.extra[w]]))
        labels.append(e.targets["label"])
    x, y = np.array(rows), np.concatenate(labels)
    mi = mutual_info_classif(x, y, random_state=0)
    table = []
    for i, name in enumerate(names):
        auc = roc_auc_score(y, x[:, i])
        table.append({"row": name, "group": ROW_GROUPS[name], "auc": max(auc, 1 - auc), "mi": float(mi[i])})
    return table


def score_run(
    name: str,
    train,
    valid,
    inputs: InputOptions,
    epochs: int,
    shift: bool = True,
    boundary_weight: float = 10.0,
    **dims,
) -> dict:
    path = OUT / f"{name}.json"
    if path.exists():
        return json.loads(path.read_text())
    began = time.perf_counter()
    options = TrainOptions(epochs=epochs, patience=4, shift=shift, boundary_weight=boundary_weight)
    report = job.train_model(train, inputs, options, valid=valid, **dims)
    seconds = time.perf_counter() - began
    from introdetect.model.file import finite
    from introdetect.model.infer import IntroModel

    model = IntroModel(report.model)
    eps = [model.normaliser.apply(e, inputs.drop) for e in valid.episodes[:10]]
    t0 = time.perf_counter()
    for e in eps:
        model.raw(e)
    infer_ms = 1000 * (time.perf_counter() - t0) / len(eps)
    best_loss = min(h["val_loss"] for h in report.fitted.history)
    result = finite(
        {
            "name": name,
            **report.validation,
            "val_loss": best_loss,
            "train_s": seconds,
            "epochs": len(report.fitted.history),
            "best_epoch": report.fitted.best_epoch,
            "infer_ms": infer_ms,
            "inputs": inputs.to_json(),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1))
    print(name, {k: result[k] for k in ("detection_f1", "median_boundary_error_s", "window_f1", "train_s")}, flush=True)
    return result


def feature_seconds(corpus: Path, hop: int, count: int = 6) -> float:
    """Seconds per episode to decode and compute every feature at this hop (one process, first ``count`` episodes)."""
    from introdetect.features.stream import FeatureAccumulator, decoding_alongside
    from introdetect.media import stream_audio
    from introdetect.settings import AudioOptions

    videos = sorted(p for p in (corpus / "validation").rglob("*") if p.is_file())[:count]
    began = time.perf_counter()
    for v in videos:
        acc = FeatureAccumulator(FeatureOptions(hop_length=hop))
        with decoding_alongside():
            for block in stream_audio(v, AudioOptions()):
                acc.push(block)
        acc.finish()
    return (time.perf_counter() - began) / len(videos)


def run(args) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    base = InputOptions()
    cache = args.cache
    train, valid = load(args.corpus, "train", cache, base), load(args.corpus, "validation", cache, base)
    if "auc" in args.only and not (OUT / "auc.json").exists():
        (OUT / "auc.json").write_text(json.dumps(auc_table(train), indent=1))
        print("auc table written", flush=True)
    if "ablation" in args.only:
        score_run("all", train, valid, base, args.epochs)
        score_run("no-shift-augmentation", train, valid, base, args.epochs, shift=False)
        for group in FEATURE_GROUPS:
            inputs = InputOptions(drop=(group,))
            score_run(f"without-{group}", train, valid, inputs, args.epochs)
    if "sweep" in args.only:
        score_run("wide-32-64-128-lstm128", train, valid, base, args.epochs, channels=(32, 64, 128), lstm_units=128)
        score_run("boundary-weight-3", train, valid, base, args.epochs, boundary_weight=3.0)
        for rate, length in ((8.0, 20.0),):
            inputs = InputOptions(frame_rate_hz=rate, window_length_s=length, window_step_s=length / 2)
            t, v = load(args.corpus, "train", cache, inputs), load(args.corpus, "validation", cache, inputs)
            score_run(f"rate{rate:g}-window{length:g}", t, v, inputs, args.epochs)
        for hop in (512, 2048):
            features = FeatureOptions(hop_length=hop)
            hop_cache = cache.parent / f"hop{hop}"
            t = load(args.corpus, "train", hop_cache, base, features)
            v = load(args.corpus, "validation", hop_cache, base, features)
            score_run(f"hop{hop}", t, v, base, args.epochs)
        costs = OUT / "feature_cost.json"
        if not costs.exists():
            costs.write_text(json.dumps({str(h): feature_seconds(args.corpus, h) for h in (512, 1024, 2048)}))


def write_docs(args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    auc = json.loads((OUT / "auc.json").read_text())
    groups: dict[str, list[dict]] = {}
    for row in auc:
        groups.setdefault(row["group"], []).append(row)
    lines = [
        "| feature (design's name) | rows | best single-row AUC | mean AUC | summed MI (nats) |",
        "|---|---:|---:|---:|---:|",
    ]
    order = sorted(groups, key=lambda g: -max(r["auc"] for r in groups[g]))
    for g in order:
        rs = groups[g]
        lines.append(
            f"| {g} | {len(rs)} | {max(r['auc'] for r in rs):.3f} | {np.mean([r['auc'] for r in rs]):.3f} | "
            f"{sum(r['mi'] for r in rs):.3f} |"
        )
    auc_md = "\n".join(lines)
    runs = {p.stem: json.loads(p.read_text()) for p in OUT.glob("*.json") if p.stem not in ("auc", "feature_cost")}
    cols = ("val_loss", "detection_f1", "median_boundary_error_s", "within_1s", "window_f1", "start_mae_s", "end_mae_s")
    head = (
        "| run | best validation loss | detection F1 | median boundary error (s) | within ±1 s | window F1 (head) | "
        "start MAE (s) | end MAE (s) | epochs | train (s) | inference (ms/episode) |"
    )
    ab = [head, "|---|" + "---:|" * 10]
    names = ["all", "no-shift-augmentation", *[f"without-{g}" for g in FEATURE_GROUPS]]
    for n in [n for n in names if n in runs]:
        r = runs[n]
        ab.append(
            f"| {n} | "
            + " | ".join(f"{r[c]:.3f}" if r.get(c) is not None else "–" for c in cols)
            + f" | {r['epochs']} | {r['train_s']:.0f} | {r['infer_ms']:.1f} |"
        )
    sw = [head, "|---|" + "---:|" * 10]
    costs = json.loads((OUT / "feature_cost.json").read_text()) if (OUT / "feature_cost.json").exists() else {}
    for n in ["all", "hop512", "hop2048", "rate8-window20", "wide-32-64-128-lstm128", "boundary-weight-3"]:
        if n in runs:
            r = runs[n]
            label = {"all": "hop 1024, 8 Hz, 10 s / 5 s, filters 32-32-64, LSTM 64, weight 10 (default)"}.get(n, n)
            sw.append(
                f"| {label} | "
                + " | ".join(f"{r[c]:.3f}" if r.get(c) is not None else "–" for c in cols)
                + f" | {r['epochs']} | {r['train_s']:.0f} | {r['infer_ms']:.1f} |"
            )
    cost_md = ", ".join(f"hop {h}: {s:.2f} s" for h, s in costs.items())
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=110)
    best = [max(r["auc"] for r in groups[g]) for g in order]
    axes[0].barh(order[::-1], best[::-1], color="tab:blue")
    axes[0].set_xlim(0.5, 1.0)
    axes[0].set_xlabel("best single-row ROC AUC (intro window vs other), train split")
    ablated = [n for n in names[2:] if n in runs]
    if "all" in runs and ablated:
        base = runs["all"]["detection_f1"]
        axes[1].barh(
            [n.replace("without-", "− ") for n in ablated][::-1],
            [runs[n]["detection_f1"] - base for n in ablated][::-1],
            color="tab:orange",
        )
        axes[1].axvline(0, color="black", lw=0.8)
        axes[1].set_xlabel(f"detection F1 change without the group (all: {base:.3f}), validation split")
    fig.tight_layout()
    fig.savefig(REPO / "docs" / "model_features.png")
    text = (
        f"Machine: {machine()}. Command: `.venv/bin/python bench/model_study.py --corpus {args.corpus} "
        f"--epochs {args.epochs}` then `--write-docs`, {time.strftime('%Y-%m-%d')}.\n\n"
        f"### Single-feature informativeness (train split windows)\n\n{auc_md}\n\n"
        f"### Ablations (fit on train, early stopping and scoring on validation; at most {args.epochs} epochs)\n\n"
        + "\n".join(ab)
        + "\n\n### Sweeps (same protocol)\n\n"
        + "\n".join(sw)
        + (f"\n\nDecode + every feature, seconds per 480 s episode (one process): {cost_md}." if cost_md else "")
        + "\n\n![feature informativeness and ablations](model_features.png)\n"
    )
    docs = REPO / "docs" / "MODEL.md"
    doc = docs.read_text(encoding="utf-8")
    begin, end = "<!-- study:begin -->", "<!-- study:end -->"
    doc = doc[: doc.index(begin) + len(begin)] + "\n" + text + doc[doc.index(end) :]
    docs.write_text(doc, encoding="utf-8")
    print(f"updated {docs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/feat-full/all"), help="feature cache (hop 1024)")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--only", default="auc,ablation,sweep")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if args.write_docs:
        write_docs(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
