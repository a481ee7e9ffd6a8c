"""The small fitted models of matching (which motif is the intro; how sure an answer is): logistic
regression over standardised features, stored as JSON in ``introdetect/data`` with the command that fitted
them. A model file names its features; loading it for other features is an error, not a silent mismatch."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from ..resources import fitted_model_text


@dataclass(frozen=True)
class LogisticModel:
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    provenance: dict[str, Any]

    FILE: ClassVar[str] = ""  # packaged file under introdetect/data
    FEATURES: ClassVar[tuple[str, ...]] = ()
    BALANCED: ClassVar[bool] = False  # weigh the classes equally (rare positives)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """P(positive) for (n, features) rows."""
        z = (np.atleast_2d(x) - np.array(self.mean)) / np.array(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.array(self.coef) + self.intercept)))

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.FEATURES), **asdict(self)}

    @classmethod
    def load(cls, path: str | Path | None = None) -> Self:
        if path is None:
            text = fitted_model_text(cls.FILE)
        else:
            text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text)
        if tuple(data.get("features", ())) != cls.FEATURES:
            raise ValueError(
                f"{cls.__name__} in {path or cls.FILE} was made for features {data.get('features')}, "
                f"not {list(cls.FEATURES)}"
            )
        return cls(
            tuple(data["mean"]),
            tuple(data["scale"]),
            tuple(data["coef"]),
            float(data["intercept"]),
            dict(data.get("provenance", {})),
        )

    @classmethod
    def fit_rows(cls, x: np.ndarray, y: list[bool], provenance: dict[str, Any]) -> Self:
        from sklearn.linear_model import LogisticRegression

        mean, scale = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-3)  # a constant feature stays harmless
        model = LogisticRegression(C=1.0, max_iter=1000, class_weight="balanced" if cls.BALANCED else None)
        model.fit((x - mean) / scale, y)
        return cls(
            tuple(mean.round(6)),
            tuple(scale.round(6)),
            tuple(model.coef_[0].round(6)),
            round(float(model.intercept_[0]), 6),
            provenance,
        )
