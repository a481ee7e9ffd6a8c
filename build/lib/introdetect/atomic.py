"""Atomic file output: write to a temporary file in the same folder, then rename over the target.

A reader (or a crash) never sees a half-written file: either the old file or the new one is there.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PART = ".part-"
"""The temporary file of ``target`` is ``.<target name>.part-<random>``: hidden, and findable after a kill."""

STALE_PART_S = 3600.0
"""A temporary file untouched this long was left by a killed run: no write of ours lasts an hour (the longest, a
decode, is bounded by its timeout), so removing it cannot hurt a live one."""


def sweep_parts(folder: str | os.PathLike[str], target: str | None = None, older_than_s: float = STALE_PART_S) -> int:
    """Remove the temporary files killed writers left in ``folder`` (only ``target``'s with a name; only those
    older than ``older_than_s``: 0 where the caller holds the lock every writer takes); returns how many."""
    removed = 0
    now = time.time()
    for part in Path(folder).glob(f".{target or '*'}{PART}*"):
        with contextlib.suppress(OSError):
            if now - part.stat().st_mtime >= older_than_s:
                part.unlink()
                removed += 1
    return removed


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str = "", durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it is renamed onto ``target``.

    On any exception the temporary file is removed and ``target`` is left as it was. ``suffix`` lets a tool
    that picks its format by extension (ffmpeg) see the right one. ``durable`` fsyncs before the rename, so
    the file also survives a power cut; bulk outputs that can be recomputed (audio, features) skip it, since
    the rename alone already protects them against a killed process, and their readers check their size.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}{PART}", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); the output gets the permissions any new file would get
        os.chmod(tmp, 0o666 & ~_umask())
        if durable:
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, target)
        if durable:
            _sync_folder(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (the folder's entry is what a power cut could lose)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # a platform or file system that cannot open folders: the rename is as durable as it gets
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(target: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: str | os.PathLike[str], text: str) -> None:
    write_bytes_atomic(target, text.encode("utf-8"))


def write_json_atomic(target: str | os.PathLike[str], obj: Any) -> None:
    write_text_atomic(target, json.dumps(obj, ensure_ascii=False, indent=2, allow_nan=False) + "\n")


def check_writable(target: str | os.PathLike[str]) -> None:
    """Raise the OSError that writing ``target`` would meet, before any work is spent on what it will hold: a
    folder where the file should be, or a folder (the nearest that exists) where no file can be made."""
    import errno

    target = Path(target)
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder", str(target))
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))
    if folder == target.parent:  # the real test: make (and remove) a file where the output will go
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}{PART}", dir=folder)
        os.close(fd)
        os.unlink(probe)
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "Permission denied", str(folder))
