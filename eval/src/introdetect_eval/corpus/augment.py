"""Acoustic variants of a corpus split for training: each episode's head heard as another release would give it.

Real releases of one episode differ in what the corpus's own variations do not cover: the codec and its bitrate
after a re-encode, the broadcaster's EQ and compression, a room's reflections, hiss or hum under everything,
the level, and PAL speed (±4 %). ``augment_split`` renders, for every episode of a split, ``variants`` files of
its first ``window_s`` through a chain of ffmpeg filters drawn at random (seeded by the episode id), and writes
them as a corpus folder of its own (``corpus.json``, ``truth_<split>.json`` with every time scaled by the
speed change, ``<split>/<series>/<id>~<n>.<ext>``) that training pairs with the originals by id
(``model.job.TrainingData.variants``: each epoch sees an episode through one of its versions).

The noise beds are real recordings (sonic-pi-samples: a vinyl's hiss, a buzz, a machine loop, a drone), of a
package every split of the held-out corpus shares, so a variant never plays a held-out package.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from introdetect.atomic import atomic_path, write_json_atomic
from introdetect.media import FFMPEG_QUIET
from introdetect.result import Failure
from introdetect.runner import ProgressHook, Tracker, check_workers, process_pool
from introdetect.timecode import format_timecode, parse_timecode

from ..debsources import DEFAULT_CACHE, package_root

VARIANT_MARK = "~"
"""Joins an episode id and its variant's number (``show01_s01e01~1``): training pairs a variant with its
episode by the part before it (``introdetect.model.job.VARIANT_MARK``, the same; not imported: it loads torch)."""

BED_PACKAGE = "sonic-pi-samples"
BEDS = ("vinyl_hiss.flac", "ambi_soft_buzz.flac", "loop_3d_printer.flac", "ambi_drone.flac", "ambi_sauna.flac")
"""Noise beds (sonic-pi-samples/usr/share/sonic-pi/samples): hiss, mains buzz, a machine, a drone, a room."""

SPEED_RANGE = (0.96, 1.04)
"""PAL speed-up and its reverse (25/24 = 1.042): pitch and tempo change together, every time scales."""
SPEED_SHARE = 0.35
EQ_SHARE = 0.5
EQ_GAIN_DB = 9.0
"""A broadcaster's or a transfer's tone: one peaking band of up to ±9 dB, or a telephone-like band limit."""
REVERB_SHARE = 0.35
COMPRESS_SHARE = 0.3
NOISE_SHARE = 0.4
NOISE_DB = (-38.0, -22.0)
"""The bed's level after normalisation to the episode's (dB below full scale): audible under quiet dialogue,
never masking it."""
LEVEL_DB = (-14.0, 4.0)
"""The whole file's level change (a limiter keeps peaks under full scale)."""
CODECS: tuple[tuple[str, str, str], ...] = (
    ("libmp3lame", "64k", "mp3"),
    ("libmp3lame", "96k", "mp3"),
    ("aac", "64k", "m4a"),
    ("libopus", "32k", "opus"),
    ("libopus", "48k", "opus"),
    ("ac3", "128k", "ac3"),
)
"""Low bitrates of the codecs releases use: the corpus's own encodes are at ordinary bitrates."""
RATE_HZ = 48_000


@dataclass(frozen=True)
class Chain:
    """One variant's treatment: the filters (ffmpeg ``-filter_complex`` steps on the episode's audio), the bed
    mixed under it (a file, or None) at ``noise_db``, the speed factor and the codec."""

    filters: tuple[str, ...]
    speed: float
    bed: str | None
    noise_db: float
    codec: tuple[str, str, str]

    def describe(self) -> str:
        bed = f", {Path(self.bed).stem} at {self.noise_db:.0f} dB" if self.bed else ""
        return f"{','.join(self.filters)}{bed}, {self.codec[0]} {self.codec[1]}"


def draw_chain(rng: np.random.Generator, beds: Sequence[str]) -> Chain:
    """A random treatment (pure: the same generator state gives the same chain)."""
    filters: list[str] = []
    speed = 1.0
    if rng.random() < SPEED_SHARE:
        rate = round(RATE_HZ * float(rng.uniform(*SPEED_RANGE)))  # whole hertz: the speed is what plays
        speed = rate / RATE_HZ
        filters.append(f"asetrate={rate},aresample={RATE_HZ}")
    if rng.random() < EQ_SHARE:
        if rng.random() < 0.25:
            filters.append(f"highpass=f={rng.uniform(150, 400):.0f},lowpass=f={rng.uniform(3200, 5000):.0f}")
        else:
            freq = float(np.exp(rng.uniform(np.log(80), np.log(9000))))
            filters.append(f"equalizer=f={freq:.0f}:t=o:w=1.5:g={rng.uniform(-EQ_GAIN_DB, EQ_GAIN_DB):.1f}")
    if rng.random() < REVERB_SHARE:
        delays = sorted(rng.uniform(15, 90, size=3))
        decays = sorted(rng.uniform(0.1, 0.4, size=3), reverse=True)
        filters.append(f"aecho=0.9:0.8:{'|'.join(f'{d:.0f}' for d in delays)}:{'|'.join(f'{d:.2f}' for d in decays)}")
    if rng.random() < COMPRESS_SHARE:
        filters.append(f"acompressor=threshold={rng.uniform(-30, -15):.0f}dB:ratio={rng.uniform(2, 6):.1f}")
    filters.append(f"volume={rng.uniform(*LEVEL_DB):.1f}dB")
    bed = str(beds[int(rng.integers(len(beds)))]) if beds and rng.random() < NOISE_SHARE else None
    codec = CODECS[int(rng.integers(len(CODECS)))]
    return Chain(tuple(filters), speed, bed, float(rng.uniform(*NOISE_DB)), codec)


def render_command(source: Path, out: Path, chain: Chain, window_s: float) -> list[str]:
    """ffmpeg arguments rendering the first ``window_s`` of ``source``'s first audio stream through ``chain``
    (the source read for ``window_s`` times the speed, so that the variant still fills the window)."""
    head = ["-t", f"{window_s * chain.speed + 1:.3f}", "-i", str(source)]
    steps = [f"aresample={RATE_HZ}", *chain.filters]
    if chain.bed is None:
        graph = f"[0:a:0]{','.join(steps)},alimiter=limit=0.95[out]"
        inputs = head
    else:
        inputs = [*head, "-stream_loop", "-1", "-i", chain.bed]
        graph = (
            f"[0:a:0]{','.join(steps)}[main];"
            f"[1:a:0]aresample={RATE_HZ},aformat=channel_layouts=mono,dynaudnorm,volume={chain.noise_db:.1f}dB[bed];"
            "[main][bed]amix=inputs=2:duration=first:normalize=0,alimiter=limit=0.95[out]"
        )
    encoder, bitrate, _ = chain.codec
    return [
        *FFMPEG_QUIET,
        "-y",
        *inputs,
        "-filter_complex",
        graph,
        "-map",
        "[out]",
        "-t",
        f"{window_s:.3f}",
        "-c:a",
        encoder,
        "-b:a",
        bitrate,
        "-ac",
        "2",  # a stereo downmix, as a re-encode of a 5.1 release gives (Opus and MP3 refuse some 5.1 layouts)
        str(out),
    ]


def _scaled(row: dict[str, Any], speed: float) -> dict[str, Any]:
    """A truth row with every time divided by ``speed`` (a faster release reaches each moment sooner)."""
    out = dict(row)
    for key, value in row.items():
        if value is None:
            continue
        if key.endswith("_sec") and key != "duration_sec":
            out[key] = round(float(value) / speed, 4)
        elif key in ("start", "end") or key.endswith(("_start", "_end")):
            out[key] = format_timecode(parse_timecode(value) / speed, 2)
    if row.get("duration_sec") is not None:
        out["duration_sec"] = round(float(row["duration_sec"]) / speed, 3)
    return out


def _render(source: str, out: str, chain: Chain, window_s: float) -> None:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=path.suffix, durable=False) as tmp:
        done = subprocess.run(
            render_command(Path(source), tmp, chain, window_s), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise RuntimeError(f"{source}: ffmpeg could not render a variant: {last}")


def augment_split(
    corpus: Path,
    split: str,
    out: Path,
    variants: int = 1,
    window_s: float = 480.0,
    seed: int = 0,
    workers: int | None = None,
    progress: ProgressHook | None = None,
    cache: Path = DEFAULT_CACHE,
) -> list[Failure]:
    """Render ``variants`` acoustic variants of every episode of ``corpus``'s ``split`` into ``out`` (module
    doc); episodes whose variant exists are skipped. Returns the episodes that failed (the others are written)."""
    workers = check_workers(workers)
    manifest = json.loads((corpus / "corpus.json").read_text())
    truth = json.loads((corpus / f"truth_{split}.json").read_text())
    beds = [str(package_root(BED_PACKAGE, cache) / "usr/share/sonic-pi/samples" / b) for b in BEDS]
    jobs: list[tuple[str, str, Chain]] = []
    rows: dict[str, Any] = {}
    chains: dict[str, tuple[str, str]] = {}
    for episode in manifest["episodes"]:
        if episode["split"] != split or episode["id"] not in truth:
            continue
        for n in range(1, variants + 1):
            name = f"{episode['id']}{VARIANT_MARK}{n}"
            rng = np.random.default_rng([seed, n, *episode["id"].encode()])
            chain = draw_chain(rng, beds)
            target = out / split / episode["series"] / f"{name}.{chain.codec[2]}"
            rows[name] = _scaled(truth[episode["id"]], chain.speed)
            chains[name] = (episode["series"], chain.describe())
            if not target.exists():
                jobs.append((str(corpus / episode["file"]), str(target), chain))
    failed: list[Failure] = []
    tracker = Tracker(progress, "variants", len(jobs))
    with process_pool(workers) as pool:
        futures = {pool.submit(_render, source, target, chain, window_s): target for source, target, chain in jobs}
        for future in as_completed(futures):
            try:
                future.result()
            except Exception as error:  # noqa: BLE001 - a batch goes on; reported at the end
                failed.append(Failure(Path(futures[future]).stem, str(error)))
            tracker.advance()
    bad = {f.id for f in failed}
    write_json_atomic(out / f"truth_{split}.json", {k: v for k, v in rows.items() if k not in bad})
    write_json_atomic(
        out / "corpus.json",
        {
            "size": f"{manifest['size']}-variants",
            "seed": manifest.get("seed"),
            "of": str(corpus),
            "variants": variants,
            "window_s": window_s,
            "episodes": [
                {"id": k, "split": split, "series": chains[k][0], "chain": chains[k][1]} for k in rows if k not in bad
            ],
            "series": [],
        },
    )
    return failed
