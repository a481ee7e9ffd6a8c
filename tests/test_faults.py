"""Faults: a process killed (SIGKILL) at random points of extract + features, features alone and detect; the next
run finishes the work, and no output is corrupt or half-written (a bounded, seeded loop). A full disk while
writing: a clear error per file, earlier outputs intact (a small tmpfs in a private mount namespace)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from introdetect.cache import AnalysisCache
from introdetect.features.store import load_features

KILLS = int(os.environ.get("INTRODETECT_FAULT_KILLS", "4"))
"""Kills per command: each at a random moment of a run (seeded); enough to land in decoding, in writing and in
the manifest's updates, within CI's time. docs/RELIABILITY.md's figures come from a run with more
(INTRODETECT_FAULT_KILLS=25 pytest -s tests/test_faults.py)."""


def _report(what: str, kills: int, checks: int) -> None:
    print(f"\nfaults: {what}: {kills} kills, {checks} outputs checked after them, 0 corrupt; the next run completed")


INTRODETECT = [sys.executable, "-m", "introdetect"]


def _run(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*INTRODETECT, *args], capture_output=True, text=True, timeout=600, check=False, **kw)


def _kill_once(args: list[str], rng: random.Random, full_s: float) -> bool:
    """Start ``args`` and SIGKILL it after a random part of a full run's time (False: it had finished)."""
    child = subprocess.Popen([*INTRODETECT, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0.1, full_s))
    killed = child.poll() is None
    if killed:
        child.send_signal(signal.SIGKILL)
    child.wait()
    return killed


def _outputs(folder: Path, pattern: str) -> list[str]:
    """Outputs under their own names (a killed writer's hidden temporary files are not outputs)."""
    return sorted(p.name for p in folder.glob(pattern) if not p.name.startswith("."))


def _check_outputs(audio: Path, features: Path) -> int:
    """Every output that exists under its own name reads completely, and the manifests are valid JSON."""
    checked = 0
    for wav in (p for p in audio.glob("*.wav") if not p.name.startswith(".")):  # not a killed writer's temp file
        data, rate = soundfile.read(wav)
        assert rate > 0 and len(data) > 0, wav
        checked += 1
    for npz in (p for p in features.glob("*.npz") if not p.name.startswith(".")):
        load_features(npz)
        checked += 1
    for folder in (audio, features):
        if (folder / "mapping.json").exists():
            json.loads((folder / "mapping.json").read_text(encoding="utf-8"))
            checked += 1
    return checked


@pytest.fixture(scope="module")
def videos(tiny_corpus: Path) -> list[Path]:
    return sorted(p for p in (tiny_corpus / "test").rglob("*") if p.is_file())


def _killed_then_finished(args: list[str], rng: random.Random, full_s: float, check) -> tuple[int, int]:
    """KILLS random SIGKILLs of ``args``, ``check()`` (outputs whole; returns how many it read) after each, then
    a run to the end, checked too. Returns (kills that landed, outputs checked)."""
    kills = checked = 0
    for _ in range(KILLS):
        kills += _kill_once(args, rng, full_s)
        checked += check()
    done = _run(args)
    assert done.returncode == 0, done.stderr
    return kills, checked + check()


def test_extract_and_features_killed_at_random_then_finished(videos: list[Path], tmp_path: Path) -> None:
    rng = random.Random(11)
    clean = tmp_path / "clean"
    began = time.monotonic()
    done = _run(
        [
            "extract",
            *map(str, videos),
            "--out",
            str(clean / "audio"),
            "--features",
            str(clean / "features"),
            "--no-progress",
            "--workers",
            "2",
        ]
    )
    full_s = time.monotonic() - began
    assert done.returncode == 0, done.stderr
    work = tmp_path / "killed"
    args = [
        "extract",
        *map(str, videos),
        "--out",
        str(work / "audio"),
        "--features",
        str(work / "features"),
        "--no-progress",
        "--workers",
        "2",
    ]
    kills, checked = _killed_then_finished(args, rng, full_s, lambda: _check_outputs(work / "audio", work / "features"))
    assert kills >= KILLS // 2  # most kills land while it runs
    assert _outputs(work / "audio", "*.wav") == _outputs(clean / "audio", "*.wav")
    for npz in (clean / "features").glob("*.npz"):
        a, b = load_features(npz), load_features(work / "features" / npz.name)
        # the same up to float32 rounding: a resumed episode may be computed from its WAV, in other blocks (an
        # MFCC of a few units differs by up to 6e-5 between block sizes: float32 keeps ~7 digits of its FFT sums)
        assert np.allclose(a.matrix(), b.matrix(), rtol=1e-5, atol=1e-4), npz.name
    _report("extract + features", kills, checked)
    # features alone, from the WAVs, killed the same way
    wavs = sorted(map(str, (clean / "audio").glob("*.wav")))
    began = time.monotonic()
    assert _run(["features", *wavs, "--out", str(tmp_path / "f-clean"), "--no-progress"]).returncode == 0
    full_s = time.monotonic() - began
    args = ["features", *wavs, "--out", str(tmp_path / "f-killed"), "--no-progress"]
    kills, checked = _killed_then_finished(args, rng, full_s, lambda: _check_outputs(tmp_path, tmp_path / "f-killed"))
    assert _outputs(tmp_path / "f-killed", "*.npz") == _outputs(tmp_path / "f-clean", "*.npz")
    _report("features", kills, checked)


def test_detect_killed_at_random_then_finished(videos: list[Path], tmp_path: Path) -> None:
    rng = random.Random(5)
    clean = tmp_path / "clean.json"
    began = time.monotonic()
    done = _run(["detect", *map(str, videos), "--out", str(clean), "--no-progress", "--no-cache", "--workers", "2"])
    full_s = time.monotonic() - began
    assert done.returncode == 0, done.stderr
    out, cache = tmp_path / "result.json", tmp_path / "cache"
    out.write_text(json.dumps({"earlier": {"start": None, "end": None}}), encoding="utf-8")  # an earlier result
    args = ["detect", *map(str, videos), "--out", str(out), "--no-progress", "--cache", str(cache), "--workers", "2"]

    def check() -> int:
        result = json.loads(out.read_text(encoding="utf-8"))  # the earlier file or a whole new one, never half
        assert set(result) in ({"earlier"}, {v.stem for v in videos})
        store, entries = AnalysisCache(cache), list(cache.rglob("*.pkl"))
        for entry in entries:  # every entry under its own name reads back whole
            assert store._get(entry.parent.parent.name, entry.stem) is not None, entry
        return 1 + len(entries)

    kills, checked = _killed_then_finished(args, rng, full_s, check)
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(clean.read_text(encoding="utf-8"))
    _report("detect (result file and cache)", kills, checked)


def _can_mount(tmp_path: Path) -> bool:
    """Whether this machine lets us mount a tmpfs in a private mount namespace (root with CAP_SYS_ADMIN)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {probe}"], capture_output=True, check=False
    )
    return done.returncode == 0


def _limited(max_bytes: int):  # a preexec_fn
    """Run a child whose files cannot grow past ``max_bytes`` (RLIMIT_FSIZE): a write beyond fails with EFBIG,
    "File too large", as a full disk fails with ENOSPC. ffmpeg, its child, inherits the limit."""
    import resource

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the writer instead of failing the write
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return apply


def test_files_that_cannot_grow_are_clear_errors_and_earlier_outputs_stay(videos: list[Path], tmp_path: Path) -> None:
    """The same rule as a full disk, without privileges: a write the system refuses (here: past a file-size
    limit) fails that file with one line; earlier outputs and an earlier result file stay whole."""
    audio = tmp_path / "audio"
    first = _run(["extract", *map(str, videos[:2]), "--out", str(audio), "--window", "3", "--no-progress"])
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in audio.glob("*.wav")}
    limited = subprocess.run(
        [
            *INTRODETECT,
            "extract",
            *map(str, videos),
            "--out",
            str(audio),
            "--window",
            "3",
            "--no-progress",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        preexec_fn=_limited(100_000),
    )
    assert limited.returncode == 1, limited.stderr
    failures = [line for line in limited.stderr.splitlines() if "File too large" in line]
    assert len(failures) == len(videos) - 2, limited.stderr  # one line per file that could not be written
    assert all(line.strip().startswith(str(videos[0].parent.parent)) for line in failures), failures
    assert {p.name: p.read_bytes() for p in audio.glob("*.wav")} == before  # the earlier WAVs, whole
    json.loads((audio / "mapping.json").read_text(encoding="utf-8"))
    out = tmp_path / "result.json"
    earlier = {"earlier": {"start": "0:00:01", "end": "0:00:05"}}
    out.write_text(json.dumps(earlier), encoding="utf-8")
    detected = subprocess.run(
        [
            *INTRODETECT,
            "detect",
            *map(str, videos[:2]),
            "--out",
            str(out),
            "--no-progress",
            "--no-cache",
            "--window",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        preexec_fn=_limited(200),
    )
    assert detected.returncode == 1 and "cannot write the answers (File too large)" in detected.stderr, detected.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == earlier


def test_a_full_disk_is_a_clear_error_and_earlier_outputs_stay(videos: list[Path], tmp_path: Path) -> None:
    """A 600 kB tmpfs (in a private mount namespace: nothing outside sees it) holds two episodes' WAVs of the
    first 10 s, not all of them: the first are written, the rest fail with one line each; a result file that
    was there before a detect run whose new result no longer fits is left as it was."""
    if not _can_mount(tmp_path):
        pytest.skip(
            "this machine refuses a tmpfs mount in a private namespace (needs root with CAP_SYS_ADMIN); "
            "test_files_that_cannot_grow_are_clear_errors_and_earlier_outputs_stay covers the same rule"
        )
    disk = tmp_path / "disk"
    disk.mkdir()
    earlier = {"earlier": {"start": "0:00:01", "end": "0:00:05"}}
    script = f"""
set -e
mount -t tmpfs -o size=600k tmpfs {disk}
printf '%s' '{json.dumps(earlier)}' > {disk}/result.json
set +e
{sys.executable} -m introdetect extract {" ".join(map(str, videos))} --out {disk}/audio --window 3 --no-progress --workers 1
echo "extract-rc=$?"
ls {disk}/audio
head -c 400000 /dev/zero > {disk}/filler 2>/dev/null
{sys.executable} -m introdetect detect {" ".join(map(str, videos[:2]))} --out {disk}/result.json --no-progress --no-cache --window 30
echo "detect-rc=$?"
cat {disk}/result.json
"""
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=600, check=False
    )
    text = done.stdout + done.stderr
    assert "extract-rc=1" in text and "No space left on device" in text, text
    wavs = [line for line in done.stdout.splitlines() if line.endswith(".wav")]
    assert 1 <= len(wavs) < len(videos), text  # the first written whole, the rest failed, one line each
    assert sum("No space left on device" in line for line in done.stderr.splitlines()) >= len(videos) - len(wavs)
    assert "detect-rc=1" in text and "cannot write the answers" in text, text
    assert json.loads(done.stdout.splitlines()[-1]) == earlier  # the earlier result, whole


def test_temporary_files_of_killed_runs_are_swept_once_stale(tmp_path: Path) -> None:
    from introdetect.atomic import STALE_PART_S, sweep_parts

    old, fresh, output = tmp_path / ".a.wav.part-x1.wav", tmp_path / ".b.wav.part-x2.wav", tmp_path / "a.wav"
    for path in (old, fresh, output):
        path.write_bytes(b"x")
    os.utime(old, (time.time() - STALE_PART_S - 5,) * 2)
    assert sweep_parts(tmp_path) == 1
    assert not old.exists() and fresh.exists() and output.exists()  # a live writer's file and outputs stay
