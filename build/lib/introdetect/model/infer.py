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
from ..settings import FeatureOptions
from ..timecode import Segment
from .decode import PRESENCE_THRESHOLD, Calibration, WindowOutputs, decode
from .file import ModelFile
from .inputs import EpisodeInputs, InputOptions, Normaliser, episode_inputs

ORT_THREADS = 1
"""Intra-op threads of the ONNX session: one episode's network is milliseconds of work, and on 2 cores the
other core is decoding the next episode."""


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

    def raw(self, inputs: EpisodeInputs) -> np.ndarray:
        """The network's (T, 6) outputs for one episode."""
        feed = {"patch": inputs.patch[None], "series": inputs.series[None], "extra": inputs.extra[None]}
        return self.session.run(None, feed)[0][0]

    def answer(self, inputs: EpisodeInputs, raw: np.ndarray | None = None) -> ModelAnswer:
        raw = self.raw(inputs) if raw is None else raw
        outputs = WindowOutputs.from_raw(raw, inputs.start_s, self.inputs.window_length_s)
        _, score, best = decode(outputs, inputs.duration_s)
        presence = self.calibration(score)
        present = presence >= PRESENCE_THRESHOLD
        return ModelAnswer(
            inputs.id, best if present else None, presence if present else 1.0 - presence, presence, best, outputs
        )

    def predict(self, features: EpisodeFeatures, episode_id: str) -> ModelAnswer:
        return self.answer(self.inputs_of(features, episode_id))
