"""The error types a user can cause with bad input; the CLI prints them as one line, never a traceback."""

from __future__ import annotations

from .features.store import FeatureFileError
from .labels import LabelError
from .manifest import ManifestError
from .media import MediaError
from .model.file import ModelFileError
from .settings import SettingsError
from .timecode import TimecodeError

USER_ERRORS: tuple[type[Exception], ...] = (
    LabelError,
    MediaError,
    ModelFileError,
    FeatureFileError,
    ManifestError,
    SettingsError,
    TimecodeError,
)
