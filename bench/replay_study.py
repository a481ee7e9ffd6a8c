"""Recaps and previews from replayed scenes, the rules alone (``detectors/replay.py``): each season of corpus
splits replayed with the truth's ident, intro and credits as the layout (what the detectors before it find),
once with the heads (480 s) and tails (180 s) alone, once with the stories between them too (as the pipeline
decodes them where a season asks). Per kind: the parts within ±2 s of both ends, at IoU >= 0.5, wrong, missed,
false, and the answers holding over 5 s outside the truth's span. What the rules were chosen on (the held-out
corpus's validation and train splits, the parts corpus's train and validation) and what they are judged on
(the test splits) are printed apart.

Whole episodes are decoded once per split (fingerprints only; pickled under ``--out``).

    python bench/replay_study.py --split out/corpus-heldout/validation out/corpus-heldout-s1/validation \
        --test out/corpus-heldout/test out/corpus-heldout-s1/test out/corpus-parts/test
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

from introdetect.analysis import analyse_samples
from introdetect.detectors.base import Candidate
from introdetect.detectors.replay import replay_parts
from introdetect.matching.recurring import EpisodePrint
from introdetect.media import episode_id, find_media, stream_audio
from introdetect.result import Kind, Method
from introdetect.settings import AudioOptions
from introdetect.timecode import Segment

HEAD_S, TAIL_S = 480.0, 180.0  # the default windows (settings.DEFAULT_WINDOW_S, DEFAULT_TAIL_S)


def whole_prints(split: Path, out: Path) -> dict[str, EpisodePrint]:
    """Every episode of ``split`` decoded whole (cached in ``out``)."""
    cache = out / f"prints-{split.parent.name}-{split.name}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    options = AudioOptions(window_s=1e6)
    prints = {}
    for path in find_media([split]):
        samples = np.concatenate(list(stream_audio(path, options, timeline=False)))
        prints[episode_id(path)] = analyse_samples(samples, options.sample_rate, episode_id(path))
        print(f"  decoded {path.name}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(prints))
    return prints


def as_analysed(p: EpisodePrint, stories: bool) -> EpisodePrint:
    """The print as the pipeline holds it: head, tail, and with ``stories`` what lies between."""
    if p.end_s <= HEAD_S + TAIL_S:
        return replace(p, tail=replace(p.after(p.end_s - min(TAIL_S, p.end_s / 3)), reached_end=True))
    head = p.between(0.0, HEAD_S)
    tail = replace(p.after(p.end_s - TAIL_S), reached_end=True)
    story = p.between(HEAD_S, tail.start_s) if stories else None
    return replace(head, tail=tail, story=story)


def layout(row: dict) -> list[Candidate]:
    """The truth's ident, intro and credits as the candidates the detectors before the replays give."""

    def seconds(key: str) -> float | None:
        value = row.get(key)
        return value if value is None or isinstance(value, float | int) else _s(value)

    out = []
    for kind, start, end in (
        (Kind.INTRO, "start_sec", "end_sec"),
        (Kind.CREDITS, "credits_start", "credits_end"),
        (Kind.IDENT, "ident_start", "ident_end"),
    ):
        if seconds(start) is not None:
            out.append(Candidate(kind, Segment(seconds(start), seconds(end)), 0.9, Method.RECURRING))
    return out


def score(splits: list[Path], out: Path, stories: bool) -> dict[str, Counter]:
    tally: dict[str, Counter] = {"recap": Counter(), "preview": Counter()}
    for split in splits:
        truth = json.loads((split.parent / f"truth_{split.name}.json").read_text(encoding="utf-8"))
        prints = whole_prints(split, out)
        seasons: dict[str, list[str]] = defaultdict(list)
        for vid in sorted(prints):
            seasons[vid.rsplit("_", 1)[0]].append(vid)
        for ids in seasons.values():
            given = [as_analysed(prints[v], stories) for v in ids]
            found = replay_parts(given, [layout(truth[v]) for v in ids])
            for vid, (recap, preview, _, _) in zip(ids, found, strict=True):
                for kind, answer in (("recap", recap), ("preview", preview)):
                    start, end = truth[vid].get(f"{kind}_start"), truth[vid].get(f"{kind}_end")
                    real = None if start is None else Segment(_s(start), _s(end))
                    _tally(tally[kind], real, answer)
    return tally


def _s(value: str) -> float:
    """H:MM:SS.ss as seconds."""
    h, m, s = value.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def _tally(t: Counter, real: Segment | None, answer: Segment | None) -> None:
    if real is None:
        t["false"] += answer is not None
        return
    t["parts"] += 1
    if answer is None:
        t["missed"] += 1
        return
    inter = max(0.0, min(answer.end_s, real.end_s) - max(answer.start_s, real.start_s))
    union = max(answer.end_s, real.end_s) - min(answer.start_s, real.start_s)
    t["iou>=0.5"] += inter / union >= 0.5
    t["over 5 s outside"] += (answer.end_s - answer.start_s) - inter > 5.0
    right = abs(answer.start_s - real.start_s) <= 2.0 and abs(answer.end_s - real.end_s) <= 2.0
    t["±2s" if right else "wrong"] += 1


def scale(splits: list[Path], out: Path) -> None:
    """How the replays' matching (heads and tails queried against every head, story and tail) grows with the
    season: the first N episodes of ``splits`` as one season (its series mixed: the cost, not the answers)."""
    prints = [p for split in splits for _, p in sorted(whole_prints(split, out).items())]
    print("| episodes | s per episode |\n|---|---|")
    for n in (6, 12, 24, 48):
        if n > len(prints):
            break
        given = [as_analysed(p, True) for p in prints[:n]]
        start = time.perf_counter()
        replay_parts(given)
        print(f"| {n} | {(time.perf_counter() - start) / n:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", nargs="+", type=Path, default=[], help="splits the rules were chosen on")
    parser.add_argument("--test", nargs="+", type=Path, default=[], help="splits they are judged on")
    parser.add_argument("--out", type=Path, default=Path("out/replay-study"))
    parser.add_argument(
        "--scale", action="store_true", help="instead: seconds of the replays' matching per episode, 6 to 48 episodes"
    )
    args = parser.parse_args()
    if args.scale:
        scale([*args.split, *args.test], args.out)
        return
    columns = ("parts", "±2s", "iou>=0.5", "wrong", "missed", "false", "over 5 s outside")
    print("| splits | windows | kind | " + " | ".join(columns) + " |")
    print("|---|---|---|" + "---|" * len(columns))
    for name, splits in (("chosen on", args.split), ("test", args.test)):
        if not splits:
            continue
        for stories in (False, True):
            tally = score(splits, args.out, stories)
            for kind, t in tally.items():
                windows = "heads, stories, tails" if stories else "heads and tails"
                print(f"| {name} | {windows} | {kind} | " + " | ".join(str(t[c]) for c in columns) + " |")


if __name__ == "__main__":
    main()
