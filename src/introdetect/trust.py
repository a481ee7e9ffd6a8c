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
(``TrustMap.methods`` has no entry for it). A method whose confidence does not order its answers there (the
known-series lookups) is mapped onto constants (``constant_coefficients``: the one-sided 95 % lower bound of
its share right, for its intros and its "none heard" apart), since a fresh set of packages was right less often
than the fit's. The model's other parts (its kinds head: credits, recap, preview, ident) are mapped the same
way, per kind (``model:credits``…; right: both ends within ±2 s, the structure issue's bar for them), fitted on
its answers for lone episodes there; a kind with too few answers to fit is
mapped onto the share right among them, counted with one right and one wrong more (no answer at all: 0.5),
so that a kind the held-out material never confirmed is never a sure skip. The recaps and previews of replayed
scenes (``recurring:recap``, ``recurring:preview``) are mapped the same way, fitted on a new season's and
two-episode seasons' answers.

**The answer's map.** The map above is what fusion compares (its bounds, ``fusion.MATCHER_SURE`` and the like,
are on its scale), fitted on each detector's own answers. The fused intro's confidence is then mapped once more,
by the map of the method that decided it (``answer:recurring``, ``answer:model``; ``TrustMap.answer``), fitted
on the fused answers of the same validation split (``bench/fit_trust.py --answers``, on answers made with the
first map alone: ``bench/heldout.py --trust decided``): the same form, so what a user reads is the share right
of such answers, while fusion's choices stay those its bounds were chosen for. A method the fused answers do not
fit (too few wrong: the known-series lookups) keeps the first map's value.

A map says nothing beyond the confidences it was fitted on (``TrustMap.reach``): a confidence higher than the
highest its method gave in the fit, for an intro or for "no intro" apart, is mapped as that highest one. The
model's "no intro" reached 0.97 of its own on the validation split (right 8 times of 12 there), and the
sigmoid carried an own 0.9999 to 0.986 (the trust issue's own finding: its "no intro" at ≥ 0.98 was wrong on
4 of 11 lone episodes). The fitted file ``trust_calibration.json`` records the command, the data and the
figures of the fit.
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
    reach: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    """Per method: the highest confidence it gave in the fit, for its intros and for its "no intro" (None: no
    bound); a higher one is mapped as that (the map is not carried past what it was fitted on)."""

    def confidence(self, method: Method | str, confidence: float, answered: bool) -> float:
        """The share of such answers right: ``confidence`` of an intro (``answered``) or of "no intro"."""
        coefficients = self.methods.get(str(method))
        if coefficients is None:
            return confidence
        a, b, c = coefficients
        most = self.reach.get(str(method), (None, None))[0 if answered else 1]
        confidence = min(confidence, most) if most is not None else confidence
        z = a * logit(confidence) + b + (0.0 if answered else c)
        return round(1.0 / (1.0 + math.exp(-z)), 6)

    def part(self, part: Part) -> Part:
        """The part with its confidence mapped: an intro by its method's map, another kind by the map of its
        method and kind (``method:kind``: the model's parts, the replayed scenes' recaps and previews;
        ``part_key``) where there is one; parts without a confidence, or without a map, and "none of this kind"
        for a kind other than the intro (the parts' maps are fitted on parts found), as given."""
        if part.confidence is None or (part.kind != Kind.INTRO and part.segment is None):
            return part
        key = str(part.method) if part.kind == Kind.INTRO else part_key(part.method, part.kind)
        mapped = self.confidence(key, part.confidence, part.segment is not None)
        if part.kind != Kind.INTRO and part.method == Method.MODEL:
            mapped = min(mapped, MODEL_PART_MAX)
        return part if mapped == part.confidence else replace(part, confidence=mapped)

    def answer(self, part: Part) -> Part:
        """The fused intro with its confidence mapped by the answer map of the method that decided it (module
        doc); other kinds, parts without a confidence, and methods without such a map, as given."""
        key = answer_key(part.method)
        if part.kind != Kind.INTRO or part.confidence is None or key not in self.methods:
            return part
        mapped = self.confidence(key, part.confidence, part.segment is not None)
        return part if mapped == part.confidence else replace(part, confidence=mapped)

    def decisions(self) -> TrustMap:
        """The map without its answer maps: the confidences fusion compares, as the fused answers carry them
        before the last map (what ``bench/fit_trust.py --answers`` fits on)."""
        kept = {m: v for m, v in self.methods.items() if not m.startswith(ANSWER_PREFIX)}
        return TrustMap(kept, self.provenance, {m: v for m, v in self.reach.items() if m in kept})

    def to_json(self) -> dict[str, Any]:
        def entry(method: str, a: float, b: float, c: float) -> dict[str, float]:
            most, most_none = self.reach.get(method, (None, None))
            bounds = {"most": most, "most_none": most_none}
            return {"a": a, "b": b, "c": c, **{k: v for k, v in bounds.items() if v is not None}}

        return {
            "map": "P(right) = sigmoid(a * logit(min(confidence, most)) + b + c * [no intro]); "
            'most_none for "no intro"',
            "methods": {m: entry(m, *abc) for m, abc in sorted(self.methods.items())},
            "provenance": self.provenance,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrustMap:
        entries = data.get("methods", {})
        methods = {str(m): (float(v["a"]), float(v["b"]), float(v["c"])) for m, v in entries.items()}
        reach = {
            str(m): (_bound(v.get("most")), _bound(v.get("most_none")))
            for m, v in entries.items()
            if v.get("most") is not None or v.get("most_none") is not None
        }
        return cls(methods, dict(data.get("provenance", {})), reach)

    @classmethod
    def load(cls, path: str | Path | None = None) -> TrustMap:
        """The shipped map (None) or one fitted elsewhere."""
        text = fitted_model_text(TRUST_FILE) if path is None else Path(path).read_text(encoding="utf-8")
        return cls.from_json(json.loads(text))


def _bound(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


MODEL_PART_MAX = 0.8
"""The most a part the model's kinds head proposes (credits, recap, preview, ident: one episode's audio) is
trusted, under the default ``--min-confidence`` (0.87), so that it is *unsure*: shown, first in the review
queue, exported only with ``--include-unsure``. The map fitted on the held-out validation split does not carry
over: on its test split (both seeds, lone episodes, 2026-12-02, the head before its boundary heads) the model's
credits mapped at >= 0.87 had both ends within ±2 s 10 times of 15, and 1 episode of 72 then had over 5 s of
story inside a part a player would skip (a post-credits scene inside the credits), against none without them.
(The map refitted on 2026-12-03 for the head shipped then maps its credits over 0.8 from an own 0.83 up: 27 of
its 41 credits on the validation split were right within ±2 s, so the bound caps them.)"""


LOWER_BOUND = 0.05
"""A constant map's value is the one-sided 95 % lower bound (Clopper–Pearson) of the share right, not the share:
the share right of a fresh set of packages fell below the validation split's (the known-series lookups: 40 of 42
intros right there, 96 %; mapped so, 6 of 48 test answers were confidently wrong, 87.5 % right; seen on the test
split first, 2026-12-02), and a constant cannot tell which of its answers to doubt."""


def constant_coefficients(intros: tuple[int, int], none: tuple[int, int]) -> tuple[float, float, float]:
    """(0, b, c) of a constant map from (right, answers) of a method's intros and of its "no intro" answers: b the
    lower bound (LOWER_BOUND) of the intros' share right, b + c the "none"s' (no "none" answered: as the
    intros)."""
    from scipy.stats import beta  # fitting only (bench/fit_trust.py): not on a command's start-up

    def bound(right: int, answers: int) -> float:
        return float(beta.ppf(LOWER_BOUND, right, answers - right + 1)) if right else 0.0

    b = logit(bound(*intros)) if intros[1] else 0.0
    c = logit(bound(*none)) - b if none[1] else 0.0
    return 0.0, round(float(b), 6), round(float(c), 6)


ANSWER_PREFIX = "answer:"


def answer_key(method: Method | str) -> str:
    """The map's key for the fused intro decided by ``method`` (``answer:recurring``)."""
    return f"{ANSWER_PREFIX}{method}"


def part_key(method: Method | str, kind: Kind) -> str:
    """The map's key for a part other than the intro: its method and kind (``model:credits``)."""
    return f"{method}:{kind}"


IDENTITY = TrustMap()
"""No map: every confidence as its detector gave it."""


@functools.cache
def shipped_trust() -> TrustMap:
    """The map shipped in the package (read once)."""
    return TrustMap.load()
