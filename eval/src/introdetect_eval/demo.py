"""``introdetect demo``: the main job on a built-in sample season.

1. Statistics of the real VK label files (the packaged copy).
2. The tiny corpus: a few series of short episodes generated from real recordings in Debian packages
   (about 90 MB of downloads on the first run), with truth.
3. extract → features (one decode per episode) → windows on the test series.
4. `detect` on the test series (no labels), its table of answers.
5. detect and the two baselines scored on the test series, as `introdetect evaluate` scores any file.
6. Every part (ident, recap, intro, credits, preview) on two structured sample seasons, scored per kind.
7. A report, and how to review.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from introdetect._cli.render import detection_table, kinds_table
from introdetect.atomic import write_text_atomic
from introdetect.batch import extract_many
from introdetect.labels import read_labels
from introdetect.metrics import evaluate, harm_line, read_truth
from introdetect.pipeline import candidates
from introdetect.report import build_report
from introdetect.resources import vk_label_files
from introdetect.result import Detection, write_result
from introdetect.settings import DEFAULT_WINDOW_S, AudioOptions, WindowOptions
from introdetect.windows import build_windows, feature_files, save_windows

from .baselines.intro_skipper import IntroSkipperOptions, detect_season, fingerprint
from .baselines.prior import PositionPrior
from .corpus import build_corpus


def run_demo(out_dir: Path, labels_dir: Path | None, console: Console) -> None:
    files = sorted(labels_dir.glob("*.json")) if labels_dir else vk_label_files()
    label_set = read_labels(files)
    stats = label_set.stats()
    console.rule("1. Real VK labels")
    console.print(f"{stats.rows} rows, {stats.ids} ids, {len(stats.series)} series; usable as truth: {stats.usable}")
    console.print("defects: " + ", ".join(f"{k} {v}" for k, v in stats.defects_by_kind.items()))
    console.print(
        f"median intro {stats.duration_s['median']:.0f} s; intros within 300 s: "
        f"{stats.share_ending_within['300s'] * 100:.1f} %; window for ≥95 %: {stats.recommended_window_s:g} s "
        f"(default {DEFAULT_WINDOW_S:g} s)"
    )

    console.rule("2. A sample season from the corpus generator (real recordings from Debian packages)")
    corpus_dir = out_dir / "corpus"
    corpus = build_corpus(corpus_dir, "tiny", seed=0)
    console.print(
        f"{corpus.episodes} episodes in {corpus_dir} ({corpus.rendered} rendered, {corpus.up_to_date} up to date)"
    )
    manifest = json.loads((corpus_dir / "corpus.json").read_text(encoding="utf-8"))
    test = {e["id"]: e for e in manifest["episodes"] if e["split"] == "test"}
    truth = read_truth(corpus_dir / "truth_test.json")
    table = Table(title="Test split: truth")
    for column in ("episode", "file", "intro (truth)", "variations"):
        table.add_column(column)
    for vid, entry in sorted(test.items()):
        intro = truth[vid].intro
        table.add_row(vid, entry["file"], str(intro) if intro else "no intro", ", ".join(truth[vid].tags) or "–")
    console.print(table)

    console.rule("3. extract → features (one decode) → windows")
    audio_dir, feature_dir = out_dir / "audio", out_dir / "features"
    videos = [corpus_dir / e["file"] for e in test.values()]
    result = extract_many(videos, audio_dir, AudioOptions(), features_dir=feature_dir)
    console.print(
        f"extract + features: {len(result.done)} done, {len(result.up_to_date)} up to date, {len(result.failed)} failed"
    )
    for failure in result.failed:
        console.print(failure.message, style="red", markup=False)
    options = WindowOptions()
    window_set = build_windows(feature_files(feature_dir), read_labels(corpus_dir / "truth_test.json"), options)
    save_windows(out_dir / "windows.npz", window_set, options)
    summary = window_set.summary()
    console.print(
        f"{summary['windows']} windows of {options.length_s:g} s every {options.step_s:g} s from "
        f"{summary['episodes']} episodes: {summary['intro_windows']} intro, {summary['other_windows']} other "
        f"→ {out_dir / 'windows.npz'}"
    )

    console.rule("4. introdetect detect on the sample seasons (no labels: what recurs, and the shipped model)")
    found_by = candidates(videos)  # one decode per episode: every detector's candidates
    detections = found_by.answers("fused").detections
    matching_only = found_by.answers("matching").by_id()
    model_only = found_by.answers("model").by_id()
    title = "introdetect detect, fused (series from the S01E02 file names; method = what decided)"
    console.print(detection_table(detections, title, {vid: t.intro for vid, t in truth.items()}))
    write_result(out_dir / "detections.json", detections)
    console.print(f"answers → {out_dir / 'detections.json'}")

    console.rule("5. Against the baselines on the test split")
    prior = PositionPrior.fit(read_truth(corpus_dir / "truth_train.json")).predict(test)
    skipper_options = IntroSkipperOptions()
    prints = {vid: fingerprint(corpus_dir / e["file"], min(0.25 * e["duration_s"], 600)) for vid, e in test.items()}
    skipper: dict[str, Detection] = {}
    for series in sorted({e["series"] for e in test.values()}):
        skipper.update(
            detect_season(prints, sorted(v for v, e in test.items() if e["series"] == series), skipper_options)
        )
    scores = Table(title="Detectors on the test split")
    for column in ("detector", "F1 @IoU≥0.5", "hits ±1 s", "start MAE s", "window F1", "false-intro rate"):
        scores.add_column(column)
    ours = {d.id: d for d in detections}
    for name, answers in (
        ("position prior", prior),
        ("Intro Skipper's method", skipper),
        ("introdetect: matching alone", matching_only),
        ("introdetect: the model alone", model_only),
        ("introdetect (fused, the default)", ours),
    ):
        fig = evaluate(answers, truth).overall

        def cell(value: float, digits: int = 2) -> str:
            return "–" if value != value else f"{value:.{digits}f}"

        scores.add_row(
            name,
            cell(fig.f1),
            cell(fig.hits["±1s"]),
            cell(fig.start_mae_s, 1),
            cell(fig.window_f1),
            cell(fig.false_intro_rate),
        )
    console.print(scores)
    whole = evaluate(ours, truth)
    console.print(
        kinds_table(whole, "introdetect's other parts on the test split (the corpus's truth states each kind)")
    )
    harm = harm_line(whole)
    if harm:
        console.print(harm)
    console.print(
        "`introdetect evaluate PRED.json TRUTH.json` scores any prediction file the same way; "
        "docs/BENCHMARKS.md has the same comparison on the full corpus."
    )

    console.rule("6. Every part of an episode: two structured sample seasons")
    parts_dir = out_dir / "parts"
    structured = build_corpus(parts_dir, "tinyparts", seed=0)
    console.print(
        f"{structured.episodes} episodes with idents, recaps of earlier scenes, previews of the next episode, "
        f"post-credits scenes ({structured.rendered} rendered, {structured.up_to_date} up to date)"
    )
    parts_truth = read_truth(parts_dir / "truth_test.json")
    found = candidates([parts_dir / "test"]).answers("fused").detections
    console.print(
        detection_table(found, "introdetect detect: every part", {v: t.intro for v, t in parts_truth.items()})
    )
    scored = evaluate({d.id: d for d in found}, parts_truth)
    console.print(kinds_table(scored, "each kind against the truth"))
    console.print(harm_line(scored) or "")
    write_result(out_dir / "parts.json", found)
    console.print(
        f"answers → {out_dir / 'parts.json'}; for players: introdetect export {out_dir / 'parts.json'} --format "
        "jellyfin (or intro-skipper, edl, ffmetadata, mkvchapters, vtt, csv)"
    )

    console.rule("7. A report to look at, and the review page")
    report = out_dir / "report.html"
    write_text_atomic(report, build_report(detections, truth, title="introdetect demo: the test split"))
    console.print(f"one timeline per episode (model curve, what recurs, answer, truth) → {report}")
    console.print(
        f"confirm, correct, add or remove every part in a browser: introdetect review {out_dir / 'parts.json'} "
        f"(or {out_dir / 'detections.json'}; pip install -e '.[review]'), then introdetect finetune MODEL "
        "REVIEWED.json --videos DIR",
        markup=False,
    )
