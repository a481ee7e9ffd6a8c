"""Options shared by several commands, each validated where it is parsed (a usage error, exit 2, before any
work) by the same check the library applies."""

from pathlib import Path
from typing import Annotated

import typer

from ..settings import DEFAULT_MIN_CONFIDENCE as _DEFAULT_MIN_CONFIDENCE
from ..settings import DEFAULT_WINDOW_S, LABEL_POLICIES
from .render import usage


def _workers(value: int | None) -> int | None:
    from ..errors import SettingsError
    from ..runner import check_workers

    if value is not None:
        try:
            check_workers(value)
        except SettingsError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


def _policy(value: str) -> str:
    if value not in LABEL_POLICIES:
        raise typer.BadParameter(f"must be one of {', '.join(LABEL_POLICIES)}")
    return value


def audio_options(window: float, stream: int = 0, language: str | None = None):
    from ..errors import SettingsError
    from ..settings import AudioOptions

    try:
        return AudioOptions(window_s=window, stream=stream, language=language)
    except SettingsError as exc:
        usage(str(exc))


Workers = Annotated[
    int | None, typer.Option(help="Parallel processes (default: one per core, at most 4).", callback=_workers)
]
Policy = Annotated[
    str, typer.Option(help="Label rows with errors: keep (flagged, unused), skip, or fail.", callback=_policy)
]
Window = Annotated[float, typer.Option(help="Seconds analysed from the start of each episode.")]
Progress = Annotated[
    bool,
    typer.Option(
        "--progress/--no-progress",
        " /--quiet",
        " /-q",
        help="Progress on stderr: bars on a terminal, a line every tenth of a stage in a log or pipe; "
        "--quiet (--no-progress): none.",
    ),
]
MinConfidence = Annotated[
    float,
    typer.Option(
        min=0.0,
        max=1.0,
        help="Parts answered with a lower confidence are unsure: marked so, and written by no export unless "
        "--include-unsure (a wrong skip is worse than none).",
    ),
]
AsJson = Annotated[
    bool,
    typer.Option(
        "--json", help="Print the results as one JSON document on stdout (notes, warnings and failures on stderr)."
    ),
]
Language = Annotated[
    str | None,
    typer.Option(
        help="Use the first audio stream tagged with this language (rus, eng, ru…), for dubbed releases; "
        "replaces --stream."
    ),
]
Stream = Annotated[int, typer.Option(help="Audio stream index among the file's audio streams (0 = the first).")]
Videos = Annotated[
    list[Path], typer.Option(help="The labelled episodes' videos (files or folders; id = file name stem).")
]
OptionalVideos = Annotated[
    list[Path] | None, typer.Option(help="Where the videos are (files or folders; id = file name stem).")
]

DEFAULT_WINDOW = DEFAULT_WINDOW_S
DEFAULT_MIN_CONFIDENCE = _DEFAULT_MIN_CONFIDENCE
