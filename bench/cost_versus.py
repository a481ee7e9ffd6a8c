"""Two checkouts' cost, interleaved on one machine: per season of a corpus split, one `introdetect detect` call
(start-up included, nothing cached, 2 workers) with another checkout's code (``--old``: its ``src`` folder, e.g.
a `git worktree` of an earlier commit), one with this one's, and ffmpeg decoding what this one analysed (as
bench_parts.py's floor), one after the other, so that the shared machine's drift falls on both alike. Prints
each season's seconds, the totals against the floor, and whether the two answered alike (every field of every
episode's entry).

    git worktree add /tmp/old 8355eca
    python bench/cost_versus.py --old /tmp/old/src --corpus bench/out/corpus-parts --split test
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_parts import decode_floor_s
from common import corpus_parser, machine

from introdetect.result import read_result

SRC = Path(__file__).resolve().parents[1] / "src"


def _detect(src: Path, season: Path, out: Path, workers: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(src))
    command = [sys.executable, "-m", "introdetect", "detect", str(season), "--out", str(out), "--no-cache"]
    start = time.perf_counter()
    subprocess.run(
        [*command, "--no-progress", "--workers", str(workers)], check=True, stdout=subprocess.DEVNULL, env=env
    )
    return time.perf_counter() - start


def main() -> None:
    parser = corpus_parser(__doc__.splitlines()[0], "cost-versus")
    parser.add_argument("--old", type=Path, required=True, help="the other checkout's src folder")
    parser.add_argument("--seasons", nargs="*", default=None, help="series names (default: every one of the split)")
    args = parser.parse_args()
    manifest = json.loads((args.corpus / "corpus.json").read_text(encoding="utf-8"))
    episodes = [e for e in manifest["episodes"] if e["split"] == args.split]
    seasons = args.seasons or sorted({e["series"] for e in episodes})
    durations = {Path(e["file"]).stem: e["duration_s"] for e in episodes}
    total = {"old": 0.0, "new": 0.0, "floor": 0.0}
    alike = True
    print(f"{machine()}; --old {args.old}; {args.corpus} {args.split}\n")
    print("| season | old s | this s | floor s | answers alike |\n|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in seasons:
            folder = args.corpus / args.split / name
            old_out, new_out = Path(tmp) / f"old-{name}.json", Path(tmp) / f"new-{name}.json"
            old = _detect(args.old, folder, old_out, args.workers)
            new = _detect(SRC, folder, new_out, args.workers)
            found = {d.id: d for d in read_result(new_out)}
            paths = [args.corpus / e["file"] for e in episodes if e["series"] == name]
            floor = decode_floor_s(paths, durations, args.workers, found)
            same = json.loads(old_out.read_text(encoding="utf-8")) == json.loads(new_out.read_text(encoding="utf-8"))
            alike &= same
            for key, value in (("old", old), ("new", new), ("floor", floor)):
                total[key] += value
            print(f"| {name} | {old:.1f} | {new:.1f} | {floor:.1f} | {'yes' if same else 'NO'} |", flush=True)
    old, new, floor = total["old"], total["new"], total["floor"]
    print(
        f"\ntotal: old {old:.1f} s ({old / floor:.2f}× the floor), this {new:.1f} s ({new / floor:.2f}×), "
        f"floor {floor:.1f} s; this / old {new / old:.3f}; answers alike: {'all' if alike else 'NOT all'}"
    )


if __name__ == "__main__":
    main()
