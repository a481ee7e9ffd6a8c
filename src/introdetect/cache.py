"""Work cached by content, so that a library is processed incrementally: a second run over an unchanged library
decodes nothing, and one new episode in a season costs about one episode.

Two levels:

* an episode's analysis (its fingerprints and frame profile for matching, the episode detectors' candidates),
  keyed by the file (resolved path, size, modification time) and a hash of everything that shapes it (the
  package version, decoding, the spectrum, the matching options that shape a print, each episode detector's
  key: a model file's content);
* a series detector's result, keyed by the keys of its episodes and the detector's own key (its fitted models
  and options): the season is matched again only when one of its episodes (or a model) changed.

Entries are pickles of our own dataclasses, written atomically (a killed run leaves the old entry or none);
each carries its key, and an entry that does not read back (truncated, another format, another key) is a miss
and is removed. The cache is local and trusted: it is never read from a path a user did not choose. An
episode's entry is ~1.7 MB (its 40-band log-mel profile over the 480 s window dominates).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .atomic import atomic_path
from .settings import digest

CACHE_FORMAT = 2
"""Bumped whenever what an entry holds changes shape; older entries are then misses (2: detectors' candidates)."""


def cache_root() -> Path:
    """Where introdetect keeps what it can compute again: ``$XDG_CACHE_HOME/introdetect`` (``~/.cache/…`` where
    unset), read when asked. Analyses go under ``analysis/``, training features under ``features/``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "introdetect"


def default_cache_dir() -> Path:
    """The analysis cache of ``detect``: ``cache_root() / "analysis"``."""
    return cache_root() / "analysis"


def file_digest(path: str | os.PathLike[str]) -> str:
    """The content hash of a (small) file: the model files and the fitted scorers."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class EpisodeKey:
    """What an episode's analysis depends on: the file as it is now and the settings."""

    path: str
    size: int
    mtime_ns: int
    settings: str

    @classmethod
    def of(cls, path: str | os.PathLike[str], settings: str) -> EpisodeKey:
        resolved = Path(path).resolve()
        st = resolved.stat()
        return cls(str(resolved), st.st_size, st.st_mtime_ns, settings)

    @property
    def digest(self) -> str:
        return digest(CACHE_FORMAT, self.path, self.size, self.mtime_ns, self.settings)


class AnalysisCache:
    """Episode analyses and series results under ``root``."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.hits = 0
        self.misses = 0

    def _file(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / f"{key}.pkl"

    def _get(self, kind: str, key: str) -> Any | None:
        path = self._file(kind, key)
        try:
            with open(path, "rb") as handle:
                entry = pickle.load(handle)
        except FileNotFoundError:
            self.misses += 1
            return None
        except Exception:  # noqa: BLE001 - truncated, foreign or stale: a miss, and the entry goes
            with contextlib.suppress(OSError):
                path.unlink()
            self.misses += 1
            return None
        if not isinstance(entry, dict) or entry.get("format") != CACHE_FORMAT or entry.get("key") != key:
            with contextlib.suppress(OSError):
                path.unlink()
            self.misses += 1
            return None
        self.hits += 1
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: pruning removes the least recently used first
        return entry["value"]

    def _put(self, kind: str, key: str, value: Any) -> None:
        """Store ``value``; a cache that cannot be written (disk full, read-only) costs only speed, never the run."""
        try:
            with atomic_path(self._file(kind, key), durable=False) as tmp, open(tmp, "wb") as handle:
                pickle.dump({"format": CACHE_FORMAT, "key": key, "value": value}, handle, protocol=5)
        except OSError:
            pass

    def episode(self, key: EpisodeKey) -> Any | None:
        return self._get("episodes", key.digest)

    def put_episode(self, key: EpisodeKey, value: Any) -> None:
        self._put("episodes", key.digest, value)

    def story(self, key: str) -> Any | None:
        return self._get("stories", key)

    def put_story(self, key: str, value: Any) -> None:
        self._put("stories", key, value)

    def series(self, key: str) -> Any | None:
        return self._get("series", key)

    def put_series(self, key: str, value: Any) -> None:
        self._put("series", key, value)

    def _entries(self) -> list[tuple[float, int, Path]]:
        found = []
        for path in self.root.glob("*/*/*.pkl"):
            with contextlib.suppress(OSError):
                st = path.stat()
                found.append((st.st_mtime, st.st_size, path))
        return sorted(found)

    def usage(self) -> tuple[int, int]:
        """(entries, bytes) in the cache."""
        entries = self._entries()
        return len(entries), sum(size for _, size, _ in entries)

    def prune(self, max_bytes: int) -> tuple[int, int]:
        """Remove the least recently used entries until the cache holds at most ``max_bytes``; returns
        (entries removed, bytes freed). A removed entry is only a future miss."""
        entries = self._entries()
        total = sum(size for _, size, _ in entries)
        removed = freed = 0
        for _, size, path in entries:
            if total - freed <= max_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
                freed += size
        return removed, freed


SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """ "500M", "5G", "1.5T", "123" (bytes) → bytes; ValueError otherwise."""
    cleaned = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = cleaned[-1:] if cleaned[-1:] in SIZE_UNITS and cleaned[-1:] else ""
    number = cleaned[: len(cleaned) - len(unit)]
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (examples: 500M, 5G)") from None
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"not a size: {text!r} (examples: 500M, 5G)")
    return int(value * SIZE_UNITS[unit])
