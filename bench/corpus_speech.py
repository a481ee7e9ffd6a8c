"""What a structured corpus's scenes say, counted on its plans (no audio rendered): per split, the story's lines,
how many are spelled words (the telephone prompts' letters, digits and phonetic alphabets: SPELLED_GROUPS), the
lines recaps and previews replay and how many of those are spelled, the median story's share of speech, and the
pairs of uses of one line in a season that play as alike as a speed the matcher tries (the rates times each
episode's PAL speed-up within ALIKE of 1, 25/24 or 24/25: a line that matches itself), and the replayed lines
that play as alike as another delivery of their recording (another rate; either order of the ratio: a scene
heard in a later story too, which is then a cue).

    python bench/corpus_speech.py --size heldout --seed 0 --split validation --split test
    PYTHONPATH=/tmp/old/src:/tmp/old/eval/src python bench/corpus_speech.py ...   # an older generator's plans
"""

from __future__ import annotations

import argparse
from datetime import date

import numpy as np
from common import machine
from introdetect_eval.corpus.plan import MATCHED_SPEEDS, SIZES, plan_corpus
from introdetect_eval.corpus.sources import SourceLibrary, build_catalog

SPELLED = frozenset({"letters", "digits", "phonetic", "ICAO"})
"""plan.SPELLED_GROUPS, spelled out again so that the script counts an older generator's plans as well."""


ALIKE = 0.04
"""plan.SPOKEN_MARGIN: two sayings of a sentence whose rate ratio lies within 4 % of a speed the matcher tries match
each other with 15 or more hash votes (measured there)."""


def _spelled(group: str) -> bool:
    return bool(SPELLED & set(group.split(":")[-1].split("/")))


def speech_figures(episodes: list) -> dict[str, float]:  # EpisodePlans
    lines = spelled = replayed = replayed_spelled = 0
    shares: list[float] = []
    said: dict[tuple[str, str], list[float]] = {}
    deliveries: dict[tuple[str, str], list[tuple[float, float, bool]]] = {}  # (rate, as played, replayed)
    for episode in episodes:
        replays = [s for k, s in episode.others.items() if k in ("recap", "preview") and s is not None]
        for event in episode.events:
            if event.kind != "dialogue":
                continue
            replay = any(s.start_s <= event.start_s < s.end_s for s in replays)
            deliveries.setdefault((episode.series, event.source.path), []).append(
                (event.rate, event.rate * episode.speed, replay)
            )
            if replay:
                replayed += 1
                replayed_spelled += _spelled(event.source.group)
                continue
            lines += 1
            spelled += _spelled(event.source.group)
            said.setdefault((episode.series, event.source.path), []).append(event.rate * episode.speed)
        story = episode.story
        if story is not None and story.end_s > story.start_s:
            speech = sum(
                e.length_s for e in episode.events if e.kind == "dialogue" and story.start_s <= e.start_s < story.end_s
            )
            shares.append(speech / (story.end_s - story.start_s))
    # the rates are rounded to 0.1 ‰ in the plan: a pair the generator kept just at the margin reads 0.03999
    alike = sum(
        1
        for rates in said.values()
        for i, a in enumerate(rates)
        for b in rates[i + 1 :]
        if min(abs(b / a - s) for s in MATCHED_SPEEDS) < ALIKE - 1e-4
    )
    replayed_alike = sum(
        1
        for rows in deliveries.values()
        for rate, played, replay in rows
        if replay
        and any(
            abs(other / rate - 1.0) > 2e-4  # another delivery (the rates are rounded to 0.1 ‰)
            and min(min(abs(played / there - s), abs(there / played - s)) for s in MATCHED_SPEEDS) < ALIKE - 1e-4
            for other, there, _ in rows
        )
    )
    return {
        "episodes": len(episodes),
        "lines": lines,
        "spelled": spelled,
        "replayed": replayed,
        "replayed_spelled": replayed_spelled,
        "median_speech": float(np.median(shares)) if shares else 0.0,
        "alike": alike,
        "replayed_alike": replayed_alike,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="heldout", choices=sorted(SIZES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", action="append", help="the splits counted (repeatable; default: all)")
    args = parser.parse_args()
    size = SIZES[args.size]
    catalog = build_catalog(size.packages)
    _, episodes = plan_corpus(size, catalog, SourceLibrary(catalog), args.seed)
    print(f"{args.size} seed {args.seed}, {date.today()}, {machine()}")
    for split in args.split or list(size.series):
        f = speech_figures([e for e in episodes if e.split == split])
        print(
            f"{split}: {f['episodes']} episodes; story lines {f['lines']}, spelled {f['spelled']} "
            f"({f['spelled'] / max(f['lines'], 1):.0%}); replayed lines {f['replayed']}, spelled "
            f"{f['replayed_spelled']}; median story speech {f['median_speech']:.0%}; uses that play alike "
            f"{f['alike']}; replayed lines alike another delivery {f['replayed_alike']}"
        )


if __name__ == "__main__":
    main()
