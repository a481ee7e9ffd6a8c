"""The writer interface (whisper's ResultWriter habit: a name, an extension, one method per output)."""

from __future__ import annotations

import os
from abc import ABC
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from ..atomic import write_text_atomic
from ..metrics import Answer


class Writer(ABC):  # noqa: B024 - a writer implements one of the two renderers, not both
    """A format. Whole-result formats render every answer into one file (``render``); side-file formats
    render one episode's file to sit next to its video (``render_episode``; None: nothing to write)."""

    name: ClassVar[str]
    extension: ClassVar[str]
    per_episode: ClassVar[bool] = False

    def render(self, answers: Mapping[str, Answer]) -> str:
        raise NotImplementedError(f"{self.name} writes one file per episode")

    def render_episode(self, episode_id: str, answer: Answer) -> str | None:
        raise NotImplementedError(f"{self.name} writes one file for the whole result")

    def write_all(self, answers: Mapping[str, Answer], path: str | os.PathLike[str]) -> Path:
        """The whole result into ``path`` (atomically)."""
        path = Path(path)
        write_text_atomic(path, self.render(answers))
        return path

    def write_episode(self, episode_id: str, answer: Answer, video: str | os.PathLike[str]) -> Path | None:
        """One episode's side file next to ``video`` (``Show.S01E01.mkv`` → ``Show.S01E01.edl``), atomically."""
        text = self.render_episode(episode_id, answer)
        if text is None:
            return None
        video = Path(video)
        target = video.with_name(video.stem + self.extension)
        write_text_atomic(target, text)
        return target
