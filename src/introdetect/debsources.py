"""Real recordings from Debian packages: ``apt-get download`` + ``dpkg-deb -x`` into a cache folder.

Nothing is installed; the packages used are architecture-independent data. The tests' real-recording tier,
the benchmarks and (later) the corpus builder take their audio from here.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

def _default_cache() -> Path:
    """INTRODETECT_DEB_CACHE, else .cache/debs in a source checkout, else ~/.cache/introdetect/debs."""
    if os.environ.get("INTRODETECT_DEB_CACHE"):
        return Path(os.environ["INTRODETECT_DEB_CACHE"])
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").exists():
        return checkout / ".cache" / "debs"
    return Path.home() / ".cache" / "introdetect" / "debs"


DEFAULT_CACHE = _default_cache()


class PackageError(Exception):
    pass


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


def package_licence(name: str, cache: Path = DEFAULT_CACHE) -> str:
    """The package's copyright file (its licence terms), for recording beside derived data."""
    copyright_file = package_root(name, cache) / "usr" / "share" / "doc" / name / "copyright"
    return copyright_file.read_text(encoding="utf-8", errors="replace") if copyright_file.exists() else ""
