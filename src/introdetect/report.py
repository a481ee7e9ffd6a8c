"""A self-contained HTML report of a result file: one timeline per episode and, with truth, the evaluation tables.

Pure: detections (and truth) in, HTML text out; the CLI writes it atomically. Nothing is fetched when the file
is opened (no scripts or styles from elsewhere, the pictures are inline SVG), so it can be mailed or archived.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from itertools import pairwise

from .metrics import (
    DETECTION_IOU,
    FIGURE_COLUMNS,
    KIND_COLUMNS,
    EpisodeScore,
    Truth,
    evaluate,
    figure_rows,
    harm_line,
    kind_rows,
)
from .result import Detection, Failure, Kind, Part
from .settings import DEFAULT_WINDOW_S
from .timecode import Segment
from .timeline import COLOURS, SURE, timeline_svg

CONFIDENCE_BINS = (0.0, 0.3, 0.5, SURE, 0.9, 1.0001)
"""Bins of the confidence histogram: SURE (0.7) is where the design sends an answer to matching or a person."""

STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1000px; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; } th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
.episode { margin: 0.8em 0 1.2em; } .episode h3 { font-size: 0.95em; margin: 0 0 0.2em; }
.episode .meta { font-size: 0.8em; color: #555; margin-bottom: 0.2em; }
.wrong h3 { color: #d0342c; } .note { font-style: italic; }
svg.timeline { max-width: 100%; height: auto; }
.legend span { display: inline-block; margin-right: 1em; font-size: 0.8em; }
.legend i { display: inline-block; width: 14px; height: 10px; margin-right: 4px; vertical-align: middle; }
#filters { font-size: 0.9em; margin: 0.6em 0; }
"""

SCRIPT = """
function applyFilter() {
  const onlyWrong = document.getElementById('only-wrong');
  const onlyUnsure = document.getElementById('only-unsure');
  document.querySelectorAll('.episode').forEach(function (el) {
    const hide = (onlyWrong && onlyWrong.checked && !el.classList.contains('wrong')) ||
                 (onlyUnsure && onlyUnsure.checked && !el.classList.contains('unsure'));
    el.style.display = hide ? 'none' : '';
  });
}
document.querySelectorAll('#filters input').forEach(function (el) { el.addEventListener('change', applyFilter); });
"""


def _range(segment: Segment | None) -> str:
    return "no intro" if segment is None else str(segment)


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _legend(has_truth: bool) -> str:
    items = [
        ("model P(intro) per 10 s window (dashed: 0.7)", COLOURS["curve"]),
        ("recurs in other episodes", COLOURS["match"]),
        ("a known intro of the series", COLOURS["known"]),
        ("answer", COLOURS["answer"]),
    ]
    if has_truth:
        items += [("answer, wrong (IoU < 0.5)", COLOURS["wrong"]), ("truth", COLOURS["truth"])]
    return (
        '<p class="legend">'
        + "".join(f'<span><i style="background:{c}"></i>{escape(t)}</span>' for t, c in items)
        + "</p>"
    )


def _intro(d: Detection) -> Part | None:
    return d.part(Kind.INTRO)


def _confidence(d: Detection) -> float | None:
    part = _intro(d)
    return part.confidence if part is not None else None


def _method(d: Detection) -> str:
    part = _intro(d)
    return str(part.method) if part is not None else "–"


def _summary(detections: Sequence[Detection]) -> str:
    methods = Counter(_method(d) for d in detections)
    intros = sum(d.intro is not None for d in detections)
    edges = list(pairwise(CONFIDENCE_BINS))
    confidences = [c for d in detections if (c := _confidence(d)) is not None]
    counts = [sum(lo <= c < hi for c in confidences) for lo, hi in edges]
    bins = [f"{lo:.1f}–{min(hi, 1.0):.1f}" for lo, hi in edges]
    unsure = sum(c < SURE for c in confidences)
    return (
        f"<p>{len(detections)} episodes: {intros} with an intro, {len(detections) - intros} without. "
        f"{unsure} answered with confidence below {SURE} (worth a look in <code>introdetect review</code>).</p>"
        + _table(["method", *methods], [["episodes", *(str(n) for n in methods.values())]])
        + _table(["confidence", *bins], [["episodes", *(str(n) for n in counts)]])
    )


ONLY = ("all", "wrong", "unsure")
"""Which episodes get a timeline: all, only the wrong answers (with truth), only those below SURE. The tables
always cover every episode; a library of thousands is read through its wrong or unsure ones."""


def build_report(
    detections: Sequence[Detection],
    truth: Mapping[str, Truth] | None = None,
    title: str = "introdetect",
    window_s: float = DEFAULT_WINDOW_S,
    generated: datetime | None = None,
    only: str = "all",
    failures: Sequence[Failure] = (),
) -> str:
    """The report's HTML. ``truth`` (id → Truth): adds the evaluation tables and marks wrong answers; truth ids
    the result has no answer for are listed apart, as not analysed. ``only``: which episodes get a timeline
    (ONLY). ``failures``: files that could not be analysed (listed)."""
    if only not in ONLY or (only == "wrong" and truth is None):
        raise ValueError(f"only must be one of {', '.join(ONLY)} ('wrong' needs the truth), got {only!r}")
    generated = generated or datetime.now(UTC)
    head = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"
        f"<p>Made by introdetect on {generated:%Y-%m-%d %H:%M} UTC.</p>"
    )
    parts = [head, _summary(detections)]
    scores = {}
    if truth is not None:
        evaluation = evaluate({d.id: d for d in detections}, truth, window_s)
        missing = set(evaluation.missing_predictions)
        scores = {e.id: e for e in evaluation.episodes}
        parts.append("<h2>Evaluation against the truth</h2>")
        parts.append(
            f"<p>Detection: right when IoU ≥ {DETECTION_IOU}; boundary errors over episodes where both "
            "have an intro; strata from the truth (length, late start, tags).</p>"
        )
        parts.append(_table(FIGURE_COLUMNS, [[escape(c) for c in row] for row in figure_rows(evaluation)]))
        if evaluation.kinds:
            parts.append("<h3>The other parts</h3>")
            parts.append(_table(KIND_COLUMNS, [[escape(c) for c in row] for row in kind_rows(evaluation)]))
        harm = harm_line(evaluation)
        if harm:
            parts.append(f"<p>Harm: {escape(harm)}.</p>")
        wrong = [e for e in evaluation.episodes if e.iou < DETECTION_IOU and e.id not in missing]
        if wrong:
            rows = [
                [
                    f'<a href="#{escape(e.id)}">{escape(e.id)}</a>',
                    _range(e.predicted),
                    _range(e.truth),
                    f"{e.iou:.2f}",
                    escape(str(e.method) if e.method else "–"),
                ]
                for e in wrong
            ]
            parts.append(f"<h2>Wrong answers ({len(wrong)})</h2>")
            parts.append(_table(["episode", "answer", "truth", "IoU", "method"], rows))
        if missing:
            names = evaluation.missing_predictions
            parts.append(f"<h2>Not analysed ({len(names)})</h2>")
            parts.append(
                f"<p>{len(names)} episodes of the truth have no answer in this result (not analysed, or failed); "
                "the tables above score them as answered \u201cno intro\u201d: "
                + escape(", ".join(names[:50]) + (" …" if len(names) > 50 else ""))
                + "</p>"
            )
    if failures:
        parts.append(
            f"<h2>Failed ({len(failures)})</h2><ul>"
            + "".join(f"<li>{escape(f.message)}</li>" for f in failures)
            + "</ul>"
        )
    parts.append("<h2>Episodes</h2>")
    parts.append(_legend(truth is not None))
    parts.append(
        '<div id="filters">'
        + ('<label><input type="checkbox" id="only-wrong"> only wrong answers</label> ' if truth is not None else "")
        + f'<label><input type="checkbox" id="only-unsure"> only confidence below {SURE}</label></div>'
    )
    by_series: dict[str, list[Detection]] = defaultdict(list)
    for d in detections:
        by_series[d.series or "(no series)"].append(d)
    shown = 0
    for series, members in sorted(by_series.items()):
        chosen = [d for d in sorted(members, key=lambda d: d.id) if _chosen(d, only, scores.get(d.id))]
        if not chosen:
            continue
        parts.append(f"<h2>{escape(series)} ({len(chosen)} of {len(members)})</h2>")
        parts.extend(_episode(d, truth, scores.get(d.id)) for d in chosen)
        shown += len(chosen)
    if only != "all":
        parts.append(
            f"<p>{shown} episode{'' if shown == 1 else 's'} shown "
            f"({'wrong answers' if only == 'wrong' else f'confidence below {SURE}'} only) "
            f"of {sum(map(len, by_series.values()))}.</p>"
        )
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(parts)


def _chosen(d: Detection, only: str, score: EpisodeScore | None) -> bool:
    if only == "wrong":
        return score is not None and score.iou < DETECTION_IOU
    if only == "unsure":
        confidence = _confidence(d)
        return confidence is None or confidence < SURE
    return True


def _episode(d: Detection, truth: Mapping[str, Truth] | None, score: EpisodeScore | None) -> str:
    t = truth.get(d.id) if truth is not None else None
    has_truth = truth is not None and t is not None
    classes = ["episode"]
    meta = [f"answer {_range(d.intro)}", f"method {escape(_method(d))}"]
    if d.version_of:  # a copy: its answers are its representative's, mapped onto its audio
        meta.append(f'version of <a href="#{escape(d.version_of)}">{escape(d.version_of)}</a>')
    confidence = _confidence(d)
    if confidence is not None:
        meta.append(f"confidence {confidence:.2f}")
        if confidence < SURE:
            classes.append("unsure")
    if score is not None:
        meta.append(f"truth {_range(score.truth)}")
        if score.start_error_s is not None and score.end_error_s is not None:
            meta.append(f"errors start {score.start_error_s:.2f} s, end {score.end_error_s:.2f} s")
        meta.append(f"IoU {score.iou:.2f}")
        if score.iou < DETECTION_IOU:
            classes.append("wrong")
    part = _intro(d)
    note = f'<div class="meta note">{escape(part.note)}</div>' if part is not None and part.note else ""
    svg = timeline_svg(d, t.intro if t is not None else None, has_truth=has_truth)
    return (
        f'<div class="{" ".join(classes)}" id="{escape(d.id)}"><h3>{escape(d.id)}</h3>'
        f'<div class="meta">{" · ".join(meta)}</div>{note}{svg}</div>'
    )
