"""Feature definitions against librosa (the reference, test extra only), on real recordings from Debian."""

import numpy as np
import pytest

from introdetect.features import repetition, rhythm, spectral
from introdetect.features.compute import FRAME_FEATURES, compute_features, row_names
from introdetect.features.store import FeatureFileError, features_to_json, load_features, save_features
from introdetect.media import decode_audio
from introdetect.settings import AudioOptions, FeatureOptions, SettingsError

librosa = pytest.importorskip("librosa")

SR, HOP, N_FFT = 22050, 1024, 2048


def reference(y):
    """librosa's own features with introdetect's settings (tuning fixed at A440)."""
    S = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
    onset = librosa.onset.onset_strength(y=y, sr=SR, hop_length=HOP)
    return {
        "mfcc": librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20, hop_length=HOP),
        "contrast": librosa.feature.spectral_contrast(S=S, sr=SR),
        "rms": librosa.feature.rms(S=S, frame_length=N_FFT)[0],
        "centroid": librosa.feature.spectral_centroid(S=S, sr=SR)[0],
        "bandwidth": librosa.feature.spectral_bandwidth(S=S, sr=SR)[0],
        "flatness": librosa.feature.spectral_flatness(S=S)[0],
        "chroma": librosa.feature.chroma_stft(S=S**2, sr=SR, tuning=0.0),
        "onset": onset,
        "tempo_local": librosa.feature.tempo(onset_envelope=onset, sr=SR, hop_length=HOP, aggregate=None),
    }, onset


# relative to each feature's range: float32 STFT rounding stays far below these
TOLERANCE = {
    "mfcc": 1e-4,
    "contrast": 1e-4,
    "rms": 1e-5,
    "centroid": 1e-5,
    "bandwidth": 1e-5,
    "flatness": 1e-4,
    "chroma": 1e-5,
    "onset": 1e-4,
    "tempo_local": 0.0,
}


@pytest.fixture(scope="module", params=["music", "speech"])
def real_audio(request):
    path = request.getfixturevalue("music_clip" if request.param == "music" else "speech_clip")
    return request.param, decode_audio(path, AudioOptions(window_s=60))


def test_frame_features_match_librosa(real_audio):
    kind, y = real_audio
    ours = compute_features(y)
    ref, _ = reference(y)
    for name, expected in ref.items():
        got = ours.frames[name]
        assert got.shape == expected.shape, name
        scale = max(float(np.ptp(expected)), 1e-6)
        error = float(np.max(np.abs(got.astype(np.float64) - expected))) / scale
        assert error <= TOLERANCE[name] + 1e-7, f"{kind} {name}: relative error {error:.2e}"


def test_tempo_and_beats_match_librosa(real_audio):
    kind, y = real_audio
    ours = compute_features(y)
    _, onset = reference(y)
    bpm, beats = librosa.beat.beat_track(onset_envelope=onset, sr=SR, hop_length=HOP)
    assert ours.scalars["tempo_bpm"] == pytest.approx(float(np.atleast_1d(bpm)[0]), rel=1e-6)
    assert np.array_equal(np.flatnonzero(ours.frames["beats"]), beats), kind


def test_music_has_steady_beat_and_speech_does_not(music_clip, speech_clip):
    music = compute_features(decode_audio(music_clip, AudioOptions(window_s=60)))
    speech = compute_features(decode_audio(speech_clip, AudioOptions(window_s=60)))
    assert music.scalars["beat_interval_cv"] < speech.scalars["beat_interval_cv"]
    assert music.frames["chroma"].max() == pytest.approx(1.0)


def test_shapes_and_names(noise):
    feats = compute_features(noise)
    n = 1 + noise.size // HOP
    assert feats.n_frames == n
    assert feats.matrix().shape == (len(row_names(FeatureOptions())), n)
    assert set(feats.frames) == set(FRAME_FEATURES)
    assert feats.frames["mfcc"].shape == (20, n) and feats.frames["contrast"].shape == (7, n)
    assert all(a.dtype == np.float32 for a in feats.frames.values())


def test_silence_is_handled():
    feats = compute_features(np.zeros(SR * 5, dtype=np.float32))
    assert feats.scalars["tempo_bpm"] == 0.0
    assert np.isnan(feats.scalars["beat_interval_cv"])
    for name, values in feats.frames.items():
        assert np.all(np.isfinite(values)), name


def test_repetition_finds_a_repeated_passage():
    rng = np.random.default_rng(1)
    a, b, c = (rng.standard_normal((8, 200)) for _ in range(3))
    x = np.hstack([a, b, a, c])  # passage a recurs at frames 400–600
    curve = repetition.repetition_curve(x, frame_rate=21.5, block=10, diagonal_blocks=4, min_lag_s=5)
    assert curve[:200].mean() > 0.9 and curve[400:600].mean() > 0.9
    assert curve[200:400].mean() < 0.5 and curve[600:].mean() < 0.5


def test_beat_cv():
    assert rhythm.beat_interval_cv(np.array([0, 10, 20, 30])) == 0.0
    assert np.isnan(rhythm.beat_interval_cv(np.array([0, 10])))


def test_store_round_trip_and_json(tmp_path, noise):
    feats = compute_features(noise)
    path = tmp_path / "ep.npz"
    save_features(path, feats, meta={"id": "ep"})
    again = load_features(path)
    for name in FRAME_FEATURES:
        np.testing.assert_array_equal(again.frames[name], feats.frames[name])
    assert again.options == feats.options
    assert np.isnan(again.scalars["beat_interval_cv"]) == np.isnan(feats.scalars["beat_interval_cv"])
    doc = features_to_json(again, "ep")
    assert len(doc["frame_features"]["mfcc"]) == 20 and len(doc["frame_features"]["rms"]) == feats.n_frames
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(FeatureFileError, match="junk.npz"):
        load_features(tmp_path / "junk.npz")


def test_feature_options_validated():
    with pytest.raises(SettingsError):
        FeatureOptions(n_fft=1000)
    with pytest.raises(SettingsError, match="Nyquist"):
        FeatureOptions(sample_rate=8000)
    assert FeatureOptions().settings_hash != FeatureOptions(hop_length=512).settings_hash


@pytest.mark.parametrize("n", [1, 2, 349, 350, 2048])
def test_hann_window_is_scipys_periodic_hann(n):
    import scipy.signal  # written out in spectral.py: its import is start-up every command pays

    np.testing.assert_allclose(spectral.hann_window(n), scipy.signal.get_window("hann", n, fftbins=True), atol=1e-15)


def test_mel_filterbank_matches_librosa():
    np.testing.assert_allclose(
        spectral.mel_filterbank(SR, N_FFT, 128), librosa.filters.mel(sr=SR, n_fft=N_FFT), rtol=1e-5, atol=1e-8
    )
    np.testing.assert_allclose(
        spectral.chroma_filterbank(SR, N_FFT), librosa.filters.chroma(sr=SR, n_fft=N_FFT), rtol=1e-5, atol=1e-8
    )


def test_streaming_in_any_blocks_equals_one_shot(music_clip):
    from introdetect.features.stream import FeatureAccumulator

    y = decode_audio(music_clip, AudioOptions(window_s=30))
    whole = compute_features(y)
    rng = np.random.default_rng(7)
    accumulator = FeatureAccumulator()
    position = 0
    while position < y.size:
        size = int(rng.choice([1, 100, 1023, 1024, 1025, 5000, 70000]))
        accumulator.push(y[position : position + size])
        position += size
    streamed = accumulator.finish()
    assert streamed.n_frames == whole.n_frames
    for name in FRAME_FEATURES:
        np.testing.assert_allclose(streamed.frames[name], whole.frames[name], rtol=1e-5, atol=1e-4, err_msg=name)
    assert streamed.scalars == pytest.approx(whole.scalars)
