"""Chromaprint fingerprints, through the library itself (libchromaprint via pyacoustid's ctypes binding), fed
the samples of the same decode as everything else.

Chromaprint's points (32-bit, one every 4096/3 samples at 11 025 Hz: 0.1238 s) are the alternative to our
landmarks. ``bench/compare_fingerprints.py`` measures which of the two finds short stings better; the
answer (landmarks, see docs/BENCHMARKS.md) is why detect uses landmarks. Points are matched exactly in the
same inverted index; each point is also its own "reach" (it covers one point).
"""

from __future__ import annotations

import numpy as np

SECONDS_PER_POINT = 4096 / 3 / 11_025
"""Chromaprint's default: 4096-sample frames with 2/3 overlap at its internal 11 025 Hz."""


class ChromaprintSink:
    """Push mono float32 audio (any rate: Chromaprint resamples to 11 025 Hz); ``finish`` gives the points."""

    def __init__(self, sample_rate: int) -> None:
        import chromaprint  # pyacoustid's binding; libchromaprint1 comes with Debian's ffmpeg

        self._printer = chromaprint.Fingerprinter()
        self._printer.start(sample_rate, 1)
        self._decode = chromaprint.decode_fingerprint

    def __call__(self, samples: np.ndarray) -> None:
        pcm = np.clip(np.asarray(samples, dtype=np.float32) * 32767.0, -32768, 32767).astype("<i2")
        self._printer.feed(pcm.tobytes())

    def finish(self) -> np.ndarray:
        """(n,) uint32 raw points, one per SECONDS_PER_POINT."""
        points, _ = self._decode(self._printer.finish())
        return np.asarray(points, dtype=np.int64).astype(np.uint32)


def chromaprint_points(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    sink = ChromaprintSink(sample_rate)
    sink(samples)
    return sink.finish()
