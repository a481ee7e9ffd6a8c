"""Windows: grid, centre labels, per-frame targets, slicing; and building them from stored features."""

import numpy as np
import pytest

from introdetect.features.compute import compute_features
from introdetect.features.store import save_features
from introdetect.labels import read_labels
from introdetect.settings import WindowOptions
from introdetect.timecode import Segment
from introdetect.windows import (
    build_windows,
    frame_targets,
    save_windows,
    slice_windows,
    window_grid,
    window_labels,
)

RATE = 22050 / 1024


def test_grid_over_300_s():
    grid = window_grid(300.0, RATE)
    assert grid.start_s.size == 59  # 0, 5, …, 290
    assert grid.end_s[-1] == 300.0
    assert grid.frames_per_window == 215
    assert grid.first_frame[1] == round(5 * RATE)


def test_short_audio_gets_one_padded_window():
    grid = window_grid(3.0, RATE)
    assert grid.start_s.tolist() == [0.0]
    m = np.ones((2, 65), dtype=np.float32)
    x = slice_windows(m, grid)
    assert x.shape == (1, 2, 215) and x[0, :, :65].all() and not x[0, :, 65:].any()


def test_centre_rule_inclusive():
    grid = window_grid(60.0, RATE)
    centres = (grid.start_s + grid.end_s) / 2  # 5, 10, 15, …
    labels = window_labels(grid, Segment(10.0, 20.0))
    assert centres[labels == 1].tolist() == [10.0, 15.0, 20.0]
    assert window_labels(grid, Segment(11.0, 14.0)).sum() == 0  # a 3 s sting between two centres
    assert window_labels(grid, None).sum() == 0


def test_frame_targets_cover_short_sting():
    targets = frame_targets(1000, RATE, Segment(11.0, 14.0))
    on = np.flatnonzero(targets)
    assert on[0] == int(np.ceil(11.0 * RATE)) and on[-1] == int(np.floor(14.0 * RATE))


def test_slice_values_follow_frames():
    m = np.arange(1000, dtype=np.float32)[None, :]
    grid = window_grid(1000 / RATE, RATE)
    x = slice_windows(m, grid)
    assert x[3, 0, 0] == grid.first_frame[3] and x[3, 0, -1] == grid.first_frame[3] + 214


def test_options_validated():
    with pytest.raises(ValueError):
        WindowOptions(length_s=5, step_s=10)


def test_build_from_feature_folder(tmp_path, noise):
    y = np.tile(noise, 10)  # 30 s
    folder = tmp_path / "features"
    for vid in ("ep1", "ep2", "ep3"):
        save_features(folder / f"{vid}.npz", compute_features(y))
    labels_file = tmp_path / "labels.json"
    labels_file.write_text(
        '{"ep1": {"start": "0:00:10", "end": "0:00:20"}, "ep2": {"start": null, "end": null},'
        ' "ep4": {"start": "0:00:01", "end": "0:00:05"}}'
    )
    files = {p.stem: p for p in folder.glob("*.npz")}
    ws = build_windows(files, read_labels(labels_file))
    assert [p.episode_id for p in ws.parts] == ["ep1", "ep2"]
    assert ws.skipped == [("ep3", "no label for this id")]
    arrays = ws.arrays()
    assert arrays["x_mfcc"].shape == (10, 20, 215)
    assert arrays["x_series"].shape[1] == 8 and arrays["window_scalars"].shape == (10, 3)
    assert arrays["label"].tolist() == [0, 1, 1, 1, 0] + [0] * 5
    assert np.isfinite(arrays["window_scalars"]).all()
    assert arrays["episode_id"].tolist() == ["ep1"] * 5 + ["ep2"] * 5
    out = tmp_path / "w.npz"
    save_windows(out, ws, WindowOptions())
    with np.load(out) as data:
        assert data["label"].tolist() == arrays["label"].tolist()
    unlabelled = build_windows(files, None)
    assert (unlabelled.arrays()["label"] == -1).all() and len(unlabelled.parts) == 3
