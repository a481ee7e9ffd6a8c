"""The media's own timeline on a corpus split: every episode remuxed into Matroska beside a still video track,
once with its audio in step (delay 0) and once moved against the video (+2 s, +0.4 s, -0.4 s, +1 s in turn,
``-itsoffset``, codecs copied, as remuxes delay audio); each season detected in the three forms. The delayed
release's parts are compared with the in-step remux's plus the delay ffprobe reports (the timeline's handling),
and the in-step remux's with the original's (what a remux alone moves: encoder priming that the original
container skipped and Matroska plays, 20-25 ms). Written to docs/BENCHMARKS.md ("The media's own timeline").

    python bench/bench_timeline.py --corpus bench/out/corpus-parts --split test --docs
"""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
from common import corpus_parser, machine, write_docs_block

from introdetect import detect
from introdetect.result import Kind

DELAYS_S = (2.0, 0.4, -0.4, 1.0)
"""The audio delays given in turn (seconds against the video): a remux's usual ones, late and early."""

ON_TIMELINE_S = 0.1
"""The issue's bar: a part within ±0.1 s of the undelayed answer plus the delay."""


def _offset(path: Path) -> float:
    data = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
            capture_output=True,
            check=True,
        ).stdout
    )
    audio = next(s for s in data["streams"] if s["codec_type"] == "audio")
    return float(audio["start_time"]) - float(data["format"]["start_time"])


def _remux(source: Path, target: Path, delay_s: float, length_s: float) -> None:
    """``source``'s audio (copied) moved by ``delay_s`` against a still video track of its length, both copied
    into ``target`` (a video encoded in the same run, or one of 1 fps, which ffmpeg gives no start time, would be
    started where the audio starts, undoing the delay)."""
    video = target.with_suffix(".video.mkv")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"color=c=black:s=64x36:r=5:d={length_s + abs(delay_s):.3f}", "-c:v", "libx264", "-preset", "ultrafast",
         "-bf", "0", str(video)],
        check=True,
    )  # fmt: skip
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(video), "-itsoffset", f"{delay_s}", "-i", str(source),
         "-map", "0:v", "-map", "1:a:0", "-c", "copy", str(target)],
        check=True,
    )  # fmt: skip
    video.unlink()


def _compare(reference: dict, moved: dict, offsets: dict[str, float]) -> list[str]:
    """Rows per kind: how far each part of ``moved`` lies from ``reference``'s plus the offset."""
    errors: dict[str, list[float]] = {}
    lost: dict[str, int] = {}
    for vid, offset in offsets.items():
        for kind in Kind:
            was, now = reference[vid].part(kind), moved[vid].part(kind)
            a, b = (p.segment if p is not None else None for p in (was, now))
            if a is None and b is None:
                continue
            if a is None or b is None:
                lost[str(kind)] = lost.get(str(kind), 0) + 1
                continue
            errors.setdefault(str(kind), []).append(
                max(abs(b.start_s - a.start_s - offset), abs(b.end_s - a.end_s - offset))
            )
    rows = []
    for kind in Kind:
        e = np.array(errors.get(str(kind), []))
        if e.size or lost.get(str(kind)):
            within = f"{np.mean(e <= ON_TIMELINE_S):.3f}" if e.size else "–"
            median = f"{np.median(e):.3f}" if e.size else "–"
            worst = f"{e.max():.2f}" if e.size else "–"
            rows.append(f"| {kind} | {e.size} | {within} | {median} | {worst} | {lost.get(str(kind), 0)} |")
    return rows


HEADER = (
    "| kind | parts in both | within ±0.1 s | median error s | max error s | found in one only |\n"
    "|---|---|---|---|---|---|\n"
)


def main() -> None:
    parser = corpus_parser(__doc__.splitlines()[0], "timeline")
    args = parser.parse_args()
    manifest = json.loads((args.corpus / "corpus.json").read_text(encoding="utf-8"))
    episodes = [e for e in manifest["episodes"] if e["split"] == args.split]
    root = args.out / args.split
    shutil.rmtree(root, ignore_errors=True)
    jobs = []
    for n, e in enumerate(episodes):
        source = args.corpus / e["file"]
        for form, delay in (("in-step", 0.0), ("delayed", DELAYS_S[n % len(DELAYS_S)])):
            target = root / form / e["series"] / f"{source.stem}.mkv"
            target.parent.mkdir(parents=True, exist_ok=True)
            jobs.append((source, target, delay, float(e["duration_s"])))
    with ThreadPoolExecutor(args.workers) as pool:
        list(pool.map(lambda job: _remux(*job), jobs))
    offsets = {target.stem: _offset(target) for _, target, _, _ in jobs if "delayed" in target.parts}
    original = detect([args.corpus / args.split], workers=args.workers).by_id()
    in_step = detect([root / "in-step"], workers=args.workers).by_id()
    moved = detect([root / "delayed"], workers=args.workers).by_id()
    text = (
        f"`python bench/bench_timeline.py --corpus {args.corpus} --split {args.split} --docs`, {date.today()}, "
        f"{machine()}; corpus `{manifest['size']}` seed {manifest['seed']}, {len(episodes)} episodes; audio "
        f"delays {', '.join(f'{d:+g} s' for d in DELAYS_S)} in turn (ffprobe's offsets "
        f"{min(offsets.values()):+.3f} to {max(offsets.values()):+.3f} s).\n\n"
        "The delayed release against the in-step remux plus the delay (both boundaries of each part; a part found "
        "in one and not the other counted apart):\n\n"
        + HEADER
        + "\n".join(_compare(in_step, moved, offsets))
        + "\n\nThe in-step remux against the original files (no delay: what a remux alone moves):\n\n"
        + HEADER
        + "\n".join(_compare(original, in_step, dict.fromkeys(offsets, 0.0)))
        + "\n"
    )
    print(text)
    if args.docs:
        write_docs_block(f"timeline-{manifest['size']}-{args.split}", text, "The media's own timeline")


if __name__ == "__main__":
    main()
