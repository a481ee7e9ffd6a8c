"""All frame and scalar features of one episode from one STFT."""

from __future__ import annotations

import numpy as np

from ..settings import FeatureOptions
from .episode import FRAME_FEATURES, SCALAR_FEATURES, EpisodeFeatures, feature_rows, row_names
from .stream import FeatureAccumulator

__all__ = ["FRAME_FEATURES", "SCALAR_FEATURES", "EpisodeFeatures", "compute_features", "feature_rows", "row_names"]


def compute_features(y: np.ndarray, options: FeatureOptions | None = None, fft_workers: int = -1) -> EpisodeFeatures:
    """Compute every feature of one episode's mono audio ``y`` (float32 at ``options.sample_rate``).

    The same code path as streaming (``FeatureAccumulator``), fed the whole signal at once.
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected mono audio of shape (n_samples,), got {y.shape}")
    accumulator = FeatureAccumulator(options, fft_workers=fft_workers)
    accumulator.push(y)
    return accumulator.finish()
