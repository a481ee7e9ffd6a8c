"""How alike two sayings of the same recorded sentences may be before the matcher takes one for the other: the
reason for the corpus's SPOKEN_MARGIN (introdetect_eval/corpus/plan.py). Twelve sentences of one voice (2-8 s,
asterisk-prompt-fr-armelle), said one after another with 0.6 s pauses over a faint noise floor, are rendered once
at their own rate and again at each rate ratio; the matcher's landmarks and offset voting (every speed it tries)
then give the shared segments of the second rendering in the first, strongest first.

    python bench/reused_lines.py
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import soundfile as sf
from common import machine
from introdetect_eval.corpus.sources import SourceLibrary, build_catalog

from introdetect.analysis import analyse_episode
from introdetect.matching.align import shared_segments
from introdetect.matching.index import InvertedIndex
from introdetect.matching.landmarks import hash_reach, landmark_hashes
from introdetect.settings import DEFAULT_MATCHING

PACKAGE = "asterisk-prompt-fr-armelle"
RATE_HZ = 48_000
LINES = 12
RATIOS = (1.0, 1.01, 1.015, 1.02, 1.025, 1.03, 1.04, 1.05, 1.06, 1.07, 1.08)


def sentences(seed: int = 0) -> list[np.ndarray]:
    """LINES sentences (2-8 s) of the package's main prompt folder, peak-normalised to -10 dBFS."""
    catalog = build_catalog((PACKAGE,))
    library = SourceLibrary(catalog)
    lines = [f for f in catalog.by_role("dialogue") if f.group.endswith(":fr")]
    out = []
    for index in np.random.default_rng(seed).permutation(len(lines)):
        audio = library.audio(lines[index])
        if 2.0 < len(audio) / RATE_HZ < 8.0:
            out.append(0.3 * audio / (np.abs(audio).max() + 1e-9))
        if len(out) == LINES:
            break
    return out


def render(lines: list[np.ndarray], ratio: float, path: Path, seed: int = 0) -> None:
    """The lines at ``ratio`` (speed and pitch together, as the corpus says a line again), 0.6 s apart."""
    parts = [np.zeros(RATE_HZ)]
    for line in lines:
        parts += [
            np.interp(np.arange(0, len(line) - 1, ratio), np.arange(len(line)), line),
            np.zeros(int(0.6 * RATE_HZ)),
        ]
    audio = np.concatenate([*parts, np.zeros(5 * RATE_HZ)])
    audio = audio + 10 ** (-45 / 20) * np.random.default_rng(seed).standard_normal(len(audio))
    sf.write(path, audio.astype(np.float32), RATE_HZ)


def main() -> None:
    options = DEFAULT_MATCHING
    lines = sentences()
    print(f"{len(lines)} sentences of {PACKAGE}, {date.today()}, {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        first, again = Path(folder) / "first.wav", Path(folder) / "again.wav"
        render(lines, 1.0, first)
        reference = analyse_episode(first).print
        index = InvertedIndex([landmark_hashes(reference.landmarks.peaks, 1.0, options)], options)
        for ratio in RATIOS:
            render(lines, ratio, again)
            query = analyse_episode(again).print
            found = []
            for speed in options.speeds:
                frames, hashes = landmark_hashes(query.landmarks.peaks, speed, options)
                matches = index.query(frames, hashes, reach=hash_reach(frames, hashes, speed, options))
                for seg in shared_segments(matches, speed, query.profile.frame_rate, options):
                    found.append((seg.votes, (seg.end - seg.start) / query.profile.frame_rate, speed))
            found.sort(reverse=True)
            top = ", ".join(f"{v} votes over {s:.1f} s at {sp:.4f}" for v, s, sp in found[:3]) or "none"
            print(f"ratio {ratio:.3f}: {len(found)} shared segments; strongest {top}")


if __name__ == "__main__":
    main()
