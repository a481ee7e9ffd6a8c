"""Every part of an episode on a corpus split, as a user runs it: one `introdetect detect` call over the split's
folder (start-up included, nothing cached), against ffmpeg decoding what it analysed of each episode (its head
as far as it was heard, its tail, and its story where its season asked for it; two at a time, as detect's two
workers do), in one run; then the intro's
figures (strata: stings, recaps, idents), each other kind's and the harm (story inside marked parts), written to
docs/BENCHMARKS.md.

    python bench/bench_parts.py --corpus bench/out/corpus-parts --split test
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from common import corpus_parser, exported_harm, floor_command, machine, write_docs_block

from introdetect.analysis import tail_length_s
from introdetect.metrics import FIGURE_COLUMNS, KIND_COLUMNS, evaluate, figure_rows, harm_line, kind_rows, read_truth
from introdetect.result import Detection, read_result
from introdetect.settings import AudioOptions


def decode_floor_s(
    paths: list[Path], durations: dict[str, float], workers: int, analysed: dict[str, Detection]
) -> float:
    """Seconds for ffmpeg to decode what ``detect`` analysed of each episode (``analysed``: its answers), ``workers``
    at a time: its head window as far as it was heard (``Detection.analysed_s``: 900 s where the evidence asked
    for more), its tail, and its story between them where the season asked for it (``Detection.story_s``)."""
    options = AudioOptions()

    def one(path: Path) -> None:
        length = durations[path.stem]
        found = analysed.get(path.stem)
        head = found.analysed_s if found is not None and found.analysed_s else options.window_s
        subprocess.run(floor_command(path, min(length, head)), check=True)
        tail = tail_length_s(options, length)
        if length > head and tail > 0:
            command = floor_command(path, tail)
            command[command.index("-t") : command.index("-t") + 2] = ["-sseof", f"-{tail:.3f}"]
            subprocess.run(command, check=True)
        if found is not None and found.story_s:  # the story between them, where the season asked for it
            command = floor_command(path, found.story_s)
            command[command.index("-i") : command.index("-i")] = ["-ss", f"{head:.3f}"]
            subprocess.run(command, check=True)

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, paths))
    return time.perf_counter() - start


def _table(columns: tuple[str, ...], rows: list[list[str]]) -> str:
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    return head + "".join("| " + " | ".join(r) + " |\n" for r in rows)


def main() -> None:
    parser = corpus_parser(__doc__.splitlines()[0], "parts")
    args = parser.parse_args()
    manifest = json.loads((args.corpus / "corpus.json").read_text(encoding="utf-8"))
    episodes = [e for e in manifest["episodes"] if e["split"] == args.split]
    paths = [args.corpus / e["file"] for e in episodes]
    durations = {Path(e["file"]).stem: e["duration_s"] for e in episodes}
    args.out.mkdir(parents=True, exist_ok=True)
    result = args.out / f"{manifest['size']}-{args.split}.json"
    command = [
        shutil.which("introdetect") or "introdetect",
        "detect",
        str(args.corpus / args.split),
        "--out",
        str(result),
        "--no-cache",
        "--no-progress",
        "--workers",
        str(args.workers),
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    detect_s = time.perf_counter() - start
    found = {d.id: d for d in read_result(result)}
    floor_s = decode_floor_s(paths, durations, args.workers, found)
    truth = read_truth(args.corpus / f"truth_{args.split}.json")
    evaluation = evaluate(found, truth)
    keep = {
        "overall",
        "short",
        "long",
        "recap",
        "after_ident",
        "no_intro",
        "preview",
        "post_credits",
        "dialogue_over_credits",
        "new_intro_version",
        "pal_speedup",
    }
    intro_rows = [r for r in figure_rows(evaluation) if r[0] in keep]
    text = (
        f"`python bench/bench_parts.py --corpus {args.corpus} --split {args.split} --docs`, {date.today()}, "
        f"{machine()}; corpus `{manifest['size']}` seed {manifest['seed']}, {len(episodes)} episodes of "
        f"{len({e['series'] for e in episodes})} series unseen in training.\n\n"
        f"Cost, one `detect` call (start-up included, no cache) against ffmpeg decoding the heads (as far "
        f"as heard), tails and stories it analysed, {args.workers} at a time: "
        f"**{detect_s:.1f} s vs {floor_s:.1f} s = {detect_s / floor_s:.2f}×** "
        f"({detect_s / len(episodes):.2f} s per episode).\n\n"
        "The intro, by stratum (`after_ident`: an ident opens the episode):\n\n"
        + _table(FIGURE_COLUMNS, intro_rows)
        + "\nThe other parts:\n\n"
        + _table(KIND_COLUMNS, kind_rows(evaluation))
        + f"\nHarm: {harm_line(evaluation)}; worst: {evaluation.harm.worst[:6]}"
        + exported_harm(found, truth)
        + ".\n"
    )
    print(text)
    if args.docs:
        write_docs_block(
            f"parts-{manifest['size']}-{args.split}", text, f"Episode parts on `{manifest['size']}` ({args.split})"
        )


if __name__ == "__main__":
    main()
