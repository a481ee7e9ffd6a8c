"""The supervised model: inputs and targets on arrays, decoding, the network and its ONNX export, the model
file, and a tiny model trained end to end on the tiny corpus (real recordings) through the CLI."""

from __future__ import annotations

import itertools
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from introdetect._cli import app
from introdetect.features.compute import compute_features
from introdetect.metrics import read_truth
from introdetect.model.decode import Calibration, WindowOutputs, decode
from introdetect.model.file import ModelFile, ModelFileError
from introdetect.model.infer import IntroModel
from introdetect.model.inputs import (
    EXTRA,
    InputOptions,
    Normaliser,
    boundary_targets,
    episode_inputs,
    resample_frames,
)
from introdetect.settings import FeatureOptions, SettingsError
from introdetect.timecode import Segment

runner = CliRunner()


# --- arrays ---------------------------------------------------------------------------------------------------


def test_resample_frames_averages_each_bin_and_zero_pads() -> None:
    """Frames at 4/s resampled to 2/s: each output is the mean of two inputs; bins past the audio are 0."""
    x = np.arange(8, dtype=np.float32)[None, :]  # frames at t = 0, .25, .5, ...
    out = resample_frames(x, 4.0, 2.0, 6)
    assert out.shape == (1, 6)
    np.testing.assert_allclose(out[0, :4], [0.5, 2.5, 4.5, 6.5])
    np.testing.assert_allclose(out[0, 4:], 0.0)


def test_boundary_targets_mark_the_windows_that_hold_each_boundary() -> None:
    """Windows of 10 s every 5 s; an intro 12–31 s: centres 15, 20, 25, 30 (windows 2–5) are inside; its start lies in the
    windows starting at 5 and 10 (at 0.7 and 0.2 of them), its end in those at 25 and 30 (0.6 and 0.1)."""
    starts = np.arange(0, 50, 5.0)
    t = boundary_targets(starts, 10.0, Segment(12.0, 31.0))
    np.testing.assert_array_equal(np.flatnonzero(t["label"]), [2, 3, 4, 5])
    np.testing.assert_array_equal(np.flatnonzero(t["start_in"]), [1, 2])
    np.testing.assert_allclose(t["start_at"][[1, 2]], [0.7, 0.2], atol=1e-6)
    np.testing.assert_array_equal(np.flatnonzero(t["end_in"]), [5, 6])
    np.testing.assert_allclose(t["end_at"][[5, 6]], [0.6, 0.1], atol=1e-6)
    none = boundary_targets(starts, 10.0, None)
    assert not none["label"].any() and not none["start_in"].any()


@pytest.mark.parametrize(
    "kwargs",
    [{"window_length_s": 10.0, "window_step_s": 4.0}, {"frame_rate_hz": 7.0}, {"drop": ("colour",)}],
)
def test_input_options_refuse_what_the_network_cannot_cut(kwargs: dict) -> None:
    with pytest.raises(SettingsError):
        InputOptions(**kwargs)


def _outputs(n: int, start: float, end: float) -> WindowOutputs:
    """Outputs as a perfect model would give them for an intro [start, end] over n windows of 10 s / 5 s."""
    starts = np.arange(n) * 5.0
    t = boundary_targets(starts, 10.0, Segment(start, end))
    logit = lambda p: np.where(p > 0.5, 8.0, -8.0)  # noqa: E731
    raw = np.stack(
        [np.zeros(n), logit(t["label"]), logit(t["start_in"]), logit(t["end_in"]), t["start_at"], t["end_at"]], 1
    )
    return WindowOutputs.from_raw(raw, starts, 10.0)


def test_decode_reads_boundaries_from_the_surest_windows() -> None:
    found, score, _ = decode(_outputs(40, 63.2, 101.7), 205.0)
    assert found is not None and score > 0.9
    assert abs(found.start_s - 63.2) < 1e-6 and abs(found.end_s - 101.7) < 1e-6


def test_decode_finds_a_sting_shorter_than_the_step() -> None:
    """A 2.5 s sting at 21–23.5 s: no window's centre lies in it; the boundary heads still place it."""
    found, _, _ = decode(_outputs(30, 21.0, 23.5), 150.0)
    assert found is not None and abs(found.start_s - 21.0) < 1e-6 and abs(found.end_s - 23.5) < 1e-6


def test_decode_says_no_intro_when_no_head_is_sure() -> None:
    raw = np.tile([2.0, -2.0, -6.0, -6.0, 0.5, 0.5], (30, 1))
    found, score, best = decode(WindowOutputs.from_raw(raw, np.arange(30) * 5.0, 10.0), 150.0)
    assert found is None and score < 0.1 and best.duration_s > 0


def test_calibration_is_monotone_and_fits_rightness() -> None:
    scores = np.linspace(0.05, 0.95, 40)
    right = scores > 0.6
    calibration = Calibration.fit(scores, right)
    values = [calibration(s) for s in scores]
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(values))
    assert calibration(0.9) > 0.8 and calibration(0.3) < 0.2
    assert Calibration()(0.42) == pytest.approx(0.42)


def test_a_shifted_view_keeps_the_boundaries_where_they_are() -> None:
    """Windows moved 13 frames (1.625 s) later: the same intro, so every window that holds a boundary still
    points at the same second; frames and windows stay whole steps."""
    from introdetect.model.inputs import EpisodeInputs, shifted

    options = InputOptions()
    n = 20
    starts = np.arange(n) * 5.0
    intro = Segment(31.3, 52.9)
    frames = np.random.default_rng(0).normal(size=(20, (n + 1) * 40)).astype(np.float32)
    e = EpisodeInputs(
        "e",
        frames[:7] * 0 + 1,
        frames,
        np.zeros((n, 4), np.float32),
        starts,
        105.0,
        boundary_targets(starts, 10.0, intro),
    )
    view = shifted(e, 13, intro, options)
    assert view.patch.shape[1] == (view.n_windows + 1) * 40 and view.n_windows == n - 1
    np.testing.assert_allclose(view.start_s, starts[: n - 1] + 1.625)
    np.testing.assert_array_equal(view.series[:, 0], frames[:, 13])
    for side in ("start", "end"):
        holds = view.targets[f"{side}_in"] > 0
        assert holds.sum() == 2
        np.testing.assert_allclose(
            view.start_s[holds] + 10.0 * view.targets[f"{side}_at"][holds], getattr(intro, f"{side}_s"), atol=1e-5
        )
    assert shifted(e, 0, intro, options) is e


def test_normaliser_drops_a_group_to_its_mean(music_clip: Path) -> None:
    """Real music through the feature pipeline: normalised inputs are finite; dropping 'position' zeroes it."""
    from introdetect.media import decode_audio
    from introdetect.settings import AudioOptions

    features = compute_features(decode_audio(music_clip, AudioOptions(window_s=30.0)))
    e = episode_inputs("clip", features, InputOptions(), Segment(2.0, 9.0), True)
    assert e.patch.shape[1] == (e.n_windows + 1) * 40 and e.extra.shape == (e.n_windows, len(EXTRA))
    norm = Normaliser.fit([e])
    assert np.isfinite(norm.apply(e).patch).all()
    dropped = norm.apply(e, ("position",))
    assert not dropped.extra[:, EXTRA.index("position")].any()


# --- the network, its export and the model file ----------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A network fitted for one epoch on random inputs: enough to check shapes, export and file handling."""
    from introdetect.model import job
    from introdetect.model.inputs import EpisodeInputs
    from introdetect.model.train import TrainOptions

    rng = np.random.default_rng(0)
    data = job.TrainingData()
    for k in range(4):
        n = 12 + k
        starts = np.arange(n) * 5.0
        intro = Segment(10.0 + k, 30.0 + k)
        data.episodes.append(
            EpisodeInputs(
                f"ep{k}",
                rng.normal(size=(27, (n + 1) * 40)).astype(np.float32),
                rng.normal(size=(20, (n + 1) * 40)).astype(np.float32),
                rng.normal(size=(n, 4)).astype(np.float32),
                starts,
                n * 5.0 + 5,
                boundary_targets(starts, 10.0, intro),
            )
        )
        data.series.append(f"s{k % 2}")
        from introdetect.labels import Label

        data.labels[f"ep{k}"] = Label(f"ep{k}", None, "0:00:10", "0:00:30", intro.start_s, intro.end_s)
    report = job.train_model(
        data,
        InputOptions(),
        TrainOptions(epochs=1, batch_size=2),
        channels=(4, 4, 4),
        lstm_units=8,
        embedding=16,
        series_channels=4,
    )
    path = tmp_path_factory.mktemp("model") / "tiny.idmodel"
    report.model.save(path)
    return path


def test_the_onnx_model_agrees_with_torch_on_a_longer_episode(tiny_model: Path) -> None:
    """Exported with 12 windows, run on 30: the window axis is dynamic, ONNX Runtime and torch agree."""
    import io

    import torch

    from introdetect.model.network import IntroNet, NetworkDims

    file = ModelFile.load(tiny_model)
    net = IntroNet(NetworkDims.from_json(file.meta["dims"]))
    net.load_state_dict(torch.load(io.BytesIO(file.weights)))
    net.eval()
    model = IntroModel(file)
    rng = np.random.default_rng(1)
    patch, series, extra = (rng.normal(size=s).astype(np.float32) for s in ((27, 31 * 40), (20, 31 * 40), (30, 4)))
    with torch.no_grad():
        expected = net(*(torch.from_numpy(a[None]) for a in (patch, series, extra))).numpy()[0]
    from introdetect.model.inputs import EpisodeInputs

    got = model.raw(EpisodeInputs("x", patch, series, extra, np.arange(30) * 5.0, 155.0))
    assert got.shape == (30, 6)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_model_file_errors_name_the_file_and_the_problem(tiny_model: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no such model file"):
        ModelFile.load(tmp_path / "absent.idmodel")
    junk = tmp_path / "junk.idmodel"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="junk.idmodel: not an introdetect model file"):
        ModelFile.load(junk)
    old = tmp_path / "old.idmodel"
    file = ModelFile.load(tiny_model)
    ModelFile({**file.meta}, file.onnx).save(old)
    with zipfile.ZipFile(old) as z:
        meta = json.loads(z.read("meta.json"))
    meta["format_version"] = 0
    with zipfile.ZipFile(old, "w") as z:
        z.writestr("meta.json", json.dumps(meta))
        z.writestr("model.onnx", file.onnx)
    with pytest.raises(ModelFileError, match="old.idmodel: model format 0.*retrain"):
        ModelFile.load(old)


def test_features_of_other_settings_are_refused(tiny_model: Path, music_clip: Path) -> None:
    from introdetect.media import decode_audio
    from introdetect.settings import AudioOptions

    features = compute_features(decode_audio(music_clip, AudioOptions(window_s=20.0)), FeatureOptions(hop_length=512))
    with pytest.raises(ModelFileError, match="other settings"):
        IntroModel.load(tiny_model).predict(features, "clip")


def test_the_shipped_model_loads_and_says_what_it_was_trained_on() -> None:
    model = IntroModel.load()
    meta = model.meta
    assert meta["label_statistics"]["episodes"] > 100
    assert not any(s.startswith("test") for s in meta["training"]["train_series"])
    assert meta["features"]["settings_hash"] == FeatureOptions().settings_hash


# --- end to end on the tiny corpus -----------------------------------------------------------------------------


def test_train_then_detect_with_the_model_alone(tiny_corpus: Path, tmp_path: Path) -> None:
    """`introdetect train` on the tiny corpus's train split (2 series), a model file and its training curve;
    `detect --use model` answers each test episode on its own, in the output contract."""
    model = tmp_path / "tiny.idmodel"
    result = runner.invoke(
        app,
        [
            "train",
            str(corpus_labels(tiny_corpus, "train")),
            "--videos",
            str(tiny_corpus),
            "--valid",
            str(corpus_labels(tiny_corpus, "validation")),
            "--out",
            str(model),
            "--epochs",
            "3",
            "--cache",
            str(tmp_path / "cache"),
            "--no-progress",
            "--channels",
            "8,8,16",
            "--lstm",
            "16",
        ],
    )
    assert result.exit_code == 0, result.output
    assert model.exists() and model.with_suffix(".png").stat().st_size > 1000
    meta = ModelFile.load(model).meta
    assert meta["training"]["valid_series"] and meta["dims"]["channels"] == [8, 8, 16]
    out = tmp_path / "answers.json"
    videos = sorted((tiny_corpus / "test").rglob("*.m*"))
    result = runner.invoke(
        app, ["detect", *map(str, videos), "--model", str(model), "--use", "model", "--out", str(out), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    answers = json.loads(out.read_text())
    assert set(answers) == {v.stem for v in videos}
    assert all(a["method"] == "model" and 0 <= a["confidence"] <= 1 for a in answers.values())
    # the cache is reused: a second run decodes nothing
    again = runner.invoke(
        app,
        [
            "cv",
            str(corpus_labels(tiny_corpus, "train")),
            str(corpus_labels(tiny_corpus, "validation")),
            "--videos",
            str(tiny_corpus),
            "--folds",
            "2",
            "--epochs",
            "1",
            "--no-progress",
            "--cache",
            str(tmp_path / "cache"),
            "--channels",
            "8,8,16",
            "--lstm",
            "16",
            "--out",
            str(tmp_path / "cv.json"),
            "--json",
        ],
    )
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == json.loads((tmp_path / "cv.json").read_text())  # --json: what --out writes
    folds = json.loads((tmp_path / "cv.json").read_text())["folds"]
    assert len(folds) == 2 and all(f["episodes"] > 0 for f in folds)
    # reviewed labels (here: the test split's truth) fine-tune it; before/after on held-out episodes
    tuned = tmp_path / "tuned.idmodel"
    result = runner.invoke(
        app,
        [
            "finetune",
            str(model),
            str(corpus_labels(tiny_corpus, "test")),
            "--videos",
            str(tiny_corpus),
            "--out",
            str(tuned),
            "--epochs",
            "2",
            "--force",
            "--no-progress",
            "--cache",
            str(tmp_path / "cache"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "before" in result.output and "after" in result.output
    record = ModelFile.load(tuned).meta["finetuned"]
    assert len(record) == 1 and record[0]["held_out"] >= 1 and "detection_f1" in record[0]["after"]
    inference_only = tmp_path / "lean.idmodel"
    lean = ModelFile.load(model)
    ModelFile(lean.meta, lean.onnx).save(inference_only)
    result = runner.invoke(
        app,
        [
            "finetune",
            str(inference_only),
            str(corpus_labels(tiny_corpus, "test")),
            "--videos",
            str(tiny_corpus),
            "--no-progress",
            "--cache",
            str(tmp_path / "cache"),
        ],
    )
    assert result.exit_code == 1 and "no torch weights" in result.output


def test_training_without_videos_for_the_labels_is_a_clear_error(tiny_corpus: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "train",
            str(corpus_labels(tiny_corpus, "train")),
            "--videos",
            str(tmp_path),
            "--out",
            str(tmp_path / "m.idmodel"),
            "--no-progress",
        ],
    )
    assert result.exit_code == 1
    assert "no labelled episode could be used" in result.output


def test_the_shipped_model_finds_the_tiny_corpus_intros(tiny_corpus: Path) -> None:
    """The default model (trained on the full corpus's train split) on the tiny corpus's test split, episode by
    episode: most intros found with IoU >= 0.5 (these recordings' packages are in its training data, their
    series and excerpts are not)."""
    from introdetect import detect

    videos = sorted((tiny_corpus / "test").rglob("*.m*"))
    truth = read_truth(tiny_corpus / "truth_test.json")
    answers = {d.id: d for d in detect(videos, use="model", workers=1)}
    with_intro = [vid for vid, t in truth.items() if t.intro is not None]
    found = sum(answers[v].intro is not None and answers[v].intro.iou(truth[v].intro) >= 0.5 for v in with_intro)
    assert found >= 0.6 * len(with_intro), {v: (answers[v].intro, truth[v].intro) for v in with_intro}


def corpus_labels(corpus: Path, split: str) -> Path:
    return corpus / f"truth_{split}.json"


@pytest.mark.parametrize("args", [["--epochs", "0"], ["--channels", "32,x"], ["--channels", "32,32"]])
def test_training_options_out_of_range_are_usage_errors(tmp_path: Path, args: list[str]) -> None:
    labels = tmp_path / "l.json"
    labels.write_text("{}")
    result = runner.invoke(app, ["train", str(labels), "--videos", str(tmp_path), "--out", str(tmp_path / "m"), *args])
    assert result.exit_code == 2, result.output


def test_detect_with_a_bad_model_file_is_one_line_naming_it(tiny_corpus: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.idmodel"
    junk.write_bytes(b"PK\x03\x04 not really")
    video = next((tiny_corpus / "test").rglob("show02_s01e01.*"))
    result = runner.invoke(app, ["detect", str(video), "--model", str(junk), "--no-progress"])
    assert result.exit_code == 1
    assert "junk.idmodel: not an introdetect model file" in result.output
    assert "Traceback" not in result.output


def test_a_saved_model_is_readable_like_any_new_file(tiny_model: Path, tmp_path: Path) -> None:
    """Written through a private temporary file, but not left private: another user (a media server) reads it."""
    import os
    import stat

    target = tmp_path / "copy.idmodel"
    ModelFile.load(tiny_model).save(target)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


def test_feature_masks_blank_bands_and_spans_and_leave_the_episode_alone() -> None:
    """SpecAugment's masking (TrainOptions.masks): ``count`` bands of feature rows and ``count`` spans of frames
    set to the mean (0 once normalised); the episode given is not changed; no masks, the same episode."""
    from introdetect.model.inputs import MASK_FRAMES_S, MASK_ROWS, EpisodeInputs, masked

    rng = np.random.default_rng(3)
    patch = rng.normal(size=(40, 400)).astype(np.float32) + 5.0  # nothing is 0 before masking
    e = EpisodeInputs("e", patch, patch[:4].copy(), np.zeros((9, 4), np.float32), np.arange(9.0) * 5, 50.0)
    assert masked(e, 0, rng) is e
    out = masked(e, 2, np.random.default_rng(1), frame_rate_hz=8.0)
    assert out.patch.shape == e.patch.shape and np.all(e.patch != 0.0)
    zero_rows = np.flatnonzero(np.all(out.patch == 0.0, axis=1))
    zero_frames = np.flatnonzero(np.all(out.patch == 0.0, axis=0))
    assert 1 <= zero_rows.size <= 2 * int(MASK_ROWS * 40) and 1 <= zero_frames.size <= 2 * MASK_FRAMES_S * 8
    untouched = np.ones_like(out.patch, dtype=bool)
    untouched[zero_rows] = False
    untouched[:, zero_frames] = False
    assert np.array_equal(out.patch[untouched], e.patch[untouched])  # only the masks changed
    assert np.array_equal(out.series, e.series)


def _show02_e02_heard_through(tinyparts_corpus: Path, monkeypatch, span_s: float):
    """(truth intro, features, the shipped model with its span cut to ``span_s``) of tinyparts show02 e02, whose
    intro runs 55.8-67.1 s; the second look starts SECOND_LOOK_LEAD_S = 20 s before what it looks past."""
    import dataclasses

    import introdetect.model.infer as infer
    from introdetect.analysis import analyse_episode

    monkeypatch.setattr(infer, "SECOND_LOOK_LEAD_S", 20.0)
    truth = read_truth(tinyparts_corpus / "truth_test.json")["show02_s01e02"].intro
    features = analyse_episode(tinyparts_corpus / "test" / "show02" / "show02_s01e02.mp4", features=True).features
    model = IntroModel.load()
    model.inputs = dataclasses.replace(model.inputs, span_s=span_s)
    return truth, features, model


def test_an_intro_cut_by_the_models_span_is_heard_further(tinyparts_corpus: Path, monkeypatch) -> None:
    """The shipped model with its span cut to 60 s (as the 480 s span cuts a late theme) on a real episode whose
    intro runs 55.8-67.1 s: the first look ends it at the span's end; the second, from SECOND_LOOK_LEAD_S before
    its start (20 s for this span), finds its end, and the start stays the first look's."""
    truth, features, model = _show02_e02_heard_through(tinyparts_corpus, monkeypatch, 60.0)
    first = model.answer(model.inputs_of(features, "e02"))
    assert first.intro is not None and first.intro.end_s < truth.end_s - 5.0  # measured: 55.8-57.9 s
    heard = model.heard_further(features, "e02", first)
    assert heard.intro is not None and heard.intro.start_s == first.intro.start_s
    assert abs(heard.intro.end_s - truth.end_s) <= 1.0, heard.intro  # measured: 67.3 s
    # a span that holds the whole episode: nothing to hear further
    whole = IntroModel.load().predict(features, "e02")
    assert IntroModel.load().heard_further(features, "e02", whole) is whole


def test_an_intro_past_the_models_span_is_heard_later(tinyparts_corpus: Path, monkeypatch) -> None:
    """The shipped model with its span cut to 50 s (as the 480 s span misses a theme after a long cold open) on a
    real episode whose intro runs 55.8-67.1 s: the first look hears none, sure of it (its span holds no intro);
    with the episode analysed further, a look from SECOND_LOOK_LEAD_S before the span's end (20 s here) hears the
    intro, sure of it by the model's own calibration, and it stands; an intro heard later but not that sure does
    not, and neither does one that runs into the episode's tail. An unsure first intro gives way to it."""
    import dataclasses

    from introdetect.model import infer

    truth, features, model = _show02_e02_heard_through(tinyparts_corpus, monkeypatch, 50.0)
    first = model.answer(model.inputs_of(features, "e02"))
    assert first.intro is None  # measured: "no intro" at 1.000
    heard = model.heard_further(features, "e02", first)
    assert heard.intro is not None and heard.confidence >= infer.MODEL_UNSURE_BELOW  # measured: 0.998
    assert abs(heard.intro.start_s - truth.start_s) <= 1.0 and abs(heard.intro.end_s - truth.end_s) <= 1.0, heard
    assert heard.outputs is first.outputs  # the curve stays the first look's
    # an intro heard later that runs into the episode's tail (where credits replay a theme) is no intro
    assert model.heard_further(features, "e02", first, before_s=60.0) is first
    # not sure enough of what it hears later: the first "none" stands
    monkeypatch.setattr(infer, "MODEL_UNSURE_BELOW", 0.9999)
    assert model.heard_further(features, "e02", first) is first
    # an unsure first intro surer than anything heard later stands
    surer = dataclasses.replace(first, intro=Segment(5.0, 9.0), confidence=0.9995)
    assert model.heard_further(features, "e02", surer) is surer
    # an unsure first intro (elsewhere) gives way to the surer one heard later
    unsure = dataclasses.replace(first, intro=Segment(5.0, 9.0), confidence=0.6)
    assert model.heard_further(features, "e02", unsure).intro == heard.intro


def test_episode_features_after_an_offset_start_on_a_whole_frame() -> None:
    from introdetect.features.episode import EpisodeFeatures

    options = FeatureOptions()
    hop_s = options.hop_length / options.sample_rate
    frames = {"rms": np.arange(100, dtype=np.float32), "mfcc": np.ones((3, 100), np.float32)}
    features = EpisodeFeatures(frames, {"tempo_bpm": 120.0}, options, duration_s=100 * hop_s)
    later, offset = features.after(10.5 * hop_s)
    assert offset == pytest.approx(10 * hop_s) and later.n_frames == 90 and later.frames["mfcc"].shape == (3, 90)
    assert later.frames["rms"][0] == 10.0 and later.duration_s == pytest.approx(90 * hop_s)
    assert later.scalars == features.scalars


# --- the kinds head ---------------------------------------------------------------------------------------------


def test_kind_targets_follow_the_centre_rule_and_say_only_what_the_label_says() -> None:
    from introdetect.model.inputs import KINDS, PartTruth, all_targets

    starts = np.arange(10) * 5.0  # centres 5, 10, ..., 50
    every = frozenset(KINDS[1:])
    parts = PartTruth((("intro", Segment(12.0, 24.0)), ("credits", Segment(38.0, 60.0))), every)
    t = all_targets(starts, 10.0, Segment(12.0, 24.0), parts)
    assert [KINDS[k] for k in t["kind"]] == ["story"] * 2 + ["intro"] * 2 + ["story"] * 3 + ["credits"] * 3
    assert t["kind_known"].all() and t["intro_known"].all()
    # a reviewed row of the credits only: the credits' windows are known, the rest (and the intro) are not
    credits_only = PartTruth((("credits", Segment(38.0, 60.0)),), frozenset({"credits"}))
    t = all_targets(starts, 10.0, None, credits_only)
    assert t["kind_known"].tolist() == [0.0] * 7 + [1.0] * 3 and not t["intro_known"].any()
    # no part truth at all (an intro-only label set): the intro is known, no kind is
    t = all_targets(starts, 10.0, Segment(12.0, 24.0), None)
    assert t["intro_known"].all() and not t["kind_known"].any()


def test_a_tails_windows_lie_in_the_episodes_time_and_count_from_its_end(music_clip: Path) -> None:
    from introdetect.media import decode_audio
    from introdetect.model.inputs import tail_inputs

    features = compute_features(decode_audio(music_clip))
    options = InputOptions()
    tail = tail_inputs("x", features, 1200.0, options)
    assert tail.start_s[0] == 1200.0 and tail.end_s == pytest.approx(1200.0 + features.duration_s)
    position = tail.extra[:, EXTRA.index("position")]
    centre = tail.start_s + 5.0
    assert np.allclose(position, (centre - tail.end_s) / options.span_s) and (position < 0).all()
    head = episode_inputs("x", features, options)
    assert (head.extra[:, EXTRA.index("position")] > 0).all() and head.end_s is None


def test_kind_span_takes_the_surest_run_and_the_centre_rule_for_its_ends() -> None:
    from introdetect.model.decode import KindCurves, kind_span

    starts = np.arange(12) * 5.0
    p = np.zeros((12, 6))
    p[:, 0] = 1.0
    p[[2, 3], 4], p[[2, 3], 0] = 0.6, 0.4  # a weak run of credits at centres 15, 20
    p[[7, 8, 9], 4], p[[7, 8, 9], 0] = 0.9, 0.1  # a sure one at centres 40-50
    found = kind_span(KindCurves(starts, 10.0, p), 4, 58.0)
    assert found is not None
    span, confidence = found
    # its ends where the probability crosses 0.5 between the edge centres (35-40, 50-55): 4/9 of a step out
    assert span.start_s == pytest.approx(40.0 - 20 / 9) and span.end_s == pytest.approx(50.0 + 20 / 9)
    assert confidence == pytest.approx(0.9)
    assert kind_span(KindCurves(starts, 10.0, p), 2, 58.0) is None  # no recap
    # the credits' boundary heads, where they are sure, say where in a window its start and end lie
    bounds = np.zeros((12, 4, 5))
    bounds[7, 0, 3], bounds[7, 2, 3] = 0.9, 0.25  # the start in the window at 35 s, a quarter in: 37.5 s
    bounds[9, 1, 3], bounds[9, 3, 3] = 0.4, 0.9  # the end: not sure enough, the crossing stands
    sharp = kind_span(KindCurves(starts, 10.0, p, bounds), 4, 58.0)[0]
    assert sharp.start_s == pytest.approx(37.5) and sharp.end_s == pytest.approx(50.0 + 20 / 9)
    # the credits run to the last window: to the end
    p[[10, 11], 4], p[[10, 11], 0] = 0.9, 0.1
    assert kind_span(KindCurves(starts, 10.0, p), 4, 62.0)[0].end_s == 62.0
    # curves that neither begin at the episode's start nor run to its end (a tail's, the head's before the tail):
    # half a step past the edge centres, not to 0 nor to the end
    q = np.tile([0.0, 0, 0, 0, 1.0, 0], (4, 1))
    tail = KindCurves(np.arange(4) * 5.0 + 100.0, 10.0, q)
    assert kind_span(tail, 4, 200.0, holds_start=False, holds_end=False)[0] == Segment(102.5, 122.5)
    assert kind_span(tail, 4, 200.0, holds_start=True, holds_end=True)[0] == Segment(0.0, 200.0)
    later = KindCurves(starts, 10.0, p).between(30.0, 1e9)
    assert later.start_s.tolist() == [30.0, 35.0, 40.0, 45.0, 50.0, 55.0] and later.p.shape == (6, 6)


def test_a_kinds_head_added_to_a_trained_model_keeps_its_intro_answers(tiny_model: Path) -> None:
    """The head is trained alone (every other weight kept): the intro's channels are the old graph's, the kinds'
    follow them, and the file says what the head learnt from."""
    from introdetect.labels import Label
    from introdetect.model import job
    from introdetect.model.inputs import KINDS, EpisodeInputs, PartTruth, all_targets
    from introdetect.model.train import TrainOptions

    rng = np.random.default_rng(1)
    data = job.TrainingData()
    every = frozenset(KINDS[1:])
    for k in range(4):
        n = 14
        starts = np.arange(n) * 5.0
        intro, credits = Segment(10.0, 30.0), Segment(50.0, 75.0)
        parts = PartTruth((("intro", intro), ("credits", credits)), every)
        patch = rng.normal(size=(27, (n + 1) * 40)).astype(np.float32)
        patch[:, 400:] += 3.0  # the "credits" sound unlike the rest
        series = rng.normal(size=(20, (n + 1) * 40)).astype(np.float32)
        extra = rng.normal(size=(n, 4)).astype(np.float32)
        extra[9:, 0] += 4.0  # and a per-window scalar too, which the head reads directly
        targets = all_targets(starts, 10.0, intro, parts)
        data.episodes.append(EpisodeInputs(f"e{k}", patch, series, extra, starts, n * 5.0 + 5, targets))
        data.series.append(f"s{k % 2}")
        data.labels[f"e{k}"] = Label(f"e{k}", None, "0:00:10", "0:00:30", 10.0, 30.0, parts=(("credits", credits),))
    old = IntroModel.load(tiny_model)
    report = job.add_kinds_head(old.file, data, data, TrainOptions(epochs=30, lr=1e-2, batch_size=2))
    new_path = tiny_model.parent / "kinds.idmodel"
    report.model.save(new_path)
    new = IntroModel.load(new_path)
    assert new.has_kinds and not old.has_kinds and new.meta["heads"][6:12] == [f"kind_{k}" for k in KINDS]
    assert new.meta["heads"][12:14] == ["ident_start_in", "recap_start_in"] and len(new.meta["heads"]) == 32
    e = data.episodes[0]
    assert np.allclose(new.raw(e)[:, :6], old.raw(e), atol=1e-4)
    assert new.meta["kinds"]["episodes"] == {"train": 4, "tails": 0, "valid": 4}
    assert report.validation["credits_window_f1"] > 0.8, report.validation  # it learnt the credits apart
    with pytest.raises(ValueError, match="already has a kinds head"):
        job.add_kinds_head(report.model, data, data)


def test_training_reads_the_tail_as_detect_does(tinyparts_corpus: Path, tmp_path: Path) -> None:
    """``detect`` decodes the tail by a seek from the end and computes its features on that decode alone; training
    takes the same features (a feature with context, such as repetition, differs when cut from a longer decode),
    cached by the file and the settings; an episode whose head holds its end has no tail of its own."""
    from introdetect.analysis import analyse_episode
    from introdetect.model import job
    from introdetect.settings import AudioOptions

    path = tinyparts_corpus / "test" / "show02" / "show02_s01e02.mp4"
    audio = AudioOptions(window_s=60.0)
    sought = analyse_episode(path, audio, features=True, tail_features=True)
    tail = sought.print.tail
    assert tail is not None and sought.tail_features is not None and sought.tail_start_s == tail.start_s > 60.0
    assert sought.tail_features.duration_s == pytest.approx(tail.end_s - tail.start_s, abs=0.05)
    for _ in range(2):  # computed, then read back
        features, start = job.tail_features_of(path, audio, tmp_path)
        assert start == sought.tail_start_s
        for name in ("mfcc", "repetition", "rms"):
            assert np.allclose(features.frames[name], sought.tail_features.frames[name], atol=1e-4)
    assert len(list((tmp_path / "tails").glob("*.npz"))) == 1
    assert job.tail_features_of(path, AudioOptions(), tmp_path) is None  # the 480 s head holds its end
    assert analyse_episode(path, audio, features=True).tail_features is None  # not asked


def test_train_with_kinds_then_detect_reads_the_tail(tinyparts_corpus: Path, tmp_path: Path) -> None:
    """`train` on labels that give every part learns the kinds by default, over heads and tails (a 60 s window:
    these episodes' tails lie past it); `detect --use model` then runs the kinds head over each episode's head and
    its tail decoded by a seek, in the output contract."""
    model = tmp_path / "kinds.idmodel"
    labels = str(corpus_labels(tinyparts_corpus, "test"))
    common = ["--cache", str(tmp_path / "cache"), "--no-progress", "--window", "60"]
    result = runner.invoke(
        app,
        ["train", labels, "--videos", str(tinyparts_corpus), "--out", str(model), "--epochs", "2", *common,
         "--channels", "8,8,16", "--lstm", "16"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "kinds: window accuracy" in result.output
    meta = ModelFile.load(model).meta
    assert meta["dims"]["kinds"] and meta["heads"][11] == "kind_preview" and meta["heads"][-1] == "preview_end_at"
    out = tmp_path / "answers.json"
    videos = sorted((tinyparts_corpus / "test" / "show02").glob("*.mp4"))
    result = runner.invoke(
        app,
        ["detect", *map(str, videos), "--model", str(model), "--use", "model", "--out", str(out), "--no-progress",
         "--window", "60"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    answers = json.loads(out.read_text())
    assert len(answers) == len(videos)
    for entry in answers.values():
        for part in entry["segments"]:
            assert part["method"] == "model" and 0.0 <= part["start_sec"] < part["end_sec"]


def test_a_reviewed_row_of_the_credits_only_teaches_the_credits(tinyparts_corpus: Path, tmp_path: Path) -> None:
    """A reviewer corrected one episode's credits and left its intro alone: with tails (a kinds head learns), that
    row is training data whose windows say nothing of the intro and only the credits' windows say their kind;
    without tails (the intro alone), it is no training data at all; and the intro's figures leave it out."""
    from introdetect.labels import read_labels
    from introdetect.model import job
    from introdetect.model.inputs import KINDS
    from introdetect.settings import AudioOptions

    rows = {
        "show02_s01e02": {"credits_start": "0:02:38.10", "credits_end": "0:03:06.00"},
        "show02_s01e03": json.loads((tinyparts_corpus / "truth_test.json").read_text())["show02_s01e03"],
    }
    path = tmp_path / "reviewed.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    labels = read_labels(path)
    videos = [tinyparts_corpus / "test" / "show02"]
    audio = AudioOptions(window_s=60.0)
    inputs = InputOptions(span_s=60.0)
    data = job.prepare(labels, videos, inputs, tmp_path / "cache", audio, workers=1, tails=True)
    assert sorted(e.id for e in data.episodes) == sorted(rows) and len(data.tails) == 2
    head = next(e for e in data.episodes if e.id == "show02_s01e02")
    tail = next(e for e in data.tails if e.id == "show02_s01e02")
    assert not head.targets["intro_known"].any() and not tail.targets["intro_known"].any()
    assert not head.targets["kind_known"].any()  # the head holds no credits, and the row says nothing else
    said = tail.targets["kind_known"] > 0
    centres = tail.start_s + 5.0
    assert said.any() and np.array_equal(said, (centres >= 158.1) & (centres <= 186.0))
    assert set(tail.targets["kind"][said]) == {KINDS.index("credits")}
    full = next(e for e in data.tails if e.id == "show02_s01e03")
    assert full.targets["kind_known"].all() and full.targets["intro_known"].all()  # a truth row states every kind
    truth = job.truth_of(data, data.episodes)
    assert not truth["show02_s01e02"].intro_stated and truth["show02_s01e03"].intro_stated
    intro_only = job.prepare(labels, videos, inputs, tmp_path / "cache", audio, workers=1)
    assert [e.id for e in intro_only.episodes] == ["show02_s01e03"] and not intro_only.tails


def test_the_model_proposes_no_recap_shorter_than_a_real_one() -> None:
    """A recap runs 15 s to 2 minutes: the head's run of a few recap windows at the start is no recap, a longer
    one is (``detectors.model.MIN_PART_S``); credits have no such floor."""
    from introdetect.detectors.model import EARLY_KINDS, LATE_KINDS, kind_candidates
    from introdetect.model.decode import KindCurves
    from introdetect.result import Kind

    starts = np.arange(20) * 5.0
    p = np.zeros((20, 6))
    p[:, 0] = 1.0
    p[:2, 2], p[:2, 0] = 0.9, 0.1  # centres 5 and 10: a recap of ~12 s from the start
    assert kind_candidates(KindCurves(starts, 10.0, p), EARLY_KINDS, 100.0, late=False) == []
    p[:5, 2], p[:5, 0] = 0.9, 0.1  # centres 5-25: ~27 s
    (recap,) = kind_candidates(KindCurves(starts, 10.0, p), EARLY_KINDS, 100.0, late=False)
    assert recap.kind == Kind.RECAP and recap.segment.start_s == 0.0 and recap.segment.duration_s >= 15.0
    q = np.zeros((20, 6))
    q[:, 0] = 1.0
    q[-2:, 4], q[-2:, 0] = 0.9, 0.1  # the last two windows: short credits to the end
    (credits,) = kind_candidates(KindCurves(starts + 1000.0, 10.0, q), LATE_KINDS, 1105.0, late=True)
    assert credits.kind == Kind.CREDITS and credits.segment.end_s == 1105.0


def test_the_models_intro_starts_at_its_themes_first_loud_frame(music_clip: Path) -> None:
    """Real music (Awakening from 20 s, at 30 s of a quiet room) after a lead-in rising to 32 dB under it over the
    1.5 s before: a model's start on the lead-in (1.2 s early) moves to the theme's attack (±0.1 s); a start on
    the attack, or one more than ONSET_LOOK_S before it, stays."""
    from introdetect.analysis import analyse_samples
    from introdetect.detectors.model import ONSET_LOOK_S, loud_onset
    from introdetect.media import decode_audio
    from introdetect.settings import AudioOptions

    sr = AudioOptions().sample_rate
    music = decode_audio(music_clip, AudioOptions(window_s=60))
    theme = music[20 * sr : 40 * sr] / np.abs(music[20 * sr : 40 * sr]).max() * 0.5
    y = np.random.default_rng(3).normal(0.0, 0.0005, 80 * sr).astype(np.float32)
    y[30 * sr : 30 * sr + theme.size] += theme
    ramp = np.linspace(0.0, 1.0, round(1.5 * sr), dtype=np.float32)
    y[round(28.5 * sr) : 30 * sr] += 0.004 * ramp * np.random.default_rng(4).normal(0.0, 1.0, ramp.size)
    head = analyse_samples(y, sr, "e")
    attack = 30.0
    moved = loud_onset(head, Segment(attack - 1.2, 50.0))
    assert moved is not None and abs(moved.start_s - attack) < 0.1 and moved.end_s == 50.0, moved
    assert loud_onset(head, Segment(attack, 50.0)) == Segment(attack, 50.0)
    early = Segment(attack - ONSET_LOOK_S - 1.0, 50.0)
    assert loud_onset(head, early) == early
    assert loud_onset(head, None) is None


def test_the_models_intro_ends_after_its_themes_last_loud_frame(music_clip: Path, speech_clip: Path) -> None:
    """Real music (Awakening from 20 s, 10 s of it at 30 s of a quiet room): a model's end 1.2 s into the quiet
    after it moves back to the theme's last loud frame (±0.1 s); an end on it, or one followed by a recorded line
    as loud as the theme (story going on), stays, as does one more than OFFSET_LOOK_S past the theme."""
    from introdetect.analysis import analyse_samples
    from introdetect.detectors.model import OFFSET_LOOK_S, loud_offset
    from introdetect.media import decode_audio
    from introdetect.settings import AudioOptions

    sr = AudioOptions().sample_rate
    music = decode_audio(music_clip, AudioOptions(window_s=60))
    theme = music[20 * sr : 30 * sr] / np.abs(music[20 * sr : 30 * sr]).max() * 0.5
    y = np.random.default_rng(7).normal(0.0, 0.0005, 60 * sr).astype(np.float32)
    y[30 * sr : 40 * sr] += theme
    head = analyse_samples(y, sr, "e")
    end = 40.0
    moved = loud_offset(head, Segment(30.0, end + 1.2))
    assert moved is not None and abs(moved.end_s - end) < 0.1 and moved.start_s == 30.0, moved
    on = loud_offset(head, Segment(30.0, end))
    assert on is not None and abs(on.end_s - end) < 0.1
    far = Segment(30.0, end + OFFSET_LOOK_S + 1.0)
    assert loud_offset(head, far) == far
    assert loud_offset(head, None) is None
    speech = decode_audio(speech_clip, AudioOptions(window_s=10))[: 2 * sr]
    z = y.copy()
    z[40 * sr : 40 * sr + speech.size] += speech / np.abs(speech).max() * 0.5
    talked = analyse_samples(z, sr, "e")
    spoken = loud_offset(talked, Segment(30.0, end + 1.2))
    assert spoken is not None and spoken.end_s > end + 0.8, spoken


def test_the_models_intro_that_opens_the_file_starts_at_zero(music_clip: Path, speech_clip: Path) -> None:
    """Real music (Awakening from 20 s) opening a file, then a quiet room: a model's start 1.5 s in moves to 0:00.
    The same theme after a real line of speech and a 0.6 s pause stays where the model put it, as does a start
    past OPENING_LOOK_S."""
    from introdetect.analysis import analyse_samples
    from introdetect.detectors.model import OPENING_LOOK_S, from_the_opening
    from introdetect.media import decode_audio
    from introdetect.settings import AudioOptions

    sr = AudioOptions().sample_rate
    music = decode_audio(music_clip, AudioOptions(window_s=60))
    theme = music[20 * sr : 40 * sr] / np.abs(music[20 * sr : 40 * sr]).max() * 0.5
    y = np.random.default_rng(5).normal(0.0, 0.0005, 60 * sr).astype(np.float32)
    y[: theme.size] += theme
    head = analyse_samples(y, sr, "e")
    assert from_the_opening(head, Segment(1.5, 20.0)) == Segment(0.0, 20.0)
    late = Segment(OPENING_LOOK_S + 0.5, 20.0)
    assert from_the_opening(head, late) == late
    assert from_the_opening(head, None) is None
    # a cold open's line (a recorded prompt's first second, as loud as the theme), a 0.6 s pause, then the theme
    speech = decode_audio(speech_clip, AudioOptions(window_s=10))[:sr]
    z = np.random.default_rng(6).normal(0.0, 0.0005, 60 * sr).astype(np.float32)
    z[: speech.size] += speech / np.abs(speech).max() * 0.5
    z[round(1.6 * sr) : round(1.6 * sr) + theme.size] += theme
    after = analyse_samples(z, sr, "e")
    assert from_the_opening(after, Segment(1.6, 21.6)) == Segment(1.6, 21.6)


def test_training_sees_an_episode_through_its_variants_with_their_own_truth(monkeypatch) -> None:
    """``TrainingData.variants``: each epoch an episode is drawn as itself or as one of its versions (another
    release's sound, its truth scaled by the speed), the version's own truth makes its targets, a variant is never
    a sequence of its own, and early stopping never sees one."""
    from introdetect.labels import Label
    from introdetect.model import job
    from introdetect.model.inputs import EpisodeInputs
    from introdetect.model.train import TrainOptions

    rng = np.random.default_rng(1)
    n = 14
    starts = np.arange(n) * 5.0

    def episode(name: str, intro: Segment, constant: float | None = None) -> EpisodeInputs:
        patch = rng.normal(size=(27, (n + 1) * 40)) if constant is None else np.full((27, (n + 1) * 40), constant)
        return EpisodeInputs(
            name,
            patch.astype(np.float32),
            rng.normal(size=(20, (n + 1) * 40)).astype(np.float32),
            rng.normal(size=(n, 4)).astype(np.float32),
            starts,
            n * 5.0 + 5,
            boundary_targets(starts, 10.0, intro),
        )

    data = job.TrainingData()
    for k in range(4):
        intro = Segment(10.0 + k, 30.0 + k)
        data.episodes.append(episode(f"ep{k}", intro))
        data.series.append(f"s{k % 2}")
        data.labels[f"ep{k}"] = Label(f"ep{k}", None, "0:00:10", "0:00:30", intro.start_s, intro.end_s)
    late = Segment(40.0, 60.0)  # the variant's truth differs from its episode's: its targets must follow it
    data.variants.append(episode(f"ep0{job.VARIANT_MARK}1", late, constant=7.0))
    data.labels[f"ep0{job.VARIANT_MARK}1"] = Label(f"ep0{job.VARIANT_MARK}1", None, "0:00:40", "0:01:00", 40.0, 60.0)
    seen: dict = {}
    real_fit = job.fit

    def spy(train, valid, dims, options, on_epoch, init, augment):
        seen.update(train=train, valid=valid, augment=augment)
        return real_fit(train, valid, dims, options, on_epoch, init, augment)

    monkeypatch.setattr(job, "fit", spy)
    valid = data.subset([2, 3])
    train = data.subset([0, 1])
    assert [v.id for v in train.variants] == [f"ep0{job.VARIANT_MARK}1"] and not valid.variants
    job.train_model(
        train,
        InputOptions(),
        TrainOptions(epochs=1, batch_size=2),
        valid=valid,
        channels=(4, 4, 4),
        lstm_units=8,
        embedding=16,
        series_channels=4,
    )
    assert [e.id for e in seen["train"]] == ["ep0", "ep1"]
    assert [e.id for e in seen["valid"]] == ["ep2", "ep3"]
    draws = [seen["augment"](0, np.random.default_rng(k)) for k in range(40)]
    variants = [d for d in draws if d.id != "ep0"]
    assert 5 < len(variants) < 35  # both versions drawn
    assert {d.id for d in variants} == {f"ep0{job.VARIANT_MARK}1"}
    for view in draws:
        intro_windows = view.start_s[view.targets["label"] == 1] + 5.0  # window centres inside the intro
        expected = late if view.id != "ep0" else Segment(10.0, 30.0)
        assert intro_windows.size and expected.start_s <= intro_windows.min() and intro_windows.max() <= expected.end_s
    assert all(seen["augment"](1, np.random.default_rng(k)).id == "ep1" for k in range(10))
