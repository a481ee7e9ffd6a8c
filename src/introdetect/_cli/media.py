"""The design's first stages as commands: ``extract`` (audio), ``features``, ``features-json``, ``windows``."""

from pathlib import Path
from typing import Annotated, Any

import typer

from .app import app
from .options import DEFAULT_WINDOW, Language, Policy, Progress, Stream, Workers, audio_options
from .render import err, fail, failure_list, handled, out, progress_hook, show_failures, usage


def _finish(result: Any, what: str) -> None:
    out.print(f"{what}: {len(result.done)} done, {len(result.up_to_date)} up to date, {len(result.failed)} failed")
    failure_list(result.failed)


@app.command()
def extract(
    videos: Annotated[list[Path], typer.Argument(help="Video files or folders of them.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for <id>.wav and mapping.json.")],
    window: Annotated[float, typer.Option(help="Seconds decoded from the start of each file.")] = DEFAULT_WINDOW,
    stream: Stream = 0,
    language: Language = None,
    features_dir: Annotated[
        Path | None, typer.Option("--features", help="Also compute features from the same decode into this folder.")
    ] = None,
    workers: Workers = None,
    force: Annotated[bool, typer.Option(help="Redo files whose output is up to date.")] = False,
    progress: Progress = True,
) -> None:
    """Decode the first WINDOW seconds of each video's audio to mono float WAV at 22.05 kHz.

    With --features DIR, features are computed while decoding (one pass, as `features` would compute them).
    """
    from ..batch import extract_many
    from ..media import find_media

    options = audio_options(window, stream, language)
    files = find_media(videos)
    if not files:
        fail("no media files found in " + ", ".join(map(str, videos)))
    with handled(), progress_hook(progress) as hook:
        result = extract_many(
            files, out_dir, options, workers=workers, force=force, progress=hook, features_dir=features_dir
        )
    _finish(result, "extract")


@app.command()
def features(
    audio: Annotated[list[Path], typer.Argument(help="WAV files from `extract` (or any media), or folders.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for <id>.npz and mapping.json.")],
    window: Annotated[float, typer.Option(help="Seconds analysed from the start of each file.")] = DEFAULT_WINDOW,
    workers: Workers = None,
    force: Annotated[bool, typer.Option(help="Recompute files whose features are up to date.")] = False,
    progress: Progress = True,
) -> None:
    """Compute frame features (MFCC, contrast, RMS, centroid, spread, flatness, chroma, rhythm, repetition)."""
    from ..batch import features_many
    from ..media import MEDIA_SUFFIXES, find_media
    from ..settings import FeatureOptions

    options = audio_options(window)
    files = find_media(audio, {".wav"} if all(p.is_dir() for p in audio) else MEDIA_SUFFIXES)
    if not files:
        fail("no audio files found in " + ", ".join(map(str, audio)))
    with handled(), progress_hook(progress) as hook:
        result = features_many(files, out_dir, FeatureOptions(), options, workers=workers, force=force, progress=hook)
    _finish(result, "features")


@app.command("features-json")
def features_json(
    feature_file: Annotated[Path, typer.Argument(help="One episode's .npz from `features`.")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Output JSON (default: beside the .npz).")] = None,
) -> None:
    """Export one episode's features as JSON (the design's format; the .npz stays the storage)."""
    from ..features.store import export_json

    target = out_file or feature_file.with_suffix(".json")
    with handled():
        export_json(feature_file, target)
    out.print(f"wrote {target}")


@app.command()
def windows(
    feature_dir: Annotated[Path, typer.Argument(help="Feature folder from `features`.")],
    out_file: Annotated[Path, typer.Option("--out", help="Output .npz with the window arrays.")],
    label_files: Annotated[
        list[Path] | None, typer.Option("--labels", help="Label file(s); omit for unlabelled windows.")
    ] = None,
    policy: Policy = "skip",
    length: Annotated[float, typer.Option(help="Window length in seconds.")] = 10.0,
    step: Annotated[float, typer.Option(help="Window step in seconds.")] = 5.0,
) -> None:
    """Cut features into windows labelled by whether their centre lies in the intro; per-frame targets too."""
    from ..errors import SettingsError
    from ..labels import read_labels
    from ..settings import WindowOptions
    from ..windows import build_windows, feature_files, save_windows

    try:
        options = WindowOptions(length_s=length, step_s=step)
    except SettingsError as exc:
        usage(str(exc))
    with handled():
        label_set = read_labels(label_files, policy=policy) if label_files else None
        files = feature_files(feature_dir)
    if not files:
        fail(f"{feature_dir}: no feature files (run `introdetect features` first)")
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
    show_failures(window_set.failed)
    if window_set.failed or not window_set.parts:
        raise typer.Exit(1)
