"""What every benchmark states beside its figures: the machine it ran on."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
from pathlib import Path

import numpy as np


def machine(ffmpeg: str = "ffmpeg") -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    version = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, numpy {np.__version__}, "
        f"{version.split(' Copyright')[0]}"
    )


def episode_print(path):  # noqa: ANN001, ANN201 - an EpisodePrint (a module-level function: pool.map pickles it)
    from introdetect.analysis import analyse_episode

    return analyse_episode(path).print


def corpus_prints(corpus, split: str, workers: int = 2):
    """Every episode of a corpus split analysed for matching (EpisodePrint), cached under bench/out/prints-*."""
    import json
    import pickle
    from concurrent.futures import ProcessPoolExecutor
    from pathlib import Path

    corpus = Path(corpus)
    manifest = json.loads((corpus / "corpus.json").read_text(encoding="utf-8"))
    import hashlib

    from introdetect.features import frames
    from introdetect.matching import landmarks, profile

    # analyses made by other fingerprint settings are not reused
    from introdetect.settings import DEFAULT_MATCHING

    sources = b"".join(Path(m.__file__).read_bytes() for m in (frames, landmarks, profile))
    version = hashlib.sha256(sources + DEFAULT_MATCHING.settings_hash.encode()).hexdigest()[:8]
    cache = Path(__file__).resolve().parent / "out" / f"prints-{manifest['size']}-{manifest['seed']}-{version}"
    cache.mkdir(parents=True, exist_ok=True)
    episodes = [e for e in manifest["episodes"] if e["split"] == split]
    todo = [e for e in episodes if not (cache / f"{e['id']}-{e['plan_hash']}.pkl").exists()]
    with ProcessPoolExecutor(workers) as pool:
        for e, p in zip(todo, pool.map(episode_print, [corpus / e["file"] for e in todo]), strict=True):
            (cache / f"{e['id']}-{e['plan_hash']}.pkl").write_bytes(pickle.dumps(p))
    return {e["id"]: pickle.loads((cache / f"{e['id']}-{e['plan_hash']}.pkl").read_bytes()) for e in episodes}, episodes


def corpus_parser(description: str, out: str) -> argparse.ArgumentParser:
    """The options of the benchmarks that run on a corpus split: --corpus, --split, --workers, --out (default
    bench/out/OUT), --docs."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / out)
    parser.add_argument("--docs", action="store_true", help="write the figures into docs/BENCHMARKS.md")
    return parser


def more_seeds_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """--more: corpora of the same size built with other seeds, whose outputs sit beside the first corpus's under
    ``seed_folder``; ``what`` says what is done with them."""
    parser.add_argument(
        "--more", nargs="+", type=Path, default=[], help=f"corpora of the same size with other seeds: {what}"
    )


def seed_folder(folder: Path, corpus: Path) -> Path:
    """Where a corpus of another seed has its outputs beside ``folder`` (the seed-0 corpus's): FOLDER-s<seed>."""
    import json

    seed = json.loads((corpus / "corpus.json").read_text(encoding="utf-8"))["seed"]
    return folder.with_name(f"{folder.name}-s{seed}")


def write_docs_block(name: str, text: str, heading: str) -> None:
    """Put ``text`` between the ``<!-- name:begin/end -->`` markers of docs/BENCHMARKS.md (a new section
    titled ``heading`` at the end when the markers are not there yet)."""
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    doc = docs.read_text(encoding="utf-8")
    block = f"{begin}\n{text}\n{end}"
    if begin in doc:
        doc = doc[: doc.index(begin)] + block + doc[doc.index(end) + len(end) :]
    else:
        doc += f"\n## {heading}\n\n{block}\n"
    docs.write_text(doc, encoding="utf-8")
    print(f"updated {docs}")


def floor_command(path, window_s: float, *before_output: str) -> list[str]:  # noqa: ANN001 - a path
    """ffmpeg decoding ``window_s`` seconds of the first audio stream, output discarded: the floor every
    detector's cost is compared with (``before_output``: more work, e.g. the downmix and resampling)."""
    from introdetect.media import FFMPEG

    return [
        FFMPEG,
        "-nostdin",
        "-loglevel",
        "error",
        "-t",
        f"{window_s:g}",
        "-i",
        str(path),
        "-map",
        "0:a:0",
        "-vn",
        *before_output,
        "-f",
        "null",
        "-",
    ]


def refuse_heldout_packages(corpus: Path, split: str) -> None:
    """Stop a training or fitting script before it learns from a corpus split that plays a package the held-out
    corpus keeps for its validation or test series (``corpus.sources.heldout_packages_played``)."""
    import json

    from introdetect_eval.corpus.sources import heldout_packages_played

    played = heldout_packages_played(json.loads((corpus / "corpus.json").read_text()), split)
    if played:
        raise SystemExit(
            f"{corpus}: its {split} split plays {', '.join(sorted(played))}, held out for the held-out "
            "corpus's validation and test series: not to be learnt from"
        )


def exported_harm(found: dict, truth: dict) -> str:
    """The harm of what exports mark at the default --min-confidence (unsure parts left out, as a player gets
    them), to print beside the harm of every answer ("" when no episode could be scored for it)."""
    from introdetect.metrics import HARM_S, harm_of
    from introdetect.settings import DEFAULT_MIN_CONFIDENCE

    exported = {vid: d.sure_only(DEFAULT_MIN_CONFIDENCE) for vid, d in found.items()}
    harm = harm_of(exported, {vid: truth[vid] for vid in found})
    if not harm.episodes:
        return ""
    worst = f", worst {harm.worst[:4]}" if harm.worst else ""
    return (
        f"; as exported at --min-confidence {DEFAULT_MIN_CONFIDENCE:g}: "
        f"{harm.over} of {harm.episodes} over {HARM_S:g} s{worst}"
    )
