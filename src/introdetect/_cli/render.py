"""What every command prints the same way: errors, the failure list, the detection table, progress, counts,
JSON.

Where the output goes decides how it looks, once, here: on a terminal, tables fit its width and progress is drawn
as bars; in a file, a pipe or a log (cron, CI, ``tee``) no table is cut to a width (there is none), there is no
colour (nor with ``NO_COLOR``) and progress is a short line on stderr every tenth of a stage. Under ``--json`` a
command prints one JSON document on stdout and everything else (notes, warnings, failures) on stderr.

Only typer and rich are imported here at start-up; what a command needs of the library it imports when it runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console, ConsoleDimensions

if TYPE_CHECKING:
    from rich.table import Table

    from ..result import Detection, Failure, Part
    from ..runner import LogProgress, RichProgress
    from ..timecode import Segment

UNBOUNDED_COLUMNS = 10_000
"""characters: the width of a console that is not a terminal: wider than any table introdetect prints, so that no
cell is cut (Rich would assume 80 columns, or ``$COLUMNS``, and cut a ten-column table to one letter a cell)."""


class _Console(Console):
    """A Rich console that is its terminal's width on a terminal and unbounded anywhere else (whatever the size of
    some other terminal the process may also have: a pipe's reader has none)."""

    def _size(self) -> ConsoleDimensions:
        if self.is_terminal or self._width is not None:
            return Console.size.fget(self)  # type: ignore[attr-defined]
        return ConsoleDimensions(UNBOUNDED_COLUMNS, Console.size.fget(self).height)  # type: ignore[attr-defined]

    size = property(_size, Console.size.fset)  # type: ignore[assignment]

    def rule(self, title: Any = "", *args: Any, **kwargs: Any) -> None:
        """A heading rule: the terminal's width on a terminal; elsewhere one plain line (a rule as wide as an
        unbounded console would be 10 000 characters of a log)."""
        if self.is_terminal or self._width is not None:
            super().rule(title, *args, **kwargs)
        else:
            self.print(f"── {title} ──" if title else "──", markup=False)


out = _Console(highlight=False)
err = _Console(stderr=True, highlight=False, soft_wrap=True)  # one-line errors stay one line


def notes(as_json: bool) -> Console:
    """Where a command's notes go: stdout beside its table, stderr under ``--json`` (stdout is the JSON alone)."""
    return err if as_json else out


def print_json(data: Any) -> None:
    """One JSON document on stdout (UTF-8 as it is, indented), whatever the console's width."""
    import json
    import sys

    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


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
def progress_hook(enabled: bool) -> Iterator[RichProgress | LogProgress | None]:
    """Progress on stderr while the block runs (``enabled``): bars on a terminal, else a short line every tenth
    of a stage (a log reads them; a bar redrawn in a file is noise); no hook when not enabled (``--quiet``)."""
    if not enabled:
        yield None
        return
    from ..runner import LogProgress, RichProgress

    if not err.is_terminal:
        yield LogProgress(lambda line: err.print(line, markup=False))
        return
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
    detections: Iterable[Detection],
    title: str,
    truth: Mapping[str, Segment | None] | None = None,
    min_confidence: float | None = None,
) -> Table:
    """One row per episode: id, intro start and end, confidence, method, a column per other kind any episode
    was answered for (its span and confidence, or "none"), series (and the truth of the intro, when given), and
    "version of" where some episode is a copy of another (its answers are that one's, mapped onto its audio).
    With ``min_confidence``, a part under it says "unsure" beside its confidence."""
    from rich.table import Table

    from ..result import Kind
    from ..timecode import format_timecode

    detections = list(detections)

    def unsure(part: Part) -> str:
        return " unsure" if min_confidence is not None and part.unsure(min_confidence) else ""

    others = [k for k in Kind if k != Kind.INTRO and any(d.part(k) is not None for d in detections)]
    table = Table(title=title)
    columns = ["id", "start", "end", "confidence", "method", *map(str, others)]
    columns.append("truth" if truth is not None else "series")
    copies = any(d.version_of for d in detections)
    if copies:
        columns.append("version of")
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
            flag = (
                ", unsure" if other is not None and min_confidence is not None and other.unsure(min_confidence) else ""
            )
            sure = "" if other is None or other.confidence is None else f" ({other.confidence:.2f}{flag})"
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
            "–" if part is None or part.confidence is None else f"{part.confidence:.2f}{unsure(part)}",
            str(part.method) if part else "–",
            *cells,
            last,
            *([d.version_of or ""] if copies else []),
        )
    return table
