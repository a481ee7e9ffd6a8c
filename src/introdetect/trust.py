"""The intro's confidence as a share of answers that are right, on material no detector was tuned on (pure).

Every detector calibrates its own confidence on the validation split of the corpus it was fitted on (the
matcher's by ``matching/confidence.py``, the model's by its Platt scaling); that split comes from the same
source recordings as training, so the confidences do not transfer to new material (the trust issue: answers
at >= 0.9 right 81 % of the time on independent seasons). This map is fitted afterwards, per method that
decided the intro, on series made from source packages that neither training nor any other fit used (the
``heldout`` corpus's validation split, both seeds, ``bench/fit_trust.py``), and maps each intro candidate's
confidence onto the share right there, before fusion weighs them: P(right) = sigmoid(a · logit(confidence) + b + c · [no intro]). The term for "no intro" lets a
method's "there is none" be trusted less (or more) than its intros: the model's "no intro" at 0.98 was wrong on
a third of lone episodes that have one.

A method with too few answers, or only right or only wrong ones, to fit is left as its detector says
(``TrustMap.methods`` has no entry for it). The fitted file ``trust_calibration.json`` records the command,
the data and the figures of the fit.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .matching.confidence import logit  # clipped to [1e-4, 1 − 1e-4]: a detector's 1.0 is finite evidence
from .resources import fitted_model_text
from .result import Kind, Method, Part

TRUST_FILE = "trust_calibration.json"


@dataclass(frozen=True)
class TrustMap:
    """Per method: (a, b, c) of the map in the module doc. Empty: every confidence as its detector gave it."""

    methods: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def confidence(self, method: Method | str, confidence: float, answered: bool) -> float:
        """The share of such answers right: ``confidence`` of an intro (``answered``) or of "no intro"."""
        coefficients = self.methods.get(str(method))
        if coefficients is None:
            return confidence
        a, b, c = coefficients
        z = a * logit(confidence) + b + (0.0 if answered else c)
        return round(1.0 / (1.0 + math.exp(-z)), 6)

    def part(self, part: Part) -> Part:
        """The intro part with its confidence mapped; other kinds, and parts without a confidence, as given."""
        if part.kind != Kind.INTRO or part.confidence is None:
            return part
        mapped = self.confidence(part.method, part.confidence, part.segment is not None)
        return part if mapped == part.confidence else replace(part, confidence=mapped)

    def to_json(self) -> dict[str, Any]:
        return {
            "map": "P(right) = sigmoid(a * logit(confidence) + b + c * [no intro])",
            "methods": {m: {"a": a, "b": b, "c": c} for m, (a, b, c) in sorted(self.methods.items())},
            "provenance": self.provenance,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrustMap:
        methods = {str(m): (float(v["a"]), float(v["b"]), float(v["c"])) for m, v in data.get("methods", {}).items()}
        return cls(methods, dict(data.get("provenance", {})))

    @classmethod
    def load(cls, path: str | Path | None = None) -> TrustMap:
        """The shipped map (None) or one fitted elsewhere."""
        text = fitted_model_text(TRUST_FILE) if path is None else Path(path).read_text(encoding="utf-8")
        return cls.from_json(json.loads(text))


IDENTITY = TrustMap()
"""No map: every confidence as its detector gave it."""


@functools.cache
def shipped_trust() -> TrustMap:
    """The map shipped in the package (read once)."""
    return TrustMap.load()
