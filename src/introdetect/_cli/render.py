"""What every command prints the same way: errors, the failure list, the detection table, progress, counts.

Only typer and rich are imported here at start-up; what a command needs of the library it imports when it runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.table import Table

    from ..result import Detection, Failure
    from ..runner import RichProgress
    from ..timecode import Segment

out = Console(highlight=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # one-line errors stay one line


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 episode``, ``2 episodes``."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def usage(message: str, param: str | None = None) -> NoReturn:
    """A usage error: the command line's usage line and ``message``, exit code 2."""
    raise typer.BadParameter(message, param_hint=param)


def fail(problem: object) -> NoReturn:
    """One line on stderr, exit code 1 (2 for an option out of range: a UsageError)."""
    from ..errors import UsageError

    if isinstance(problem, UsageError):
        usage(str(problem))
    err.print(f"error: {problem}", markup=False)
    raise typer.Exit(1)


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Every error introdetect raises on purpose becomes one line (``fail``), never a traceback."""
    from ..errors import IntrodetectError

    try:
        yield
    except IntrodetectError as exc:
        fail(exc)


def show_failures(failures: Sequence[Failure], what: str = "failed") -> None:
    """The failure list: a count, then one line per file (stderr)."""
    if failures:
        err.print(f"[bold red]{len(failures)} {what}:[/]")
        for failure in failures:
            err.print(f"  {failure.message}", markup=False)


def failure_list(failures: Sequence[Failure]) -> None:
    """``show_failures``, then exit code 1 when there were any."""
    show_failures(failures)
    if failures:
        raise typer.Exit(1)


def names(ids: Sequence[str], limit: int = 8) -> str:
    """The first ``limit`` ids, and an ellipsis when there are more."""
    return ", ".join(ids[:limit]) + (" …" if len(ids) > limit else "")


@contextlib.contextmanager
def writing(target: Path, what: str = "") -> Iterator[None]:
    """An output that cannot be written is one line naming it (the write itself is atomic: nothing half-way)."""
    try:
        yield
    except OSError as exc:
        fail(f"{target}: cannot write{' ' + what if what else ''} ({exc.strerror or exc})")


def check_output(target: Path | None, what: str = "") -> None:
    """Before any work: an output that cannot be written is one line now, not after the analysis."""
    if target is None:
        return
    from ..atomic import check_writable

    with writing(target, what):
        check_writable(target)


@contextlib.contextmanager
def progress_hook(enabled: bool) -> Iterator[RichProgress | None]:
    """Bars on stderr while the block runs (``enabled``), else no hook."""
    if not enabled:
        yield None
        return
    from ..runner import RichProgress

    with RichProgress() as hook:
        yield hook


def refused_rows(label_set: Any) -> None:
    """One line per label row the policy refused (skipped or kept flagged but unused), as ``labels`` lists them."""
    for defect in label_set.refused():
        err.print(f"label refused: {defect}", markup=False)


def kinds_table(evaluation: Any, title: str = "the other parts (episodes whose truth states the kind)") -> Table:
    """The per-kind figures of an evaluation (metrics.KIND_COLUMNS), as ``evaluate`` and the demo print them."""
    from rich.table import Table

    from ..metrics import KIND_COLUMNS, kind_rows

    table = Table(title=title)
    for column in KIND_COLUMNS:
        table.add_column(column, justify="left" if column == "kind" else "right")
    for row in kind_rows(evaluation):
        table.add_row(*row)
    return table


def detection_table(
    detections: Iterable[Detection], title: str, truth: Mapping[str, Segment | None] | None = None
) -> Table:
    """One row per episode: id, intro start and end, confidence, method, a column per other kind any episode
    was answered for (its span and confidence, or "none"), series (and the truth of the intro, when given)."""
    from rich.table import Table

    from ..result import Kind
    from ..timecode import format_timecode

    detections = list(detections)
    others = [k for k in Kind if k != Kind.INTRO and any(d.part(k) is not None for d in detections)]
    table = Table(title=title)
    columns = ["id", "start", "end", "confidence", "method", *map(str, others)]
    columns.append("truth" if truth is not None else "series")
    for column in columns:
        table.add_column(column, justify="right" if column in ("start", "end", "confidence") else "left")
    for d in detections:
        part = d.part(Kind.INTRO)
        intro = d.intro
        last = d.series or ""
        if truth is not None:
            real = truth.get(d.id)
            last = str(real) if real is not None else "no intro"
        cells = []
        for kind in others:
            other = d.part(kind)
            sure = "" if other is None or other.confidence is None else f" ({other.confidence:.2f})"
            if other is None:
                cells.append("–")
            elif other.segment is None:
                cells.append("none" + sure)
            else:
                span = f"{format_timecode(other.segment.start_s, 1)}–{format_timecode(other.segment.end_s, 1)}"
                cells.append(span + sure)
        table.add_row(
            d.id,
            format_timecode(intro.start_s, 1) if intro else "–",
            format_timecode(intro.end_s, 1) if intro else "–",
            "–" if part is None or part.confidence is None else f"{part.confidence:.2f}",
            str(part.method) if part else "–",
            *cells,
            last,
        )
    return table
