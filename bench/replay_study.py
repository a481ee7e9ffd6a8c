"""Recaps and previews from replayed scenes, the rules alone (``detectors/replay.py``): each season of corpus
splits replayed with the truth's ident, intro and credits as the layout (what the detectors before it find),
once with the heads (480 s) and tails (180 s) alone, once with the stories between them too (as the pipeline
decodes them where a season asks). Per kind: the parts within ±2 s of both ends, at IoU >= 0.5, wrong, missed,
false, and the answers holding over 5 s outside the truth's span. What the rules were chosen on (the held-out
corpus's validation and train splits, the parts corpus's train and validation) and what they are judged on
(the test splits) are printed apart; ``--set NAME=VALUE`` runs them with a constant of the rules set otherwise,
as each was chosen.

Whole episodes are decoded once per split (fingerprints only; pickled under ``--out``).

    python bench/replay_study.py --split out/corpus-heldout/validation out/corpus-heldout-s1/validation \
        --test out/corpus-heldout/test out/corpus-heldout-s1/test out/corpus-parts/test
"""

from __future__ import annotations

import argparse
import pickle
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

from introdetect.analysis import analyse_samples, tail_length_s
from introdetect.detectors import replay
from introdetect.detectors.base import Candidate
from introdetect.detectors.replay import replay_parts
from introdetect.matching.recurring import EpisodePrint
from introdetect.media import episode_id, find_media, stream_audio
from introdetect.metrics import Truth, read_truth
from introdetect.result import Kind, Method
from introdetect.settings import AudioOptions
from introdetect.timecode import Segment

WINDOWS = AudioOptions()
"""The windows ``detect`` analyses by default: the head (``window_s``) and the tail (``tail_length_s``)."""


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
    tail_s = tail_length_s(WINDOWS, p.end_s)
    if p.end_s <= WINDOWS.window_s:  # the head reached the end: the tail is cut from it
        return replace(p, tail=replace(p.after(p.end_s - tail_s), reached_end=True))
    head = p.between(0.0, WINDOWS.window_s)
    tail = replace(p.after(p.end_s - tail_s), reached_end=True)
    story = p.between(WINDOWS.window_s, tail.start_s) if stories and tail.start_s > WINDOWS.window_s else None
    return replace(head, tail=tail, story=story)


def layout(truth: Truth) -> list[Candidate]:
    """The truth's ident, intro and credits as the candidates the detectors before the replays give."""
    return [
        Candidate(kind, span, 0.9, Method.RECURRING)
        for kind in (Kind.INTRO, Kind.CREDITS, Kind.IDENT)
        if (span := truth.span(kind)) is not None
    ]


def score(splits: list[Path], out: Path, stories: bool) -> dict[str, Counter]:
    tally: dict[str, Counter] = {"recap": Counter(), "preview": Counter()}
    for split in splits:
        truth = read_truth(split.parent / f"truth_{split.name}.json")
        prints = whole_prints(split, out)
        seasons: dict[str, list[str]] = defaultdict(list)
        for vid in sorted(prints):
            seasons[vid.rsplit("_", 1)[0]].append(vid)
        for ids in seasons.values():
            given = [as_analysed(prints[v], stories) for v in ids]
            found = replay_parts(given, [layout(truth[v]) for v in ids])
            for vid, (recap, preview, _, _) in zip(ids, found, strict=True):
                for kind, answer in ((Kind.RECAP, recap), (Kind.PREVIEW, preview)):
                    _tally(tally[str(kind)], truth[vid].span(kind), answer)
    return tally


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
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="a rule's constant of detectors/replay.py set otherwise for this run (e.g. OPENING_ROOM_S=4): how each "
        "was chosen; only the stories' rows are printed",
    )
    args = parser.parse_args()
    for setting in args.set:
        name, value = setting.split("=", 1)
        setattr(replay, name, type(getattr(replay, name))(float(value)))
    if args.scale:
        scale([*args.split, *args.test], args.out)
        return
    columns = ("parts", "±2s", "iou>=0.5", "wrong", "missed", "false", "over 5 s outside")
    print("| splits | windows | kind | " + " | ".join(columns) + " |")
    print("|---|---|---|" + "---|" * len(columns))
    for name, splits in (("chosen on", args.split), ("test", args.test)):
        if not splits:
            continue
        for stories in (True,) if args.set else (False, True):
            tally = score(splits, args.out, stories)
            for kind, t in tally.items():
                windows = "heads, stories, tails" if stories else "heads and tails"
                print(f"| {name} | {windows} | {kind} | " + " | ".join(str(t[c]) for c in columns) + " |")


if __name__ == "__main__":
    main()
