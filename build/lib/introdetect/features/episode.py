"""One episode's features: what every feature stage produces and the model reads."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..settings import FeatureOptions

# name → number of rows (1 = a plain series). The order is the order of ``EpisodeFeatures.matrix``.
FRAME_FEATURES: dict[str, int | str] = {
    "mfcc": "n_mfcc",
    "contrast": "contrast_rows",
    "rms": 1,
    "centroid": 1,
    "bandwidth": 1,
    "flatness": 1,
    "chroma": "n_chroma",
    "onset": 1,
    "tempo_local": 1,
    "beats": 1,
    "repetition": 1,
}
SCALAR_FEATURES = ("tempo_bpm", "beat_interval_cv", "repetition_score")


def feature_rows(options: FeatureOptions) -> dict[str, int]:
    sizes = {"n_mfcc": options.n_mfcc, "contrast_rows": options.contrast_bands + 1, "n_chroma": options.n_chroma}
    return {name: (rows if isinstance(rows, int) else sizes[rows]) for name, rows in FRAME_FEATURES.items()}


def row_names(options: FeatureOptions) -> list[str]:
    """One name per row of the stacked matrix: mfcc_0 … mfcc_19, contrast_0 …, rms, …"""
    names: list[str] = []
    for name, rows in feature_rows(options).items():
        names.extend([name] if rows == 1 else [f"{name}_{i}" for i in range(rows)])
    return names


@dataclass(frozen=True)
class EpisodeFeatures:
    """Frame features (each (rows, n_frames) or (n_frames,), float32) and per-episode scalars."""

    frames: dict[str, np.ndarray]
    scalars: dict[str, float]
    options: FeatureOptions = field(default_factory=FeatureOptions)
    duration_s: float = 0.0

    @property
    def n_frames(self) -> int:
        return int(self.frames["rms"].shape[-1])

    @property
    def frame_times(self) -> np.ndarray:
        """Centre time of each frame in seconds (frame i is centred on sample i * hop)."""
        return np.arange(self.n_frames) * (self.options.hop_length / self.options.sample_rate)

    def matrix(self, names: list[str] | None = None) -> np.ndarray:
        """Stack the named frame features (all by default) into (rows, n_frames) float32."""
        names = names or list(FRAME_FEATURES)
        return np.vstack([np.atleast_2d(self.frames[name]) for name in names]).astype(np.float32)
