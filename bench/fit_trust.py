"""Fit the trust map (src/introdetect/trust.py) on the held-out corpus's validation split and report it on its
test split. Each detector's map is fitted on that detector's own answers there (bench/heldout.py --trust own
writes them beside the fused ones): the matcher's recurring answers of the season and two-episode regimes, its
known-series lookups, the model's answer of each lone episode; P(right) = sigmoid(a · logit(confidence) + b +
c · [no intro]). The report: per regime of the test split, the fused answers' trust figures with every
detector's own confidence and with the shipped map (fusion then weighs mapped confidences), and the
--min-confidence that keeps answers >= 98 % right on the validation split (mapped), applied to test.

    python bench/heldout.py --corpus bench/out/corpus-heldout --split validation --trust own
    python bench/fit_trust.py --corpus bench/out/corpus-heldout --fit            # writes the package's map
    python bench/fit_trust.py --corpus bench/out/corpus-heldout --fit --methods known   # one method refitted
    python bench/heldout.py --corpus bench/out/corpus-heldout --split validation  # the shipped map
    python bench/heldout.py --corpus bench/out/corpus-heldout --split test --trust own
    python bench/heldout.py --corpus bench/out/corpus-heldout --split test
    python bench/heldout.py --corpus bench/out/corpus-heldout --split validation --trust decided
    python bench/fit_trust.py --corpus bench/out/corpus-heldout --answers       # the fused answers' maps
    python bench/fit_trust.py --corpus bench/out/corpus-heldout [--docs]         # the report
"""

from __future__ import annotations

import argparse
import json
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from common import machine, more_seeds_argument, seed_folder, write_docs_block

from introdetect.matching.confidence import logit
from introdetect.metrics import Reliability, answer_right, evaluate, read_truth, reliability_from
from introdetect.resources import data_path
from introdetect.result import read_result
from introdetect.trust import TRUST_FILE, TrustMap, answer_key, constant_coefficients

REGIMES = ("season", "pairs", "lone", "known")
MIN_ANSWERS = 12
"""A method needs this many answers in the fit, with at least MIN_EACH right and MIN_EACH wrong, to be mapped."""
MIN_EACH = 2
REGULARISATION = 1.0
"""scikit-learn's C: the fit is on a hundred-odd answers, of which a few are wrong; a weak prior toward the
plain logistic keeps a single wrong answer from bending the map."""
TARGET_RIGHT = 0.98
"""The trust issue's bar for the answers --min-confidence keeps."""


@dataclass(frozen=True)
class Answer:
    regime: str
    id: str
    method: str
    confidence: float
    answered: bool
    right: bool


def answers_of(predictions: Path, truth_path: Path, regime: str) -> list[Answer]:
    found = {d.id: d for d in read_result(predictions)}
    truth = read_truth(truth_path)
    evaluation = evaluate(found, {vid: truth[vid] for vid in found})
    return [
        Answer(regime, s.id, str(s.method), float(s.confidence), s.predicted is not None, answer_right(s))
        for s in evaluation.episodes
        if s.confidence is not None and s.method is not None
    ]


def fit(answers: list[Answer]) -> dict[str, tuple[float, float, float]]:
    from sklearn.linear_model import LogisticRegression

    methods = {}
    for method in sorted({a.method for a in answers}):
        rows = [a for a in answers if a.method == method]
        right = sum(a.right for a in rows)
        if len(rows) < MIN_ANSWERS or right < MIN_EACH or len(rows) - right < MIN_EACH:
            print(f"{method}: {len(rows)} answers, {right} right: left as the detector says")
            continue
        x = np.array([[logit(a.confidence), 0.0 if a.answered else 1.0] for a in rows])
        y = np.array([a.right for a in rows])
        model = LogisticRegression(C=REGULARISATION, max_iter=1000).fit(x, y)
        a, c = (round(float(v), 6) for v in model.coef_[0])
        if a < 0:  # surer answers less often right: the confidence says nothing here, the share right does
            methods[method] = constant_map(rows)
            print(f"{method}: {len(rows)} answers, {right} right: constant {methods[method]}")
            continue
        methods[method] = (a, round(float(model.intercept_[0]), 6), c)
        print(f"{method}: {len(rows)} answers, {right} right: a={a:.3f} b={methods[method][1]:.3f} c={c:.3f}")
    return methods


def reach_of(answers: list[Answer]) -> dict[str, tuple[float | None, float | None]]:
    """Per method, the highest confidence of its intros and of its "no intro" answers in a fit (``TrustMap.reach``:
    the map is not carried past them)."""
    out = {}
    for method in sorted({a.method for a in answers}):
        rows = [a for a in answers if a.method == method]
        intros = [a.confidence for a in rows if a.answered]
        none = [a.confidence for a in rows if not a.answered]
        out[method] = (max(intros) if intros else None, max(none) if none else None)
    return out


def constant_map(rows: list[Answer]) -> tuple[float, float, float]:
    """``trust.constant_coefficients`` of a method's answers: its intros and its "no intro" answers apart."""
    intros = [a.right for a in rows if a.answered]
    none = [a.right for a in rows if not a.answered]
    return constant_coefficients((sum(intros), len(intros)), (sum(none), len(none)))


def mapped(answers: list[Answer], trust: TrustMap) -> list[Answer]:
    return [
        Answer(a.regime, a.id, a.method, trust.confidence(a.method, a.confidence, a.answered), a.answered, a.right)
        for a in answers
    ]


def figures(answers: list[Answer]) -> Reliability:
    """reliability_of's figures for Answer rows (the same bins and definitions)."""
    return reliability_from([a.confidence for a in answers], [a.right for a in answers])


def threshold_for(answers: list[Answer], target: float = TARGET_RIGHT) -> float | None:
    """The lowest confidence at which the answers kept are ``target`` right (None: no threshold is)."""
    for t in sorted({round(a.confidence, 3) for a in answers}):
        kept = [a for a in answers if a.confidence >= t]
        if kept and sum(a.right for a in kept) / len(kept) >= target:
            return t
    return None


def _row(name: str, r: Reliability) -> str:
    return (
        f"| {name} | {r.answers} | {r.ece:.3f} | {r.ece_chance:.3f} | {r.sure} | {r.sure_right:.3f} | "
        f"{r.confidently_wrong} ({r.confidently_wrong_rate:.1%}) |"
    )


PART_KINDS = ("ident", "recap", "credits", "preview")
PART_TOLERANCE_S = 2.0
"""A part other than the intro is right with both ends within this of the truth (the structure issue's bar)."""


def part_answers(
    predictions: Path, truth_path: Path, method: str = "model", kinds: tuple[str, ...] = PART_KINDS
) -> list[Answer]:
    """The parts other than the intro of ``method`` and ``kinds`` found in a regime's answers, each right or not
    (PART_TOLERANCE_S); their trust key is their method and kind (``model:credits``, ``recurring:recap``)."""
    from introdetect.result import Kind
    from introdetect.trust import part_key

    truth = read_truth(truth_path)
    out = []
    for detection in read_result(predictions):
        for part in detection.parts:
            if part.kind == Kind.INTRO or str(part.method) != method or str(part.kind) not in kinds:
                continue
            if part.segment is None:
                continue
            if part.confidence is None:
                continue
            real = truth[detection.id].parts.get(part.kind) if detection.id in truth else None
            right = (
                real is not None
                and max(abs(real.start_s - part.segment.start_s), abs(real.end_s - part.segment.end_s))
                <= PART_TOLERANCE_S
            )
            out.append(Answer("parts", detection.id, part_key(method, part.kind), part.confidence, True, right))
    return out


REPLAYED = ("recap", "preview")
"""The parts the replayed scenes give (``detectors/replay.py``, method ``recurring``): their maps are fitted on a
new season's and two-episode seasons' answers."""


def fit_parts(answers: list[Answer]) -> dict[str, tuple[float, float, float]]:
    """Each part kind's map (the model's, the replayed scenes'): fitted where there are enough answers
    (``fit``), else the share right among them counted with one right and one wrong more (a constant map; none
    at all: 0.5)."""
    from introdetect.trust import part_key

    fitted = fit(answers)
    for key in [part_key("model", k) for k in PART_KINDS] + [part_key("recurring", k) for k in REPLAYED]:
        if key in fitted:
            continue
        rows = [a for a in answers if a.method == key]
        share = (sum(a.right for a in rows) + 1) / (len(rows) + 2)
        fitted[key] = (0.0, round(float(logit(share)), 6), 0.0)
        print(f"{key}: {len(rows)} answers, {sum(a.right for a in rows)} right: constant {share:.3f}")
    return fitted


INTRO_RIGHT = "both ends of the intro within ±1 s, or no intro where there is none"
"""What a right intro answer is, in the provenance of the maps fitted on intros."""


def _made_by(command: str, **fields: str) -> dict[str, str]:
    """A fit's provenance: its command, the date, the commit, and what it was fitted on."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True
    ).stdout.strip()
    return {"command": command, "date": str(date.today()), "commit": commit, **fields}


def _write_map(trust: TrustMap) -> None:
    """The package's map file (``TRUST_FILE``), replaced by ``trust``."""
    path = data_path(TRUST_FILE)
    path.write_text(json.dumps(trust.to_json(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")


FITS = {  # method → (regimes, the detector family's answers file) it is fitted on
    "recurring": (("season", "pairs"), "matching"),
    "known": (("known",), "matching"),
    "model": (("lone",), "model"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--predictions", type=Path, default=Path(__file__).resolve().parent / "out" / "heldout")
    parser.add_argument("--fit", action="store_true", help=f"fit the map and write the package's {TRUST_FILE}")
    parser.add_argument("--docs", action="store_true", help="write the report into docs/BENCHMARKS.md")
    parser.add_argument(
        "--parts",
        action="store_true",
        help="with --fit: fit the maps of the model's other parts (model:credits…) on the lone regime's answers "
        "(bench/heldout.py --trust own --regimes lone) and of the replayed scenes' recaps and previews "
        "(recurring:recap…) on the season and pairs regimes' (--trust own --regimes season pairs), every other "
        "map kept",
    )
    parser.add_argument(
        "--answers",
        action="store_true",
        help="fit the answer maps (TrustMap.answer: the fused intro's confidence, per method that decided it) on "
        "the validation split's fused answers made with the shipped map without them (bench/heldout.py --trust "
        "decided), every other map kept",
    )
    parser.add_argument(
        "--reach",
        action="store_true",
        help="bound the shipped map of each method (--methods, default all) at the highest confidences of its "
        "answers on the validation split (TrustMap.reach), its coefficients kept: PREDICTIONS must hold the "
        "answers of the code the map was fitted for (bench/heldout.py --trust own)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=sorted(FITS),
        help="with --fit: refit these methods only, the shipped map's others kept (a change that moves one "
        "detector's answers alone: the others' fits would come out the same from the same answers)",
    )
    more_seeds_argument(parser, "their answers (bench/heldout.py --more) under PREDICTIONS-s<seed> join in")
    args = parser.parse_args()
    sources = [(args.corpus, args.predictions)] + [(c, seed_folder(args.predictions, c)) for c in args.more]

    def load(split: str, trust: str, regimes: tuple[str, ...] = REGIMES, use: str | None = None) -> list[Answer]:
        out = []
        for corpus, predictions in sources:
            for regime in regimes:
                path = predictions / f"{split}-{trust}-{regime}.json"
                if use is not None:
                    path = path.with_suffix(f".{use}.json")
                if path.exists():
                    out += answers_of(path, corpus / f"truth_{split}.json", regime)
                else:
                    print(f"(no {path})")
        return out

    more = f" --more {' '.join(str(c) for c in args.more)}" if args.more else ""
    default = parser.get_default("predictions")
    where = f" --predictions {args.predictions}" if args.predictions != default else ""
    if args.fit and args.parts:
        answers = []
        for corpus, predictions in sources:
            truth = corpus / "truth_validation.json"
            answers += part_answers(predictions / "validation-own-lone.json", truth)
            for regime in ("season", "pairs"):  # each detector's own confidence (bench/heldout.py --trust own)
                answers += part_answers(predictions / f"validation-own-{regime}.json", truth, "recurring", REPLAYED)
        shipped = TrustMap.load()
        fitted = fit_parts(answers)
        made = _made_by(
            f"python bench/fit_trust.py --corpus {args.corpus}{more}{where} --fit --parts",
            fitted_on=f"{' + '.join(c.name for c, _ in sources)} validation, the model's parts of lone "
            "episodes and the replayed scenes' recaps and previews of the season and pairs regimes: "
            + ", ".join(f"{k} {sum(a.method == k for a in answers)}" for k in sorted(fitted)),
            right=f"both ends within ±{PART_TOLERANCE_S:g} s of the truth's part of that kind",
        )
        provenance = {**shipped.provenance, "parts": made}
        _write_map(TrustMap({**shipped.methods, **fitted}, provenance, shipped.reach))
        return
    if args.answers:
        fitting = load("validation", "decided")
        if not fitting:  # an empty fit would write a map without answer maps
            parser.error(f"no fused answers under {args.predictions}: run bench/heldout.py --trust decided first")
        shipped = TrustMap.load()
        fitted = fit(fitting)
        deciding = sorted({a.method for a in fitting})
        made = _made_by(
            f"python bench/fit_trust.py --corpus {args.corpus}{more}{where} --answers",
            fitted_on=f"{' + '.join(c.name for c, _ in sources)} validation, the fused answers of the regimes "
            f"{', '.join(REGIMES)} (bench/heldout.py --trust decided), per method that decided: "
            + ", ".join(f"{m} {sum(a.method == m for a in fitting)}" for m in deciding)
            + f"; mapped: {', '.join(sorted(fitted)) or 'none'}",
            right=INTRO_RIGHT,
        )
        provenance = {**shipped.provenance, "answers": made}
        reached = reach_of(fitting)
        decisions = shipped.decisions()
        methods = {**decisions.methods, **{answer_key(m): v for m, v in fitted.items()}}
        reach = {**decisions.reach, **{answer_key(m): reached[m] for m in fitted}}
        _write_map(TrustMap(methods, provenance, reach))
        return
    if args.fit or args.reach:
        chosen = args.methods or sorted(FITS)
        fitting = []
        for method in chosen:
            regimes, use = FITS[method]
            fitting += [a for a in load("validation", "own", regimes, use) if a.method == method]
        if not fitting:  # an empty fit would write a map without these methods' maps
            parser.error(
                f"no answers of {', '.join(chosen)} under {args.predictions}: run bench/heldout.py --trust own"
            )
        shipped = TrustMap.load()
        reach = {**shipped.reach, **reach_of(fitting)}
    if args.reach and not args.fit:
        for method, (most, most_none) in sorted(reach_of(fitting).items()):
            print(f"{method}: intros up to {most}, no intro up to {most_none}")
        methods = f" --methods {' '.join(args.methods)}" if args.methods else ""
        provenance = {
            **shipped.provenance,
            "reach": _made_by(
                f"python bench/fit_trust.py --corpus {args.corpus}{more}{where} --reach{methods}",
                on=f"{' + '.join(c.name for c, _ in sources)} validation, each detector's own answers: "
                + ", ".join(f"{m} {sum(a.method == m for a in fitting)}" for m in chosen),
            ),
        }
        _write_map(TrustMap(shipped.methods, provenance, reach))
        return
    if args.fit:
        # the answer maps are fitted on answers fusion decided under the maps refitted here: they go with them
        decisions = shipped.decisions()
        if decisions.methods != shipped.methods:
            print("the answer maps are dropped: fit them again (--answers) on answers made with this map")
        kept = {m: v for m, v in decisions.methods.items() if m not in chosen}
        reach = {m: v for m, v in reach.items() if m in kept or m in chosen}
        trust = TrustMap({**kept, **fit(fitting)}, reach=reach)
        methods = f" --methods {' '.join(args.methods)}" if args.methods else ""
        provenance = _made_by(
            f"python bench/fit_trust.py --corpus {args.corpus}{more}{where} --fit{methods}",
            fitted_on=f"{' + '.join(c.name for c, _ in sources)} validation, each detector's own answers: "
            + ", ".join(f"{m} {sum(a.method == m for a in fitting)}" for m in chosen),
            right=INTRO_RIGHT,
        )
        if kept:  # the methods not refitted keep the fit they came from
            provenance["kept"] = {"methods": sorted(kept), "from": shipped.provenance}
        _write_map(TrustMap(trust.methods, provenance, trust.reach))
        return

    threshold = threshold_for(load("validation", "shipped"))
    head = (
        "| regime | answers | ECE | ECE by chance | at ≥ 0.9 | right there | confidently wrong |\n"
        "|---|---|---|---|---|---|---|"
    )
    lines = ["The test split's fused answers, with each detector's own confidence and with the shipped map:", "", head]
    own, shipped = load("test", "own"), load("test", "shipped")
    for regime in (*REGIMES, "all"):
        for name, rows in (("own", own), ("**mapped**", shipped)):
            rows = [a for a in rows if regime in ("all", a.regime)]
            if rows:
                lines.append(_row(f"{regime}, {name}", figures(rows)))
    kept = [a for a in shipped if threshold is not None and a.confidence >= threshold]
    share = f"{sum(a.right for a in kept) / len(kept):.1%}" if kept else "–"
    lines += [
        "",
        f"--min-confidence that keeps the validation split's answers ≥ {TARGET_RIGHT:.0%} right (mapped): "
        + (f"**{threshold:g}**" if threshold is not None else "none reaches it")
        + (f"; on test it keeps {len(kept)} of {len(shipped)} answers, {share} right." if threshold else "."),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.docs:
        head_line = (
            f"`python bench/fit_trust.py --corpus {args.corpus}{more}{where} --docs` ({date.today()}, {machine()}):\n\n"
        )
        write_docs_block("trust-map", head_line + text, "Trust map (fitted on held-out packages)")


if __name__ == "__main__":
    main()
