"""``introdetect demo``: the main job on the built-in sample, until detection lands.

Label statistics on the real VK label files, then extract → features → windows on a sample episode made
with ffmpeg, whose intro position is known by construction.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from rich.console import Console

from .labels import read_labels
from .runner import extract_many, features_many
from .samples import make_sample_episode
from .settings import DEFAULT_WINDOW_S, AudioOptions, WindowOptions
from .timecode import format_timecode
from .windows import build_windows, feature_files, save_windows


def builtin_label_files() -> list[Path]:
    folder = resources.files("introdetect") / "data" / "vk_labels"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".json"))


def run_demo(out_dir: Path, labels_dir: Path | None, console: Console) -> None:
    files = sorted(labels_dir.glob("*.json")) if labels_dir else builtin_label_files()
    label_set = read_labels(files)
    stats = label_set.stats()
    console.rule("1. Real VK labels")
    console.print(f"{stats.rows} rows, {stats.ids} ids, {len(stats.series)} series; usable as truth: {stats.usable}")
    console.print("defects: " + ", ".join(f"{k} {v}" for k, v in stats.defects_by_kind.items()))
    console.print(f"median intro {stats.duration_s['median']:.0f} s; intros within 300 s: "
                  f"{stats.share_ending_within['300s'] * 100:.1f} %; window for ≥95 %: {stats.recommended_window_s:g} s "
                  f"(default {DEFAULT_WINDOW_S:g} s)")  # fmt: skip

    console.rule("2. Sample episode (made with ffmpeg)")
    out_dir.mkdir(parents=True, exist_ok=True)
    video_dir = out_dir / "videos"
    video_dir.mkdir(exist_ok=True)
    sample = make_sample_episode(video_dir / "sample_S01E01.mp4")
    console.print(f"{sample.path}: {sample.duration_s:g} s, intro {sample.intro}")
    truth = out_dir / "sample_labels.json"
    truth.write_text(json.dumps({"sample_S01E01": {"name": "Sample. 1 сезон, 1 серия",
                                 "start": format_timecode(sample.intro.start_s),
                                 "end": format_timecode(sample.intro.end_s)}}, ensure_ascii=False))  # fmt: skip

    console.rule("3. extract → features → windows")
    audio = extract_many([sample.path], out_dir / "audio", AudioOptions())
    console.print(f"extract: {len(audio.done)} done, {len(audio.up_to_date)} up to date, {len(audio.failed)} failed")
    feats = features_many(sorted((out_dir / "audio").glob("*.wav")), out_dir / "features")
    console.print(f"features: {len(feats.done)} done, {len(feats.up_to_date)} up to date, {len(feats.failed)} failed")
    for _, message in audio.failed + feats.failed:
        console.print(f"[red]{message}[/]")
    options = WindowOptions()
    window_set = build_windows(feature_files(out_dir / "features"), read_labels(truth), options)
    save_windows(out_dir / "windows.npz", window_set, options)
    part = window_set.parts[0]
    console.print(f"{part.label.size} windows of {options.length_s:g} s every {options.step_s:g} s; "
                  f"x_mfcc {part.x['mfcc'].shape}, x_contrast {part.x['contrast'].shape}, x_series {part.x['series'].shape}")  # fmt: skip
    intro_windows = [f"{s:g}–{e:g} s" for s, e, y in zip(part.start_s, part.end_s, part.label) if y == 1]
    console.print(f"windows labelled intro (centre inside {sample.intro}): {', '.join(intro_windows)}")
    console.print(f"outputs in {out_dir}/: audio/, features/ (mapping.json), windows.npz")
