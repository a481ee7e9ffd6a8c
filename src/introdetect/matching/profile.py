"""A compact per-frame description of an episode for matching: loudness and log mel-band energies.

Collected from the same magnitude spectra as the fingerprints (a ``FrameStream`` sink). The bands serve the
frame-by-frame similarity that refines boundaries, and the MFCC / spectral-contrast summaries that the
recurring segments are clustered on; the loudness tells a theme mixed on top from a score cue under dialogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.fft

from ..features import spectral


@lru_cache(maxsize=4)
def _mel_t(sample_rate: int, n_fft: int, bands: int) -> np.ndarray:
    return np.ascontiguousarray(spectral.mel_filterbank(sample_rate, n_fft, bands).T.astype(np.float32))


def quiet_runs(loudness_db: np.ndarray, level: float) -> np.ndarray:
    """(runs, 2) the runs [a, b) of frames under ``level`` dBFS in ``loudness_db`` (indices into it), in order:
    the pauses the boundary rules look for."""
    quiet = np.concatenate([[False], loudness_db < level, [False]])
    return np.flatnonzero(np.diff(quiet.astype(np.int8))).reshape(-1, 2)


@dataclass(frozen=True)
class Profile:
    """(frames, bands) float32 log mel energies in dB (``MatchingOptions.profile_bands``), and (frames,) frame
    loudness in dBFS."""

    log_mel: np.ndarray
    loudness_db: np.ndarray
    frame_rate: float

    @property
    def n_frames(self) -> int:
        return int(self.loudness_db.shape[0])

    def loud_level(self, start: int, end: int, drop_db: float) -> float:
        """``drop_db`` under the loud frames of [start, end) (their 90th percentile, in dBFS): the level at which
        a frame still sounds as that stretch does (its last words, its sting), above a pause's room."""
        return float(np.percentile(self.loudness_db[start:end], 90)) - drop_db

    def episode_level(self, drop_db: float) -> float:
        """``drop_db`` under the episode's loud frames (their 95th percentile, in dBFS; 0 dBFS for no frames):
        frames under it are quiet (``MatchingOptions.silence_db``: room tone and beds sound alike anywhere)."""
        return (float(np.percentile(self.loudness_db, 95)) if self.n_frames else 0.0) - drop_db

    def first_loud(self, start: int, end: int, level: float) -> int | None:
        """The first frame of [start, end) at ``level`` dBFS or louder; None where none is."""
        loud = np.flatnonzero(self.loudness_db[start:end] >= level)
        return start + int(loud[0]) if loud.size else None

    def last_loud(self, start: int, end: int, level: float) -> int | None:
        """The last frame of [start, end) at ``level`` dBFS or louder; None where none is."""
        loud = np.flatnonzero(self.loudness_db[start:end] >= level)
        return start + int(loud[-1]) if loud.size else None

    def mfcc(self, start: int, end: int, n_mfcc: int = 20) -> np.ndarray:
        """(end − start, n_mfcc) MFCC of frames [start, end)."""
        return scipy.fft.dct(self.log_mel[start:end], type=2, norm="ortho", axis=1)[:, :n_mfcc]

    def contrast(self, start: int, end: int, groups: int = 7) -> np.ndarray:
        """(end − start, groups) band contrast: peak minus mean of each of ``groups`` runs of mel bands, in dB."""
        x = self.log_mel[start:end]
        parts = np.array_split(np.arange(x.shape[1]), groups)
        return np.stack([x[:, p].max(axis=1) - x[:, p].mean(axis=1) for p in parts], axis=1)


class ProfileSink:
    """Collects a ``Profile`` from a ``FrameStream``; with ``mel`` False, the loudness alone (its log-mel frames
    empty: a story's, which is matched against and never refined, spares the projection)."""

    def __init__(self, sample_rate: int, n_fft: int, bands: int, mel: bool = True) -> None:
        self.sample_rate, self.n_fft, self.bands = sample_rate, n_fft, bands
        self._mel_t = _mel_t(sample_rate, n_fft, bands) if mel else None
        self._mel: list[np.ndarray] = []
        self._power: list[np.ndarray] = []

    def __call__(self, magnitude: np.ndarray) -> None:
        power = (magnitude * magnitude).astype(np.float32)
        if self._mel_t is not None:
            self._mel.append(power @ self._mel_t)
        # mean-square amplitude of the frame (Parseval, Hann window's power gain 3/8 · n_fft² / 2 for a sine peak)
        self._power.append(2.0 * power.sum(axis=1) / (self.n_fft**2 * 0.375))

    def finish(self, frame_rate: float) -> Profile:
        mel = np.concatenate(self._mel) if self._mel else np.zeros((0, self.bands), np.float32)
        power = np.concatenate(self._power) if self._power else np.zeros(0, np.float32)
        self._mel, self._power = [], []
        log_mel = 10.0 * np.log10(np.maximum(mel, 1e-10))
        return Profile(
            log_mel.astype(np.float32), (10.0 * np.log10(np.maximum(power, 1e-10))).astype(np.float32), frame_rate
        )
