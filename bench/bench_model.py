"""The model's cost: inference of one episode against ffmpeg's decode of it, and the shipped model's training.

    .venv/bin/python bench/bench_model.py --corpus /tmp/corpus-full [--count 20] [--write-docs]

For each of the first COUNT test-split episodes: ffmpeg decoding its 480 s window to float samples (the
decode every detector pays), then, on features already computed, the model's work alone: inputs (resampling,
normalisation), the ONNX network, and decoding its outputs into an answer. Reported as medians and ratios.
The training figures are the shipped model's own record (its meta.json: machine, seconds, epochs).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

import numpy as np
from common import machine, write_docs_block

from introdetect.features.compute import compute_features
from introdetect.media import decode_audio
from introdetect.model.infer import IntroModel
from introdetect.settings import AudioOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    model = IntroModel.load(args.model)
    videos = sorted(p for p in (args.corpus / "test").rglob("*") if p.is_file())[: args.count]
    decode_s, infer_s, network_s = [], [], []
    for v in videos:
        t0 = time.perf_counter()
        samples = decode_audio(v, AudioOptions())
        decode_s.append(time.perf_counter() - t0)
        features = compute_features(samples)
        for _ in range(3):  # best of three: the machine is shared
            t0 = time.perf_counter()
            inputs = model.inputs_of(features, v.stem)
            t1 = time.perf_counter()
            model.answer(inputs, model.raw(inputs))
            t2 = time.perf_counter()
            infer_s.append(t2 - t0)
            network_s.append(t2 - t1)
    d, i, n = (float(np.median(x)) for x in (decode_s, infer_s, network_s))
    training = model.meta["training"]
    text = (
        f"Run {time.strftime('%Y-%m-%d')} on {machine()}; command: `.venv/bin/python bench/bench_model.py "
        f"--corpus {args.corpus} --count {args.count}`; model {model.source}.\n\n"
        "| per episode (480 s window), median | ms | share of the decode |\n|---|---:|---:|\n"
        f"| ffmpeg decode to float samples | {1000 * d:.1f} | 100 % |\n"
        f"| model inference: inputs + ONNX network + answer | {1000 * i:.1f} | {100 * i / d:.1f} % |\n"
        f"| of which the ONNX network and the answer | {1000 * n:.1f} | {100 * n / d:.1f} % |\n\n"
        f"Training of the shipped model (its record): {training['seconds']:.0f} s on {training['machine']}, "
        f"{len(training['history'])} epochs (best {training['best_epoch']}), "
        f"{model.meta['label_statistics']['episodes']} episodes of {model.meta['label_statistics']['series']} series."
    )
    print(text)
    if args.write_docs:
        write_docs_block("bench_model", text, "The model's cost (bench/bench_model.py)")


if __name__ == "__main__":
    main()
