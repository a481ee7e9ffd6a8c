"""Streaming feature computation: push audio as it is decoded, get every feature at the end.

Work splits in two. Everything that depends on one frame alone (the STFT, mel and chroma projections,
contrast peaks and valleys, RMS, centroid, spread, flatness) is done block by block as audio arrives, so it
runs while ffmpeg is still decoding on the other core. What needs the whole episode (the dB scale clipped
below the episode's loudest frame, onsets, tempo, beats, self-similarity) runs once in ``finish``.
The result is the same as computing on the whole signal at once: frames are cut exactly where a one-shot
``librosa.stft(center=True)`` would cut them.

Internally arrays are frame-major, (n_frames, n_bins), the layout the FFT produces; the features handed
out are (rows, n_frames) as in librosa.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from threadpoolctl import threadpool_limits

from ..settings import FeatureOptions
from . import repetition, rhythm, spectral
from .episode import EpisodeFeatures
from .frames import FrameStream, SpectrumSink


def decoding_alongside():  # noqa: ANN201 - a context manager
    """Limit BLAS to one thread while ffmpeg decodes on the other core: on 2 cores, OpenBLAS's second
    thread only fights ffmpeg for it (measured: one pass 0.93 s with one thread, 1.25 s with two)."""
    return threadpool_limits(limits=1, user_api="blas")


@lru_cache(maxsize=8)
def _tables(sample_rate: int, n_fft: int, n_mels: int, n_chroma: int, bands: int, fmin: float):
    freq = spectral.fft_frequencies(sample_rate, n_fft)
    mel_t = np.ascontiguousarray(spectral.mel_filterbank(sample_rate, n_fft, n_mels).T)
    chroma_t = np.ascontiguousarray(spectral.chroma_filterbank(sample_rate, n_fft, n_chroma).T)
    moments = np.stack([np.ones_like(freq), freq, freq**2], axis=1)  # (bins, 3): sum S, sum S f, sum S f²
    return mel_t, chroma_t, moments, spectral.contrast_bands(sample_rate, n_fft, bands, fmin)


class FeatureAccumulator:
    """Feed mono float32 audio with ``push``; ``finish`` returns the episode's ``EpisodeFeatures``.

    ``spectrum_sinks`` receive the same magnitude spectra the features are made from (e.g. a fingerprinter),
    so that one decode and one FFT serve both.
    """

    def __init__(
        self, options: FeatureOptions | None = None, fft_workers: int = 1, spectrum_sinks: Sequence[SpectrumSink] = ()
    ) -> None:
        self.options = options or FeatureOptions()
        o = self.options
        self._tables = _tables(o.sample_rate, o.n_fft, o.n_mels, o.n_chroma, o.contrast_bands, o.contrast_fmin_hz)
        self._stream = FrameStream(o.n_fft, o.hop_length, [self._frame_block, *spectrum_sinks], fft_workers)
        self._blocks: dict[str, list[np.ndarray]] = {
            k: [] for k in ("mel", "chroma", "peak", "valley", "power_sum", "moments", "flatness")
        }
        self._finished = False

    @property
    def samples(self) -> int:
        return self._stream.samples

    def push(self, samples: np.ndarray) -> None:
        """Add the next samples (mono float32 at the options' rate)."""
        self._stream.push(samples)

    def _frame_block(self, magnitude: np.ndarray) -> None:
        """Frame-local features of a (count, bins) float64 magnitude block."""
        mel_t, chroma_t, moments, bands = self._tables
        power = magnitude * magnitude
        power32 = power.astype(np.float32)
        magnitude32 = magnitude.astype(np.float32)
        b = self._blocks
        b["mel"].append(power32 @ mel_t)  # librosa.feature.melspectrogram(S=power)
        b["chroma"].append(power32 @ chroma_t)  # chroma_stft(S=power, tuning=0) before its max normalisation
        # librosa.feature.rms(S=magnitude): the DC and Nyquist bins count half (no mirror image)
        b["power_sum"].append(power.sum(axis=1) - 0.5 * power[:, 0] - 0.5 * power[:, -1])
        # spectral_centroid / spectral_bandwidth(p=2) need only sum S, sum S·f and sum S·f² per frame
        b["moments"].append(magnitude @ moments)
        # librosa.feature.spectral_flatness(power=2): geometric over arithmetic mean of the power
        thresholded = np.maximum(np.float32(spectral.AMIN), power32)
        gmean = np.exp(np.mean(np.log(thresholded), axis=1, dtype=np.float64))
        b["flatness"].append(gmean / np.mean(thresholded, axis=1, dtype=np.float64))
        peak, valley = spectral.band_peaks_valleys(magnitude32, bands)
        b["peak"].append(peak)
        b["valley"].append(valley)

    def finish(self) -> EpisodeFeatures:
        """Process the last frames (zero-padded, as center=True does) and compute the whole-episode features."""
        if self._finished:
            raise RuntimeError("finish called twice")
        self._finished = True
        o = self.options
        n_fft, hop, sr = o.n_fft, o.hop_length, o.sample_rate
        total_frames = self._stream.finish()

        def stack(name: str) -> np.ndarray:
            return np.concatenate(self._blocks[name], axis=0)

        mel = stack("mel").T  # (n_mels, frames)
        log_mel = spectral.power_to_db(mel)
        mfcc = spectral.mfcc(log_mel, o.n_mfcc)
        chroma_raw = stack("chroma").T
        chroma_peak = chroma_raw.max(axis=0)
        chroma = (chroma_raw / np.where(chroma_peak < spectral.TINY32, 1.0, chroma_peak)).astype(np.float32)
        contrast = (spectral.power_to_db(stack("peak").T) - spectral.power_to_db(stack("valley").T)).astype(np.float32)
        rms = np.sqrt(2.0 * stack("power_sum") / n_fft**2).astype(np.float32)
        s1, sf, sf2 = stack("moments").T
        safe = np.where(s1 < spectral.TINY32, 1.0, s1)
        centroid = sf / safe
        spread = np.sqrt(np.maximum((sf2 - 2.0 * centroid * sf + centroid**2 * s1) / safe, 0.0))
        flatness = stack("flatness").astype(np.float32)

        onset = rhythm.onset_strength(log_mel, n_fft, hop)
        win_length = max(1, math.floor(o.tempo_ac_size_s * sr / hop))
        tempogram = rhythm.tempogram(onset, win_length)
        tempo_bpm = float(rhythm.tempo(tempogram, sr, hop, o.tempo_start_bpm)[0]) if onset.any() else 0.0
        tempo_local = rhythm.tempo(tempogram, sr, hop, o.tempo_start_bpm, per_frame=True).astype(np.float32)
        beat_frames = rhythm.beat_track(onset, tempo_bpm, sr / hop, o.beat_tightness)
        beats = np.zeros(total_frames, dtype=np.float32)
        beats[beat_frames] = 1.0
        similarity_input = np.vstack([_zscore_rows(mfcc[1:]), chroma])
        rep_curve = repetition.repetition_curve(
            similarity_input,
            o.frame_rate,
            o.repetition_block_frames,
            o.repetition_diagonal_blocks,
            o.repetition_min_lag_s,
        )
        frames = {
            "mfcc": mfcc,
            "contrast": contrast,
            "rms": rms,
            "centroid": centroid.astype(np.float32),
            "bandwidth": spread.astype(np.float32),
            "flatness": flatness,
            "chroma": chroma,
            "onset": onset,
            "tempo_local": tempo_local,
            "beats": beats,
            "repetition": rep_curve,
        }
        scalars = {
            "tempo_bpm": tempo_bpm,
            "beat_interval_cv": rhythm.beat_interval_cv(beat_frames),
            "repetition_score": repetition.repetition_score(rep_curve),
        }
        return EpisodeFeatures(frames=frames, scalars=scalars, options=o, duration_s=self._stream.samples / sr)


def _zscore_rows(x: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=1, keepdims=True)
    std = x.std(axis=1, keepdims=True)
    return (x - mean) / np.where(std > 1e-8, std, 1.0)
