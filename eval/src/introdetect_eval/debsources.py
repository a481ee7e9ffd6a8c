"""Real recordings from Debian packages: ``apt-get download`` + ``dpkg-deb -x`` into a cache folder.

Nothing is installed; the packages used are architecture-independent data. The tests' real-recording tier,
the benchmarks and (later) the corpus builder take their audio from here.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from introdetect.cache import cache_root
from introdetect.errors import InputError


def _default_cache() -> Path:
    """INTRODETECT_DEB_CACHE, else .cache/debs in a source checkout (eval/src/introdetect_eval/ three levels
    below it), else introdetect's cache root (``~/.cache/introdetect/debs``)."""
    if os.environ.get("INTRODETECT_DEB_CACHE"):
        return Path(os.environ["INTRODETECT_DEB_CACHE"])
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "pyproject.toml").exists() and (checkout / "eval" / "pyproject.toml").exists():
        return checkout / ".cache" / "debs"
    return cache_root() / "debs"


DEFAULT_CACHE = _default_cache()


class PackageError(InputError):
    """A Debian package cannot be downloaded or unpacked."""


def package_root(name: str, cache: Path = DEFAULT_CACHE) -> Path:
    """Folder holding the unpacked files of Debian package ``name``, downloading it on first use."""
    root = cache / name
    if (root / ".done").exists():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["apt-get", "download", name], cwd=cache, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise PackageError(f"apt-get download {name} failed: {last} (run 'apt-get update' first?)")
    debs = sorted(cache.glob(f"{name}_*.deb"))
    if not debs:
        raise PackageError(f"apt-get download {name} left no .deb in {cache}")
    subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(root)], check=True)
    for deb in debs:
        deb.unlink()
    (root / ".done").touch()
    return root


_LICENCE_WORDS = (
    ("creative commons", "Creative Commons"),
    ("gnu general public license", "GPL"),
    ("common-licenses/gpl-2", "GPL-2"),
    ("common-licenses/gpl-3", "GPL-3"),
    ("public domain", "public domain"),
)


def package_licence(name: str, cache: Path = DEFAULT_CACHE) -> str:
    """The licences stated in the package's copyright file: its DEP-5 'License:' names or, in a free-text
    file, the licences it names; the file itself is usr/share/doc/<package>/copyright in the package."""
    copyright_file = package_root(name, cache) / "usr" / "share" / "doc" / name / "copyright"
    if not copyright_file.exists():
        return "unknown (no copyright file)"
    text = copyright_file.read_text(encoding="utf-8", errors="replace")
    names: list[str] = []
    for line in text.splitlines():
        if line.startswith("License:"):
            licence = line.split(":", 1)[1].strip()
            if licence and licence not in names:
                names.append(licence)
    if not names:
        lowered = text.lower()
        names = [label for word, label in _LICENCE_WORDS if word in lowered]
        names = [n for n in names if not (n == "GPL" and any(m.startswith("GPL-") for m in names))]
        names = [f"{n} (from the copyright text)" for n in names]
    return ", ".join(names) or "see copyright file"
