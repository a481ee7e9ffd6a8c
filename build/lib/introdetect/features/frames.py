"""STFT frames of a stream of audio, cut exactly where a one-shot ``librosa.stft(center=True)`` would cut them.

``FrameStream`` takes decoded samples as they arrive and hands each batch of complete frames' magnitude
spectra to its sinks, so several consumers (the frame features, the fingerprints) share one FFT of one
decode. Sinks receive (count, n_fft // 2 + 1) float64 magnitudes and nothing else; the stream knows nothing
of what they compute.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.fft

from . import spectral

FRAMES_PER_BLOCK = 256
"""Frames per FFT batch (~12 s at hop 1024): big enough to amortise numpy's call overhead, small enough
(256 × 1025 complex doubles = 4 MB) to stay in cache."""

SpectrumSink = Callable[[np.ndarray], None]


class FrameStream:
    """Feed mono float32 audio with ``push``; call ``finish`` once at the end (it pads like center=True)."""

    def __init__(
        self, n_fft: int, hop_length: int, sinks: Sequence[SpectrumSink], fft_workers: int = 1, double: bool = True
    ) -> None:
        """``double``: FFT in float64, as librosa's (the features need it: in float32 the quietest bins, the
        contrast valleys, lose a few %); matching alone is content with float32 at half the cost."""
        self.n_fft, self.hop_length = n_fft, hop_length
        self._sinks = list(sinks)
        self._fft_workers = fft_workers
        self._window = spectral.hann_window(n_fft).astype(np.float64 if double else np.float32)
        self._pending = np.zeros(n_fft // 2, dtype=np.float32)  # center=True: n_fft/2 zeros before sample 0
        self.samples = 0
        self.frames = 0
        self._finished = False

    def push(self, samples: np.ndarray) -> None:
        """Add the next samples (mono float32)."""
        if self._finished:
            raise RuntimeError("push after finish")
        samples = np.asarray(samples, dtype=np.float32).ravel()
        if samples.size == 0:
            return
        if not np.all(np.isfinite(samples)):
            samples = np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)
        self.samples += samples.size
        self._pending = self._consume(np.concatenate([self._pending, samples]), None)

    def finish(self) -> int:
        """Process the last frames (zero-padded, as center=True does); returns the number of frames."""
        if self._finished:
            raise RuntimeError("finish called twice")
        self._finished = True
        total_frames = 1 + self.samples // self.hop_length
        tail = np.concatenate([self._pending, np.zeros(self.n_fft // 2 + self.n_fft, dtype=np.float32)])
        self._consume(tail, total_frames - self.frames)
        return total_frames

    def _consume(self, buffer: np.ndarray, limit: int | None) -> np.ndarray:
        """Process every complete frame in ``buffer`` (up to ``limit`` frames); return the unconsumed tail."""
        n_fft, hop = self.n_fft, self.hop_length
        ready = 0 if buffer.size < n_fft else 1 + (buffer.size - n_fft) // hop
        if limit is not None:
            ready = min(ready, limit)
        for start in range(0, ready, FRAMES_PER_BLOCK):
            count = min(FRAMES_PER_BLOCK, ready - start)
            segment = buffer[start * hop : (start + count - 1) * hop + n_fft]
            frames = np.lib.stride_tricks.as_strided(
                segment, shape=(count, n_fft), strides=(segment.strides[0] * hop, segment.strides[0]), writeable=False
            )
            magnitude = np.abs(scipy.fft.rfft(frames * self._window, axis=1, workers=self._fft_workers))
            for sink in self._sinks:
                sink(magnitude)
        self.frames += ready
        return buffer[ready * hop :].copy()
