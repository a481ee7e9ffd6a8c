"""Commands that find the parts of episodes and use the answers: ``detect``, ``export``, ``report``, ``review``."""

from pathlib import Path
from typing import Annotated

import typer

from .app import app
from .options import (
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_WINDOW,
    AsJson,
    Language,
    MinConfidence,
    OptionalVideos,
    Policy,
    Progress,
    Stream,
    Window,
    Workers,
    audio_options,
)
from .render import (
    check_output,
    detection_table,
    fail,
    failure_list,
    handled,
    names,
    notes,
    out,
    plural,
    print_json,
    progress_hook,
    refused_rows,
    usage,
    writing,
)

Result = Annotated[Path, typer.Argument(help="Answers from `introdetect detect --out` (the label format).")]


@app.command()
def detect(
    paths: Annotated[list[Path], typer.Argument(help="Episode files or folders of them (searched recursively).")],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write the answers here (label format + start_sec, end_sec, confidence, method)."),
    ] = None,
    labels_file: Annotated[
        list[Path] | None,
        typer.Option(
            "--labels",
            help="VK label file(s): episode names give the series; with --videos, labelled intros become known intros.",
        ),
    ] = None,
    videos: OptionalVideos = None,
    library_file: Annotated[
        Path | None, typer.Option("--library", help="A saved library of known intros (introdetect library build).")
    ] = None,
    series: Annotated[str | None, typer.Option(help="Treat every episode as one series of this name.")] = None,
    model_file: Annotated[
        Path | None,
        typer.Option("--model", help="Model file from `introdetect train` (default: the shipped model)."),
    ] = None,
    use: Annotated[
        str,
        typer.Option(
            help="fused (every detector), matching (known intros and recurrence only), or model (the model "
            "alone, episode by episode)."
        ),
    ] = "fused",
    window: Window = DEFAULT_WINDOW,
    stream: Stream = 0,
    language: Language = None,
    policy: Policy = "keep",
    workers: Workers = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="A Dask scheduler (tcp://HOST:PORT) to run the work on instead (the dask extra)."),
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            help="Where analyses are cached by content (default: ~/.cache/introdetect/analysis; ~1.7 MB per "
            "episode): an unchanged episode is not decoded again."
        ),
    ] = None,
    use_cache: Annotated[bool, typer.Option("--use-cache/--no-cache", help="Reuse and store cached analyses.")] = True,
    progress: Progress = True,
    as_json: AsJson = False,
    min_confidence: MinConfidence = DEFAULT_MIN_CONFIDENCE,
) -> None:
    """Find the parts of every episode (intro, and ident, recap, credits, preview): known intros of its series,
    what recurs across its series, chapters and the model, fused into one answer each (the method that decided
    is recorded). Parts under --min-confidence are shown as unsure (`export` leaves them out). --json prints the
    object --out writes."""
    from ..cache import AnalysisCache
    from ..detectors import DEFAULT_MODEL
    from ..fusion import NOTE_MODEL_ALONE, USES
    from ..known.library import IntroLibrary
    from ..labels import read_labels
    from ..media import find_media
    from ..pipeline import detect as run_detect
    from ..result import Kind, Method, result_json, write_result

    if use not in USES:
        usage(f"must be one of {', '.join(USES)}", "--use")
    options = audio_options(window, stream, language)
    check_output(out_file, "the answers")
    files = find_media(paths)
    if not files:
        fail("no media files found in " + ", ".join(map(str, paths)))
    with handled():
        label_set = read_labels(labels_file, policy=policy) if labels_file else None
        library = IntroLibrary.load(library_file) if library_file else None
    if label_set is not None:
        refused_rows(label_set)
    with handled(), progress_hook(progress) as hook:
        result = run_detect(
            files,
            labels=label_set,
            series=series,
            options=options,
            workers=workers,
            progress=hook,
            library=library,
            videos=videos or [],
            model=model_file or DEFAULT_MODEL,
            use=use,
            scheduler=scheduler,
            cache=AnalysisCache(cache) if use_cache else None,
        )
    answered = result.detections
    say = notes(as_json)
    if as_json:
        print_json(result_json(answered))
    elif answered:
        out.print(detection_table(answered, f"parts of {plural(len(answered), 'episode')}", None, min_confidence))
        unsure = sum(p.unsure(min_confidence) for d in answered for p in d.parts)
        if unsure:
            say.print(
                f"{plural(unsure, 'part')} unsure (confidence under {min_confidence:g}): no export marks them unless "
                "--include-unsure; `introdetect review` shows them first"
            )
    intros = [p for d in answered if (p := d.part(Kind.INTRO)) is not None]
    alone = [d.id for d, p in zip(answered, intros, strict=True) if (p.note or "").startswith(NOTE_MODEL_ALONE)]
    if alone:
        say.print(
            f"{plural(len(alone), 'episode')} answered by the model alone: each is the only episode of its series "
            f"(add its siblings, or --labels/--library for its series, for matching): {names(alone)}"
        )
    lone = [d.id for d, p in zip(answered, intros, strict=True) if p.method == Method.UNMATCHED]
    if lone:
        say.print(
            f"{plural(len(lone), 'episode')} cannot be matched: each is the only episode of its series and no known "
            f"intro covers it (add its siblings, or --labels/--library for its series): {names(lone)}"
        )
    if out_file is not None:
        if answered:
            with writing(out_file, "the answers"):
                write_result(out_file, answered)
            say.print(f"answers of {plural(len(answered), 'episode')} written to {out_file}")
        else:
            say.print(f"no episode could be analysed: {out_file} not written")
    failure_list(result.failures)


@app.command()
def export(
    result: Result,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="json, csv, edl, ffmetadata, mkvchapters, vtt (chapters), jellyfin (media segments) or intro-skipper.",
        ),
    ],
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Whole-result formats: the file to write (default: beside RESULT). Side-file formats: a folder "
            "to write them into instead of next to each video.",
        ),
    ] = None,
    videos: Annotated[
        list[Path] | None,
        typer.Option(
            help="Side-file formats: where the videos are, when not where the result says (files or folders; "
            "id = file stem)."
        ),
    ] = None,
    edl_action: Annotated[
        list[str] | None,
        typer.Option(
            help="EDL: KIND=ACTION for a kind's action (0 cut, 1 mute, 2 scene marker, 3 commercial break; "
            "default 2 for every kind), e.g. --edl-action intro=3. Repeatable."
        ),
    ] = None,
    min_confidence: MinConfidence = DEFAULT_MIN_CONFIDENCE,
    include_unsure: Annotated[
        bool, typer.Option(help="Write unsure parts (under --min-confidence) too, as if they were sure.")
    ] = False,
) -> None:
    """Write the answers for media players and servers: one file, or one side file next to each video. Unsure
    parts (confidence under --min-confidence) are left out unless --include-unsure."""
    from ..errors import SettingsError
    from ..export import default_target, export, get_writer
    from ..result import Kind, read_result

    actions = {}
    for text in edl_action or []:
        kind, _, action = text.partition("=")
        try:
            actions[Kind(kind.strip())] = int(action)
        except ValueError:
            usage(
                f"expected KIND=ACTION with KIND one of {', '.join(Kind)} and ACTION 0-3, got {text!r}", "--edl-action"
            )
    try:
        writer = get_writer(fmt, actions)
    except SettingsError as exc:
        usage(str(exc), "--edl-action")
    except ValueError as exc:
        usage(str(exc), "--format")
    target = out_file if writer.per_episode else (out_file or default_target(result, writer))
    with handled():
        detections = read_result(result)
    sure = {"min_confidence": min_confidence, "include_unsure": include_unsure}
    if not writer.per_episode:
        with writing(target):
            outcome = export(detections, fmt, target, edl_actions=actions, **sure)
        out.print(f"{writer.name}: {plural(len(detections), 'episode')} → {target}")
        _unsure_note(outcome.unsure, min_confidence)
        return
    with handled(), writing(target or result):
        outcome = export(detections, fmt, target, videos, actions, **sure)
    where = f" in {target}" if target is not None else ""
    need = "needs" if outcome.without == 1 else "need"
    out.print(
        f"{writer.name}: {plural(len(outcome.written), 'side file')} written{where} "
        f"({plural(outcome.without, 'episode')} without a part found {need} none)"
    )
    _unsure_note(outcome.unsure, min_confidence)
    failure_list(outcome.failures)


def _unsure_note(unsure: int, min_confidence: float) -> None:
    if unsure:
        out.print(
            f"{plural(unsure, 'unsure part')} (confidence under {min_confidence:g}) left out: review them, or "
            "--include-unsure"
        )


@app.command()
def report(
    result: Annotated[Path, typer.Argument(help="Answers from `introdetect detect --out` (their evidence is drawn).")],
    truth: Annotated[
        Path | None,
        typer.Option(help="Truth in the label format: adds the evaluation tables and marks wrong answers."),
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="The HTML file to write (default: RESULT.html beside RESULT).")
    ] = None,
    window: Annotated[
        float, typer.Option(help="Analysis window in seconds (span of the window figures).")
    ] = DEFAULT_WINDOW,
    only: Annotated[
        str,
        typer.Option(
            help="Timelines for all episodes, only the wrong answers (needs --truth), or only the unsure ones "
            "(confidence < 0.7); tables cover all."
        ),
    ] = "all",
) -> None:
    """A self-contained HTML report: one timeline per episode (model curve, recurring segments, answer, truth)."""
    from ..atomic import write_text_atomic
    from ..metrics import read_truth
    from ..report import ONLY, build_report
    from ..result import read_result

    if only not in ONLY or (only == "wrong" and truth is None):
        usage(f"must be one of {', '.join(ONLY)} ('wrong' needs --truth)", "--only")
    target = out_file or result.with_suffix(".html")
    check_output(target)
    with handled():
        detections = read_result(result)
        truth_answers = read_truth(truth) if truth is not None else None
    html = build_report(detections, truth_answers, title=f"introdetect: {result.name}", window_s=window, only=only)
    with writing(target):
        write_text_atomic(target, html)
    out.print(f"report of {plural(len(detections), 'episode')} → {target}")


@app.command()
def review(
    result: Annotated[Path, typer.Argument(help="Answers from `introdetect detect --out` (with their evidence).")],
    videos: OptionalVideos = None,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="The reviewed-labels file (default: RESULT.reviewed.json beside RESULT); decisions already in it "
            "are kept.",
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on. Anything but loopback requires the printed token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    reviewer: Annotated[
        str | None,
        typer.Option(help="Name recorded with each decision (default: the login name; the page can change it)."),
    ] = None,
    stream: Annotated[int, typer.Option(help="Audio stream of the audio previews (as given to detect).")] = 0,
    language: Language = None,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the page in the default browser.")
    ] = True,
) -> None:
    """The review page: confirm, correct, add or remove every part of each episode in a browser; every decision is
    saved at once."""
    import importlib.util

    missing = [name for name in ("fastapi", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        fail(
            f"the review page needs the review extra (pip install 'introdetect[review]'): {', '.join(missing)} missing"
        )
    from ..review.app import address, open_session, serve

    options = audio_options(DEFAULT_WINDOW, stream, language)
    with handled():
        session = open_session(result, videos, out_file, host, reviewer, options)
    url = address(session, host, port)
    without = len(session.by_id) - len(session.media)
    out.print(
        f"{plural(len(session.by_id), 'episode')} ({without} without a media file), decisions saved to "
        f"{session.store.path}"
    )
    out.print(f"review at {url}  (Ctrl+C to stop)")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    serve(session, host, port)
