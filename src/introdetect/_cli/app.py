"""The Typer application every command module registers on (apart from ``__init__``, so that command modules
and the package never import each other in a circle)."""

from typing import Annotated

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="The parts of a TV episode that are not story (first its opening intro), from its audio.",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help and usage errors: no rich help renderer (70 ms) at every start
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__
        from .render import out

        out.print(f"introdetect {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """introdetect: intro detection from audio.

    Exit codes: 0 success; 1 some input failed (each failure printed as one line at the end); 2 usage error.
    """
