"""Data shipped inside the package, found by name: the default model, the fitted models of matching, the VK
label samples (the demo's and the tests'), the review page's files. Nothing else reads package data."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEFAULT_MODEL_FILE = "default.idmodel"
"""The model shipped in the package (trained on the corpus's train split; docs/MODEL.md is its card)."""


def data_path(name: str) -> Path:
    """A file under the package's ``data/`` folder (installed as files, so a path: ffmpeg and zipfile open it)."""
    return Path(str(resources.files("introdetect") / "data" / name))


def default_model_path() -> Path:
    return data_path(DEFAULT_MODEL_FILE)


def fitted_model_text(name: str) -> str:
    """A fitted model of matching (``motif_scorer.json``, ``answer_confidence.json``) as JSON text."""
    return data_path(name).read_text(encoding="utf-8")


def vk_label_files() -> list[Path]:
    """The packaged copy of the real VK label files (the ones in ../shared/data/vk_labels)."""
    return sorted(p for p in data_path("vk_labels").iterdir() if p.name.endswith(".json"))


def static_text(name: str) -> str:
    """A file of the review page (``index.html``, ``review.js``, ``review.css``)."""
    return (resources.files("introdetect") / "review" / "static" / name).read_text(encoding="utf-8")
