"""Give the shipped model a kinds head: which part (story, ident, recap, intro, credits, preview) each window of
an episode's head and tail lies in, trained on structured corpora's truth with every other weight kept (its intro
answers stay what they were; ``model.job.add_kinds_head``).

    .venv/bin/python bench/train_kinds.py --train out/corpus-heldout-train:train \\
        --train out/corpus-heldout-train-s1:train --valid out/corpus-heldout-train-s2:train

Never a test split, never the held-out corpus's validation split (where the trust map is fitted), never the
reserved packages, never a split that plays a package the held-out corpus holds out (``refuse_heldout_packages``:
the parts corpus draws on every development package, and the shipped head, trained on it on 2026-12-02, heard
two of them; docs/MODEL.md). The held-out corpus's train splits take the nine first packages only; early
stopping on another seed's.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

from common import machine, refuse_heldout_packages

from introdetect.labels import read_labels
from introdetect.model import job
from introdetect.model.file import ModelFile
from introdetect.model.inputs import InputOptions
from introdetect.model.train import TrainOptions
from introdetect.resources import default_model_path
from introdetect.runner import RichProgress


def corpus_data(spec: str, inputs: InputOptions, cache_root: Path) -> job.TrainingData:
    """``CORPUS:SPLIT`` → its episodes with their tails, ids prefixed with the corpus's folder (corpora of one size
    and several seeds reuse episode ids: each keeps its own feature cache)."""
    folder, split = spec.rsplit(":", 1)
    corpus = Path(folder)
    refuse_heldout_packages(corpus, split)
    labels = read_labels(corpus / f"truth_{split}.json", policy="skip")
    videos = sorted(p for p in (corpus / split).rglob("*") if p.is_file())
    with RichProgress() as hook:
        data = job.prepare(
            labels, videos, inputs, cache_root / f"features-{corpus.name}", workers=2, progress=hook, tails=True
        )
    if data.failed:
        raise SystemExit(f"{corpus}: {len(data.failed)} episodes failed: {data.failed[:2]}")
    prefix = f"{corpus.name}-{split}:"
    return job.TrainingData(
        [replace(e, id=prefix + e.id) for e in data.episodes],
        [prefix + s for s in data.series],
        {prefix + k: v for k, v in data.labels.items()},
        tails=[replace(e, id=prefix + e.id) for e in data.tails],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", action="append", required=True, help="CORPUS:SPLIT to learn from")
    parser.add_argument("--valid", action="append", required=True, help="CORPUS:SPLIT for early stopping")
    parser.add_argument("--model", type=Path, default=default_model_path(), help="the model to add the head to")
    parser.add_argument("--out", type=Path, default=REPO / "src" / "introdetect" / "data" / "default.idmodel")
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / "out")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--lr", type=float, default=3e-3)
    args = parser.parse_args()
    model = ModelFile.load(args.model)
    inputs = InputOptions.from_json(model.meta["inputs"])
    train = job.TrainingData.merged([corpus_data(s, inputs, args.cache) for s in args.train])
    valid = job.TrainingData.merged([corpus_data(s, inputs, args.cache) for s in args.valid])
    print(
        f"train: {len(train.episodes)} episodes ({len(train.tails)} tails) of {len(set(train.series))} series; "
        f"validation: {len(valid.episodes)} ({len(valid.tails)} tails) of {len(set(valid.series))}",
        flush=True,
    )
    command = "bench/train_kinds.py " + " ".join(
        [*(f"--train {s}" for s in args.train), *(f"--valid {s}" for s in args.valid)]
    )
    report = job.add_kinds_head(
        model,
        train,
        valid,
        TrainOptions(epochs=args.epochs, lr=args.lr, patience=10),
        source={"command": command, "machine": machine(), "train": args.train, "valid": args.valid},
    )
    report.model.save(args.out)
    figures = {k: round(v, 3) for k, v in report.validation.items() if "kind" in k or k.endswith("window_f1")}
    print(
        f"wrote {args.out}; best epoch {report.fitted.best_epoch}; validation: {figures}; {report.fitted.seconds:.0f} s"
    )


if __name__ == "__main__":
    main()
