"""The command line end to end: a tiny run, resumability, and bad input as one line with no traceback."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from conftest import SHARED_LABELS


def run(*args, cwd=None):
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "introdetect", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env
    )


def test_help_lists_only_working_commands():
    result = run("--help")
    assert result.returncode == 0
    for command in ("labels", "extract", "features", "features-json", "windows", "evaluate", "detect", "review"):
        assert command in result.stdout
    assert "demo" not in result.stdout and "corpus" not in result.stdout  # the evaluation tools' own command
    tools = subprocess.run(
        [str(Path(sys.executable).with_name("introdetect-eval")), "--help"], capture_output=True, text=True
    )
    assert tools.returncode == 0 and "demo" in tools.stdout and "corpus" in tools.stdout


def test_labels_text_and_json():
    text = run("labels", SHARED_LABELS / "train_labels.json", SHARED_LABELS / "test_labels.json")
    assert text.returncode == 0, text.stderr
    assert "125 rows, 110 distinct ids" in text.stdout and "end_not_after_start" in text.stdout
    assert "-220020068_456241671" in text.stdout
    data = json.loads(run("labels", "--json", SHARED_LABELS / "train_labels.json").stdout)
    assert data["stats"]["ids"] == 80 and len(data["defects"]) > 0


def test_labels_policy_fail_and_bad_file(tmp_path):
    result = run("labels", "--policy", "fail", SHARED_LABELS / "train_labels.json")
    assert result.returncode == 1 and "end_not_after_start" in result.stderr and "Traceback" not in result.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": {"start": "0:00:01", "end": "0:00:0')
    result = run("labels", bad, SHARED_LABELS / "test_labels.json")
    assert result.returncode == 1
    assert f"{bad}: invalid JSON" in result.stderr and "Traceback" not in result.stderr
    assert "45 rows" in result.stdout  # the good file was still read


def test_pipeline_end_to_end_and_resume(tmp_path, sample_episode, bad_media):
    videos = tmp_path / "Мой сериал" / "Сезон 1"
    videos.mkdir(parents=True)
    shutil.copy(sample_episode.path, videos / "Серия 1.mp4")
    audio, feats = tmp_path / "audio", tmp_path / "features"

    first = run("extract", videos, "--out", audio, "--window", "60", "--no-progress")
    assert first.returncode == 0, first.stderr
    assert "1 done, 0 up to date" in first.stdout
    again = run("extract", videos, "--out", audio, "--window", "60", "--no-progress")
    assert "0 done, 1 up to date" in again.stdout
    changed = run("extract", videos, "--out", audio, "--window", "50", "--no-progress")
    assert "1 done, 0 up to date" in changed.stdout  # other settings: recomputed
    manifest = json.loads((audio / "mapping.json").read_text())
    entry = manifest["episodes"]["Серия 1"]
    assert entry["window_s"] == 50 and entry["video"].endswith("Серия 1.mp4") and entry["sample_rate"] == 22050

    result = run("features", audio, "--out", feats, "--no-progress")
    assert result.returncode == 0, result.stderr
    entry = json.loads((feats / "mapping.json").read_text())["episodes"]["Серия 1"]
    assert entry["video"].endswith("Серия 1.mp4") and entry["audio"].endswith("Серия 1.wav")
    assert entry["hop_length"] == 1024 and entry["feature_names"][0] == "mfcc_0" and len(entry["feature_names"]) == 47
    assert "1 up to date" in run("features", audio, "--out", feats, "--no-progress").stdout

    exported = run("features-json", feats / "Серия 1.npz", "--out", tmp_path / "ep.json")
    assert exported.returncode == 0, exported.stderr
    assert len(json.loads((tmp_path / "ep.json").read_text())["frame_features"]["contrast"]) == 7

    labels = tmp_path / "labels.json"
    labels.write_text(
        json.dumps(
            {"Серия 1": {"name": "Мой сериал. 1 сезон, 1 серия", "start": "0:00:20", "end": "0:00:32"}},
            ensure_ascii=False,
        )
    )
    result = run("windows", feats, "--labels", labels, "--out", tmp_path / "windows.npz")
    assert result.returncode == 0, result.stderr
    with np.load(tmp_path / "windows.npz") as data:
        assert data["label"].tolist() == [0, 0, 0, 1, 1, 1, 0, 0, 0]  # 50 s: windows at 0…40 s, centres 20/25/30 in
        assert data["x_mfcc"].shape == (9, 20, 215)


def test_one_pass_equals_two_passes(tmp_path, sample_episode):
    one = run(
        "extract",
        sample_episode.path,
        "--out",
        tmp_path / "a1",
        "--features",
        tmp_path / "f1",
        "--window",
        "40",
        "--no-progress",
    )
    assert one.returncode == 0, one.stderr
    run("extract", sample_episode.path, "--out", tmp_path / "a2", "--window", "40", "--no-progress")
    two = run("features", tmp_path / "a2", "--out", tmp_path / "f2", "--window", "40", "--no-progress")
    assert two.returncode == 0, two.stderr
    stem = sample_episode.path.stem
    with np.load(tmp_path / "f1" / f"{stem}.npz") as a, np.load(tmp_path / "f2" / f"{stem}.npz") as b:
        for name in ("mfcc", "contrast", "chroma", "rms", "beats", "repetition"):
            np.testing.assert_allclose(a[name], b[name], rtol=1e-5, atol=1e-4)
    # the one-pass features are recorded against the WAV, so `features` on that folder has nothing to do
    again = run("features", tmp_path / "a1", "--out", tmp_path / "f1", "--window", "40", "--no-progress")
    assert "0 done, 1 up to date" in again.stdout
    # features straight from the video, no WAV
    direct = run("features", sample_episode.path, "--out", tmp_path / "f3", "--window", "40", "--no-progress")
    assert direct.returncode == 0, direct.stderr
    with np.load(tmp_path / "f3" / f"{stem}.npz") as c, np.load(tmp_path / "f2" / f"{stem}.npz") as b:
        np.testing.assert_allclose(c["mfcc"], b["mfcc"], rtol=1e-5, atol=1e-4)


def test_features_batch_goes_on_past_bad_files(tmp_path, bad_media):
    fake = tmp_path / "fake.wav"
    fake.write_text("not audio")
    result = run("features", fake, bad_media["zero"], bad_media["no_audio"], "--out", tmp_path / "f", "--no-progress")
    assert result.returncode == 1 and "0 done, 0 up to date, 3 failed" in result.stdout
    assert "Traceback" not in result.stderr
    assert f"{fake}: not a readable media file" in result.stderr
    assert not list((tmp_path / "f").glob("*.npz")) and not list((tmp_path / "f").glob(".*part*"))


def test_batch_goes_on_past_bad_files(tmp_path, sample_episode, bad_media):
    files = [bad_media[k] for k in ("zero", "text", "no_audio", "truncated_no_index", "truncated_data", "missing")]
    result = run("extract", sample_episode.path, *files, "--out", tmp_path / "audio", "--no-progress")
    assert result.returncode == 1
    assert "1 done, 0 up to date, 6 failed" in result.stdout
    assert "Traceback" not in result.stderr
    for path in files:
        lines = [line for line in result.stderr.splitlines() if str(path) in line]
        assert len(lines) == 1, (path, result.stderr)
    leftovers = sorted(p.name for p in (tmp_path / "audio").iterdir())
    assert leftovers == [".mapping.lock", "mapping.json", "Сериал S01E01.wav"]


def test_bad_options_are_usage_errors(tmp_path, sample_episode):
    result = run("extract", sample_episode.path, "--out", tmp_path, "--window", "-5")
    assert result.returncode == 2 and "window must be a positive number" in result.stderr
    result = run("windows", tmp_path / "nothing", "--out", tmp_path / "w.npz")
    assert result.returncode == 1 and "no feature files" in result.stderr


def test_module_and_script_agree():
    exe = shutil.which("introdetect", path=os.path.dirname(sys.executable))
    assert exe is not None
    script = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert script.returncode == 0 and script.stdout == run("--version").stdout


def test_evaluate_command(tmp_path):
    truth = tmp_path / "truth.json"
    pred = tmp_path / "pred.json"
    truth.write_text(
        json.dumps(
            {
                "a": {"start": "0:00:20", "end": "0:00:30", "duration_sec": 60},
                "b": {"start": None, "end": None, "duration_sec": 60},
            }
        )
    )
    pred.write_text(
        json.dumps(
            {
                "a": {"start": "0:00:21.0", "end": "0:00:30.5", "confidence": 0.9},
                "b": {"start": "0:00:05", "end": "0:00:08"},
            }
        )
    )
    result = run("evaluate", pred, truth, "--out", tmp_path / "eval.json")
    assert result.returncode == 0, result.stderr
    assert "overall" in result.stdout and "no_intro" in result.stdout
    data = json.loads((tmp_path / "eval.json").read_text())
    assert data["overall"]["tp"] == 1 and data["overall"]["false_intro_rate"] == 1.0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"a": {"start": "0:00:30", "end": "0:00:20"}}))
    result = run("evaluate", bad, truth)
    assert result.returncode == 1 and "is not after start" in result.stderr and "Traceback" not in result.stderr
