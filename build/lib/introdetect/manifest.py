"""``mapping.json``: the manifest of an output folder, linking each episode id to its files and settings.

One manifest per folder (the audio folder of ``extract``, the feature folder of ``features``). An entry is
up to date when its settings hash and its source's size and modification time are unchanged and its output
file is still there; otherwise the episode is recomputed. Updates are merged under a lock and written
atomically, so two commands writing to one folder do not lose each other's entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .atomic import write_json_atomic
from .errors import ManifestError

MANIFEST_NAME = "mapping.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class SourceStamp:
    """What identifies a source file's content cheaply: its size and modification time."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> SourceStamp:
        st = os.stat(path)
        return cls(st.st_size, st.st_mtime_ns)


def _resolve(folder: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    return path if path.is_absolute() else folder / path


class Manifest:
    """Entries of one output folder's ``mapping.json``, keyed by episode id."""

    def __init__(self, folder: str | os.PathLike[str], kind: str) -> None:
        self.folder = Path(folder)
        self.kind = kind
        self.path = self.folder / MANIFEST_NAME

    def load(self) -> dict[str, dict[str, Any]]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ManifestError(f"{self.path}: unreadable manifest ({exc}); delete it to rebuild") from None
        if not isinstance(data, dict) or not isinstance(data.get("episodes"), dict):
            raise ManifestError(f"{self.path}: not an introdetect manifest; delete it to rebuild")
        return data["episodes"]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".mapping.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def update(self, entries: dict[str, dict[str, Any]]) -> None:
        """Merge ``entries`` into the manifest on disk (re-read under the lock), atomically."""
        if not entries:
            return
        with self._locked():
            episodes = self.load()
            episodes.update(entries)
            write_json_atomic(
                self.path,
                {"version": MANIFEST_VERSION, "kind": self.kind, "episodes": dict(sorted(episodes.items()))},
            )

    def output_path(self, entry: dict[str, Any], key: str) -> Path | None:
        return _resolve(self.folder, entry.get(key))

    def relative(self, path: str | os.PathLike[str]) -> str:
        """Paths inside the folder are stored relative to it, so the folder can be moved; others absolute."""
        path = Path(path).resolve()
        try:
            return str(path.relative_to(self.folder.resolve()))
        except ValueError:
            return str(path)

    def is_current(
        self, entry: dict[str, Any] | None, output_key: str, settings_hash: str, source: SourceStamp
    ) -> bool:
        if not entry or entry.get("settings_hash") != settings_hash:
            return False
        if entry.get("source_size") != source.size or entry.get("source_mtime_ns") != source.mtime_ns:
            return False
        output = self.output_path(entry, output_key)
        return output is not None and output.is_file() and output.stat().st_size > 0
