"""The position prior: every episode gets the same intro, the median start and length seen in training.

It knows nothing of the audio; any detector worth having must beat it. Confidence: the share of training
episodes that had an intro (the prior's chance of an intro being there at all).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from introdetect.metrics import Truth
from introdetect.result import Detection, Method
from introdetect.timecode import Segment


@dataclass(frozen=True)
class PositionPrior:
    start_s: float
    length_s: float
    intro_share: float

    @classmethod
    def fit(cls, truth: Mapping[str, Truth]) -> PositionPrior:
        intros = [a.intro for a in truth.values() if a.intro is not None]
        if not intros:
            raise ValueError("the training truth has no intros to learn a position from")
        return cls(
            start_s=float(np.median([s.start_s for s in intros])),
            length_s=float(np.median([s.duration_s for s in intros])),
            intro_share=len(intros) / len(truth),
        )

    def predict(self, ids: Iterable[str]) -> dict[str, Detection]:
        segment = Segment(self.start_s, self.start_s + self.length_s)
        return {vid: Detection.of_intro(vid, segment, self.intro_share, Method.EXTERNAL) for vid in ids}
