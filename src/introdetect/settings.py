"""Every default of introdetect, with its unit and the reason for its value, validated in one place.

Options are frozen dataclasses: a stage receives the options it needs and cannot change them. The
``settings_hash`` of an options object is stored beside every output it produced, so that an output made
with other settings is recognised as stale and recomputed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import SettingsError

# --- audio ------------------------------------------------------------------------------------------------

SAMPLE_RATE_HZ = 22_050
"""Project-wide analysis rate. librosa's default, so hop 1024 gives the design's ~21.5 frames/s and every
feature definition can be checked against librosa unchanged; 11 kHz of bandwidth keeps the timbre of theme
music and speech, while halving decode and STFT cost compared with 44.1 kHz."""

DEFAULT_WINDOW_S = 480.0
"""Seconds of audio analysed from the start of each episode. The design used 300 s, but 9 of the 110 distinct
ids in the real VK labels have an intro that starts after 300 s (cold opens up to 12:48). 480 s is the
smallest whole minute that holds at least 95 % of the labelled intros (96.4 %: 106 of 110; for rows whose end
is not after their start, the start counts as the intro's position). ``labels.recommend_window`` computes it
and a test checks this constant against the real label files."""

WINDOW_COVERAGE = 0.95
"""Share of labelled intros that the default analysis window must hold (the rule behind DEFAULT_WINDOW_S)."""

# --- labels -----------------------------------------------------------------------------------------------

MIN_PLAUSIBLE_INTRO_S = 1.0
"""Shorter than this is not an intro but a labelling slip: the shortest real title sting seen is 2 s."""

MAX_PLAUSIBLE_INTRO_S = 180.0
"""Longer than this is implausible for an opening intro: theme songs run to about 90 s, a few to 2 minutes."""

LABEL_POLICIES = ("keep", "skip", "fail")
"""What happens to a label row with an error-level defect: keep it flagged, skip it (reported), or fail."""

# --- features ---------------------------------------------------------------------------------------------

N_FFT = 2048
"""STFT size in samples (93 ms at 22.05 kHz): librosa's default, fine enough in frequency for chroma."""

HOP_LENGTH = 1024
"""STFT hop in samples (46.4 ms, ~21.5 frames/s), as the design chose to halve storage against hop 512."""

N_MFCC = 20
"""MFCC coefficients per frame: librosa's default, and what the design's CNN input was sized for."""

N_MELS = 128
"""Mel bands behind the MFCC and the onset envelope: librosa's default."""

CONTRAST_BANDS = 6
"""Octave bands of spectral contrast above CONTRAST_FMIN_HZ (7 rows with the band below it)."""

CONTRAST_FMIN_HZ = 200.0
"""Lower edge of the first contrast octave: librosa's default; the top band then ends at 12.8 kHz > Nyquist."""

N_CHROMA = 12
"""Pitch classes per frame."""

TEMPO_AC_SIZE_S = 8.0
"""Length of the onset autocorrelation window for tempo, in seconds (librosa's default): two bars at 60 bpm."""

TEMPO_START_BPM = 120.0
"""Centre of the log-normal tempo prior (librosa's default)."""

BEAT_TIGHTNESS = 100.0
"""How strictly beats follow the estimated tempo in the beat tracker's dynamic program (librosa's default)."""

REPETITION_BLOCK_FRAMES = 10
"""Frames pooled into one block for the self-similarity matrix (0.46 s): a 480 s window gives a 1034² matrix,
cheap to compute, and still finer than the 2 s stings we look for."""

REPETITION_DIAGONAL_BLOCKS = 4
"""A match must hold along the diagonal for this many blocks (~1.9 s) to count as a repetition, not a chance
resemblance of two single frames."""

REPETITION_MIN_LAG_S = 5.0
"""Lags shorter than this are ignored in the self-similarity: sustained sounds resemble their own neighbours."""

# --- windows ----------------------------------------------------------------------------------------------

WINDOW_LENGTH_S = 10.0
"""Length of one classification window (the design's 10 s)."""

WINDOW_STEP_S = 5.0
"""Step between windows (the design's 5 s: 50 % overlap, so every instant is seen by two windows)."""


def digest(*parts: Any) -> str:
    """The one hash of introdetect (cache keys, settings hashes): SHA-256 of the parts as canonical JSON (one
    part: that value's JSON; several: the list of them)."""
    import hashlib  # here, not at the top: the command line reads this module's defaults at every start
    import json

    text = json.dumps(parts[0] if len(parts) == 1 else parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


SETTINGS_HASH_CHARS = 16
"""Hex digits of a settings hash kept beside outputs (64 bits: no collision among the settings of one folder)."""


def _payload_hash(fields: dict[str, Any]) -> str:
    return digest(fields)[:SETTINGS_HASH_CHARS]


def _frozen_hash(obj: object) -> str:
    return _payload_hash(asdict(obj))  # type: ignore[call-overload]


@dataclass(frozen=True)
class AudioOptions:
    """How audio is decoded: the window from the start, the stream, and the rate."""

    window_s: float = DEFAULT_WINDOW_S
    sample_rate: int = SAMPLE_RATE_HZ
    stream: int = 0
    """Index among the file's audio streams (0 = the first audio stream)."""
    language: str | None = None
    """Use the first audio stream tagged with this language (ISO 639: "rus" or "ru"), as dubbed releases
    need; it replaces ``stream``. A file with no stream of that language is an error naming the ones it has."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.window_s) and self.window_s > 0):
            raise SettingsError(f"window must be a positive number of seconds, got {self.window_s}")
        if not 4_000 <= self.sample_rate <= 96_000:
            raise SettingsError(f"sample rate must lie in 4000..96000 Hz, got {self.sample_rate}")
        if self.stream < 0:
            raise SettingsError(f"audio stream index must be >= 0, got {self.stream}")
        if self.language is not None and not (
            self.language.isascii() and self.language.isalpha() and 2 <= len(self.language) <= 3
        ):
            raise SettingsError(f"language must be an ISO 639 code of 2 or 3 letters (rus, ru), got {self.language!r}")

    @property
    def settings_hash(self) -> str:
        fields = asdict(self)
        if self.language is None:
            del fields["language"]  # outputs made before the option existed keep their hash
        return _payload_hash(fields)


@dataclass(frozen=True)
class FeatureOptions:
    """Frame-feature settings. Every field changes the stored features, so all of them enter the hash."""

    sample_rate: int = SAMPLE_RATE_HZ
    n_fft: int = N_FFT
    hop_length: int = HOP_LENGTH
    n_mfcc: int = N_MFCC
    n_mels: int = N_MELS
    contrast_bands: int = CONTRAST_BANDS
    contrast_fmin_hz: float = CONTRAST_FMIN_HZ
    n_chroma: int = N_CHROMA
    tempo_ac_size_s: float = TEMPO_AC_SIZE_S
    tempo_start_bpm: float = TEMPO_START_BPM
    beat_tightness: float = BEAT_TIGHTNESS
    repetition_block_frames: int = REPETITION_BLOCK_FRAMES
    repetition_diagonal_blocks: int = REPETITION_DIAGONAL_BLOCKS
    repetition_min_lag_s: float = REPETITION_MIN_LAG_S

    def __post_init__(self) -> None:
        if self.n_fft < 64 or self.n_fft & (self.n_fft - 1):
            raise SettingsError(f"n_fft must be a power of two >= 64, got {self.n_fft}")
        if not 1 <= self.hop_length <= self.n_fft:
            raise SettingsError(f"hop length must lie in 1..n_fft ({self.n_fft}), got {self.hop_length}")
        if not 1 <= self.n_mfcc <= self.n_mels:
            raise SettingsError(f"n_mfcc must lie in 1..n_mels ({self.n_mels}), got {self.n_mfcc}")
        top = self.contrast_fmin_hz * 2.0 ** (self.contrast_bands - 1)
        if self.contrast_fmin_hz <= 0 or top >= self.sample_rate / 2:
            raise SettingsError(
                f"spectral contrast bands reach {top:.0f} Hz, above Nyquist ({self.sample_rate / 2:.0f} Hz): "
                "lower contrast_fmin_hz or contrast_bands"
            )
        for name in ("repetition_block_frames", "repetition_diagonal_blocks"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be >= 1")

    @property
    def frame_rate(self) -> float:
        """Frames per second."""
        return self.sample_rate / self.hop_length

    @property
    def settings_hash(self) -> str:
        return _frozen_hash(self)


@dataclass(frozen=True)
class WindowOptions:
    """Classification windows over an episode's frames."""

    length_s: float = WINDOW_LENGTH_S
    step_s: float = WINDOW_STEP_S

    def __post_init__(self) -> None:
        if not (self.length_s > 0 and self.step_s > 0):
            raise SettingsError("window length and step must be positive seconds")
        if self.step_s > self.length_s:
            raise SettingsError(f"window step ({self.step_s} s) longer than the window ({self.length_s} s) leaves gaps")


def option_names(cls: type) -> list[str]:
    return [f.name for f in fields(cls)]


@dataclass(frozen=True)
class MatchingOptions:
    """How episodes are fingerprinted and matched."""

    @property
    def settings_hash(self) -> str:
        return _frozen_hash(self)
