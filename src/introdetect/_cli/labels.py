"""``introdetect labels``: read VK label files, report every defect by id, and (--audit) check them against the audio."""

from pathlib import Path
from typing import Annotated, Any

import typer

from .app import app
from .options import DEFAULT_WINDOW, AsJson, OptionalVideos, Policy, Progress, audio_options
from .render import err, fail, handled, names, notes, out, print_json, progress_hook, show_failures, usage


@app.command()
def labels(
    files: Annotated[list[Path], typer.Argument(help="Label files in the VK JSON format.")],
    policy: Policy = "keep",
    window: Annotated[
        float, typer.Option(help="Analysis window in seconds, for the beyond-window check.")
    ] = DEFAULT_WINDOW,
    as_json: AsJson = False,
    notes: Annotated[bool, typer.Option(help="Also list note-level findings (look-alike letters).")] = False,
    audit: Annotated[
        bool, typer.Option(help="Check the labels against the audio of --videos: flag labels it contradicts.")
    ] = False,
    videos: OptionalVideos = None,
    progress: Progress = True,
) -> None:
    """Read label files: seconds and durations, series/season/episode, every defect by id, statistics; with
    --audit, each label against the audio (under --json, as the report's "audit")."""
    from ..labels import read_labels  # here: a command's imports cost every start of every command

    if audit and not videos:
        usage("--audit needs --videos (where the labelled episodes are)", "--videos")
    options = audio_options(window)
    with handled():
        label_set = read_labels(files, policy=policy, window_s=window, skip_bad_files=True)
    report = label_set.report()
    if not as_json:
        _print_report(label_set, report, notes)
    failed = False
    if audit:
        audits, failed = _audit(label_set, videos or [], options, as_json, progress)
        report["audit"] = audits
    if as_json:
        print_json(report)
    for _, message in label_set.failed_files:
        err.print(f"error: {message}", markup=False)
    if failed or label_set.failed_files:
        raise typer.Exit(1)


def _audit(
    label_set: Any, videos: list[Path], options: Any, as_json: bool, progress: bool
) -> tuple[dict[str, Any], bool]:
    """Labels against the audio: each labelled intro found again among its series' episodes, or flagged (a
    table, or under --json only the returned figures). True when some video could not be read (listed)."""
    from rich.table import Table

    from ..known import build_library
    from ..result import segment_json

    with handled(), progress_hook(progress) as hook:
        library, failed, missing = build_library(label_set, videos, options, progress=hook)
    tolerance = library.options.audit_tolerance_s
    figures = {
        "tolerance_s": tolerance,
        "labels": [
            {
                "id": a.id,
                "series": a.series,
                "label": segment_json(a.label),
                "audio": segment_json(a.audio) if a.audio else None,
                "flagged": a.flagged,
                "reason": a.reason,
            }
            for a in library.audits
        ],
        "flagged": sum(a.flagged for a in library.audits),
        "without_video": list(missing),
        "failed": [f.message for f in failed],
    }
    if as_json:
        show_failures(failed)
        if missing:
            notes(as_json).print(f"{len(missing)} labelled ids have no video: {names(missing)}", markup=False)
        return figures, bool(failed)
    table = Table(title=f"labels against the audio (flagged when more than {tolerance:g} s off)")
    for column in ("id", "series", "label", "audio", "verdict"):
        table.add_column(column)
    for a in library.audits:
        verdict = ("FLAGGED: " if a.flagged else "ok: ") + a.reason
        table.add_row(a.id, a.series, str(a.label), str(a.audio) if a.audio else "–", verdict)
    out.print(table)
    out.print(f"{sum(a.flagged for a in library.audits)} of {len(library.audits)} labels flagged")
    if missing:
        out.print(f"{len(missing)} labelled ids have no video: {names(missing)}")
    show_failures(failed)
    return figures, bool(failed)


def _print_report(label_set: Any, report: dict[str, Any], show_notes: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    from ..labels import ERROR, NOTE

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
            out.print(f"[{colour}]{defect.severity:7}[/] {escape(str(defect))}", soft_wrap=True)
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


__all__ = ["fail", "labels"]
