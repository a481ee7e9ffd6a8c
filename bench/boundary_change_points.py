"""Would refining the model's boundaries to change points of the audio help lone episodes (issue 15, item 5)?
Each lone episode's model answer on the held-out corpus (bench/heldout.py's ``{split}-own-lone.json``), its start
moved to the strongest rise and its end to the strongest fall of a frame feature (RMS in dB, or the MFCC
vector's change) between the second before and the second after, within ±SEARCH_S of the model's boundary;
counted right with both ends within ±1 s of the truth. Features from bench/model_uncertainty.py's cache.

    python bench/boundary_change_points.py --corpus bench/out/corpus-heldout

Measured 2026-12-01 (docs/BENCHMARKS.md): starts moved so go the wrong way on validation; not adopted.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from common import corpus_parser
from model_uncertainty import cached_features

from introdetect.features.episode import EpisodeFeatures
from introdetect.metrics import read_truth

CONTEXT_S = 1.0
"""s of audio each side of a candidate point whose means are compared."""
SEARCHES_S = (1.5, 3.0)
MODES = ("none", "start", "end", "both")


def change_point(features: EpisodeFeatures, t: float, rising: bool, search_s: float, feature: str) -> float:
    """The frame within ±search_s of ``t`` where the mean of ``feature`` changes most between the CONTEXT_S before
    and after (RMS: its rise in dB for a start, its fall for an end; MFCC: the norm of the change)."""
    hop = features.options.hop_length / features.options.sample_rate
    x = np.atleast_2d(features.frames[feature]).astype(np.float64)
    if feature == "rms":
        x = 20 * np.log10(np.maximum(x, 1e-5))
    k = int(CONTEXT_S / hop)
    best, where = -np.inf, t
    for i in range(max(k, int((t - search_s) / hop)), min(x.shape[1] - k, int((t + search_s) / hop))):
        change = x[:, i : i + k].mean(axis=1) - x[:, i - k : i].mean(axis=1)
        score = float(np.linalg.norm(change)) if feature != "rms" else float(change.sum() * (1 if rising else -1))
        if score > best:
            best, where = score, i * hop
    return where


def main() -> None:
    parser = corpus_parser(__doc__.splitlines()[0], "uncertainty")
    parser.add_argument("--predictions", type=Path, default=Path(__file__).resolve().parent / "out" / "heldout")
    args = parser.parse_args()
    print("| split | feature | search ±s | " + " | ".join(f"moved: {m}" for m in MODES) + " |")
    print("|---|---|---|" + "---|" * len(MODES))
    for split in ("validation", "test"):
        truth = read_truth(args.corpus / f"truth_{split}.json")
        answers = json.loads((args.predictions / f"{split}-own-lone.json").read_text(encoding="utf-8"))
        for feature in ("rms", "mfcc"):
            for search in SEARCHES_S:
                right = dict.fromkeys(MODES, 0)
                for vid, row in answers.items():
                    real = truth[vid].intro
                    for mode in MODES:
                        start, end = row.get("start_sec"), row.get("end_sec")
                        if start is None or real is None:
                            right[mode] += start is None and real is None
                            continue
                        features = cached_features(next((args.corpus / split).rglob(f"{vid}.*")), args.out)
                        if mode in ("start", "both"):
                            start = change_point(features, start, True, search, feature)
                        if mode in ("end", "both") and end < features.duration_s - search:
                            end = change_point(features, end, False, search, feature)
                        right[mode] += abs(start - real.start_s) <= 1.0 and abs(end - real.end_s) <= 1.0
                cells = " | ".join(f"{right[m]} of {len(answers)}" for m in MODES)
                print(f"| {split} | {feature} | {search:g} | {cells} |")


if __name__ == "__main__":
    main()
