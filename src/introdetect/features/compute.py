"""All frame and scalar features of one episode from one STFT."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..settings import FeatureOptions
from . import repetition, rhythm, spectral

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


def _zscore_rows(x: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=1, keepdims=True)
    std = x.std(axis=1, keepdims=True)
    return (x - mean) / np.where(std > 1e-8, std, 1.0)


def compute_features(y: np.ndarray, options: FeatureOptions | None = None) -> EpisodeFeatures:
    """Compute every feature of one episode's mono audio ``y`` (float32 at ``options.sample_rate``)."""
    options = options or FeatureOptions()
    sr, n_fft, hop = options.sample_rate, options.n_fft, options.hop_length
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected mono audio of shape (n_samples,), got {y.shape}")
    if not np.all(np.isfinite(y)):
        y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)

    magnitude = spectral.stft_magnitude(y, n_fft, hop)
    power = magnitude * magnitude
    log_mel = spectral.log_mel(power, sr, n_fft, options.n_mels)
    mfcc = spectral.mfcc(log_mel, options.n_mfcc)
    centroid = spectral.spectral_centroid(magnitude, sr, n_fft)
    chroma = spectral.chroma(power, sr, n_fft, options.n_chroma)

    onset = rhythm.onset_strength(log_mel, n_fft, hop)
    win_length = max(1, math.floor(options.tempo_ac_size_s * sr / hop))
    tempogram = rhythm.tempogram(onset, win_length)
    tempo_bpm = float(rhythm.tempo(tempogram, sr, hop, options.tempo_start_bpm)[0]) if onset.any() else 0.0
    tempo_local = rhythm.tempo(tempogram, sr, hop, options.tempo_start_bpm, per_frame=True)
    beat_frames = rhythm.beat_track(onset, tempo_bpm, sr / hop, options.beat_tightness)
    beats = np.zeros(magnitude.shape[1], dtype=np.float32)
    beats[beat_frames] = 1.0

    similarity_input = np.vstack([_zscore_rows(mfcc[1:]), chroma])
    rep_curve = repetition.repetition_curve(
        similarity_input,
        options.frame_rate,
        options.repetition_block_frames,
        options.repetition_diagonal_blocks,
        options.repetition_min_lag_s,
    )
    frames = {
        "mfcc": mfcc,
        "contrast": spectral.spectral_contrast(
            magnitude, sr, n_fft, options.contrast_bands, options.contrast_fmin_hz
        ),
        "rms": spectral.rms(magnitude, n_fft),
        "centroid": centroid,
        "bandwidth": spectral.spectral_bandwidth(magnitude, sr, n_fft, centroid),
        "flatness": spectral.spectral_flatness(power),
        "chroma": chroma,
        "onset": onset,
        "tempo_local": tempo_local.astype(np.float32),
        "beats": beats,
        "repetition": rep_curve,
    }
    scalars = {
        "tempo_bpm": tempo_bpm,
        "beat_interval_cv": rhythm.beat_interval_cv(beat_frames),
        "repetition_score": repetition.repetition_score(rep_curve),
    }
    return EpisodeFeatures(frames=frames, scalars=scalars, options=options, duration_s=y.size / sr)
