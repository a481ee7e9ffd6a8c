"""One series' recurring motifs, from its episodes' prints: the index, the queries, the motifs, their scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..settings import DEFAULT_MATCHING, MatchingOptions
from .index import InvertedIndex
from .landmarks import landmark_hashes
from .recurring import EpisodePrint, Motif, find_motifs, query_segments
from .scoring import MotifFeatures, MotifScorer, motif_features


@dataclass(frozen=True)
class SeriesAnalysis:
    motifs: list[Motif]
    features: list[MotifFeatures]
    probabilities: np.ndarray


def analyse_series(
    prints: Sequence[EpisodePrint], scorer: MotifScorer | None, options: MatchingOptions = DEFAULT_MATCHING
) -> SeriesAnalysis:
    """Recurring motifs of a series with their features (and probabilities, given a scorer)."""
    prints = list(prints)
    if len(prints) < 2:
        return SeriesAnalysis([], [], np.zeros(0))
    frame_rate = prints[0].profile.frame_rate
    index = InvertedIndex([landmark_hashes(p.landmarks.peaks, 1.0, options) for p in prints], options)
    motifs = find_motifs(prints, query_segments(index, prints, frame_rate, options), options)
    features = motif_features(motifs, prints, options)
    probabilities = scorer.probability(features) if scorer is not None else np.zeros(len(motifs))
    return SeriesAnalysis(motifs, features, probabilities)
