"""One episode's features: what every feature stage produces and the model reads."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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

    def after(self, offset_s: float) -> EpisodeFeatures:
        """The frames from ``offset_s`` on (rounded down to a whole frame), as if the episode started there; the
        per-episode scalars as they are. Returns the offset kept, in s, with them: ``(features, offset_s)``."""
        hop_s = self.options.hop_length / self.options.sample_rate
        first = max(0, min(self.n_frames, int(offset_s / hop_s + 1e-9)))
        frames = {name: np.ascontiguousarray(v[..., first:]) for name, v in self.frames.items()}
        return replace(self, frames=frames, duration_s=max(0.0, self.duration_s - first * hop_s)), first * hop_s

    def matrix(self, names: list[str] | None = None) -> np.ndarray:
        """Stack the named frame features (all by default) into (rows, n_frames) float32."""
        names = names or list(FRAME_FEATURES)
        return np.vstack([np.atleast_2d(self.frames[name]) for name in names]).astype(np.float32)
