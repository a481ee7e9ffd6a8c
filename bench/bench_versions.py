"""Several versions of one episode in a season, on a corpus split: each series gets four copies of one of its
episodes, made with ffmpeg as releases differ (Opus at 64 kb/s; PAL speed, 25/24 faster and higher; two seconds
of silence more at the start; a 60 s scene of another series inserted in the story), all audio-only Matroska at
a lower bit rate than the originals. The season is detected without and with the copies: every original's parts
must stay as they were (within ±0.1 s), every copy must be told a version of its episode and answered with the
original's parts mapped onto it (PAL: × 24/25; +2 s; +60 s after the inserted scene). Siblings told versions of
each other are counted too. Written to docs/BENCHMARKS.md ("Versions of one episode").

    python bench/bench_versions.py --corpus bench/out/corpus-parts --split test --docs
    python bench/bench_versions.py --corpus bench/out/corpus-full --siblings train validation test --docs

With ``--siblings``, no copies: every season of the splits named is searched for versions, and every pair
found is a false one (the corpus has no two versions of an episode).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
from common import corpus_parser, corpus_prints, machine, write_docs_block

from introdetect import detect
from introdetect.matching.versions import VERSION_SHARE, VERSION_SPAN, find_versions, pair_matches
from introdetect.result import Detection, Kind

WITHIN_S = 0.1
"""The issue's bar: an answer within ±0.1 s of the one without copies (mapped onto the copy)."""

SCENE_S = 60.0
"""Length of the scene inserted into the extended copy (seconds), taken from another series' story."""

PAL = 25 / 24


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def _rate(path: Path) -> int:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate", "-of",
         "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return int(out.strip().splitlines()[0])


def _length(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return float(out.strip())


def _cut_point(truth: dict) -> float:
    """A time in the story of the episode (after its opening parts, well before its credits) for the scene."""
    opening = [truth.get(k) for k in ("end_sec",)] + [_sec(truth.get(f"{k}_end")) for k in ("ident", "recap")]
    after = max([t for t in opening if t is not None] + [0.0])
    return round(after + 40.0, 3)


def _sec(text: str | None) -> float | None:
    if text is None:
        return None
    h, m, s = text.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def _copies(source: Path, folder: Path, scene: Path, cut_s: float) -> dict[str, tuple[Path, Callable]]:
    """The four copies of ``source`` in ``folder``, each with the map from the original's time to its own."""
    rate = _rate(source)
    stem = source.stem
    out = {
        "re-encode": (folder / f"{stem}.opus.mka", lambda t: t),
        "PAL speed": (folder / f"{stem}.pal.mka", lambda t: t / PAL),
        "+2 s": (folder / f"{stem}.late.mka", lambda t: t + 2.0),
        "extra scene": (folder / f"{stem}.extended.mka", lambda t: t if t < cut_s else t + SCENE_S),
    }
    opus = ["-vn", "-ac", "2", "-c:a", "libopus", "-b:a", "64k"]  # 5.1 originals downmixed, as stereo releases are
    _ffmpeg("-i", str(source), *opus, str(out["re-encode"][0]))
    _ffmpeg("-i", str(source), "-af", f"asetrate={rate * PAL:.0f},aresample={rate}", *opus, str(out["PAL speed"][0]))
    _ffmpeg("-i", str(source), "-af", "adelay=2000:all=1", *opus, str(out["+2 s"][0]))
    at = round(_length(scene) / 2, 3)  # a scene from the middle of the other episode's story
    graph = (
        f"[0:a]atrim=0:{cut_s},asetpts=N/SR/TB,aformat=sample_rates=48000:channel_layouts=stereo[a];"
        f"[1:a]atrim={at}:{at + SCENE_S},asetpts=N/SR/TB,aformat=sample_rates=48000:channel_layouts=stereo[b];"
        f"[0:a]atrim={cut_s},asetpts=N/SR/TB,aformat=sample_rates=48000:channel_layouts=stereo[c];"
        "[a][b][c]concat=n=3:v=0:a=1[o]"
    )
    _ffmpeg("-i", str(source), "-i", str(scene), "-filter_complex", graph, "-map", "[o]", *opus,
            str(out["extra scene"][0]))  # fmt: skip
    return out


def _error(a: Detection, b: Detection, kind: Kind, mapping: Callable) -> float | None:
    """How far ``b``'s part of ``kind`` lies from ``a``'s mapped (None: neither has one; inf: one only)."""
    pa, pb = a.part(kind), b.part(kind)
    sa, sb = (p.segment if p is not None else None for p in (pa, pb))
    if sa is None and sb is None:
        return None
    if sa is None or sb is None:
        return float("inf")
    return max(abs(sb.start_s - mapping(sa.start_s)), abs(sb.end_s - mapping(sa.end_s)))


def _rows(errors: dict[str, list[float]]) -> list[str]:
    rows = []
    for name, values in errors.items():
        e = np.array(values)
        both = e[np.isfinite(e)]
        within = f"{np.mean(both <= WITHIN_S):.3f}" if both.size else "–"
        worst = f"{both.max():.2f}" if both.size else "–"
        rows.append(f"| {name} | {both.size} | {within} | {worst} | {int(np.sum(~np.isfinite(e)))} |")
    return rows


HEADER = "| episodes | parts in both | within ±0.1 s | max error s | found in one only |\n|---|---|---|---|---|\n"


def siblings(corpus: Path, splits: list[str], workers: int, docs: bool) -> None:
    """False versions among the seasons of ``splits`` (no copies in them)."""
    manifest = json.loads((corpus / "corpus.json").read_text(encoding="utf-8"))
    episodes, series, false, closest = 0, 0, [], []
    started = time.perf_counter()
    for split in splits:
        prints, rows = corpus_prints(corpus, split, workers)
        by_series: dict[str, list[dict]] = {}
        for e in rows:
            by_series.setdefault(e["series"], []).append(e)
        for members in by_series.values():
            members = sorted(members, key=lambda e: e["file"])
            season = [prints[e["id"]] for e in members]
            episodes, series = episodes + len(members), series + 1
            false += [(members[a.copy]["id"], members[g.rep]["id"]) for g in find_versions(season) for a in g.copies]
            matches = pair_matches(season)
            closest += [(m.span, m.share) for (i, j), m in matches.items() if i < j]
    spent = time.perf_counter() - started
    spans = np.array([c[0] for c in closest])
    shares = np.array([c[1] for c in closest])
    text = (
        f"`python bench/bench_versions.py --corpus {corpus} --siblings {' '.join(splits)} --docs`, {date.today()}, "
        f"{machine()}; corpus `{manifest['size']}` seed {manifest['seed']}: {episodes} episodes of {series} "
        f"series, {len(closest)} pairs of siblings, no copies.\n\n"
        f"Siblings told versions of each other: **{len(false)}**"
        + (f" ({', '.join(f'{a} ~ {b}' for a, b in false)})" if false else "")
        + f". The pairs' span share: max {spans.max():.2f}, 99th percentile {np.percentile(spans, 99):.2f} "
        f"(a version needs {VERSION_SPAN}); their foreground share: max {shares.max():.2f}, 99th percentile "
        f"{np.percentile(shares, 99):.2f} (a version needs {VERSION_SHARE}); pairs over both bars: "
        f"{int(np.sum((spans >= VERSION_SPAN) & (shares >= VERSION_SHARE)))}. ({spent:.0f} s with the analyses.)\n"
    )
    print(text)
    if docs:
        write_docs_block(f"versions-siblings-{manifest['size']}", text, "Versions of one episode")


def main() -> None:
    parser = corpus_parser(__doc__.splitlines()[0], "versions")
    parser.add_argument("--siblings", nargs="+", help="splits to search for false versions (no copies made)")
    args = parser.parse_args()
    if args.siblings:
        siblings(args.corpus, args.siblings, args.workers, args.docs)
        return
    manifest = json.loads((args.corpus / "corpus.json").read_text(encoding="utf-8"))
    truth = json.loads((args.corpus / f"truth_{args.split}.json").read_text(encoding="utf-8"))
    episodes = [e for e in manifest["episodes"] if e["split"] == args.split]
    by_series: dict[str, list[dict]] = {}
    for e in episodes:
        by_series.setdefault(e["series"], []).append(e)
    root = args.out / args.split
    shutil.rmtree(root, ignore_errors=True)
    names = sorted(by_series)
    jobs, copies = [], {}
    for n, name in enumerate(names):
        members = sorted(by_series[name], key=lambda e: e["file"])
        folder = root / name
        folder.mkdir(parents=True)
        for e in members:
            (folder / Path(e["file"]).name).symlink_to((args.corpus / e["file"]).resolve())
        chosen = members[1]
        source = args.corpus / chosen["file"]
        scene = args.corpus / min(by_series[names[(n + 1) % len(names)]], key=lambda e: e["file"])["file"]
        jobs.append((source, folder, scene, _cut_point(truth[source.stem])))
    with ThreadPoolExecutor(args.workers) as pool:
        for (source, _, _, _), made in zip(jobs, pool.map(lambda job: _copies(*job), jobs), strict=True):
            copies[source.stem] = made
    originals = [Path(e["file"]).stem for e in episodes]
    started = time.perf_counter()
    base = detect([args.corpus / args.split], workers=args.workers).by_id()
    detect_s = time.perf_counter() - started
    found = detect([root], workers=args.workers).by_id()
    # what finding the versions costs: every season's pairs compared, on the prints the detect run made
    prints, _ = corpus_prints(args.corpus, args.split, args.workers)
    started = time.perf_counter()
    for name in names:
        find_versions([prints[e["id"]] for e in sorted(by_series[name], key=lambda e: e["file"])])
    versions_s = time.perf_counter() - started
    others: dict[str, list[float]] = {"originals, with copies beside them": []}
    mapped: dict[str, list[float]] = {kind: [] for kind in next(iter(copies.values()))}
    for vid in originals:
        for kind in Kind:
            err = _error(base[vid], found[vid], kind, lambda t: t)
            if err is not None:
                others["originals, with copies beside them"].append(err)
    told = 0
    for vid, made in copies.items():
        for name, (path, mapping) in made.items():
            copy = found[path.stem]
            told += copy.version_of == vid
            for kind in Kind:
                err = _error(base[vid], copy, kind, mapping)
                if err is not None:
                    mapped[name].append(err)
    wrong = sum(1 for vid in originals if found[vid].version_of is not None)
    total = sum(len(m) for m in copies.values())
    text = (
        f"`python bench/bench_versions.py --corpus {args.corpus} --split {args.split} --docs`, {date.today()}, "
        f"{machine()}; corpus `{manifest['size']}` seed {manifest['seed']}, {len(episodes)} episodes of "
        f"{len(names)} series, four copies of one episode per series ({total} copies).\n\n"
        f"Copies told versions of their episode: **{told} of {total}**; originals told a version of another "
        f"episode: **{wrong} of {len(originals)}**. Comparing every season's pairs took {versions_s:.1f} s, "
        f"{versions_s / detect_s:.1%} of the detect run on the seasons without copies ({detect_s:.0f} s).\n\n"
        "Every part (ident, recap, intro, credits, preview) of the originals with the copies beside them, against "
        "the season detected without the copies; and of each copy against its original's without copies, mapped "
        "onto the copy:\n\n" + HEADER + "\n".join(_rows(others) + _rows(mapped)) + "\n"
    )
    print(text)
    if args.docs:
        write_docs_block(f"versions-{manifest['size']}-{args.split}", text, "Versions of one episode")


if __name__ == "__main__":
    main()
