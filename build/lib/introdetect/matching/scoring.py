"""Which recurring motif is the intro: features of a motif, and a logistic model that weighs them.

The intro is not simply the longest thing that recurs: a network logo opens every episode, a recap sting
opens some, score cues and reused themes recur later, and a reused line can match by chance. What tells
them apart is described by ``MotifFeatures``; the weights come from the corpus's training series
(``bench/train_scorer.py``, provenance inside the JSON) and the model's probability is the motif's score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ..settings import DEFAULT_MATCHING, MIN_PLAUSIBLE_INTRO_S, MatchingOptions
from .logistic import LogisticModel
from .recurring import EpisodePrint, Motif

SCORER_FILE = "motif_scorer.json"


@dataclass(frozen=True)
class MotifFeatures:
    support: float  # share of the series' episodes that hold the motif
    log_duration: float  # log of the median region length, s
    log_start: float  # log(1 + median start, s)
    at_zero: float  # share of its regions that start within 0.5 s of the file's start
    loudness: float  # median of (region loudness − episode's median frame loudness), dB
    start_spread: float  # spread of starts across episodes: IQR / (median + 10 s)
    order: float  # rank by median start among the series' well-supported motifs (0 = first)
    repeats: float  # regions per episode (a cue used twice per episode → 2)
    density: float  # hash votes per second and partner: how much of the sound survives
    at_end: float  # share of its regions that end the episode (end credits of an episode shorter than the window)

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, f.name) for f in fields(self)], dtype=np.float64)


FEATURE_NAMES = tuple(f.name for f in fields(MotifFeatures))


def motif_features(
    motifs: list[Motif], prints: list[EpisodePrint], options: MatchingOptions = DEFAULT_MATCHING
) -> list[MotifFeatures]:
    n = len(prints)
    rate = prints[0].profile.frame_rate if prints else 1.0
    starts = [float(np.median([m.main_region(e).start for e in m.episodes])) / rate for m in motifs]
    supported = [i for i, m in enumerate(motifs) if len(m.episodes) >= max(2, 0.5 * n)]
    ranked = sorted(supported, key=lambda i: starts[i])
    order = {i: k for k, i in enumerate(ranked)}
    result = []
    for i, motif in enumerate(motifs):
        mains = [motif.main_region(e) for e in motif.episodes]
        lengths = np.array([(r.end - r.start) / rate for r in mains])
        region_starts = np.array([r.start / rate for r in mains])
        loud = []
        dens = []
        for r in mains:
            profile = prints[r.episode].profile
            seg = profile.loudness_db[r.start : max(r.end, r.start + 1)]
            loud.append(float(np.mean(seg)) - float(np.median(profile.loudness_db)))
            partners = max(1, len({m.other for m in r.members}))
            dens.append(r.votes / partners / max(lengths.mean(), 0.5))
        q75, q25 = np.percentile(region_starts, [75, 25])
        result.append(
            MotifFeatures(
                support=len(motif.episodes) / n,
                log_duration=math.log(max(float(np.median(lengths)), 0.1)),
                log_start=math.log1p(float(np.median(region_starts))),
                at_zero=float(np.mean(region_starts < 0.5)),
                loudness=float(np.median(loud)),
                start_spread=float((q75 - q25) / (np.median(region_starts) + 10.0)),
                order=float(order.get(i, len(ranked))),
                repeats=motif.repeats,
                density=float(np.median(dens)),
                at_end=float(
                    np.mean(
                        [
                            prints[r.episode].reached_end
                            and prints[r.episode].duration_s - r.end / rate < options.end_s
                            for r in mains
                        ]
                    )
                ),
            )
        )
    return result


class MotifScorer(LogisticModel):
    """Logistic regression over standardised ``MotifFeatures``: P(this motif is the series' intro)."""

    FILE = SCORER_FILE
    FEATURES = FEATURE_NAMES
    BALANCED = True  # one intro among dozens of motifs per series

    def probability(self, features: list[MotifFeatures]) -> np.ndarray:
        if not features:
            return np.zeros(0)
        p = self.predict(np.array([f.vector() for f in features]))
        # an opening intro never ends the episode: what does is the end credits replaying the theme. Few
        # training episodes end inside the window, so this is a rule rather than a learned weight.
        p = p * (1.0 - np.array([f.at_end for f in features]))
        # nor is it shorter than the shortest plausible intro (settings.MIN_PLAUSIBLE_INTRO_S)
        return np.where(np.exp([f.log_duration for f in features]) < MIN_PLAUSIBLE_INTRO_S, 0.0, p)

    @classmethod
    def fit(cls, features: list[MotifFeatures], is_intro: list[bool], provenance: dict[str, Any]) -> MotifScorer:
        return cls.fit_rows(np.array([f.vector() for f in features]), is_intro, provenance)
