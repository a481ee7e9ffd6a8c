"""Every error introdetect raises on purpose, under one root (librosa's habit: ``util/exceptions.py``).

Two kinds, which the command line maps to exit codes:

* ``UsageError`` (exit 2): an option or argument out of its range, found before any work is done;
* ``InputError`` (exit 1): a file the user gave cannot be used (media, labels, a model, a result).

``str()`` of each is one line that names the file (where there is one) and the problem. The modules that
raise them re-export their own (``from introdetect.media import MediaError`` keeps working).
"""

from __future__ import annotations

import os
from typing import Any


class IntrodetectError(Exception):
    """The root: anything introdetect raises on purpose (never a bug)."""


class UsageError(IntrodetectError, ValueError):
    """An option or argument is out of its valid range (the command line's exit code 2)."""


class InputError(IntrodetectError):
    """A file the user gave cannot be used (the command line's exit code 1)."""


class SettingsError(UsageError):
    """A setting is out of its valid range."""


class TimecodeError(InputError, ValueError):
    """A time string is not H:MM:SS (or M:SS)."""


class LabelError(InputError):
    """Base of label problems; the message names the file."""


class LabelFileError(LabelError):
    """A whole label file cannot be used (missing, not JSON, not an object of rows)."""


class LabelDefectError(LabelError):
    """Raised under policy "fail" when a row has an error-level defect."""


class ResultFileError(LabelError):
    """A result, prediction or truth file cannot be used (a row that does not read, a repeated id)."""


class ReviewFileError(LabelError):
    """The reviewed-labels file cannot be used (unreadable, not ours): refused rather than overwritten."""


class MediaError(InputError):
    """A media file cannot be used. ``str()`` is one line: ``<file>: <problem>``."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:  # so that errors cross the process pool intact
        return (type(self), (self.path, self.problem))


class ModelFileError(InputError):
    """A model file cannot be used (one line, naming the file)."""


class FeatureFileError(InputError):
    """A stored feature file cannot be used."""


class ManifestError(InputError):
    """A folder's mapping.json cannot be used."""


class LibraryFileError(LabelFileError):
    """A saved library of known intros cannot be used."""


class StaleDecision(IntrodetectError):
    """A review decision made from a view that is no longer current (a condition the page handles)."""

    def __init__(self, current: dict[str, Any] | None) -> None:
        super().__init__("changed in another tab or by another reviewer")
        self.current = current
