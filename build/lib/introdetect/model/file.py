"""The model file: one zip holding ``meta.json`` (dimensions, input and feature settings, normalisation,
calibration, label statistics, training record), ``model.onnx`` (what inference runs) and ``weights.pt``
(the torch weights, for fine-tuning; absent from an inference-only file).

A file of another format version, or one made for other feature settings, fails to load with a message
that says so, never a silent mismatch (whisper keeps its dimensions beside the weights for the same reason).
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from dataclasses import dataclass
from typing import Any

from ..atomic import atomic_path
from ..errors import ModelFileError

MODEL_FORMAT = 1
META, ONNX, WEIGHTS = "meta.json", "model.onnx", "weights.pt"
MODEL_SUFFIX = ".idmodel"


@dataclass(frozen=True)
class ModelFile:
    meta: dict[str, Any]
    onnx: bytes
    weights: bytes | None = None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write atomically (a reader never sees half a model)."""
        meta = json.dumps(
            finite({"format_version": MODEL_FORMAT, **self.meta}), indent=1, ensure_ascii=False, allow_nan=False
        )
        with atomic_path(path, suffix=".zip") as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(META, meta)
            archive.writestr(ONNX, self.onnx)
            if self.weights is not None:
                archive.writestr(WEIGHTS, self.weights)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | io.BytesIO) -> ModelFile:
        name = getattr(path, "name", None) or str(path)
        try:
            with zipfile.ZipFile(path) as archive:
                members = set(archive.namelist())
                missing = {META, ONNX} - members
                if missing:
                    raise ModelFileError(f"{name}: not an introdetect model (missing {', '.join(sorted(missing))})")
                meta = json.loads(archive.read(META))
                onnx = archive.read(ONNX)
                weights = archive.read(WEIGHTS) if WEIGHTS in members else None
        except FileNotFoundError:
            raise ModelFileError(f"{name}: no such model file") from None
        except (zipfile.BadZipFile, json.JSONDecodeError, OSError, UnicodeDecodeError) as exc:
            raise ModelFileError(f"{name}: not an introdetect model file ({exc})") from None
        version = meta.get("format_version")
        if version != MODEL_FORMAT:
            raise ModelFileError(
                f"{name}: model format {version}, this introdetect reads format {MODEL_FORMAT}: "
                "retrain it with `introdetect train`"
            )
        return cls(meta, onnx, weights)


def finite(obj: Any) -> Any:
    """``obj`` with NaN and infinities as None (JSON has no NaN; a figure that is undefined is null)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    if hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:  # numpy scalars
        return finite(obj.item())
    return obj
