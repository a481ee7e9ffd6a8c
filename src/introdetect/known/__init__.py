"""Known intros: labelled episodes fingerprinted once (``library``), built from labels and videos (``build``)."""

from .build import build_library
from .library import (
    IntroLibrary,
    KnownIntro,
    LabelAudit,
    Lookup,
    RefinedLabel,
    build_library_from_prints,
    reconcile,
    refine_labels,
)

__all__ = [
    "IntroLibrary",
    "KnownIntro",
    "LabelAudit",
    "Lookup",
    "RefinedLabel",
    "build_library",
    "build_library_from_prints",
    "reconcile",
    "refine_labels",
]
