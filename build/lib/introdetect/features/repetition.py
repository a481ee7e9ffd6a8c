"""Repetition within an episode, from the self-similarity of its frame features.

The design's "cross-correlation" measure: for each moment, how closely some other moment of the same
episode (at least ``min_lag_s`` away) repeats it, held over ~2 s of diagonal so that a match is a repeated
passage rather than two similar frames. A theme that comes back (in the intro, then under the credits or as
a score cue) scores high. Cross-episode repetition is the matcher's job; this is the one-episode signal.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage


def pool_frames(features: np.ndarray, block: int) -> np.ndarray:
    """Mean over consecutive blocks of ``block`` frames: (dims, n_frames) → (dims, ceil(n_frames / block))."""
    dims, n = features.shape
    n_blocks = -(-n // block)
    padded = np.zeros((dims, n_blocks * block), dtype=np.float64)
    padded[:, :n] = features
    counts = np.full(n_blocks, block, dtype=np.float64)
    counts[-1] = n - (n_blocks - 1) * block
    return padded.reshape(dims, n_blocks, block).sum(axis=2) / counts


def repetition_curve(
    features: np.ndarray, frame_rate: float, block: int, diagonal_blocks: int, min_lag_s: float
) -> np.ndarray:
    """Per-frame repetition in [-1, 1]: the best diagonal-smoothed cosine similarity to another time.

    ``features`` is (dims, n_frames), e.g. z-scored MFCC stacked on chroma. Returns (n_frames,); frames of an
    episode too short to hold any lag of ``min_lag_s`` get 0.
    """
    dims, n = features.shape
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    pooled = pool_frames(features, block)
    norms = np.linalg.norm(pooled, axis=0)
    unit = pooled / np.where(norms > 0, norms, 1.0)
    similarity = unit.T @ unit  # (blocks, blocks) cosine similarity
    if diagonal_blocks > 1:
        kernel = np.eye(diagonal_blocks) / diagonal_blocks
        similarity = scipy.ndimage.convolve(similarity, kernel, mode="nearest")
    n_blocks = similarity.shape[0]
    min_lag = int(np.ceil(min_lag_s * frame_rate / block))
    lags = np.abs(np.subtract.outer(np.arange(n_blocks), np.arange(n_blocks)))
    similarity[lags < min_lag] = -np.inf
    best = similarity.max(axis=1)
    best[~np.isfinite(best)] = 0.0
    return np.repeat(best, block)[:n].astype(np.float32)


def repetition_score(curve: np.ndarray) -> float:
    """One number per episode: the mean of the repetition curve (higher: more of the episode recurs)."""
    return float(np.mean(curve)) if curve.size else float("nan")
