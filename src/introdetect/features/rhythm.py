"""Onset strength, tempo and beats from the shared log-mel spectrogram (librosa 0.11 definitions).

Shapes: ``log_mel_db`` is (n_mels, n_frames); envelopes and per-frame series are (n_frames,).
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from .spectral import hann_window


def onset_strength(log_mel_db: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    """librosa.onset.onset_strength(S=log_mel_db, lag=1, max_size=1, aggregate=mean, center=True).

    The mean over mel bands of the positive first difference, shifted so that an onset lands on the frame
    whose window centre it occurs in.
    """
    n_frames = log_mel_db.shape[1]
    diff = np.maximum(0.0, log_mel_db[:, 1:] - log_mel_db[:, :-1]).mean(axis=0)
    pad = 1 + n_fft // (2 * hop_length)
    return np.concatenate([np.zeros(pad), diff])[:n_frames].astype(np.float32)


def tempo_frequencies(n_bins: int, sample_rate: int, hop_length: int) -> np.ndarray:
    """BPM of each autocorrelation lag (lag 0 is infinite tempo)."""
    bpms = np.full(n_bins, np.inf)
    bpms[1:] = 60.0 * sample_rate / (hop_length * np.arange(1.0, n_bins))
    return bpms


def tempogram(onset_env: np.ndarray, win_length: int) -> np.ndarray:
    """librosa.feature.tempogram(onset_envelope, win_length, center=True, window="hann", norm=inf).

    The autocorrelation of the Hann-windowed onset envelope around each frame: (win_length, n_frames).
    """
    n = onset_env.shape[-1]
    # center=True: linear ramps to 0 at both ends, so column t is the envelope around frame t
    padded = np.pad(onset_env.astype(np.float64), win_length // 2, mode="linear_ramp", end_values=(0, 0))
    frames = np.lib.stride_tricks.sliding_window_view(padded, win_length)
    n_pad = scipy.fft.next_fast_len(2 * win_length - 1, real=True)
    out = np.empty((n, win_length))
    window = hann_window(win_length)
    # in chunks: a whole episode at once would zero-pad ~60 MB for the FFT, twice as slow as cache-sized parts
    for start in range(0, n, TEMPOGRAM_CHUNK):
        end = min(start + TEMPOGRAM_CHUNK, n)
        windowed = np.zeros((end - start, n_pad))
        np.multiply(frames[start:end], window, out=windowed[:, :win_length])
        spectrum = scipy.fft.rfft(windowed, axis=1, workers=-1)
        autocorr = scipy.fft.irfft(spectrum.real**2 + spectrum.imag**2, n=n_pad, axis=1, workers=-1)
        autocorr = autocorr[:, :win_length]
        peak = np.max(np.abs(autocorr), axis=1, keepdims=True)
        out[start:end] = autocorr / np.where(peak < np.finfo(np.float64).tiny, 1.0, peak)
    return out.T


TEMPOGRAM_CHUNK = 1024
"""Tempogram columns per FFT batch (1024 × 350 doubles ≈ 3 MB)."""


def _log_prior(bpms: np.ndarray, start_bpm: float, std_bpm: float = 1.0, max_tempo: float = 320.0) -> np.ndarray:
    with np.errstate(divide="ignore"):
        logprior = -0.5 * ((np.log2(bpms) - np.log2(start_bpm)) / std_bpm) ** 2
    max_idx = int(np.argmax(bpms < max_tempo))
    logprior[:max_idx] = -np.inf
    return logprior


def tempo(
    tempogram_: np.ndarray, sample_rate: int, hop_length: int, start_bpm: float, per_frame: bool = False
) -> np.ndarray:
    """librosa.feature.tempo(tg=…, start_bpm): the global tempo (mean tempogram), or one per frame.

    Returns shape (1,) or (n_frames,), in beats per minute.
    """
    bpms = tempo_frequencies(tempogram_.shape[0], sample_rate, hop_length)
    logprior = _log_prior(bpms, start_bpm)[:, None]
    tg = tempogram_ if per_frame else tempogram_.mean(axis=1, keepdims=True)
    best = np.argmax(np.log1p(1e6 * tg) + logprior, axis=0)
    return bpms[best]


def beat_track(onset_env: np.ndarray, bpm: float, frame_rate: float, tightness: float = 100.0) -> np.ndarray:
    """Frame indices of beats: librosa.beat.beat_track(onset_envelope, bpm, trim=True) (Ellis 2007).

    A dynamic program picks beats on strong onsets spaced close to the tempo's period. librosa runs it
    frame by frame in numba; here the frames are processed in blocks of half a period, since a frame's
    predecessors lie at least that far back and are already final.
    """
    n = onset_env.size
    if n == 0 or not np.any(onset_env) or not bpm > 0:
        return np.zeros(0, dtype=np.int64)
    period = float(np.round(frame_rate * 60.0 / bpm))
    onsets = onset_env.astype(np.float64)
    onsets = onsets / (onsets.std(ddof=1) + np.finfo(np.float64).tiny)
    kernel = np.exp(-0.5 * (np.arange(-period, period + 1) * 32.0 / period) ** 2)
    localscore = np.convolve(onsets, kernel, mode="full")[len(kernel) // 2 : len(kernel) // 2 + n]

    near = int(np.round(period / 2))  # nearest allowed predecessor, in frames back
    far = int(2 * period)  # farthest allowed predecessor
    offsets = np.arange(near, far + 1)  # candidate distances i - loc
    penalty = tightness * (np.log(offsets) - np.log(period)) ** 2
    cumscore = np.zeros(n)
    backlink = np.full(n, -1, dtype=np.int64)
    block = max(near, 1)
    rows = np.arange(block)
    base = rows[:, None] - offsets[None, :]  # (block, candidates): predecessor of frame start + r
    for start in range(0, n, block):
        count = min(block, n - start)
        locs = base[:count] + start
        valid = locs >= 0
        scores = np.where(valid, cumscore[np.maximum(locs, 0)] - penalty, -np.inf)
        # ties go to the nearest predecessor, as in librosa's loop that walks back from i - near
        best = np.argmax(scores, axis=1)
        r = rows[:count]
        has = valid[r, best]
        cumscore[start : start + count] = localscore[start : start + count] + np.where(has, scores[r, best], 0.0)
        backlink[start : start + count] = np.where(has, locs[r, best], -1)
    # frames before the first onset above 1 % of the strongest cannot be linked to: they start no chain
    above = np.flatnonzero(localscore >= 0.01 * localscore.max())
    first_strong = above[0] if above.size else n
    backlink[:first_strong] = -1

    padded = np.pad(cumscore, 1, mode="edge")
    is_max = (cumscore > padded[:-2]) & (cumscore >= padded[2:])
    threshold = 0.5 * np.median(cumscore[is_max]) if np.any(is_max) else -np.inf
    candidates = np.flatnonzero(is_max & (cumscore >= threshold))
    tail = int(candidates[-1]) if candidates.size else n - 1

    beats = np.zeros(n, dtype=bool)
    node = tail
    while node >= 0:
        beats[node] = True
        node = int(backlink[node])

    # trim weak leading and trailing beats (librosa's __trim_beats)
    hann5 = np.hanning(5)
    smooth = np.convolve(localscore[beats], hann5)[len(hann5) // 2 : n + len(hann5) // 2]
    trim_threshold = 0.5 * np.sqrt(np.mean(smooth**2))
    k = 0
    while k < n and localscore[k] <= trim_threshold:
        beats[k] = False
        k += 1
    k = n - 1
    while k >= 0 and localscore[k] <= trim_threshold:
        beats[k] = False
        k -= 1
    return np.flatnonzero(beats)


def beat_interval_cv(beat_frames: np.ndarray) -> float:
    """Coefficient of variation of the intervals between beats: 0 for a metronome, NaN with < 3 beats."""
    if beat_frames.size < 3:
        return float("nan")
    intervals = np.diff(beat_frames.astype(np.float64))
    return float(intervals.std() / intervals.mean())
