"""The command line: parse, call the library, print. No logic of its own.

Exit codes: 0 success; 1 some input failed (each failure printed as one line at the end); 2 usage error.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .errors import USER_ERRORS
from .labels import ERROR, NOTE, read_labels
from .runner import BatchResult, extract_many, features_many, videos_by_id
from .settings import DEFAULT_WINDOW_S, LABEL_POLICIES, AudioOptions, FeatureOptions, WindowOptions
from .timecode import format_timecode

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Find where the opening intro of a TV episode starts and ends, from its audio.",
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # one-line errors stay one line

MEDIA_SUFFIXES = {
    ".mp4",
    ".mkv",
    ".mka",
    ".avi",
    ".mov",
    ".webm",
    ".ts",
    ".m4v",
    ".mp3",
    ".m4a",
    ".aac",
    ".ac3",
    ".opus",
    ".ogg",
    ".oga",
    ".flac",
    ".wav",
    ".wma",
    ".wmv",
    ".mpg",
    ".mpeg",
    ".flv",
}


def _version(value: bool) -> None:
    if value:
        out.print(f"introdetect {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """introdetect: intro detection from audio."""


def _expand(paths: list[Path], suffixes: set[str]) -> list[Path]:
    """Files as given; folders expanded to the media files inside them (recursively, sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes))
        else:
            files.append(path)
    return files


def _finish(result: BatchResult, what: str) -> None:
    out.print(f"{what}: {len(result.done)} done, {len(result.up_to_date)} up to date, {len(result.failed)} failed")
    if result.failed:
        err.print(f"[bold red]{len(result.failed)} failed:[/]")
        for _, message in result.failed:
            err.print(f"  {message}", markup=False)
        raise typer.Exit(1)


def _check_policy(policy: str) -> None:
    if policy not in LABEL_POLICIES:
        raise typer.BadParameter(f"policy must be one of {', '.join(LABEL_POLICIES)}", param_hint="--policy")


def _fail(message: str) -> None:
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(1)


@contextlib.contextmanager
def _writing(target: Path, what: str = "") -> Iterator[None]:
    """An output that cannot be written is one line naming it (the write itself is atomic: nothing half-way)."""
    try:
        yield
    except OSError as exc:
        _fail(f"{target}: cannot write{' ' + what if what else ''} ({exc.strerror or exc})")


@app.command()
def labels(
    files: Annotated[list[Path], typer.Argument(help="Label files in the VK JSON format.")],
    policy: Annotated[str, typer.Option(help="Rows with errors: keep (flagged), skip, or fail.")] = "keep",
    window: Annotated[
        float, typer.Option(help="Analysis window in seconds, for the beyond-window check.")
    ] = DEFAULT_WINDOW_S,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
    notes: Annotated[bool, typer.Option(help="Also list note-level findings (look-alike letters).")] = False,
    audit: Annotated[
        bool, typer.Option(help="Check the labels against the audio of --videos: flag labels it contradicts.")
    ] = False,
    videos: Annotated[
        Optional[list[Path]],
        typer.Option(help="The labelled episodes' videos, for --audit (files or folders; id = file stem)."),
    ] = None,
) -> None:
    """Read label files: seconds and durations, series/season/episode, every defect by id, statistics."""
    _check_policy(policy)
    try:
        label_set = read_labels(files, policy=policy, window_s=window, skip_bad_files=True)
    except USER_ERRORS as exc:
        _fail(str(exc))
        return
    report = label_set.report()
    if as_json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_label_report(label_set, report, notes)
    if audit:
        _audit(label_set, videos or [], window)
    if label_set.failed_files:
        for file, message in label_set.failed_files:
            err.print(f"error: {message}", markup=False)
        raise typer.Exit(1)


def _audit(label_set, videos: list[Path], window: float) -> None:  # noqa: ANN001
    """Labels against the audio: each labelled intro found again among its series' episodes, or flagged."""
    from .library import AUDIT_TOLERANCE_S, build_library

    if not videos:
        raise typer.BadParameter("--audit needs --videos (where the labelled episodes are)", param_hint="--videos")
    library, failed, missing = build_library(
        label_set, _expand(videos, MEDIA_SUFFIXES), _audio_options(window, 0), show_progress=True
    )
    table = Table(title=f"labels against the audio (flagged when more than {AUDIT_TOLERANCE_S:g} s off)")
    for column in ("id", "series", "label", "audio", "verdict"):
        table.add_column(column)
    for a in library.audits:
        table.add_row(
            a.id,
            a.series,
            str(a.label),
            str(a.audio) if a.audio else "–",
            ("FLAGGED: " if a.flagged else "ok: ") + a.reason,
        )
    out.print(table)
    out.print(f"{sum(a.flagged for a in library.audits)} of {len(library.audits)} labels flagged")
    if missing:
        out.print(
            f"{len(missing)} labelled ids have no video: " + ", ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
        )
    for _, message in failed:
        err.print(f"  {message}", markup=False)
    if failed:
        raise typer.Exit(1)


def _print_label_report(label_set, report, show_notes: bool) -> None:  # noqa: ANN001
    stats = report["stats"]
    out.print(
        f"[bold]{stats['rows']} rows, {stats['ids']} distinct ids[/] in {len(label_set.files)} file(s); "
        f"usable as truth: {stats['usable']} ({stats['with_intro']} with an intro, {stats['no_intro']} without); "
        f"policy: {label_set.policy}"
    )
    if label_set.skipped:
        out.print(f"skipped by policy: {len(label_set.skipped)} ids")
    table = Table(title="Defects by kind")
    for column in ("kind", "severity", "count", "ids"):
        table.add_column(column)
    by_kind: dict[str, list[str]] = {}
    for defect in label_set.defects:
        by_kind.setdefault(defect.kind, []).append(defect.id)
    for kind, ids in by_kind.items():
        severity = next(d.severity for d in label_set.defects if d.kind == kind)
        shown = ", ".join(ids[:4]) + (f" … (+{len(ids) - 4})" if len(ids) > 4 else "")
        table.add_row(kind, severity, str(len(ids)), shown)
    out.print(table)
    for defect in label_set.defects:
        if defect.severity != NOTE or show_notes:
            colour = "red" if defect.severity == ERROR else "yellow" if defect.severity != NOTE else "dim"
            out.print(f"[{colour}]{defect.severity:7}[/] {defect}", markup=True, soft_wrap=True)
    series = Table(title="Episodes per series")
    series.add_column("series")
    series.add_column("episodes", justify="right")
    for name, count in stats["series"].items():
        series.add_row(name, str(count))
    out.print(series)
    dur = stats["duration_s"]
    if dur:
        out.print("Intro duration (s): " + ", ".join(f"{k} {v:.1f}" for k, v in dur.items()))
        out.print("Duration buckets: " + ", ".join(f"{k}: {v}" for k, v in stats["duration_buckets"].items()))
    st = stats["start_s"]
    if st:
        out.print("Intro start (s): " + ", ".join(f"{k} {v:.1f}" for k, v in st.items()))
    share = stats["share_ending_within"]
    out.print(
        "Intros within the first 60 / 300 / 600 s: "
        + " / ".join(f"{share[k] * 100:.1f} %" for k in ("60s", "300s", "600s"))
    )
    if stats["recommended_window_s"] is not None:
        out.print(f"Smallest whole-minute window holding ≥ 95 % of these intros: {stats['recommended_window_s']:g} s")


_Language = Annotated[
    Optional[str],
    typer.Option(
        help="Use the first audio stream tagged with this language (rus, eng, ru…), for dubbed releases; replaces --stream."
    ),
]


def _audio_options(window: float, stream: int, language: str | None = None) -> AudioOptions:
    try:
        return AudioOptions(window_s=window, stream=stream, language=language)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command()
def extract(
    videos: Annotated[list[Path], typer.Argument(help="Video files or folders of them.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for <id>.wav and mapping.json.")],
    window: Annotated[float, typer.Option(help="Seconds decoded from the start of each file.")] = DEFAULT_WINDOW_S,
    stream: Annotated[int, typer.Option(help="Audio stream to use (0 = first audio stream).")] = 0,
    language: _Language = None,
    features_dir: Annotated[
        Optional[Path], typer.Option("--features", help="Also compute features from the same decode into this folder.")
    ] = None,
    workers: Annotated[Optional[int], typer.Option(help="Parallel ffmpeg processes.")] = None,
    force: Annotated[bool, typer.Option(help="Redo files whose output is up to date.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Decode the first WINDOW seconds of each video's audio to mono float WAV at 22.05 kHz.

    With --features DIR, features are computed while decoding (one pass, as `features` would compute them).
    """
    options = _audio_options(window, stream, language)
    files = _expand(videos, MEDIA_SUFFIXES)
    if not files:
        _fail("no media files found in " + ", ".join(map(str, videos)))
    result = extract_many(
        files, out_dir, options, workers=workers, force=force, show_progress=progress, features_dir=features_dir
    )
    _finish(result, "extract")


@app.command()
def features(
    audio: Annotated[list[Path], typer.Argument(help="WAV files from `extract` (or any media), or folders.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for <id>.npz and mapping.json.")],
    window: Annotated[float, typer.Option(help="Seconds analysed from the start of each file.")] = DEFAULT_WINDOW_S,
    workers: Annotated[Optional[int], typer.Option(help="Parallel processes.")] = None,
    force: Annotated[bool, typer.Option(help="Recompute files whose features are up to date.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Compute frame features (MFCC, contrast, RMS, centroid, spread, flatness, chroma, rhythm, repetition)."""
    options = FeatureOptions()
    audio_options = _audio_options(window, 0)
    files = _expand(audio, {".wav"} if all(p.is_dir() for p in audio) else MEDIA_SUFFIXES)
    if not files:
        _fail("no audio files found in " + ", ".join(map(str, audio)))
    result = features_many(files, out_dir, options, audio_options, workers=workers, force=force, show_progress=progress)
    _finish(result, "features")


@app.command("features-json")
def features_json(
    feature_file: Annotated[Path, typer.Argument(help="One episode's .npz from `features`.")],
    out_file: Annotated[Optional[Path], typer.Option("--out", help="Output JSON (default: beside the .npz).")] = None,
) -> None:
    """Export one episode's features as JSON (the design's format; the .npz stays the storage)."""
    from .features.store import export_json

    target = out_file or feature_file.with_suffix(".json")
    try:
        export_json(feature_file, target)
    except USER_ERRORS as exc:
        _fail(str(exc))
    out.print(f"wrote {target}")


@app.command()
def windows(
    feature_dir: Annotated[Path, typer.Argument(help="Feature folder from `features`.")],
    out_file: Annotated[Path, typer.Option("--out", help="Output .npz with the window arrays.")],
    label_files: Annotated[
        Optional[list[Path]], typer.Option("--labels", help="Label file(s); omit for unlabelled windows.")
    ] = None,
    policy: Annotated[str, typer.Option(help="Label rows with errors: keep, skip, or fail.")] = "skip",
    length: Annotated[float, typer.Option(help="Window length in seconds.")] = 10.0,
    step: Annotated[float, typer.Option(help="Window step in seconds.")] = 5.0,
) -> None:
    """Cut features into windows labelled by whether their centre lies in the intro; per-frame targets too."""
    from .windows import build_windows, feature_files, save_windows

    try:
        options = WindowOptions(length_s=length, step_s=step)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    try:
        label_set = read_labels(label_files, policy=policy) if label_files else None
        files = feature_files(feature_dir)
    except USER_ERRORS as exc:
        _fail(str(exc))
        return
    if not files:
        _fail(f"{feature_dir}: no feature files (run `introdetect features` first)")
    window_set = build_windows(files, label_set, options)
    if window_set.parts:
        save_windows(out_file, window_set, options)
    summary = window_set.summary()
    out.print(
        f"windows: {summary['episodes']} episodes, {summary['windows']} windows "
        f"({summary['intro_windows']} intro, {summary['other_windows']} other, "
        f"{summary['unlabelled_windows']} unlabelled)" + (f" → {out_file}" if window_set.parts else "")
    )
    for vid, why in window_set.skipped:
        err.print(f"skipped {vid}: {why}", markup=False)
    if window_set.failed or not window_set.parts:
        for _, message in window_set.failed:
            err.print(f"  {message}", markup=False)
        raise typer.Exit(1)


@app.command()
def evaluate(
    predictions: Annotated[Path, typer.Argument(help="Predictions in the label format (keyed by id).")],
    truth: Annotated[Path, typer.Argument(help="Truth in the label format (null start/end: no intro).")],
    window: Annotated[
        float, typer.Option(help="Analysis window in seconds (span of the window figures).")
    ] = DEFAULT_WINDOW_S,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole evaluation as JSON.")] = False,
    out_file: Annotated[Optional[Path], typer.Option("--out", help="Also write the JSON evaluation here.")] = None,
) -> None:
    """Score predictions against truth: window accuracy/F1, boundary MAE, hits, detection P/R/F1, per stratum."""
    from .metrics import FIGURE_COLUMNS, evaluate_files, figure_rows, write_evaluation

    try:
        result = evaluate_files(predictions, truth, window)
    except USER_ERRORS as exc:
        _fail(str(exc))
        return
    if out_file:
        write_evaluation(out_file, result)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"{predictions.name} against {truth.name}")
    for column in FIGURE_COLUMNS:
        table.add_column(column, justify="left" if column == "stratum" else "right")
    for row in figure_rows(result):
        table.add_row(*row)
    out.print(table)
    if result.missing_predictions:
        out.print(
            f"{len(result.missing_predictions)} truth ids without a prediction (scored as 'no intro'): "
            + ", ".join(result.missing_predictions[:8])
            + (" …" if len(result.missing_predictions) > 8 else "")
        )
    if result.unknown_predictions:
        out.print(f"{len(result.unknown_predictions)} predicted ids not in the truth (ignored)")


@app.command()
def corpus(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the corpus (media, truth files, corpus.json).")],
    size: Annotated[
        str,
        typer.Option(
            help="tiny (tests), small, full (≥ 40 series, ≥ 300 episodes), or season (40 episodes of one series, for cost scaling)."
        ),
    ] = "tiny",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed and size give the same corpus.")] = 0,
    workers: Annotated[Optional[int], typer.Option(help="Parallel encoders.")] = None,
    without: Annotated[
        Optional[list[str]],
        typer.Option(
            help="Switch a variation off (repeatable): no_intro, trimmed_intro, dialogue_over_intro, effects_over_intro, pal_speedup, volume_change, eq_change, recap, codecs."
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Build the evaluation corpus from real recordings in Debian packages (apt-get download, no install)."""
    from .corpus import SIZES, build_corpus
    from .corpus.plan import SWITCHES
    from .debsources import PackageError

    if size not in SIZES:
        raise typer.BadParameter(f"size must be one of {', '.join(SIZES)}", param_hint="--size")
    for name in without or []:
        if name not in SWITCHES:
            raise typer.BadParameter(
                f"unknown variation {name!r}; known: {', '.join(SWITCHES)}", param_hint="--without"
            )
    try:
        result = build_corpus(out_dir, size, seed, workers=workers, show_progress=progress, without=set(without or []))
    except PackageError as exc:
        _fail(str(exc))
        return
    summary = result.summary
    out.print(
        f"corpus {size} (seed {seed}) in {out_dir}: {result.episodes} episodes, {result.rendered} rendered, "
        f"{result.up_to_date} up to date, {len(result.failed)} failed"
    )
    out.print(
        f"intros: {summary['short_intros_le_15s']} short (≤ 15 s), {summary['long_intros']} long, "
        f"{summary['no_intro']} episodes without, {summary['starts_past_300s']} starting past 300 s; "
        f"median {summary['median_intro_s']:.1f} s"
    )
    out.print("variations: " + ", ".join(f"{k} {v}" for k, v in summary["variations"].items()))
    for _, message in result.failed:
        err.print(f"  {message}", markup=False)
    if result.failed:
        raise typer.Exit(1)


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Working folder for the demo's files.")] = Path("demo-output"),
    labels_dir: Annotated[
        Optional[Path], typer.Option(help="Folder of VK label files (default: the built-in copy).")
    ] = None,
) -> None:
    """Run the pipeline on the built-in sample: label statistics, then extract → features → windows."""
    from .demo import run_demo

    try:
        run_demo(out_dir, labels_dir, out)
    except USER_ERRORS as exc:
        _fail(str(exc))


def _detection_table(detections, title: str) -> Table:  # noqa: ANN001
    from .detect import METHOD_FAILED

    table = Table(title=title)
    for column in ("id", "start", "end", "confidence", "method", "series"):
        table.add_column(column, justify="right" if column in ("start", "end", "confidence") else "left")
    for d in detections:
        if d.method == METHOD_FAILED:
            continue
        table.add_row(
            d.id,
            format_timecode(d.intro.start_s, 1) if d.intro else "–",
            format_timecode(d.intro.end_s, 1) if d.intro else "–",
            "–" if d.confidence is None else f"{d.confidence:.2f}",
            d.method,
            d.series or "",
        )
    return table


@app.command()
def detect(
    paths: Annotated[list[Path], typer.Argument(help="Episode files or folders of them (searched recursively).")],
    out_file: Annotated[
        Optional[Path],
        typer.Option("--out", help="Write the answers here (label format + start_sec, end_sec, confidence, method)."),
    ] = None,
    labels_file: Annotated[
        Optional[list[Path]],
        typer.Option(
            "--labels",
            help="VK label file(s): episode names give the series; with --videos, labelled intros become known intros.",
        ),
    ] = None,
    videos: Annotated[
        Optional[list[Path]],
        typer.Option(help="Where the labelled episodes' videos are (files or folders; id = file name stem)."),
    ] = None,
    library_file: Annotated[
        Optional[Path], typer.Option("--library", help="A saved library of known intros (introdetect library build).")
    ] = None,
    series: Annotated[Optional[str], typer.Option(help="Treat every episode as one series of this name.")] = None,
    model_file: Annotated[
        Optional[Path],
        typer.Option("--model", help="Model file from `introdetect train` (default: the shipped model)."),
    ] = None,
    use: Annotated[
        str,
        typer.Option(
            help="fused (every detector), matching (known intros and recurrence only), or model (the model alone, episode by episode)."
        ),
    ] = "fused",
    window: Annotated[float, typer.Option(help="Seconds analysed from the start of each episode.")] = DEFAULT_WINDOW_S,
    stream: Annotated[int, typer.Option(help="Audio stream index among the file's audio streams.")] = 0,
    language: _Language = None,
    policy: Annotated[
        str, typer.Option(help="Label rows with errors: keep (flagged, unused), skip, or fail.")
    ] = "keep",
    workers: Annotated[Optional[int], typer.Option(help="Parallel decoders (local processes).")] = None,
    scheduler: Annotated[
        Optional[str],
        typer.Option(help="A Dask scheduler (tcp://HOST:PORT) to run the work on instead (the dask extra)."),
    ] = None,
    cache: Annotated[
        Optional[Path],
        typer.Option(
            help="Where analyses are cached by content (default: ~/.cache/introdetect/analysis; ~1.7 MB per episode): an unchanged episode is not decoded again."
        ),
    ] = None,
    use_cache: Annotated[bool, typer.Option("--use-cache/--no-cache", help="Reuse and store cached analyses.")] = True,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Find the intro of every episode: known intros of its series, what recurs across its series, and the
    model, fused into one answer each (the method that decided is recorded)."""
    from .cache import AnalysisCache
    from .detect import DEFAULT_MODEL, METHOD_FAILED, METHOD_NONE_LONE, USES, write_detections
    from .detect import detect as run_detect
    from .library import IntroLibrary

    _check_policy(policy)
    if use not in USES:
        raise typer.BadParameter(f"must be one of {', '.join(USES)}", param_hint="--use")
    files = _expand(paths, MEDIA_SUFFIXES)
    if not files:
        _fail("no media files found in " + ", ".join(map(str, paths)))
    try:
        label_set = read_labels(labels_file, policy=policy) if labels_file else None
        library = IntroLibrary.load(library_file) if library_file else None
        detections = run_detect(
            files,
            labels=label_set,
            series=series,
            options=_audio_options(window, stream, language),
            workers=workers,
            show_progress=progress,
            library=library,
            videos=_expand(videos or [], MEDIA_SUFFIXES),
            model=model_file or DEFAULT_MODEL,
            use=use,
            scheduler=scheduler,
            cache=AnalysisCache(cache) if use_cache else None,
        )
    except USER_ERRORS as exc:
        _fail(str(exc))
        return
    out.print(_detection_table(detections, f"intros of {len(files)} episode(s)"))
    from .fusion import NOTE_MODEL_ALONE

    alone = [d for d in detections if d.note == NOTE_MODEL_ALONE]
    if alone:
        out.print(
            f"{len(alone)} episode(s) answered by the model alone: each is the only episode of its series "
            "(add its siblings, or --labels/--library for its series, for matching): "
            + ", ".join(d.id for d in alone[:8])
        )
    lone = [d for d in detections if d.method == METHOD_NONE_LONE]
    if lone:
        out.print(
            f"{len(lone)} episode(s) cannot be matched: each is the only episode of its series and no known "
            "intro covers it (add its siblings, or --labels/--library for its series): "
            + ", ".join(d.id for d in lone[:8])
        )
    if out_file:
        with _writing(out_file, "the answers"):
            write_detections(out_file, detections)
        out.print(f"answers written to {out_file}")
    failures = [d for d in detections if d.method == METHOD_FAILED]
    if failures:
        err.print(f"[bold red]{len(failures)} failed:[/]")
        for d in failures:
            err.print(f"  {d.note}", markup=False)
        raise typer.Exit(1)


def _training():  # noqa: ANN202 - the job module, or a clear message when torch is missing
    try:
        from .model import job
    except ImportError as exc:
        _fail(f"training needs torch ({exc.name} is missing): pip install 'introdetect[train]' (torch 2.13.0, CPU)")
    return job


def _training_data(
    job,
    labels_file: list[Path],
    videos: list[Path],
    policy: str,
    cache: Optional[Path],
    window: float,
    workers: Optional[int],
    progress: bool,
):  # noqa: ANN001, ANN202
    _check_policy(policy)
    try:
        inputs = job.InputOptions(span_s=window)
        label_set = read_labels(labels_file, policy=policy)
        data = job.prepare(
            label_set, _expand(videos, MEDIA_SUFFIXES), inputs, cache, _audio_options(window, 0), workers, progress
        )
    except USER_ERRORS as exc:
        _fail(str(exc))
    out.print(
        f"training data: {len(data.episodes)} labelled episodes of {len(set(data.series))} series"
        + (f"; {len(data.missing)} labelled ids have no video" if data.missing else "")
    )
    for _, message in data.failed:
        err.print(f"  skipped: {message}", markup=False)
    if not data.episodes:
        _fail("no labelled episode could be used (check --videos: ids are file names without extension)")
    return data, inputs


def _train_options(job, epochs: int, boundary_weight: float, seed: int):  # noqa: ANN001, ANN202
    try:
        return job.TrainOptions(epochs=epochs, boundary_weight=boundary_weight, seed=seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _dims(channels: str, lstm: int) -> dict:
    try:
        parts = tuple(int(c) for c in channels.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or min(parts) < 1:
        raise typer.BadParameter("three positive filter counts, e.g. 32,32,64", param_hint="--channels")
    return {"channels": parts, "lstm_units": lstm}


# options shared by `train` and `cv`
_Videos = Annotated[list[Path], typer.Option(help="The labelled episodes' videos (files or folders; id = file stem).")]
_Cache = Annotated[Optional[Path], typer.Option(help="Feature cache folder (default ~/.cache/introdetect/features).")]
_Channels = Annotated[str, typer.Option(help="CNN filters of its three layers.")]
_Lstm = Annotated[int, typer.Option(help="LSTM units (per direction).")]
_BoundaryWeight = Annotated[float, typer.Option(help="Weight of the boundary regression in the loss.")]
_Window = Annotated[float, typer.Option(help="Seconds analysed from the start of each episode.")]
_Policy = Annotated[str, typer.Option(help="Label rows with errors: keep (flagged, unused), skip, or fail.")]
_Seed = Annotated[int, typer.Option(help="Random seed.")]
_Workers = Annotated[Optional[int], typer.Option(help="Parallel decoders for features.")]
_Progress = Annotated[bool, typer.Option(help="Show progress.")]


@app.command()
def train(
    labels_file: Annotated[list[Path], typer.Argument(help="VK label file(s) of the training episodes.")],
    videos: _Videos,
    out_file: Annotated[
        Path, typer.Option("--out", help="Model file to write (.idmodel); its training curve goes beside it (.png).")
    ],
    valid_file: Annotated[
        Optional[list[Path]],
        typer.Option(
            "--valid",
            help="Label file(s) for early stopping and calibration (default: a fifth of the series held out).",
        ),
    ] = None,
    cache: _Cache = None,
    epochs: Annotated[int, typer.Option(help="Most epochs (early stopping usually ends sooner).")] = 40,
    channels: _Channels = "32,32,64",
    lstm: _Lstm = 64,
    boundary_weight: _BoundaryWeight = 10.0,
    window: _Window = DEFAULT_WINDOW_S,
    policy: _Policy = "skip",
    seed: _Seed = 0,
    workers: _Workers = None,
    progress: _Progress = True,
) -> None:
    """Train the CNN + LSTM on labelled episodes (features extracted and cached as needed)."""
    job = _training()
    dims = _dims(channels, lstm)
    options = _train_options(job, epochs, boundary_weight, seed)
    data, inputs = _training_data(job, labels_file, videos, policy, cache, window, workers, progress)
    valid = None
    if valid_file:
        valid, _ = _training_data(job, valid_file, videos, policy, cache, window, workers, progress)

    def epoch_line(row: dict) -> None:
        if progress:
            out.print(
                f"epoch {row['epoch']:3d}  train {row['train_loss']:.4f}  validation {row['val_loss']:.4f}  "
                f"lr {row['lr']:.1e}  {row['seconds']:.0f} s"
            )

    report = job.train_model(
        data,
        inputs,
        options,
        valid=valid,
        on_epoch=epoch_line,
        source={"labels": [str(p) for p in labels_file]},
        **dims,
    )
    with _writing(out_file, "the model"):
        report.model.save(out_file)
        curve = out_file.with_suffix(".png")
        job.plot_history(report.fitted.history, curve, f"{out_file.name}: best epoch {report.fitted.best_epoch}")
    v = report.validation
    if v:
        out.print(
            f"validation ({len(report.held_out_series)} series): window F1 {v['window_f1']:.3f}, "
            f"detection F1 {v['detection_f1']:.3f}, start MAE {v['start_mae_s']:.2f} s, "
            f"end MAE {v['end_mae_s']:.2f} s, median boundary error {v['median_boundary_error_s']:.2f} s"
        )
    out.print(f"model written to {out_file} (training curve {curve})")


@app.command()
def cv(
    labels_file: Annotated[list[Path], typer.Argument(help="VK label file(s).")],
    videos: _Videos,
    folds: Annotated[int, typer.Option(help="Folds (whole series per fold).")] = 5,
    out_file: Annotated[Optional[Path], typer.Option("--out", help="Write every fold's figures here (JSON).")] = None,
    cache: _Cache = None,
    epochs: Annotated[int, typer.Option(help="Most epochs per fold.")] = 40,
    channels: _Channels = "32,32,64",
    lstm: _Lstm = 64,
    boundary_weight: _BoundaryWeight = 10.0,
    window: _Window = DEFAULT_WINDOW_S,
    policy: _Policy = "skip",
    seed: _Seed = 0,
    workers: _Workers = None,
    progress: _Progress = True,
) -> None:
    """Cross-validate the model by series (no series in two folds): the design's figures per fold."""
    from .atomic import write_json_atomic

    job = _training()
    dims = _dims(channels, lstm)
    options = _train_options(job, epochs, boundary_weight, seed)
    data, inputs = _training_data(job, labels_file, videos, policy, cache, window, workers, progress)
    columns = ("window_accuracy", "window_f1", "detection_f1", "start_mae_s", "end_mae_s", "median_boundary_error_s")
    table = Table(title=f"{folds}-fold cross-validation by series ({len(data.episodes)} episodes)")
    for column in ("fold", "episodes", *columns):
        table.add_column(column, justify="right")

    def fold_line(k: int, figures: dict) -> None:
        if progress:
            out.print(
                f"fold {k + 1}/{folds}: detection F1 {figures['detection_f1']:.3f}, "
                f"median boundary error {figures['median_boundary_error_s']:.2f} s"
            )

    try:
        result = job.cross_validate(data, folds, inputs, options, on_fold=fold_line, **dims)
    except ValueError as exc:
        _fail(str(exc))
        return
    for k, figures in enumerate(result["folds"]):
        table.add_row(str(k + 1), str(figures["episodes"]), *(f"{figures[c]:.3f}" for c in columns))
    table.add_row("mean", "", *(f"{result['mean'][c]:.3f} ± {result['std'][c]:.3f}" for c in columns))
    out.print(table)
    if out_file:
        from .model.file import finite

        with _writing(out_file, "the figures"):
            write_json_atomic(out_file, finite(result))
        out.print(f"figures written to {out_file}")


@app.command()
def finetune(
    model_file: Annotated[
        Path, typer.Argument(help="The model to fine-tune (.idmodel from `train`, or the shipped one's copy).")
    ],
    reviewed: Annotated[list[Path], typer.Argument(help="Reviewed or corrected labels (the label format).")],
    videos: _Videos,
    out_file: Annotated[
        Optional[Path], typer.Option("--out", help="Where to write the fine-tuned model (default: over MODEL).")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Write the model even when it got worse on the held-out episodes.")
    ] = False,
    epochs: Annotated[int, typer.Option(help="Epochs of fine-tuning.")] = 10,
    base: Annotated[
        Optional[list[Path]],
        typer.Option(
            help="The model's original training labels: a from-scratch retraining on them plus the reviewed episodes competes with fine-tuning."
        ),
    ] = None,
    base_videos: Annotated[
        Optional[list[Path]], typer.Option(help="Videos of the --base labels (files or folders; default: --videos).")
    ] = None,
    retrain: Annotated[
        Optional[bool],
        typer.Option(
            "--retrain/--no-retrain",
            help="Also retrain from scratch and keep the better (default: with --base, or from 30 reviewed episodes).",
        ),
    ] = None,
    retrain_epochs: Annotated[int, typer.Option(help="Epochs of retraining (early stopping ends it sooner).")] = 40,
    cache: _Cache = None,
    policy: _Policy = "skip",
    seed: _Seed = 0,
    workers: _Workers = None,
    progress: _Progress = True,
) -> None:
    """Fine-tune a model on reviewed labels (or retrain it, when that is better on held-out reviewed episodes);
    print before/after; keep the old model when the new one is worse (unless --force)."""
    job = _training()
    try:
        options = job.TrainOptions(lr=job.FINETUNE_LR, epochs=epochs, seed=seed)
        retrain_options = job.TrainOptions(epochs=retrain_epochs, seed=seed)
        model = job.ModelFile.load(model_file)
        window = float(model.meta["inputs"]["span_s"])
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    except USER_ERRORS as exc:
        _fail(str(exc))
        return
    data, _ = _training_data(job, reviewed, videos, policy, cache, window, workers, progress)
    base_data = (
        _training_data(job, base, base_videos or videos, policy, cache, window, workers, progress)[0] if base else None
    )
    if retrain is None:
        retrain = base_data is not None or len(data.episodes) >= job.RETRAIN_MIN_EPISODES
    try:
        report = job.finetune(model, data, options, base=base_data, retrain=retrain_options if retrain else None)
    except (ValueError, *USER_ERRORS) as exc:
        _fail(f"{model_file}: {exc}")
        return
    table = Table(title=f"held-out reviewed episodes ({len(report.held_out)})")
    for column in ("", "detection F1", "median boundary error s", "window F1"):
        table.add_column(column, justify="right")
    rows = [
        ("before", report.before),
        *(
            (f"after: {name}" + (" (kept)" if name == report.chosen else ""), f)
            for name, f in report.candidates.items()
        ),
    ]
    for name, f in rows:
        table.add_row(name, f"{f['detection_f1']:.3f}", f"{f['median_boundary_error_s']:.2f}", f"{f['window_f1']:.3f}")
    out.print(table)
    target = out_file or model_file
    if not report.improved and not force:
        _fail(
            f"the {report.chosen} model is worse on the held-out episodes: {target} left as it was (--force writes it)"
        )
    with _writing(target, "the model"):
        report.model.save(target)
    out.print(f"{report.chosen} model written to {target}")


@app.command()
def export(
    result: Annotated[Path, typer.Argument(help="Answers from `introdetect detect --out` (the label format).")],
    fmt: Annotated[str, typer.Option("--format", help="json, csv, edl, ffmetadata, vtt (chapters) or jellyfin.")],
    out_file: Annotated[
        Optional[Path], typer.Option("--out", help="Whole-result formats: the file to write (default: beside RESULT).")
    ] = None,
    videos: Annotated[
        Optional[list[Path]],
        typer.Option(
            help="Per-episode formats: where the videos are (files or folders; id = file stem); each side file goes next to its video."
        ),
    ] = None,
) -> None:
    """Write the answers for media players and servers: one file, or one side file next to each video."""
    from .export import get_writer
    from .metrics import read_answers

    try:
        writer = get_writer(fmt)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--format") from None
    try:
        answers = read_answers(result)
    except USER_ERRORS as exc:
        _fail(str(exc))
        return
    if not writer.per_episode:
        target = out_file or result.with_name(f"{result.stem}.{writer.name}{writer.extension}")
        with _writing(target):
            writer.write_all(answers, target)
        out.print(f"{writer.name}: {len(answers)} episodes → {target}")
        return
    if not videos:
        raise typer.BadParameter(
            f"{writer.name} writes a file next to each video: give --videos", param_hint="--videos"
        )
    by_id = videos_by_id(_expand(videos, MEDIA_SUFFIXES))
    written, failed = 0, []
    for vid, answer in answers.items():
        if vid not in by_id:
            failed.append(f"{vid}: no video with this name under " + ", ".join(map(str, videos)))
            continue
        try:
            written += writer.write_episode(vid, answer, by_id[vid]) is not None
        except OSError as exc:
            failed.append(f"{by_id[vid]}: cannot write its {writer.extension} file ({exc.strerror or exc})")
    out.print(
        f"{writer.name}: {written} side files written ({len(answers) - written - len(failed)} episodes "
        "without an intro need none)"
    )
    if failed:
        err.print(f"[bold red]{len(failed)} failed:[/]")
        for message in failed:
            err.print(f"  {message}", markup=False)
        raise typer.Exit(1)


@app.command()
def report(
    result: Annotated[Path, typer.Argument(help="Answers from `introdetect detect --out` (their evidence is drawn).")],
    truth: Annotated[
        Optional[Path],
        typer.Option(help="Truth in the label format: adds the evaluation tables and marks wrong answers."),
    ] = None,
    out_file: Annotated[
        Optional[Path], typer.Option("--out", help="The HTML file to write (default: RESULT.html beside RESULT).")
    ] = None,
    window: Annotated[
        float, typer.Option(help="Analysis window in seconds (span of the window figures).")
    ] = DEFAULT_WINDOW_S,
    only: Annotated[
        str,
        typer.Option(
            help="Timelines for all episodes, only the wrong answers (needs --truth), or only the unsure ones (confidence < 0.7); tables cover all."
        ),
    ] = "all",
) -> None:
    """A self-contained HTML report: one timeline per episode (model curve, recurring segments, answer, truth)."""
    from .atomic import write_text_atomic
    from .detect import read_detections
    from .metrics import read_answers
    from .report import ONLY, build_report

    if only not in ONLY or (only == "wrong" and truth is None):
        raise typer.BadParameter(f"must be one of {', '.join(ONLY)} ('wrong' needs --truth)", param_hint="--only")
    try:
        detections = read_detections(result)
        truth_answers = read_answers(truth) if truth is not None else None
    except USER_ERRORS as exc:
        _fail(str(exc))
        return
    target = out_file or result.with_suffix(".html")
    html = build_report(detections, truth_answers, title=f"introdetect: {result.name}", window_s=window, only=only)
    with _writing(target):
        write_text_atomic(target, html)
    out.print(f"report of {len(detections)} episodes → {target}")


@app.command()
def review(
    result: Annotated[Path, typer.Argument(help="Answers from `introdetect detect --out` (with their evidence).")],
    videos: Annotated[
        Optional[list[Path]],
        typer.Option(help="Where the videos are (files or folders; id = file stem), when not where the result says."),
    ] = None,
    out_file: Annotated[
        Optional[Path],
        typer.Option(
            "--out",
            help="The reviewed-labels file (default: RESULT.reviewed.json beside RESULT); decisions already in it are kept.",
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on. Anything but loopback requires the printed token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    reviewer: Annotated[
        Optional[str],
        typer.Option(help="Name recorded with each decision (default: the login name; the page can change it)."),
    ] = None,
    stream: Annotated[int, typer.Option(help="Audio stream of the audio previews (as given to detect).")] = 0,
    language: _Language = None,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the page in the default browser.")
    ] = True,
) -> None:
    """The review page: confirm or correct each answer in a browser; every decision is saved at once."""
    import importlib.util

    missing = [name for name in ("fastapi", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        _fail(
            f"the review page needs the review extra (pip install 'introdetect[review]'): {', '.join(missing)} missing"
        )
    from .detect import read_detections
    from .review import ReviewStore
    from .review.app import LOOPBACK_HOSTS, ReviewSession, media_of, new_token, serve

    try:
        detections = read_detections(result)
        store = ReviewStore(out_file or result.with_name(result.stem + ".reviewed.json"))
    except USER_ERRORS as exc:
        _fail(str(exc))
        return
    by_id = videos_by_id(_expand(videos, MEDIA_SUFFIXES)) if videos else None
    media = media_of(detections, by_id)
    loopback = host in LOOPBACK_HOSTS
    token = None if loopback else new_token()
    session = ReviewSession(
        detections,
        store,
        media,
        token=token,
        allowed_hosts=LOOPBACK_HOSTS if loopback else (),
        audio=_audio_options(DEFAULT_WINDOW_S, stream, language),
    )
    if reviewer:
        session.reviewer = reviewer
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # a name to print, not to bind
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    missing = len(session.by_id) - len(media)
    out.print(f"{len(session.by_id)} episodes ({missing} without a media file), decisions saved to {store.path}")
    out.print(f"review at {url}  (Ctrl+C to stop)")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    serve(session, host, port)


cache_app = typer.Typer(help="The analysis cache of `detect`: how big it is, and pruning it.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")
_CacheDir = Annotated[
    Optional[Path], typer.Option("--cache", help="The cache folder (default: ~/.cache/introdetect/analysis).")
]


@cache_app.command("info")
def cache_info(cache: _CacheDir = None) -> None:
    """Entries and size of the cache."""
    from .cache import AnalysisCache

    store = AnalysisCache(cache)
    entries, size = store.usage()
    out.print(f"{store.root}: {entries} entries, {size / 1e6:.1f} MB")


@cache_app.command("prune")
def cache_prune(
    max_size: Annotated[
        str, typer.Option(help="Keep at most this much (500M, 5G); the least recently used entries go first.")
    ],
    cache: _CacheDir = None,
) -> None:
    """Shrink the cache to a size (a removed entry is only a later re-analysis)."""
    from .cache import AnalysisCache, parse_size

    try:
        limit = parse_size(max_size)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--max-size") from None
    store = AnalysisCache(cache)
    removed, freed = store.prune(limit)
    entries, size = store.usage()
    out.print(f"{store.root}: removed {removed} entries ({freed / 1e6:.1f} MB); {entries} left, {size / 1e6:.1f} MB")


library_app = typer.Typer(
    help="Known intros: build a library from labelled episodes, or inspect one.", no_args_is_help=True
)
app.add_typer(library_app, name="library")


@library_app.command("build")
def library_build(
    labels_file: Annotated[list[Path], typer.Option("--labels", help="VK label file(s) of the labelled episodes.")],
    videos: Annotated[
        list[Path], typer.Option(help="The labelled episodes' videos (files or folders; id = file stem).")
    ],
    out_file: Annotated[Path, typer.Option("--out", help="Library file to write (.introlib).")],
    window: Annotated[float, typer.Option(help="Seconds analysed from the start of each episode.")] = DEFAULT_WINDOW_S,
    policy: Annotated[
        str, typer.Option(help="Label rows with errors: keep (flagged, unused), skip, or fail.")
    ] = "keep",
    workers: Annotated[Optional[int], typer.Option(help="Parallel decoders.")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Fingerprint every labelled intro once (refined from the audio where a series has several) and save them."""
    _check_policy(policy)
    from .library import build_library

    try:
        label_set = read_labels(labels_file, policy=policy)
        library, failed, missing = build_library(
            label_set, _expand(videos, MEDIA_SUFFIXES), _audio_options(window, 0), workers, progress
        )
    except USER_ERRORS as exc:
        _fail(str(exc))
        return
    with _writing(out_file, "the library"):
        library.save(out_file)
    refined = sum(e.refined for e in library.entries)
    out.print(
        f"library {out_file}: {len(library)} known intros of {len(library.series)} series "
        f"({refined} refined from the audio); {sum(a.flagged for a in library.audits)} labels flagged"
    )
    if missing:
        out.print(
            f"{len(missing)} labelled ids have no video: " + ", ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
        )
    if failed:
        err.print(f"[bold red]{len(failed)} failed:[/]")
        for _, message in failed:
            err.print(f"  {message}", markup=False)
        raise typer.Exit(1)
