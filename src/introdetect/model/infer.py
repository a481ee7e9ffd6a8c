"""Inference with ONNX Runtime: no torch needed to detect.

model = IntroModel.load()                      # the shipped default model
answer = model.predict(features, "S01E01")     # features: EpisodeFeatures of the episode's window
answer.intro, answer.confidence                # Segment | None, P(the answer is right)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelFileError
from ..features.compute import EpisodeFeatures
from ..resources import default_model_path
from ..settings import MODEL_UNSURE_BELOW, FeatureOptions
from ..timecode import Segment
from .decode import PRESENCE_THRESHOLD, Calibration, KindCurves, WindowOutputs, decode
from .file import ModelFile
from .inputs import HEADS, KINDS, EpisodeInputs, InputOptions, Normaliser, episode_inputs, tail_inputs

ORT_THREADS = 1
"""Intra-op threads of the ONNX session: one episode's network is milliseconds of work, and on 2 cores the
other core is decoding the next episode."""

SECOND_LOOK_LEAD_S = 60.0
"""s before a clipped intro's start where the model's second look begins (``IntroModel.heard_further``): the
intro then lies a minute into the span, where most intros of its training episodes lie (after a cold open), and
the span holds the rest of any intro up to the longest plausible (MAX_PLAUSIBLE_INTRO_S, 180 s) with room."""


@dataclass(frozen=True)
class ModelAnswer:
    """The model's answer for one episode: the intro (None: no intro), the calibrated probability that an
    intro is where ``best`` says (``confidence`` of the answer given: that for an intro, 1 − that for none),
    and the per-window outputs (the probability curve the review page and report draw)."""

    id: str
    intro: Segment | None
    confidence: float
    presence: float
    best: Segment
    outputs: WindowOutputs
    kinds: KindCurves | None = None
    """The kinds head's curves over the head's windows (a model with a kinds head), else None."""


class IntroModel:
    """A trained model ready for inference (meta + ONNX session)."""

    def __init__(self, file: ModelFile, source: str = "<memory>") -> None:
        import onnxruntime as ort

        self.file = file
        self.source = source
        meta = file.meta
        try:
            self.inputs = InputOptions.from_json(meta["inputs"])
            self.normaliser = Normaliser.from_json(meta["normaliser"])
            self.calibration = Calibration(**meta.get("calibration", {}))
            self.feature_options = FeatureOptions(**meta["features"]["options"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{source}: model metadata incomplete or invalid ({exc})") from None
        session_options = ort.SessionOptions()
        session_options.intra_op_num_threads = ORT_THREADS
        session_options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(file.onnx, session_options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors
            raise ModelFileError(f"{source}: the ONNX graph does not load ({exc})") from None

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> IntroModel:
        """Load ``path`` (the shipped default model when None)."""
        target = Path(path) if path is not None else default_model_path()
        return cls(ModelFile.load(target), str(target))

    @property
    def meta(self) -> dict[str, Any]:
        return self.file.meta

    def check_features(self, features: EpisodeFeatures, where: str) -> None:
        if features.options.settings_hash != self.feature_options.settings_hash:
            raise ModelFileError(
                f"{where}: features made with other settings than {self.source} was trained on "
                "(recompute them with the model's feature settings)"
            )

    def inputs_of(self, features: EpisodeFeatures, episode_id: str) -> EpisodeInputs:
        self.check_features(features, episode_id)
        return self.normaliser.apply(episode_inputs(episode_id, features, self.inputs), self.inputs.drop)

    @property
    def has_kinds(self) -> bool:
        """Whether the network has a kinds head (``network.NetworkDims.kinds``)."""
        return bool(self.meta.get("dims", {}).get("kinds", False))

    def tail_kinds(self, features: EpisodeFeatures, start_s: float, episode_id: str) -> KindCurves:
        """The kinds head's curves over an episode's tail: ``features`` of its last minutes, from ``start_s`` to
        its end."""
        self.check_features(features, episode_id)
        inputs = self.normaliser.apply(tail_inputs(episode_id, features, start_s, self.inputs), self.inputs.drop)
        return KindCurves.from_raw(
            self.raw(inputs), inputs.start_s, self.inputs.window_length_s, len(HEADS), len(KINDS)
        )

    def raw(self, inputs: EpisodeInputs) -> np.ndarray:
        """The network's (T, C) outputs for one episode (``network.heads_of``)."""
        feed = {"patch": inputs.patch[None], "series": inputs.series[None], "extra": inputs.extra[None]}
        return self.session.run(None, feed)[0][0]

    def answer(self, inputs: EpisodeInputs, raw: np.ndarray | None = None) -> ModelAnswer:
        raw = self.raw(inputs) if raw is None else raw
        outputs = WindowOutputs.from_raw(raw, inputs.start_s, self.inputs.window_length_s)
        _, score, best = decode(outputs, inputs.duration_s)
        presence = self.calibration(score)
        present = presence >= PRESENCE_THRESHOLD
        kinds = (
            KindCurves.from_raw(raw, inputs.start_s, self.inputs.window_length_s, len(HEADS), len(KINDS))
            if self.has_kinds
            else None
        )
        return ModelAnswer(
            inputs.id,
            best if present else None,
            presence if present else 1.0 - presence,
            presence,
            best,
            outputs,
            kinds,
        )

    def predict(self, features: EpisodeFeatures, episode_id: str, before_s: float = float("inf")) -> ModelAnswer:
        """The model's answer on the first ``span_s`` of the features (what it was trained on), heard further
        where the features go on past that span (``heard_further``; ``before_s``: where the episode's tail
        begins)."""
        first = self.answer(self.inputs_of(features, episode_id))
        return self.heard_further(features, episode_id, first, before_s)

    def heard_further(
        self, features: EpisodeFeatures, episode_id: str, first: ModelAnswer, before_s: float = float("inf")
    ) -> ModelAnswer:
        """The model's answer where the episode was analysed past its span (the pipeline asks for it:
        ``CLIPPED_MARGIN_S``, ``MODEL_UNSURE_BELOW``): an intro cut by the span runs on (``_runs_on``); an unsure
        answer, or "no intro", gives way to an intro heard after the span and ending before ``before_s``, where
        the episode's tail begins (``_heard_later``). Else the first look's answer. The curve stays the first
        look's."""
        if features.duration_s <= self.inputs.span_s:
            return first
        if first.intro is not None:
            runs_on = self._runs_on(features, episode_id, first)
            if runs_on is not first or first.confidence >= MODEL_UNSURE_BELOW:
                return runs_on
        return self._heard_later(features, episode_id, first, before_s)

    def _runs_on(self, features: EpisodeFeatures, episode_id: str, first: ModelAnswer) -> ModelAnswer:
        """An intro reaching the last window of the model's span runs on past what the model heard: the model
        looks again at a span starting SECOND_LOOK_LEAD_S before it. Where that look's intro holds the first's
        start (starts before it or within a window step after) and ends later, the intro runs from the first
        look's start (found with the intro inside the span) to the second look's end; else the first stands."""
        assert first.intro is not None
        outputs = first.outputs
        last_centre = float(outputs.start_s[-1]) + outputs.length_s / 2 if outputs.start_s.size else 0.0
        if first.intro.end_s < last_centre or first.intro.start_s <= SECOND_LOOK_LEAD_S:
            return first
        later, offset = self._look_from(features, episode_id, first.intro.start_s - SECOND_LOOK_LEAD_S)
        if later.intro is None:
            return first
        seen = later.intro.shifted(offset)
        if seen.start_s > first.intro.start_s + self.inputs.window_step_s or seen.end_s <= first.intro.end_s:
            return first
        intro = Segment(first.intro.start_s, seen.end_s)
        return ModelAnswer(first.id, intro, later.confidence, later.presence, intro, outputs, first.kinds)

    def _heard_later(
        self, features: EpisodeFeatures, episode_id: str, first: ModelAnswer, before_s: float
    ) -> ModelAnswer:
        """The model looks at a span starting SECOND_LOOK_LEAD_S before the end of the first one; an intro it
        hears there, surer than the first look's intro (or, after a first "no intro", sure by the model's own
        calibration: over MODEL_UNSURE_BELOW) and ending before the tail (``before_s``: the credits'
        theme is no intro; held-out validation, two-episode seasons: credits at 12:12 of an episode without an
        intro answered at 0.95), stands (held-out test show15 e05: a theme at 7:40-8:37 heard as 7:40-7:41)."""
        later, offset = self._look_from(features, episode_id, self.inputs.span_s - SECOND_LOOK_LEAD_S)
        # a first "no intro" speaks of its own span only: an intro heard after it stands where the model is sure
        # of it (a model sure of the "none" to 1.0 would never let one be surer); an unsure intro gives way only
        # to a surer one
        bar = MODEL_UNSURE_BELOW if first.intro is None else first.confidence
        if later.intro is None or later.confidence <= bar:
            return first
        intro = later.intro.shifted(offset)
        if intro.end_s > before_s:
            return first
        return ModelAnswer(first.id, intro, later.confidence, later.presence, intro, first.outputs, first.kinds)

    def _look_from(self, features: EpisodeFeatures, episode_id: str, at_s: float) -> tuple[ModelAnswer, float]:
        """The model's answer on the features from ``at_s`` on (as if the episode started there, on a whole
        frame) and the offset kept, in s: add it to the answer's times."""
        later_features, offset = features.after(max(0.0, at_s))
        return self.answer(self.inputs_of(later_features, episode_id)), offset
