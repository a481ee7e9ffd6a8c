"""Frame features from one shared STFT: pure numpy/scipy functions, arrays in and arrays out.

Each definition follows librosa 0.11 (named beside each function) so that ``tests/test_features.py`` can
check it against librosa itself; the code here avoids librosa's generality (and numba) to stay fast.
Shapes: ``y`` is (n_samples,); spectrograms are (n_bins, n_frames) with n_bins = n_fft // 2 + 1.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft
import scipy.signal

AMIN = 1e-10  # floor of power before the logarithm (librosa.power_to_db's amin)
TOP_DB = 80.0  # dynamic range kept by power_to_db below the loudest value (librosa's default)
TINY32 = np.finfo(np.float32).tiny


def stft_magnitude(y: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    """|STFT| as librosa.stft(center=True, pad_mode="constant", window="hann"): (n_fft//2+1, 1+len(y)//hop).

    Returned in float64 (the precision the FFT ran in), so that the per-frame sums of centroid, spread and
    RMS need no second conversion; callers that want float32 cast once.
    """
    y = np.ascontiguousarray(y, dtype=np.float32)
    padded = np.pad(y, n_fft // 2, mode="constant")
    n_frames = 1 + (padded.size - n_fft) // hop_length
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(n_frames, n_fft), strides=(padded.strides[0] * hop_length, padded.strides[0]), writeable=False
    )
    # float32 samples times a float64 window: the FFT runs in double precision, as librosa's does. In single
    # precision the quietest bins (the valleys of spectral contrast) carry a few per cent of rounding error.
    window = _hann(n_fft)
    spectrum = scipy.fft.rfft(frames * window, axis=1, workers=-1)
    return np.abs(spectrum).T


@lru_cache(maxsize=8)
def _hann(n_fft: int) -> np.ndarray:
    return scipy.signal.get_window("hann", n_fft, fftbins=True)


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
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(np.array([0.0]))[0], _hz_to_mel(np.array([sample_rate / 2.0]))[0], n_mels + 2))
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


def log_mel(power: np.ndarray, sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Log-mel spectrogram in dB: power_to_db(librosa.feature.melspectrogram(S=power)). (n_mels, n_frames)."""
    return power_to_db(mel_filterbank(sample_rate, n_fft, n_mels) @ power)


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


def spectral_contrast(
    magnitude: np.ndarray, sample_rate: int, n_fft: int, n_bands: int, fmin: float, quantile: float = 0.02
) -> np.ndarray:
    """librosa.feature.spectral_contrast(S=magnitude, fmin, n_bands, quantile=0.02): (n_bands+1, n_frames)."""
    bands = contrast_bands(sample_rate, n_fft, n_bands, fmin, quantile)
    peak, valley = band_peaks_valleys(np.ascontiguousarray(magnitude.T, dtype=np.float32), bands)
    return (power_to_db(peak.T) - power_to_db(valley.T)).astype(np.float32)


def rms(power: np.ndarray, n_fft: int) -> np.ndarray:
    """librosa.feature.rms(S=sqrt(power), frame_length=n_fft)[0]: (n_frames,).

    The DC and Nyquist bins count half, as they have no mirror image in the one-sided spectrum.
    """
    total = power.sum(axis=0, dtype=np.float64) - 0.5 * power[0]
    if n_fft % 2 == 0:
        total = total - 0.5 * power[-1]
    return np.sqrt(2.0 * total / n_fft**2).astype(np.float32)


def _l1_columns(magnitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norm = magnitude.sum(axis=0, dtype=np.float64)
    safe = np.where(norm < TINY32, 1.0, norm)
    return norm, safe


def spectral_centroid(magnitude: np.ndarray, sample_rate: int, n_fft: int) -> np.ndarray:
    """librosa.feature.spectral_centroid(S=magnitude)[0] in Hz: (n_frames,)."""
    freq = fft_frequencies(sample_rate, n_fft)
    _, safe = _l1_columns(magnitude)
    return (freq @ magnitude / safe).astype(np.float32)


def spectral_bandwidth(magnitude: np.ndarray, sample_rate: int, n_fft: int, centroid: np.ndarray) -> np.ndarray:
    """librosa.feature.spectral_bandwidth(S=magnitude, p=2)[0] in Hz, the spread around the centroid."""
    freq = fft_frequencies(sample_rate, n_fft)
    _, safe = _l1_columns(magnitude)
    # sum S (f - c)^2 = sum S f^2 - 2 c sum S f + c^2 sum S, all matrix products instead of a (bins, frames) temp
    s_f2 = (freq**2) @ magnitude
    s_f = freq @ magnitude
    s_1 = magnitude.sum(axis=0, dtype=np.float64)
    c = centroid.astype(np.float64)
    second = (s_f2 - 2.0 * c * s_f + c * c * s_1) / safe
    return np.sqrt(np.maximum(second, 0.0)).astype(np.float32)


def spectral_flatness(power: np.ndarray) -> np.ndarray:
    """librosa.feature.spectral_flatness(S=magnitude, power=2)[0]: geometric over arithmetic mean of power."""
    thresholded = np.maximum(np.asarray(AMIN, dtype=power.dtype), power)
    gmean = np.exp(np.mean(np.log(thresholded), axis=0, dtype=np.float64))
    amean = np.mean(thresholded, axis=0, dtype=np.float64)
    return (gmean / amean).astype(np.float32)


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


def chroma(power: np.ndarray, sample_rate: int, n_fft: int, n_chroma: int = 12) -> np.ndarray:
    """librosa.feature.chroma_stft(S=power, tuning=0.0, norm=inf): (n_chroma, n_frames), each frame's max 1.

    Tuning is fixed at A440 rather than estimated per file: estimation would make the same theme's chroma
    differ between episodes that were mastered a few cents apart.
    """
    raw = chroma_filterbank(sample_rate, n_fft, n_chroma) @ power
    peak = raw.max(axis=0)
    return (raw / np.where(peak < TINY32, 1.0, peak)).astype(np.float32)
