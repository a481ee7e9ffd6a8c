"""The command line: parse, call the library, print. No logic of its own (PySceneDetect's ``_cli`` habit).

One module per group of commands, ``render.py`` for what they print alike, ``options.py`` for the options they
share. At start-up only typer and rich are imported; each command imports what it needs when it runs, so
``introdetect --help`` costs little more than typer itself (bench/bench_startup.py measures it).

Exit codes: 0 success; 1 some input failed (each failure printed as one line at the end); 2 usage error.
"""

# the order of the command modules is the order of the commands in --help, hence not sorted
from __future__ import annotations  # noqa: I001

from .app import app
from . import labels, media, results, library, model, evaluate

__all__ = ["app", "evaluate", "labels", "library", "media", "model", "results"]
