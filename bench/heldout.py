"""How far the answers and their confidences hold on series made from source packages that nothing was trained
or fitted on (the ``heldout`` corpus: docs/CORPUS.md), per regime a user meets:

- ``season``: a new season, no labels (every episode of the split, each series matched across its episodes);
- ``pairs``: two-episode seasons (a new show: episodes 1+2, 3+4, 5+6 of each series, each pair on its own);
- ``lone``: each episode alone (no siblings, no labels: the model, chapters, what recurs inside it);
- ``known``: a known series from two labelled episodes (labels in whole seconds, as annotators give them),
  the other four answered one at a time (a media server meeting new episodes as they come);
- ``known-season``: the same labels, the other four answered in one run (a season scanned with its labels: they
  are matched with one another too, which hears an intro version the labelled episodes lack).

Per regime: the intro within ±1 s (and ±0.5 s), F1, false intros, the other parts per kind (bench_parts.py's
table), the harm (story inside marked parts) and the trust figures
(expected calibration error, the share right among answers at ≥ 0.9, the confidently wrong), and what each
--min-confidence would keep; with the season regime and a known one, the known regimes' episodes as each
regime answered them (a known series against the same episodes without labels). Predictions go to ``--out`` (one result file per split and regime, read by
bench/fit_trust.py), each with a stamp of what made it (``run_stamp``: the code, the model, the settings, the
corpus's truth): a file is read back only where its stamp is this run's, else made again (``--again``: always);
the figures to docs/BENCHMARKS.md with --docs.

    python bench/heldout.py --corpus bench/out/corpus-heldout --split validation [--regimes season lone] [--docs]

``--trust own`` keeps each detector's own confidence (the fused answer decided on them too): what
bench/fit_trust.py fits the trust map on; ``--trust decided``, the shipped map without its answer maps (what
``fit_trust.py --answers`` fits those on); ``--trust shipped`` (default) is what a user gets. Beside each
regime's fused answers, the matching's and the model's own (``….matching.json``, ``….model.json``).

Every regime shares one analysis cache under ``--out`` (an episode is decoded once for all regimes); a
regime's cost is not what this measures (bench_parts.py is the cost benchmark). ``--set NAME=VALUE`` runs with
a matching option changed (a rule's constant: the season matched again from the cached analyses, in a fresh
``--out`` whose ``cache`` links to a run's cache).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from common import corpus_parser, exported_harm, machine, more_seeds_argument, seed_folder, write_docs_block

from introdetect import read_labels
from introdetect.cache import AnalysisCache
from introdetect.errors import SettingsError
from introdetect.metrics import (
    KIND_COLUMNS,
    RELIABILITY_COLUMNS,
    Evaluation,
    answer_right,
    evaluate,
    harm_line,
    kind_rows,
    read_truth,
    reliability_rows,
)
from introdetect.pipeline import DEFAULT_MODEL, candidates
from introdetect.result import Detection, read_result, write_result
from introdetect.settings import DEFAULT_MIN_CONFIDENCE, MatchingOptions
from introdetect.timecode import format_timecode
from introdetect.trust import IDENTITY, TrustMap, shipped_trust

REGIMES = ("season", "pairs", "lone", "known", "known-season")
LABELLED_PER_SERIES = 2
"""Episodes of a known series whose labels are given (the structure issue's known-series case)."""
THRESHOLDS = tuple(sorted({0.5, 0.7, DEFAULT_MIN_CONFIDENCE, 0.9, 0.95, 0.99}))


USES = ("fused", "matching", "model")
"""Answers kept per regime: the fused one (what a user gets) and each detector family's own, from the same
candidates: bench/fit_trust.py fits each detector's map on its own answers."""


class Answers:
    """Every episode's answers per use, from one candidates() call per detect a user would make."""

    def __init__(self, trust: TrustMap | None, model: str) -> None:
        self.trust = trust
        self.model = model
        self.by_use: dict[str, dict[str, Detection]] = {use: {} for use in USES}

    def detect(self, paths: list[Path], **kwargs: Any) -> None:
        found = candidates(paths, model=self.model, **kwargs)
        for use in USES:
            self.by_use[use].update(found.answers(use, trust=self.trust).by_id())


def _season(out: Answers, paths_by_series: dict[str, list[Path]], truth_rows: dict, **kwargs: Any) -> None:
    out.detect([p for ps in paths_by_series.values() for p in ps], **kwargs)


def _pairs(out: Answers, paths_by_series: dict[str, list[Path]], truth_rows: dict, **kwargs: Any) -> None:
    for paths in paths_by_series.values():
        for i in range(0, len(paths) - 1, 2):
            out.detect(paths[i : i + 2], **kwargs)


def _lone(out: Answers, paths_by_series: dict[str, list[Path]], truth_rows: dict, **kwargs: Any) -> None:
    for paths in paths_by_series.values():
        for path in paths:
            out.detect([path], **kwargs)


def whole_second_labels(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Truth rows as an annotator gives them: the intro's start and end rounded to whole seconds, no other
    part, the episode's name (its series) kept."""
    out = {}
    for vid, row in rows.items():
        start, end = row.get("start_sec"), row.get("end_sec")
        out[vid] = {
            "name": row["name"],
            "start": None if start is None else format_timecode(float(round(start)), 0),
            "end": None if end is None else format_timecode(float(round(end)), 0),
        }
    return out


def _labelled(
    out: Answers, paths_by_series: dict[str, list[Path]], truth_rows: dict, together: bool, **kwargs: Any
) -> None:
    """Each series' first LABELLED_PER_SERIES episodes labelled (whole seconds), the others answered with those
    labels and videos: one at a time, or ``together`` (the rest of the season in one detect)."""
    with tempfile.TemporaryDirectory() as tmp:
        for series, paths in paths_by_series.items():
            labelled, answered = paths[:LABELLED_PER_SERIES], paths[LABELLED_PER_SERIES:]
            file = Path(tmp) / f"{series}.json"
            file.write_text(json.dumps(whole_second_labels({p.stem: truth_rows[p.stem] for p in labelled})))
            labels = read_labels(file)
            for group in [answered] if together else [[p] for p in answered]:
                out.detect(group, labels=labels, videos=labelled, **kwargs)


def _known(out: Answers, paths_by_series: dict[str, list[Path]], truth_rows: dict, **kwargs: Any) -> None:
    _labelled(out, paths_by_series, truth_rows, False, **kwargs)


def _known_season(out: Answers, paths_by_series: dict[str, list[Path]], truth_rows: dict, **kwargs: Any) -> None:
    _labelled(out, paths_by_series, truth_rows, True, **kwargs)


RUNS = {"season": _season, "pairs": _pairs, "lone": _lone, "known": _known, "known-season": _known_season}


def pair_ids(by_series: dict[str, list[Path]]) -> list[tuple[str, str]]:
    """The two-episode seasons of the ``pairs`` regime (episodes 1+2, 3+4, 5+6 of each series), as id pairs."""
    return [(ps[i].stem, ps[i + 1].stem) for ps in by_series.values() for i in range(0, len(ps) - 1, 2)]


NEW_VERSION_TAG = "new_intro_version"
"""The corpus's tag of an episode whose season changed its intro's version before it (docs/CORPUS.md)."""


def _pairs_line(evaluation: Evaluation, pairs: list[tuple[str, str]]) -> str:
    """Two-episode seasons whose both episodes have an intro: both within ±1 s; and of those whose two intros
    are one version (the trust issue's "two-episode seasons sharing an opening": where a season changes its
    intro between the two, they share none, or a stretch of it)."""
    scores = {s.id: s for s in evaluation.episodes}
    shared = right = same = same_right = 0
    for ids in pairs:
        a, b = (scores.get(i) for i in ids)
        if a is None or b is None or a.truth is None or b.truth is None:
            continue
        both = answer_right(a) and answer_right(b)
        shared += 1
        right += both
        if (NEW_VERSION_TAG in a.strata) == (NEW_VERSION_TAG in b.strata):
            same += 1
            same_right += both
    share = f"{right / shared:.0%}" if shared else "–"
    same_share = f"{same_right / same:.0%}" if same else "–"
    return (
        f"pairs where both episodes have an intro: {shared}; both within ±1 s: {right} ({share}); of the {same} "
        f"whose two intros are one version: {same_right} ({same_share})"
    )


def regime_block(name: str, found: dict[str, Detection], truth: dict, pairs: list[tuple[str, str]]) -> str:
    evaluation = evaluate(found, {vid: truth[vid] for vid in found})
    o = evaluation.overall
    lines = [
        f"**{name}** ({o.episodes} episodes, {o.with_intro} with an intro): within ±1 s "
        f"{o.hits.get('±1s', float('nan')):.0%} (±0.5 s {o.hits.get('±0.5s', float('nan')):.0%}), F1 {o.f1:.2f}, intros at IoU < 0.5 (misplaced or false) {o.fp}, "
        f"false intros {o.false_intros} of {o.no_intro}"
        + (f"; {_pairs_line(evaluation, pairs)}" if name == "pairs" else "")
        + (f"; {harm_line(evaluation)}" if harm_line(evaluation) else "")
        + exported_harm(found, truth),
        "",
        "| " + " | ".join(RELIABILITY_COLUMNS) + " |",
        "|" + "---|" * len(RELIABILITY_COLUMNS),
        *("| " + " | ".join(row) + " |" for row in reliability_rows(evaluation)),
    ]
    bins = evaluation.reliability.get("all")
    if bins is not None and bins.bins:
        lines += [
            "",
            "Reliability bins (confidence: answers, mean confidence → share right): "
            + "; ".join(f"{name}: {n}, {mean:.2f} → {right:.2f}" for name, n, mean, right in bins.bins)
            + ".",
        ]
    parts = kind_rows(evaluation)
    if parts:  # the other parts, as bench_parts.py tables them
        lines += [
            "",
            "The other parts (hits: both ends within ±1 s, ±2 s of the truth's part of that kind):",
            "",
            "| " + " | ".join(KIND_COLUMNS) + " |",
            "|" + "---|" * len(KIND_COLUMNS),
            *("| " + " | ".join(row) + " |" for row in parts),
        ]
    rated = [(s.confidence, answer_right(s)) for s in evaluation.episodes if s.confidence is not None]
    if rated:
        c = np.array([x for x, _ in rated])
        r = np.array([y for _, y in rated], dtype=float)
        kept = []
        for t in THRESHOLDS:
            sel = c >= t
            kept.append(f"≥ {t:g}: {int(sel.sum())} kept, {r[sel].mean():.0%} right" if sel.any() else f"≥ {t:g}: 0")
        lines += ["", "Kept at --min-confidence " + "; ".join(kept) + "."]
    return "\n".join(lines) + "\n"


def unlabelled_line(found: dict[str, dict[str, Detection]], truth: dict) -> str:
    """The known regimes' episodes as a new season answered them (the structure issue: a known series scores at
    least as well as the same episodes without labels), the intro within ±0.5 s and ±1 s, beside each regime."""
    ids = sorted(next(found[r] for r in ("known", "known-season") if r in found))
    figures = []
    for regime in ("known", "known-season", "season"):
        if regime in found:
            o = evaluate({i: found[regime][i] for i in ids}, {i: truth[i] for i in ids}).overall
            figures.append(
                f"{regime} {o.hits.get('±0.5s', float('nan')):.0%} and {o.hits.get('±1s', float('nan')):.0%}"
            )
    return (
        f"**The known regimes' {len(ids)} episodes** (labels of the others in their series), within ±0.5 s and ±1 s: "
        + "; ".join(figures)
        + " (season: the same episodes without labels).\n"
    )


def matching_options(settings: list[str]) -> MatchingOptions:
    """``MatchingOptions`` with each NAME=VALUE of ``settings`` (the value read as the default's type)."""
    defaults = MatchingOptions()
    changes: dict[str, Any] = {}
    for setting in settings:
        name, _, value = setting.partition("=")
        kind = type(getattr(defaults, name, None))
        if kind not in (bool, int, float) or not value:
            raise SystemExit(f"--set {setting}: not NAME=VALUE of a numeric or yes/no matching option")
        try:
            if kind is bool:
                if value.lower() not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError(value)
                changes[name] = value.lower() in ("1", "true", "yes")
            else:
                changes[name] = kind(value)
        except ValueError:
            raise SystemExit(f"--set {setting}: {value!r} is not a {kind.__name__}") from None
    try:
        return replace(defaults, **changes)
    except SettingsError as exc:
        raise SystemExit(f"--set: {exc}") from None


def main() -> None:
    parser = corpus_parser(__doc__.splitlines()[0], "heldout")
    parser.add_argument("--regimes", nargs="+", choices=REGIMES, default=list(REGIMES))
    parser.add_argument("--again", action="store_true", help="run regimes whose predictions are already there")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="a model file (default: the shipped one)")
    parser.add_argument(
        "--trust",
        choices=("own", "decided", "shipped"),
        default="shipped",
        help="confidences as each detector gives them (what bench/fit_trust.py fits on), mapped by the shipped map "
        "without its answer maps (what fit_trust.py --answers fits on), or by the whole shipped map",
    )
    more_seeds_argument(parser, "each predicted under OUT-s<seed>, all evaluated together (ids prefixed s<seed>:)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a matching option (settings.MatchingOptions) other than its default; the analyses read back from the "
        "cache unless it shapes the prints (settings.PRINT_FIELDS)",
    )
    args = parser.parse_args()
    args.matching = matching_options(args.set)
    found_all: dict[str, dict[str, Detection]] = defaultdict(dict)
    truth_all: dict = {}
    pairs_all: list[tuple[str, str]] = []
    described = []
    for k, corpus in enumerate([args.corpus, *args.more]):
        manifest = json.loads((corpus / "corpus.json").read_text(encoding="utf-8"))
        out = args.out if k == 0 else seed_folder(args.out, corpus)
        prefix = "" if k == 0 else f"s{manifest['seed']}:"
        episodes = sorted((e for e in manifest["episodes"] if e["split"] == args.split), key=lambda e: e["id"])
        by_series: dict[str, list[Path]] = defaultdict(list)
        for e in episodes:
            by_series[e["series"]].append(corpus / e["file"])
        described.append((corpus, manifest, len(episodes), len(by_series)))
        found = predict(args, corpus, out, by_series)
        truth = read_truth(corpus / f"truth_{args.split}.json")
        for regime, answers in found.items():
            found_all[regime].update({prefix + vid: d for vid, d in answers.items()})
        truth_all.update({prefix + vid: t for vid, t in truth.items()})
        pairs_all += [(prefix + a, prefix + b) for a, b in pair_ids(by_series)]
    blocks = []
    for regime in args.regimes:
        block = regime_block(regime, found_all[regime], truth_all, pairs_all)
        print(block)
        blocks.append(block)
    if "season" in args.regimes and any(r in args.regimes for r in ("known", "known-season")):
        block = unlabelled_line(found_all, truth_all)
        print(block)
        blocks.append(block)
    if args.docs:
        manifest = described[0][1]
        size = manifest["size"]
        packages = ", ".join(p for p in manifest.get("split_packages", {}).get(args.split, []))
        fitted = args.split == "validation" and args.trust == "shipped"
        what = (
            f"made from packages no model or threshold saw ({packages})"
            + ("; the trust map is fitted on this split, so its mapped figures here are optimistic" if fitted else "")
            if packages
            else "series unseen in training, from the packages training used too"
        )
        seeds = [str(m["seed"]) for _, m, _, _ in described]
        more = f" --more {' '.join(str(c) for c in args.more)}" if args.more else ""
        head = (
            f"`python bench/heldout.py --corpus {args.corpus}{more} --split {args.split} --trust {args.trust} "
            f"--regimes {' '.join(args.regimes)}{''.join(f' --set {x}' for x in args.set)} --docs` "
            f"({date.today()}, {machine()}): "
            f"{sum(n for _, _, n, _ in described)} episodes of {sum(s for _, _, _, s in described)} series of the "
            f"{size} corpus's {args.split} split (seed{'s' if len(seeds) > 1 else ''} {', '.join(seeds)}), {what}. "
            'An answer is right with both ends of the intro within ±1 s, or "no intro" where there is none.\n\n'
        )
        name = f"{size}-{args.split}-{args.trust}"
        write_docs_block(name, head + "\n".join(blocks), f"The {size} corpus: {args.split}, {args.trust} confidences")


def run_stamp(args: argparse.Namespace, corpus: Path) -> str:
    """What a regime's result file was made by: the package's code and data (every file under its source
    folder), the model, the matching options, the confidences asked for and the corpus's manifest and truth. A
    result file whose stamp differs is run again (a file left by older code was once read back as current)."""
    import hashlib

    import introdetect

    digest = hashlib.sha256()
    package = Path(introdetect.__file__).resolve().parent
    files = [f for f in sorted(package.rglob("*")) if f.is_file() and "__pycache__" not in f.parts]
    for f in [*files, Path(args.model), corpus / "corpus.json", corpus / f"truth_{args.split}.json"]:
        digest.update(str(f.name).encode())
        digest.update(f.read_bytes() if f.is_file() else b"-")
    digest.update(f"{args.matching.settings_hash}|{args.trust}".encode())
    return digest.hexdigest()


def predict(args: argparse.Namespace, corpus: Path, out: Path, by_series: dict[str, list[Path]]) -> dict:
    """Each regime's fused answers of one corpus's split (run where --again, not there yet or made by other code
    or settings (``run_stamp``), else read back)."""
    truth_rows = json.loads((corpus / f"truth_{args.split}.json").read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    cache = AnalysisCache(out / "cache")
    trust = {"own": IDENTITY, "decided": shipped_trust().decisions()}.get(args.trust)
    found = {}
    made_by = run_stamp(args, corpus)
    for regime in args.regimes:
        target = out / f"{args.split}-{args.trust}-{regime}.json"
        stamp = target.with_suffix(".stamp")
        stale = target.exists() and (not stamp.exists() or stamp.read_text(encoding="utf-8") != made_by)
        if stale and not args.again:
            print(f"{regime}: {target} was made by other code, settings or truth: run again")
        if args.again or stale or not target.exists():
            start = time.perf_counter()
            answers = Answers(trust, args.model)
            RUNS[regime](
                answers, by_series, cache=cache, workers=args.workers, truth_rows=truth_rows, matching=args.matching
            )
            for use, given in answers.by_use.items():
                write_result(target if use == "fused" else target.with_suffix(f".{use}.json"), given.values())
            stamp.write_text(made_by, encoding="utf-8")
            print(f"{regime}: {len(answers.by_use['fused'])} answers in {time.perf_counter() - start:.0f} s → {target}")
        found[regime] = {d.id: d for d in read_result(target)}
    return found


if __name__ == "__main__":
    main()
