"""Train the model shipped in the package, on the train splits of the generated corpora only.

    .venv/bin/python bench/train_default.py --corpus bench/out/corpus-full \\
        --train-only bench/out/corpus-heldout-train --train-only bench/out/corpus-heldout-train-s1 --masks 2

Never the test splits, never the "seen" episodes, never the reserved packages (the corpora use only the
packages in introdetect.corpus.sources), never a corpus drawing on the packages the held-out corpus holds out
(the ``parts`` size draws on them: only the held-out corpus's own train split is clean). Early stopping and
calibration on the corpora's validation splits.
Corpora of several sizes: the full corpus's episodes all outlast the 480 s window, the small and tiny
corpora's often do not (their end credits lie inside it), and a user's episodes can be either. The corpora
reuse episode ids (show01_s01e01 in each), so each corpus keeps its own feature cache and its ids are
prefixed with its folder's name here; ``introdetect train`` does the same job for one label file set.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

from common import machine, refuse_heldout_packages

from introdetect.labels import read_labels
from introdetect.model import job
from introdetect.model.train import TrainOptions
from introdetect.runner import RichProgress


def corpus_data(
    corpus: Path, split: str, inputs: job.InputOptions, cache_root: Path, prefix: str | None = None
) -> job.TrainingData:
    """A corpus's split, ids prefixed with the corpus's folder (or ``prefix``): corpora of one size and several
    seeds reuse episode ids (show01_s01e01 in each), so each folder keeps its own feature cache and its own
    prefix."""
    name = prefix or corpus.name
    if prefix is None:
        refuse_heldout_packages(corpus, split)
    labels = read_labels(corpus / f"truth_{split}.json", policy="skip")
    videos = sorted(p for p in (corpus / split).rglob("*") if p.is_file())
    with RichProgress() as hook:
        data = job.prepare(labels, videos, inputs, cache_root / f"features-{corpus.name}", workers=2, progress=hook)
    if data.failed:
        raise SystemExit(f"{corpus}: {len(data.failed)} episodes failed: {data.failed[:2]}")
    out = job.TrainingData()
    out.episodes = [replace(e, id=f"{name}:{e.id}") for e in data.episodes]
    out.series = [f"{name}:{s}" for s in data.series]
    out.labels = {f"{name}:{k}": v for k, v in data.labels.items()}
    return out


DEFAULT_OUT = REPO / "src" / "introdetect" / "data" / "default.idmodel"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, action="append", required=True)
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="the model file (the shipped one's curve goes to docs/)"
    )
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / "out")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument(
        "--train-only",
        type=Path,
        action="append",
        default=[],
        help="a corpus whose train split only is used (the heldout corpus: its validation split is where the "
        "trust map is fitted, never early stopping)",
    )
    parser.add_argument("--masks", type=int, default=0, help="feature-band and time masks per episode and epoch")
    parser.add_argument(
        "--seed", type=int, default=0, help="the training's draws: initial weights, order, masks, shifts, variants"
    )
    parser.add_argument(
        "--variants",
        type=Path,
        action="append",
        default=[],
        help="acoustic variants of a train split (bench/augment_corpus.py): each epoch sees an episode through one "
        "of its versions",
    )
    args = parser.parse_args()
    inputs = job.InputOptions()
    train = job.TrainingData.merged(
        [corpus_data(c, "train", inputs, args.cache) for c in [*args.corpus, *args.train_only]]
    )
    for folder in args.variants:
        of = Path(json.loads((folder / "corpus.json").read_text())["of"])
        refuse_heldout_packages(of, "train")
        versions = corpus_data(folder, "train", inputs, args.cache, prefix=of.name)
        train.variants += [e for e in versions.episodes if job.variant_of(e.id) in train.labels]
        train.labels.update(versions.labels)
    valid = job.TrainingData.merged([corpus_data(c, "validation", inputs, args.cache) for c in args.corpus])
    print(
        f"train: {len(train.episodes)} episodes of {len(set(train.series))} series ({len(train.variants)} variants); "
        f"validation: {len(valid.episodes)} of {len(set(valid.series))}",
        flush=True,
    )
    command = (
        "bench/train_default.py "
        + " ".join(f"--corpus {c}" for c in args.corpus)
        + "".join(f" --train-only {c}" for c in args.train_only)
        + (f" --masks {args.masks}" if args.masks else "")
        + "".join(f" --variants {v}" for v in args.variants)
        + (f" --seed {args.seed}" if args.seed else "")
    )
    report = job.train_model(
        train,
        inputs,
        TrainOptions(epochs=args.epochs, masks=args.masks, seed=args.seed),
        valid=valid,
        on_epoch=lambda r: print({k: round(v, 4) for k, v in r.items()}, flush=True),
        source={
            "command": command,
            "machine": machine(),
            "corpora": [json.loads((c / "corpus.json").read_text())["size"] for c in [*args.corpus, *args.train_only]],
            "splits": {"train": "train", "validation (early stopping, calibration)": "validation"},
        },
    )
    report.model.save(args.out)
    shipped = args.out.resolve() == DEFAULT_OUT.resolve()
    job.plot_history(
        report.fitted.history,
        REPO / "docs" / "model_training.png" if shipped else args.out.with_suffix(".png"),
        f"default model: best epoch {report.fitted.best_epoch} of {len(report.fitted.history)}",
    )
    print(f"wrote {args.out}; validation: {report.validation}; {report.fitted.seconds:.0f} s")


if __name__ == "__main__":
    main()
