"""Where the corpus's sounds come from: real recordings in Debian packages, by role, with their licences.

Roles: ``music`` (theme and score tracks), ``dialogue`` (lines grouped into scenes: a fillets-ng level, an
asterisk prompt folder), ``effect`` (short sounds), ``ambience`` (loopable beds), ``sting`` (short musical
hits for network logos and "previously on" stings). Only the development packages named in the corpus issue
are used; others are reserved for independent evaluation.
"""

from __future__ import annotations

import re
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import scipy.signal

from ..debsources import DEFAULT_CACHE, package_licence, package_root

MIX_RATE_HZ = 48_000
"""Rate the corpus is mixed at: the common rate of broadcast audio; the encoder converts for 44.1 kHz files."""

AUDIO_SUFFIXES = (".ogg", ".flac", ".wav")

# package → list of (role, glob below the package root, grouping): grouping names what makes a dialogue scene
PACKAGES: dict[str, list[tuple[str, str]]] = {
    "singularity-music": [("music", "usr/share/games/singularity/music/**/*.ogg")],
    "warzone2100-music": [("music", "usr/share/games/warzone2100/music/**/*.ogg")],
    "wesnoth-1.16-music": [("music", "usr/share/games/wesnoth/1.16/data/core/music/*.ogg")],
    "hedgewars-data": [
        ("music", "usr/share/games/hedgewars/Data/Music/*.ogg"),
        ("effect", "usr/share/games/hedgewars/Data/Sounds/*.ogg"),
    ],
    "fillets-ng-data": [("dialogue", "usr/share/games/fillets-ng/sound/*/en/*.ogg")],
    "fillets-ng-data-nl": [("dialogue", "usr/share/games/fillets-ng/sound/*/nl/*.ogg")],
    "asterisk-core-sounds-en-wav": [("dialogue", "usr/share/asterisk/sounds/en_US_f_Allison/**/*.wav")],
    "asterisk-core-sounds-es-wav": [("dialogue", "usr/share/asterisk/sounds/es_MX_f_Allison/**/*.wav")],
    "sonic-pi-samples": [
        ("ambience", "usr/share/sonic-pi/samples/ambi_*.flac"),
        ("effect", "usr/share/sonic-pi/samples/misc_*.flac"),
        ("effect", "usr/share/sonic-pi/samples/vinyl_*.flac"),
        ("sting", "usr/share/sonic-pi/samples/elec_*.flac"),
        ("sting", "usr/share/sonic-pi/samples/bass_*.flac"),
        ("sting", "usr/share/sonic-pi/samples/perc_*.flac"),
    ],
}

TINY_PACKAGES = ("singularity-music", "asterisk-core-sounds-en-wav", "sonic-pi-samples")
"""The tiny corpus (tests, demo) needs only these: 92 MB of downloads, all already used by the test suite."""

ALL_PACKAGES = tuple(PACKAGES)


@dataclass(frozen=True)
class SourceFile:
    package: str
    path: str  # below the package root
    role: str
    group: str  # dialogue: the scene group (level or prompt folder); others: the file's folder


@dataclass
class Catalog:
    """Source files by role, and each package's licence line."""

    roots: dict[str, Path]
    files: dict[str, list[SourceFile]] = field(default_factory=lambda: defaultdict(list))
    licences: dict[str, str] = field(default_factory=dict)

    def by_role(self, role: str) -> list[SourceFile]:
        return self.files.get(role, [])

    def groups(self, role: str = "dialogue") -> dict[str, list[SourceFile]]:
        grouped: dict[str, list[SourceFile]] = defaultdict(list)
        for source in self.by_role(role):
            grouped[source.group].append(source)
        return {name: sorted(files, key=lambda f: f.path) for name, files in sorted(grouped.items())}

    def absolute(self, source: SourceFile) -> Path:
        return self.roots[source.package] / source.path


def _group(package: str, relative: str) -> str:
    parts = relative.split("/")
    if package.startswith("fillets"):
        return f"fillets:{parts[-3]}:{parts[-2]}"  # level and language
    if package.startswith("asterisk"):
        return f"{package}:{'/'.join(parts[4:-1]) or 'main'}"
    return f"{package}:{'/'.join(parts[:-1])}"


def build_catalog(packages: tuple[str, ...], cache: Path = DEFAULT_CACHE) -> Catalog:
    """Fetch (once) and index the packages' sound files."""
    catalog = Catalog(roots={})
    for package in packages:
        root = package_root(package, cache)
        catalog.roots[package] = root
        catalog.licences[package] = package_licence(package, cache)
        for role, pattern in PACKAGES[package]:
            for path in sorted(root.glob(pattern)):
                if path.is_file() and path.suffix.lower() in AUDIO_SUFFIXES and "/silence/" not in str(path):
                    relative = str(path.relative_to(root))
                    catalog.files[role].append(SourceFile(package, relative, role, _group(package, relative)))
    return catalog


_SPEAKER = re.compile(r"-([a-z])-")


def speaker_of(source: SourceFile) -> str:
    """Who speaks a dialogue line: fillets names lines '<level>-<m|v|…>-<word>'; a prompt voice is one speaker."""
    match = _SPEAKER.search(Path(source.path).name)
    return match.group(1) if match else "narrator"


class SourceLibrary:
    """Decoded sources at the mix rate (mono float32), cached; durations read from file headers."""

    def __init__(self, catalog: Catalog, max_cached: int = 256) -> None:
        import soundfile  # noqa: F401 - fail early with the real import error

        self.catalog = catalog
        self._cache: OrderedDict[tuple[str, str, float, float], np.ndarray] = OrderedDict()
        self._durations: dict[tuple[str, str], float] = {}
        self._max = max_cached

    def duration(self, source: SourceFile) -> float:
        import soundfile

        key = (source.package, source.path)
        if key not in self._durations:
            info = soundfile.info(str(self.catalog.absolute(source)))
            self._durations[key] = info.frames / info.samplerate
        return self._durations[key]

    def raw(self, source: SourceFile, offset_s: float = 0.0, length_s: float | None = None) -> tuple[np.ndarray, int]:
        """Mono float32 of ``source`` at its own rate, from ``offset_s`` for ``length_s`` (None: to the end)."""
        import soundfile

        key = (source.package, source.path, round(offset_s, 4), -1.0 if length_s is None else round(length_s, 4))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        with soundfile.SoundFile(str(self.catalog.absolute(source))) as handle:
            rate = handle.samplerate
            handle.seek(min(int(offset_s * rate), handle.frames))
            frames = -1 if length_s is None else int(round(length_s * rate))
            data = handle.read(frames, dtype="float32", always_2d=True)
        entry = (data.mean(axis=1), rate)
        self._cache[key] = entry
        if len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return entry

    def audio(
        self, source: SourceFile, offset_s: float = 0.0, length_s: float | None = None, speed: float = 1.0
    ) -> np.ndarray:
        """Mono float32 at MIX_RATE_HZ of ``source`` from ``offset_s`` for ``length_s`` of the source, played
        ``speed`` times faster (and higher), with one resampling."""
        mono, rate = self.raw(source, offset_s, length_s)
        ratio = Fraction(MIX_RATE_HZ, rate) / Fraction(speed).limit_denominator(1000)
        ratio = ratio.limit_denominator(400)
        if ratio == 1:
            return mono
        return scipy.signal.resample_poly(mono, ratio.numerator, ratio.denominator).astype(np.float32)
