"""The writer interface (whisper's ResultWriter habit: a name, an extension, one method per output)."""

from __future__ import annotations

import os
from abc import ABC
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from ..atomic import write_text_atomic
from ..result import Detection


class Writer(ABC):  # noqa: B024 - a writer implements one of the two renderers, not both
    """A format. Whole-result formats render every answer into one file (``render``); side-file formats
    render one episode's file to sit next to its video (``render_episode``; None: nothing to write)."""

    name: ClassVar[str]
    extension: ClassVar[str]
    per_episode: ClassVar[bool] = False
    # a player acts on what it writes (a skip, a chapter to jump over): unsure parts are left out of it unless
    # asked for; the data formats (json, csv) carry every part with its confidence for a program to decide
    marks_skips: ClassVar[bool] = True

    def render(self, answers: Mapping[str, Detection]) -> str:
        raise NotImplementedError(f"{self.name} writes one file per episode")

    def render_episode(self, episode_id: str, answer: Detection) -> str | None:
        raise NotImplementedError(f"{self.name} writes one file for the whole result")

    def write_all(self, answers: Mapping[str, Detection], path: str | os.PathLike[str]) -> Path:
        """The whole result into ``path`` (atomically)."""
        path = Path(path)
        write_text_atomic(path, self.render(answers))
        return path

    def side_file(self, video: str | os.PathLike[str], folder: str | os.PathLike[str] | None = None) -> Path:
        """Where ``video``'s side file goes: next to it (``Show.S01E01.mkv`` → ``Show.S01E01.edl``), or in
        ``folder`` under the same name."""
        video = Path(video)
        name = video.stem + self.extension
        return Path(folder) / name if folder is not None else video.with_name(name)

    def write_episode(
        self,
        episode_id: str,
        answer: Detection,
        video: str | os.PathLike[str],
        folder: str | os.PathLike[str] | None = None,
    ) -> Path | None:
        """One episode's side file (``side_file``), atomically; None when the episode needs none (no intro)."""
        text = self.render_episode(episode_id, answer)
        if text is None:
            return None
        target = self.side_file(video, folder)
        write_text_atomic(target, text)
        return target
