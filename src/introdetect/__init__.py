"""introdetect: the parts of a TV episode that are not story (first its opening intro), from its audio.

The public API, re-exported explicitly and imported when first used (so that ``introdetect --help`` and a
script that needs one function do not pay for numpy, scipy and ONNX Runtime)::

    from introdetect import detect, Kind, read_labels, build_library

    result = detect(["S01E01.mkv", "S01E02.mkv", "Season 1/"])      # -> DetectResult (folders searched)
    for d in result:
        part = d.part(Kind.INTRO)                                     # span, confidence, method, evidence
    result.failures                                                   # files that could not be read
    result = detect(["lone.mkv"], use="model")                        # the shipped model alone
    answer = IntroModel.load().predict(compute_features(samples), "S01E01")  # on features you computed
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"
"""The one version (pyproject reads it): bumped with every change that can alter an answer, since it enters
every cache key."""

_EXPORTS = {
    "AudioOptions": "settings",
    "BatchResult": "batch",
    "Candidate": "detectors",
    "Defect": "labels",
    "DetectResult": "result",
    "Detection": "result",
    "EpisodeFeatures": "features.episode",
    "Evidence": "result",
    "Failure": "result",
    "FeatureOptions": "settings",
    "IntroLibrary": "known.library",
    "IntroModel": "model.infer",
    "IntrodetectError": "errors",
    "Kind": "result",
    "Label": "labels",
    "LabelSet": "labels",
    "MatchingOptions": "settings",
    "MediaError": "errors",
    "Method": "result",
    "ModelAnswer": "model.infer",
    "Part": "result",
    "LogProgress": "runner",
    "RichProgress": "runner",
    "Segment": "timecode",
    "WindowOptions": "settings",
    "build_library": "known.build",
    "build_windows": "windows",
    "compute_features": "features.compute",
    "decode_audio": "media",
    "detect": "pipeline",
    "episode_windows": "windows",
    "extract_audio": "media",
    "extract_many": "batch",
    "features_many": "batch",
    "find_media": "media",
    "format_timecode": "timecode",
    "load_features": "features.store",
    "parse_episode_name": "labels",
    "parse_timecode": "timecode",
    "probe": "media",
    "read_labels": "labels",
    "read_result": "result",
    "result_json": "result",
    "recommend_window": "labels",
    "save_features": "features.store",
    "window_grid": "windows",
    "write_result": "result",
}

__all__ = [
    "__version__",
    "AudioOptions",
    "BatchResult",
    "Candidate",
    "Defect",
    "DetectResult",
    "Detection",
    "EpisodeFeatures",
    "Evidence",
    "Failure",
    "FeatureOptions",
    "IntroLibrary",
    "IntroModel",
    "IntrodetectError",
    "Kind",
    "Label",
    "LabelSet",
    "MatchingOptions",
    "MediaError",
    "Method",
    "ModelAnswer",
    "Part",
    "LogProgress",
    "RichProgress",
    "Segment",
    "WindowOptions",
    "build_library",
    "build_windows",
    "compute_features",
    "decode_audio",
    "detect",
    "episode_windows",
    "extract_audio",
    "extract_many",
    "features_many",
    "find_media",
    "format_timecode",
    "load_features",
    "parse_episode_name",
    "parse_timecode",
    "probe",
    "read_labels",
    "read_result",
    "recommend_window",
    "result_json",
    "save_features",
    "window_grid",
    "write_result",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'introdetect' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # what the names are, for type checkers and editors
    from .batch import BatchResult, extract_many, features_many
    from .detectors import Candidate
    from .errors import IntrodetectError, MediaError
    from .features.compute import compute_features
    from .features.episode import EpisodeFeatures
    from .features.store import load_features, save_features
    from .known.build import build_library
    from .known.library import IntroLibrary
    from .labels import Defect, Label, LabelSet, parse_episode_name, read_labels, recommend_window
    from .media import decode_audio, extract_audio, find_media, probe
    from .model.infer import IntroModel, ModelAnswer
    from .pipeline import detect
    from .result import Detection, DetectResult, Evidence, Failure, Kind, Method, Part, read_result, result_json, write_result
    from .runner import LogProgress, RichProgress
    from .settings import AudioOptions, FeatureOptions, MatchingOptions, WindowOptions
    from .timecode import Segment, format_timecode, parse_timecode
    from .windows import build_windows, episode_windows, window_grid
