"""Where the corpus's sounds come from: real recordings in Debian packages, by role, with their licences.

Roles: ``music`` (theme and score tracks), ``dialogue`` (lines grouped into scenes: a fillets-ng level, an
asterisk prompt folder), ``effect`` (short sounds), ``ambience`` (loopable beds), ``sting`` (short musical
hits for network logos and "previously on" stings). Only the development packages named in the corpus issue
are used; others are reserved for independent evaluation.
"""

from __future__ import annotations

import re
import subprocess
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import scipy.signal

from ..debsources import DEFAULT_CACHE, package_licence, package_root

MIX_RATE_HZ = 48_000
"""Rate the corpus is mixed at: the common rate of broadcast audio; the encoder converts for 44.1 kHz files."""

AUDIO_SUFFIXES = (".ogg", ".flac", ".wav", ".mp3")
"""What the mixer reads directly (libsndfile 1.1+ reads MP3)."""

CONVERTED_SUFFIXES = (".it", ".s3m", ".xm", ".gsm")
"""What ffmpeg decodes for it (tracker modules through libopenmpt, telephone GSM prompts): converted once to
FLAC beside the package's files (``.converted/``), then read like the others."""

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
    # opened for diversity: other composers, tracker modules, other voices and languages, 8 kHz telephone prompts
    "hyperrogue-music": [
        ("music", "usr/share/hyperrogue/music/*.ogg"),
        ("effect", "usr/share/hyperrogue/sounds/*.ogg"),
    ],
    "asc-music": [("music", "usr/share/games/asc/music/*.mp3")],
    "pingus-data": [
        ("music", "usr/share/games/pingus/data/music/*.it"),
        ("music", "usr/share/games/pingus/data/music/*.s3m"),
        ("effect", "usr/share/games/pingus/data/sounds/*.wav"),
    ],
    "fb-music-high": [("music", "usr/share/games/frozen-bubble/snd/*.xm")],
    "asterisk-prompt-es-co": [("dialogue", "usr/share/asterisk/sounds/es/**/*.gsm")],
    "asterisk-prompt-fr-armelle": [("dialogue", "usr/share/asterisk/sounds/fr/**/*.gsm")],
    "asterisk-prompt-it-menardi-wav": [("dialogue", "usr/share/asterisk/sounds/it_IT_f_Menardi/**/*.wav")],
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

DIVERSITY_PACKAGES = (
    "hyperrogue-music",
    "asc-music",
    "pingus-data",
    "fb-music-high",
    "asterisk-prompt-es-co",
    "asterisk-prompt-fr-armelle",
    "asterisk-prompt-it-menardi-wav",
)
"""Opened later for diversity (DEVELOPERS.md): in the ``parts`` corpus; the ``small``/``full`` corpora keep the
first nine (FIRST_PACKAGES) until they are rebuilt, so that their media on disk and their truth stay one."""

FIRST_PACKAGES = tuple(p for p in PACKAGES if p not in DIVERSITY_PACKAGES)

HELDOUT_SPLIT_PACKAGES: dict[str, tuple[str, ...]] = {
    "train": (*FIRST_PACKAGES,),
    "validation": (
        "pingus-data",
        "fb-music-high",
        "asterisk-prompt-fr-armelle",
        "asterisk-prompt-es-co",
        "sonic-pi-samples",
    ),
    "test": ("hyperrogue-music", "asc-music", "asterisk-prompt-it-menardi-wav", "sonic-pi-samples"),
}
"""The ``heldout`` corpus's splits by package (music, speech, effects): training on the nine first packages,
which every shipped model and fitted threshold saw; validation (where confidences are fitted) and test on
disjoint sets of the packages opened for diversity: tracker music and a French and a Colombian voice for
validation, other composers and an Italian voice for test. Every split also takes sonic-pi-samples, the only
package with stings and ambience beds (its few effects come with it)."""


def heldout_packages_played(manifest: dict[str, Any], split: str) -> set[str]:
    """The packages the held-out corpus keeps for its validation and test series (not its train split's) that a
    corpus split plays (``manifest``: a corpus.json; its episodes' events and its series' intros): a model or a
    fit that learns from such a split has heard what every held-out figure claims it never heard (the ``parts``
    size draws on every development package)."""
    kept = (set(HELDOUT_SPLIT_PACKAGES["validation"]) | set(HELDOUT_SPLIT_PACKAGES["test"])) - set(
        HELDOUT_SPLIT_PACKAGES["train"]
    )
    heard = {
        event["package"]
        for episode in manifest["episodes"]
        if episode["split"] == split
        for event in episode.get("events", [])
        if "package" in event
    }
    heard |= {s["intro"]["package"] for s in manifest["series"] if s["split"] == split and s.get("intro")}
    return heard & kept


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
    unreadable: list[str] = field(default_factory=list)  # files ffmpeg could not decode (left out, listed)

    def by_role(self, role: str) -> list[SourceFile]:
        return self.files.get(role, [])

    def groups(self, role: str = "dialogue") -> dict[str, list[SourceFile]]:
        grouped: dict[str, list[SourceFile]] = defaultdict(list)
        for source in self.by_role(role):
            grouped[source.group].append(source)
        return {name: sorted(files, key=lambda f: f.path) for name, files in sorted(grouped.items())}

    def only(self, packages: set[str]) -> Catalog:
        """The same catalog restricted to ``packages``' files (and roots)."""
        files: dict[str, list[SourceFile]] = defaultdict(list)
        for role, sources in self.files.items():
            files[role] = [f for f in sources if f.package in packages]
        roots = {name: root for name, root in self.roots.items() if name in packages}
        licences = {name: line for name, line in self.licences.items() if name in packages}
        return Catalog(roots, files, licences, [u for u in self.unreadable if u.split(":")[0] in packages])

    def absolute(self, source: SourceFile) -> Path:
        return self.roots[source.package] / source.path


def _group(package: str, relative: str) -> str:
    parts = relative.split("/")
    if package.startswith("fillets"):
        return f"fillets:{parts[-3]}:{parts[-2]}"  # level and language
    if package.startswith("asterisk"):
        return f"{package}:{'/'.join(parts[4:-1]) or 'main'}"
    return f"{package}:{'/'.join(parts[:-1])}"


CONVERTED = ".converted"


def _converted(root: Path, path: Path) -> Path | None:
    """``path`` (a format the mixer cannot read) as FLAC under ``root/.converted``, converted by ffmpeg once
    (temporary file, then rename); None when ffmpeg cannot decode it (the catalog lists it as unreadable)."""
    from introdetect.atomic import atomic_path
    from introdetect.media import FFMPEG

    target = root / CONVERTED / (str(path.relative_to(root)) + ".flac")
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    command = [FFMPEG, "-nostdin", "-loglevel", "error", "-i", str(path), "-ac", "2", "-c:a", "flac", "-y"]
    try:
        with atomic_path(target, suffix=".flac", durable=False) as tmp:
            subprocess.run([*command, str(tmp)], check=True, stdin=subprocess.DEVNULL, capture_output=True)
    except subprocess.CalledProcessError:
        return None
    return target


def build_catalog(packages: tuple[str, ...], cache: Path = DEFAULT_CACHE) -> Catalog:
    """Fetch (once) and index the packages' sound files (converting those the mixer cannot read)."""
    catalog = Catalog(roots={})
    for package in packages:
        root = package_root(package, cache)
        catalog.roots[package] = root
        catalog.licences[package] = package_licence(package, cache)
        for role, pattern in PACKAGES[package]:
            for path in sorted(root.glob(pattern)):
                suffix = path.suffix.lower()
                if not path.is_file() or "/silence/" in str(path):
                    continue
                if suffix not in AUDIO_SUFFIXES + CONVERTED_SUFFIXES:
                    continue
                original = str(path.relative_to(root))
                readable = _converted(root, path) if suffix in CONVERTED_SUFFIXES else path
                if readable is None:
                    catalog.unreadable.append(f"{package}: {original}")
                    continue
                relative = str(readable.relative_to(root))
                catalog.files[role].append(SourceFile(package, relative, role, _group(package, original)))
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
