"""introdetect: find where the opening intro of a TV episode starts and ends, from its audio.

The public API, re-exported explicitly::

    from introdetect import detect, Detection, IntroLibrary, read_labels, extract_many, features_many

    detections = detect(["S01E01.mkv", "S01E02.mkv", "S01E03.mkv"])  # -> list[Detection], fused
    detections = detect(["lone.mkv"], use="model")                     # the shipped model alone
    answer = IntroModel.load().predict(compute_features(samples), "S01E01")  # on features you computed
"""

__version__ = "0.1.0"

from .detect import Detection, detect, write_detections
from .features.compute import EpisodeFeatures, compute_features
from .features.store import load_features, save_features
from .labels import Defect, Label, LabelSet, parse_episode_name, read_labels, recommend_window
from .library import IntroLibrary, build_library
from .media import MediaError, decode_audio, extract_audio, probe
from .model.infer import IntroModel, ModelAnswer
from .runner import BatchResult, extract_many, features_many
from .settings import AudioOptions, FeatureOptions, WindowOptions
from .timecode import Segment, format_timecode, parse_timecode
from .windows import build_windows, episode_windows, window_grid

__all__ = [
    "AudioOptions",
    "BatchResult",
    "Defect",
    "Detection",
    "EpisodeFeatures",
    "FeatureOptions",
    "IntroLibrary",
    "IntroModel",
    "Label",
    "LabelSet",
    "MediaError",
    "ModelAnswer",
    "Segment",
    "WindowOptions",
    "__version__",
    "build_library",
    "build_windows",
    "compute_features",
    "decode_audio",
    "detect",
    "episode_windows",
    "extract_audio",
    "extract_many",
    "features_many",
    "format_timecode",
    "load_features",
    "parse_episode_name",
    "parse_timecode",
    "probe",
    "read_labels",
    "recommend_window",
    "save_features",
    "window_grid",
    "write_detections",
]
