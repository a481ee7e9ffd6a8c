"""Which fingerprint finds short stings better: our landmarks or Chromaprint (through libchromaprint)?

    .venv/bin/python bench/compare_fingerprints.py --corpus bench/out/corpus-full [--splits validation test] [--write-docs]

For every ordered pair of episodes of one series that both have the intro, each scheme lists the stretches
the two share; the pair counts as found when one of them overlaps the intro in the first episode
(IoU >= 0.3) and maps its start to within 0.5 s of the intro's start in the second. Both schemes get the
same decoded audio (22.05 kHz mono, 480 s). Landmarks are matched by our index and offset voting, at the
three speeds; Chromaprint points as Jellyfin's Intro Skipper matches them (shifts from equal points ±2,
points within 6 differing bits count, gaps up to 3.5 s), with its 15 s minimum lowered to 1 s so that
stings can be found at all. Results by intro length and by whether the two episodes differ in speed (PAL).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

from common import machine, write_docs_block  # noqa: E402

from introdetect.analysis import analyse_samples  # noqa: E402
from introdetect.matching.chromaprint import SECONDS_PER_POINT, chromaprint_points  # noqa: E402
from introdetect.matching.index import InvertedIndex  # noqa: E402
from introdetect.matching.landmarks import landmark_hashes  # noqa: E402
from introdetect.matching.recurring import query_segments  # noqa: E402
from introdetect.media import decode_audio  # noqa: E402
from introdetect.timecode import Segment  # noqa: E402

SR = 22_050


def _analyse(path: str) -> tuple[object, np.ndarray, float, float]:
    y = decode_audio(path)
    t0 = time.perf_counter()
    p = analyse_samples(y, SR, Path(path).stem)
    t1 = time.perf_counter()
    points = chromaprint_points(y, SR)
    t2 = time.perf_counter()
    return p, points, t1 - t0, t2 - t1


def chromaprint_segments(
    a: np.ndarray, b: np.ndarray, max_bits: int = 6, spread: int = 2, max_gap_s: float = 3.5, min_s: float = 1.0
) -> list[tuple[float, float, float]]:
    """Every run shared by two point sequences: (start in a, end in a, offset b − a), seconds."""
    index: dict[int, list[int]] = defaultdict(list)
    for j, v in enumerate(b.tolist()):
        index[v].append(j)
    shifts: set[int] = set()
    for i, v in enumerate(a.tolist()):
        for d in range(-spread, spread + 1):
            for j in index.get((v + d) & 0xFFFFFFFF, ()):
                shifts.add(j - i)
    runs = []
    for shift in shifts:
        left, right = (0, shift) if shift >= 0 else (-shift, 0)
        n = min(a.size - left, b.size - right)
        if n <= 0:
            continue
        similar = np.flatnonzero(np.bitwise_count(a[left : left + n] ^ b[right : right + n]) <= max_bits) + left
        if similar.size < 2:
            continue
        times = similar * SECONDS_PER_POINT
        breaks = np.flatnonzero(np.diff(times) > max_gap_s)
        for run in np.split(times, breaks + 1):
            if run[-1] - run[0] >= min_s:
                runs.append((float(run[0]), float(run[-1]), shift * SECONDS_PER_POINT))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO / "bench" / "out" / "corpus-full")
    parser.add_argument("--splits", nargs="+", default=["validation", "test"])
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    manifest = json.loads((args.corpus / "corpus.json").read_text(encoding="utf-8"))
    episodes = [e for e in manifest["episodes"] if e["split"] in args.splits]
    with ProcessPoolExecutor(2) as pool:
        analysed = list(pool.map(_analyse, [str(args.corpus / e["file"]) for e in episodes]))
    by_series: dict[str, list[int]] = defaultdict(list)
    for k, e in enumerate(episodes):
        by_series[e["series"]].append(k)
    found = defaultdict(lambda: [0, 0, 0])  # (scheme, bucket) -> [found, pairs, segments]
    match_s = defaultdict(float)
    for ks in by_series.values():
        prints = [analysed[k][0] for k in ks]
        rate = prints[0].profile.frame_rate
        t0 = time.perf_counter()
        segments = query_segments(InvertedIndex([landmark_hashes(p.landmarks.peaks) for p in prints]), prints, rate)
        match_s["landmarks"] += time.perf_counter() - t0
        for ia, ka in enumerate(ks):
            for ib, kb in enumerate(ks):
                ea, eb = episodes[ka], episodes[kb]
                if ia == ib or ea["truth"] is None or eb["truth"] is None:
                    continue
                ta, tb = Segment(*ea["truth"]), Segment(*eb["truth"])
                length = ta.duration_s
                bucket = "≤ 5 s" if length <= 5 else "5–15 s" if length <= 15 else "> 15 s"
                pal = "PAL pair" if ea["variations"]["pal_speedup"] != eb["variations"]["pal_speedup"] else "same speed"
                ours = [s for s in segments[ia] if s.other == ib]
                hit_ours = any(
                    Segment(s.start / rate, max(s.end, s.start + 1) / rate).iou(ta) >= 0.3
                    and abs(s.other_frame(ta.start_s * rate) / rate - tb.start_s) <= 0.5
                    for s in ours
                )
                t0 = time.perf_counter()
                theirs = chromaprint_segments(analysed[ka][1], analysed[kb][1])
                match_s["chromaprint"] += time.perf_counter() - t0
                hit_theirs = any(
                    Segment(s, max(e, s + 0.1)).iou(ta) >= 0.3 and abs(ta.start_s + off - tb.start_s) <= 0.5
                    for s, e, off in theirs
                )
                for scheme, hit, n in (("landmarks", hit_ours, len(ours)), ("chromaprint", hit_theirs, len(theirs))):
                    for key in (bucket, pal, "all"):
                        cell = found[(scheme, key)]
                        cell[0] += hit
                        cell[1] += 1
                        cell[2] += n
    fp_s = {"landmarks": sum(a[2] for a in analysed), "chromaprint": sum(a[3] for a in analysed)}
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    keys = ["≤ 5 s", "5–15 s", "> 15 s", "same speed", "PAL pair", "all"]
    lines = [
        f"Run {date} on {machine()}; command: `.venv/bin/python bench/compare_fingerprints.py --corpus {args.corpus} "
        f"--splits {' '.join(args.splits)}`; {len(episodes)} episodes, ordered pairs of one series that both have the intro.",
        "",
        "| pairs | landmarks found | Chromaprint found | pairs | landmarks segments / pair | Chromaprint segments / pair |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key in keys:
        lm, cp = found[("landmarks", key)], found[("chromaprint", key)]
        if lm[1]:
            lines.append(
                f"| {key} | {lm[0] / lm[1]:.2f} | {cp[0] / cp[1]:.2f} | {lm[1]} | {lm[2] / lm[1]:.1f} | {cp[2] / cp[1]:.1f} |"
            )
    n = len(episodes)
    lines += [
        "",
        f"Cost per episode (from decoded audio): landmarks {fp_s['landmarks'] / n * 1000:.0f} ms to fingerprint "
        f"(with the frame profile, one FFT), Chromaprint {fp_s['chromaprint'] / n * 1000:.0f} ms; matching all pairs "
        f"of all series: landmarks {match_s['landmarks']:.1f} s (index + votes), Chromaprint {match_s['chromaprint']:.1f} s "
        "(pairwise, as Intro Skipper).",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        write_docs_block(
            "compare_fingerprints", text, "Landmarks or Chromaprint for short stings (bench/compare_fingerprints.py)"
        )


if __name__ == "__main__":
    main()
