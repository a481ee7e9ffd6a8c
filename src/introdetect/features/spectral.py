"""The spectral building blocks of the features: filterbanks, the dB scale, MFCC, contrast bands.

Each follows librosa 0.11 (named beside each function); ``stream.py`` applies them block by block, and
``tests/test_features.py`` checks the resulting features against librosa itself.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft

AMIN = 1e-10  # floor of power before the logarithm (librosa.power_to_db's amin)
TOP_DB = 80.0  # dynamic range kept by power_to_db below the loudest value (librosa's default)
TINY32 = np.finfo(np.float32).tiny


@lru_cache(maxsize=8)
def hann_window(n_fft: int) -> np.ndarray:
    """The periodic Hann window of ``n_fft`` samples (scipy.signal.get_window("hann", n_fft), librosa's STFT
    window), written out: importing scipy.signal costs a command ~0.7 s of start-up in every process."""
    if n_fft == 1:
        return np.ones(1)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)


def fft_frequencies(sample_rate: int, n_fft: int) -> np.ndarray:
    return np.fft.rfftfreq(n_fft, 1.0 / sample_rate)


def _hz_to_mel(freqs: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa.hz_to_mel(htk=False)): linear below 1 kHz, logarithmic above."""
    freqs = np.asanyarray(freqs, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = freqs / f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    above = freqs >= min_log_hz
    mels[above] = min_log_mel + np.log(freqs[above] / min_log_hz) / logstep
    return mels


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    mels = np.asanyarray(mels, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * mels
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    above = mels >= min_log_mel
    freqs[above] = min_log_hz * np.exp(logstep * (mels[above] - min_log_mel))
    return freqs


@lru_cache(maxsize=8)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """librosa.filters.mel(sr, n_fft, n_mels, fmin=0, fmax=sr/2, htk=False, norm="slaney"): (n_mels, n_bins)."""
    fftfreqs = fft_frequencies(sample_rate, n_fft)
    mel_f = _mel_to_hz(
        np.linspace(_hz_to_mel(np.array([0.0]))[0], _hz_to_mel(np.array([sample_rate / 2.0]))[0], n_mels + 2)
    )
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    weights.flags.writeable = False
    return weights.astype(np.float32)


def power_to_db(power: np.ndarray, top_db: float | None = TOP_DB) -> np.ndarray:
    """librosa.power_to_db(ref=1.0, amin=1e-10, top_db=80): clipped to ``top_db`` below the array's maximum."""
    log_spec = 10.0 * np.log10(np.maximum(AMIN, power))
    if top_db is not None and log_spec.size:
        log_spec = np.maximum(log_spec, log_spec.max() - top_db)
    return log_spec


def mfcc(log_mel_db: np.ndarray, n_mfcc: int) -> np.ndarray:
    """librosa.feature.mfcc(S=log_mel_db, n_mfcc, dct_type=2, norm="ortho"): (n_mfcc, n_frames)."""
    return scipy.fft.dct(log_mel_db, type=2, axis=0, norm="ortho")[:n_mfcc].astype(np.float32)


@lru_cache(maxsize=8)
def contrast_bands(
    sample_rate: int, n_fft: int, n_bands: int, fmin: float, quantile: float = 0.02
) -> tuple[tuple[int, int, int], ...]:
    """(first bin, end bin, bins averaged) of each octave band, as librosa.feature.spectral_contrast cuts them.

    A band's edges overlap its neighbour's by one bin, the top band runs to Nyquist, and peak and valley
    are the means of the top and bottom ``quantile`` of its bins (at least one).
    """
    freq = fft_frequencies(sample_rate, n_fft)
    octa = np.zeros(n_bands + 2)
    octa[1:] = fmin * (2.0 ** np.arange(0, n_bands + 1))
    bands = []
    for k, (f_low, f_high) in enumerate(zip(octa[:-1], octa[1:])):
        band = (freq >= f_low) & (freq <= f_high)
        idx = np.flatnonzero(band)
        if k > 0:
            band[idx[0] - 1] = True
        if k == n_bands:
            band[idx[-1] + 1 :] = True
        rows = np.flatnonzero(band)
        if k < n_bands:
            rows = rows[:-1]
        count = max(int(np.rint(quantile * np.sum(band))), 1)
        bands.append((int(rows[0]), int(rows[-1]) + 1, count))
    return tuple(bands)


def band_peaks_valleys(frames: np.ndarray, bands: tuple[tuple[int, int, int], ...]) -> tuple[np.ndarray, np.ndarray]:
    """Peak and valley magnitude of each band for frame-major magnitudes (n_frames, n_bins).

    np.partition finds the extremes without sorting whole bands; with one bin, min and max suffice.
    """
    peak = np.empty((frames.shape[0], len(bands)))
    valley = np.empty_like(peak)
    for k, (lo, hi, count) in enumerate(bands):
        sub = frames[:, lo:hi]
        if count == 1:
            valley[:, k] = sub.min(axis=1)
            peak[:, k] = sub.max(axis=1)
        else:
            part = np.partition(sub, (count - 1, sub.shape[1] - count), axis=1)
            valley[:, k] = part[:, :count].mean(axis=1)
            peak[:, k] = part[:, -count:].mean(axis=1)
    return peak, valley


@lru_cache(maxsize=8)
def chroma_filterbank(sample_rate: int, n_fft: int, n_chroma: int = 12, tuning: float = 0.0) -> np.ndarray:
    """librosa.filters.chroma(sr, n_fft, n_chroma, tuning, ctroct=5, octwidth=2, norm=2, base_c=True)."""
    frequencies = np.linspace(0, sample_rate, n_fft, endpoint=False)[1:]
    a440 = 440.0 * 2.0 ** (tuning / n_chroma)
    frqbins = n_chroma * np.log2(frequencies / (a440 / 16))
    frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))
    binwidthbins = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1]))
    d = np.subtract.outer(frqbins, np.arange(0, n_chroma, dtype="d")).T
    n_chroma2 = np.round(float(n_chroma) / 2)
    d = np.remainder(d + n_chroma2 + 10 * n_chroma, n_chroma) - n_chroma2
    wts = np.exp(-0.5 * (2 * d / np.tile(binwidthbins, (n_chroma, 1))) ** 2)
    wts /= np.maximum(np.sqrt(np.sum(wts**2, axis=0, keepdims=True)), np.finfo(float).tiny)
    wts *= np.tile(np.exp(-0.5 * (((frqbins / n_chroma - 5.0) / 2.0) ** 2)), (n_chroma, 1))
    wts = np.roll(wts, -3 * (n_chroma // 12), axis=0)
    return np.ascontiguousarray(wts[:, : int(1 + n_fft / 2)], dtype=np.float32)
