"""Exports for media players and servers: one writer per format behind one interface, chosen by name.

    writer = get_writer("edl")
    writer.write_all(answers, out_dir)            # whole-result formats: one file
    writer.episode_text(answer)                   # side-file formats: the text of one episode's file

Adding a format touches one module: define a ``Writer`` subclass and list it in ``WRITERS``.
"""

from __future__ import annotations

from .base import Writer
from .formats import WRITERS, get_writer

__all__ = ["WRITERS", "Writer", "get_writer"]
