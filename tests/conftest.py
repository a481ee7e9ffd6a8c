"""Shared fixtures: media made with ffmpeg at test time (known answers) and real recordings from Debian.

Real recordings come from Debian packages fetched with ``apt-get download`` into ``.cache/debs`` once and
unpacked with ``dpkg-deb -x``; nothing is installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from introdetect_eval.debsources import package_root
from introdetect_eval.samples import SampleEpisode, make_sample_episode

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "debs"
# the real VK label files: shared/ beside the checkout (as on developers' machines and in CI), else the copy
# the package ships for its demo (test_labels checks that the two are the same files)
SHARED_LABELS_ORIGINAL = REPO.parent / "shared" / "data" / "vk_labels"
PACKAGED_LABELS = REPO / "src" / "introdetect" / "data" / "vk_labels"
SHARED_LABELS = SHARED_LABELS_ORIGINAL if SHARED_LABELS_ORIGINAL.is_dir() else PACKAGED_LABELS


def pytest_configure(config: pytest.Config) -> None:
    """Caches the commands keep by default (analyses under $XDG_CACHE_HOME) go to a folder of this run, not
    the user's home: every run starts cold, and nothing is left behind in ~/.cache."""
    import os
    import tempfile

    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="introdetect-tests-cache-")


def pytest_unconfigure(config: pytest.Config) -> None:
    import os

    folder = os.environ.get("XDG_CACHE_HOME", "")
    if "introdetect-tests-cache-" in folder:
        shutil.rmtree(folder, ignore_errors=True)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def mux_chapters(media: Path, ffmetadata: Path, out: Path) -> Path:
    """``media`` with the chapters of an FFMETADATA file, every stream copied (as a user would mux an export)."""
    ffmpeg(
        "-i",
        str(media),
        "-i",
        str(ffmetadata),
        "-map",
        "0",
        "-map_metadata",
        "1",
        "-map_chapters",
        "1",
        "-codec",
        "copy",
        str(out),
    )
    return out


def debian_package(name: str) -> Path:
    """Unpacked contents of a Debian package (architecture-independent data), cached across runs."""
    return package_root(name, CACHE)


@pytest.fixture(scope="session")
def sample_episode(tmp_path_factory: pytest.TempPathFactory) -> SampleEpisode:
    """72 s H.264/AAC mp4: 20 s pink-noise cold open, 12 s arpeggio jingle (the intro, 20–32 s), 40 s noise."""
    return make_sample_episode(tmp_path_factory.mktemp("sample") / "Сериал S01E01.mp4")


@pytest.fixture(scope="session")
def music_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """First 60 s of "Awakening" from Debian's singularity-music (orchestral game score, Ogg Vorbis)."""
    root = debian_package("singularity-music")
    src = root / "usr/share/games/singularity/music/Awakening.ogg"
    out = tmp_path_factory.mktemp("real") / "awakening.ogg"
    shutil.copy(src, out)
    return out


@pytest.fixture(scope="session")
def speech_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Several recorded English prompts from Debian's asterisk-core-sounds-en-wav, joined (8 kHz speech)."""
    root = debian_package("asterisk-core-sounds-en-wav")
    folder = root / "usr/share/asterisk/sounds/en_US_f_Allison"
    parts = [folder / f"{name}.wav" for name in ("agent-loginok", "conf-onlyperson", "vm-intro", "queue-thankyou")]
    out = tmp_path_factory.mktemp("real") / "prompts.wav"
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{p}'\n" for p in parts))
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-ar", "22050", str(out))
    return out


@pytest.fixture(scope="session")
def bad_media(tmp_path_factory: pytest.TempPathFactory, sample_episode: SampleEpisode) -> dict[str, Path]:
    """Broken and awkward inputs, each with a known expected failure (or success)."""
    folder = tmp_path_factory.mktemp("bad media")
    files: dict[str, Path] = {}
    files["zero"] = folder / "zero.mp4"
    files["zero"].write_bytes(b"")
    files["text"] = folder / "notes.mp4"
    files["text"].write_text("this is not a video\n" * 50)
    files["no_audio"] = folder / "silent film.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x90:rate=10:duration=3",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        str(files["no_audio"]),
    )
    data = sample_episode.path.read_bytes()
    files["truncated_no_index"] = folder / "cut.mp4"  # moov atom at the end, so the cut loses the index
    files["truncated_no_index"].write_bytes(data[: len(data) // 2])
    faststart = folder / "faststart.mp4"
    ffmpeg("-i", str(sample_episode.path), "-c", "copy", "-movflags", "+faststart", str(faststart))
    fs = faststart.read_bytes()
    files["truncated_data"] = folder / "cut faststart.mp4"  # index intact, second half of the data missing
    files["truncated_data"].write_bytes(fs[: len(fs) // 2])
    files["missing"] = folder / "does-not-exist.mp4"
    return files


@pytest.fixture(scope="session")
def tiny_corpus_build(tmp_path_factory: pytest.TempPathFactory):
    """The tiny corpus (seed 0), built once per run from real recordings: 5 series of 3–4 episodes of
    100–150 s (stings of 3.6–5 s, a 25 s theme; PAL speed-up, speech and effects over intros, no-intro
    episodes, five codecs); truth in truth_<split>.json."""
    from introdetect_eval.corpus import build_corpus

    folder = tmp_path_factory.mktemp("corpus")
    result = build_corpus(folder, "tiny", seed=0, cache=CACHE)
    assert not result.failed, result.failed
    return folder, result


@pytest.fixture(scope="session")
def tiny_corpus(tiny_corpus_build) -> Path:
    """The tiny corpus's folder (see tiny_corpus_build)."""
    return tiny_corpus_build[0]


@pytest.fixture(scope="session")
def clean_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny corpus (seed 0) with every variation and the codec mix switched off: H.264/AAC MP4 episodes whose
    intros are exact copies, answered to the frame; for tests of what must not change an answer (the media's
    own timeline, copies of an episode)."""
    from introdetect_eval.corpus import build_corpus
    from introdetect_eval.corpus.plan import SWITCHES

    folder = tmp_path_factory.mktemp("clean")
    result = build_corpus(folder, "tiny", seed=0, cache=CACHE, without=set(SWITCHES))
    assert not result.failed, result.failed
    return folder


@pytest.fixture(scope="session")
def tinyparts_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two short structured seasons (seed 0) from real recordings: 2 series of 4 episodes of 150–200 s with a
    network ident (one series), recaps replaying earlier episodes' scenes, previews of the next episode,
    post-credits scenes, dialogue over the credits; truth of every part in truth_test.json."""
    from introdetect_eval.corpus import build_corpus

    folder = tmp_path_factory.mktemp("tinyparts")
    result = build_corpus(folder, "tinyparts", seed=0, cache=CACHE)
    assert not result.failed, result.failed
    return folder


@pytest.fixture
def noise() -> np.ndarray:
    return np.random.default_rng(0).standard_normal(22050 * 3).astype(np.float32) * 0.1
