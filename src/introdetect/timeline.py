"""One episode's analysis as a timeline picture (SVG text): the model's probability curve, the recurring segments,
the answer and the truth, over the analysed window or a part of it. Pure: a Detection in, a string out; the
report embeds it, the review page draws its own current boundaries over it (the ``data-`` attributes on the
root map seconds to x).

Lanes, top to bottom: P(intro) per window (filled curve, with the design's 0.7 line), what recurred (one bar per
match, darker the likelier the scorer thought it the intro, labelled with how many episodes share it), the
intro answered (with the method and confidence), a lane per other kind found (ident, recap, credits, preview: a
colour each; one beyond a close view is named with its times at the lane's end), the truth when given. Every
boundary of the intro is drawn as a line across all lanes, so a reader sees at once which evidence it follows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from .fusion import MODEL_SURE
from .metrics import DETECTION_IOU
from .result import Detection, Evidence, Kind, Method
from .timecode import Segment

WIDTH_PX = 960
"""Drawing width: fits a laptop screen beside nothing else; the picture scales down with the page."""

LABEL_PX = 92
"""Left margin for the lane names."""

LANE_PX = {"curve": 46, "matches": 18, "answer": 18, "truth": 18, **{str(k): 18 for k in Kind if k != Kind.INTRO}}
"""Lane heights: the curve needs room to read 0.5 from 0.7; bars only need to be seen."""

GAP_PX = 6
AXIS_PX = 18
MIN_BAR_PX = 2.0
"""A 2 s sting over an 8-minute window is 4 px wide: never thinner than this, or it vanishes."""

SURE = MODEL_SURE
"""The design's threshold, drawn on the model's P(intro) curve (below it the model is unsure: fusion.MODEL_SURE;
the curve is the model's own probability, not the mapped confidence that --min-confidence compares)."""

COLOURS = {
    "curve": "#3b7dd8",
    "match": "#e08a1e",
    "known": "#8e44ad",
    "answer": "#2e9d4f",
    "truth": "#333333",
    "wrong": "#d0342c",
    "grid": "#dddddd",
}

KIND_COLOURS = {
    Kind.IDENT: "#7f8c8d",
    Kind.RECAP: "#16a085",
    Kind.CREDITS: "#2c3e91",
    Kind.PREVIEW: "#c0398b",
}
"""The other parts' lanes (one per kind found): a colour per kind."""


@dataclass(frozen=True)
class Span:
    """The seconds the picture covers."""

    start_s: float
    end_s: float

    @property
    def length_s(self) -> float:
        return self.end_s - self.start_s


def _evidence(detection: Detection) -> Evidence:
    part = detection.part(Kind.INTRO)
    return part.evidence if part is not None else Evidence()


def episode_span(detection: Detection, truth: Segment | None = None) -> Span:
    """The whole analysed window, or the whole episode where a part found in its tail (credits, a preview) lies
    past it; without those records, enough to show every segment drawn."""
    evidence = _evidence(detection)
    ends = [s.end_s for s in (detection.intro, truth) if s is not None]
    ends += [m.segment.end_s for m in evidence.matches]
    ends += [p.segment.end_s for p in detection.parts if p.segment is not None]
    if evidence.curve is not None and evidence.curve.values:
        ends.append(evidence.curve.start_s + evidence.curve.step_s * (len(evidence.curve.values) - 0.5))
    if detection.analysed_s:
        reach = max([detection.analysed_s, *ends])
        if reach > detection.analysed_s and detection.duration_s:
            reach = max(reach, detection.duration_s)
        return Span(0.0, reach)
    return Span(0.0, max([60.0, *(e + 10.0 for e in ends)]))


def zoom_span(detection: Detection, around: Segment | None, margin_s: float = 15.0) -> Span:
    """A close view of ``around`` (the current answer) with ``margin_s`` either side, inside the episode's span."""
    whole = episode_span(detection)
    if around is None:
        return Span(whole.start_s, min(whole.end_s, 60.0))
    return Span(max(whole.start_s, around.start_s - margin_s), min(whole.end_s, around.end_s + margin_s))


def _tick_step(length_s: float) -> float:
    for step in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600):
        if length_s / step <= 12:
            return float(step)
    return 1200.0


def _clock(t: float, step: float) -> str:
    if step < 1:
        return f"{int(t // 60)}:{t % 60:04.1f}"
    return f"{int(t // 60)}:{round(t % 60):02d}"


def timeline_svg(
    detection: Detection,
    truth: Segment | None = None,
    has_truth: bool = False,
    span: Span | None = None,
    width: int = WIDTH_PX,
) -> str:
    """The SVG text of one episode's timeline. ``has_truth``: draw the truth lane (``truth`` None there means
    the truth is "no intro")."""
    span = span or episode_span(detection, truth)
    plot_w = width - LABEL_PX - 8
    others = [p for p in detection.parts if p.kind != Kind.INTRO and p.segment is not None]
    lanes = ["curve", "matches", "answer"] + [str(p.kind) for p in others] + (["truth"] if has_truth else [])
    tops: dict[str, float] = {}
    y = 4.0
    for lane in lanes:
        tops[lane] = y
        y += LANE_PX[lane] + GAP_PX
    height = y + AXIS_PX

    def x(t: float) -> float:
        return LABEL_PX + (min(max(t, span.start_s), span.end_s) - span.start_s) / span.length_s * plot_w

    def bar(segment: Segment, lane: str, colour: str, opacity: float = 1.0, title: str = "", label: str = "") -> str:
        x0, x1 = x(segment.start_s), x(segment.end_s)
        if x1 <= LABEL_PX or x0 >= LABEL_PX + plot_w or segment.end_s < span.start_s or segment.start_s > span.end_s:
            return ""
        w = max(x1 - x0, MIN_BAR_PX)
        top, h = tops[lane] + 2, LANE_PX[lane] - 4
        text = (
            f'<text x="{x0 + w + 3:.1f}" y="{top + h - 3:.1f}" font-size="10" fill="#444">{escape(label)}</text>'
            if label
            else ""
        )
        return (
            f'<rect x="{x0:.1f}" y="{top:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}" '
            f'fill-opacity="{opacity:.2f}"><title>{escape(title)}</title></rect>{text}'
        )

    parts: list[str] = []
    names = {
        "curve": "model P(intro)",
        "matches": "recurs",
        "answer": "intro",
        "truth": "truth (intro)",
        **{str(k): str(k) for k in KIND_COLOURS},
    }
    for lane in lanes:
        parts.append(
            f'<text x="4" y="{tops[lane] + LANE_PX[lane] / 2 + 4:.1f}" font-size="11" fill="#333">{names[lane]}</text>'
        )
        parts.append(
            f'<rect x="{LABEL_PX}" y="{tops[lane]:.1f}" width="{plot_w}" height="{LANE_PX[lane]}" fill="#f7f7f7"/>'
        )
    step = _tick_step(span.length_s)
    t = math.ceil(span.start_s / step) * step
    while t <= span.end_s + 1e-9:
        parts.append(
            f'<line x1="{x(t):.1f}" y1="4" x2="{x(t):.1f}" y2="{height - AXIS_PX:.1f}" '
            f'stroke="{COLOURS["grid"]}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{x(t):.1f}" y="{height - 5:.1f}" font-size="10" text-anchor="middle" '
            f'fill="#555">{_clock(t, step)}</text>'
        )
        t += step

    part = detection.part(Kind.INTRO)
    evidence = _evidence(detection)
    recorded = detection.analysed_s is not None or evidence != Evidence()  # a result of detect, not a label file
    # the model's curve
    top, h = tops["curve"], LANE_PX["curve"]
    if evidence.curve is not None and evidence.curve.values:
        times = evidence.curve.times()
        points = [
            (x(float(ti)), top + h - v * h)
            for ti, v in zip(times, evidence.curve.values, strict=True)
            if span.start_s - evidence.curve.step_s <= ti <= span.end_s + evidence.curve.step_s
        ]
        if points:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(
                f'<polygon points="{points[0][0]:.1f},{top + h:.1f} {path} {points[-1][0]:.1f},{top + h:.1f}" '
                f'fill="{COLOURS["curve"]}" fill-opacity="0.25" stroke="none"/>'
            )
            parts.append(f'<polyline points="{path}" fill="none" stroke="{COLOURS["curve"]}" stroke-width="1.5"/>')
        sure_y = top + h - SURE * h
        parts.append(
            f'<line x1="{LABEL_PX}" y1="{sure_y:.1f}" x2="{LABEL_PX + plot_w}" y2="{sure_y:.1f}" '
            f'stroke="{COLOURS["curve"]}" stroke-dasharray="3,3" stroke-width="0.8"/>'
        )
        model = evidence.model
        if model is not None and model.segment is not None:
            confidence = "" if model.confidence is None else f" ({model.confidence:.2f})"
            parts.append(bar(model.segment, "curve", COLOURS["curve"], 0.18, f"model: {model.segment}{confidence}"))
    else:
        parts.append(
            f'<text x="{LABEL_PX + 6}" y="{top + h / 2 + 4:.1f}" font-size="10" fill="#999">no model output</text>'
        )
    # what recurred
    if evidence.matches:
        for m in evidence.matches:
            known = m.method == Method.KNOWN
            colour = COLOURS["known"] if known else COLOURS["match"]
            shared = "known" if known else f"{len(m.partners)} ep."
            title = f"{m.method}: {m.segment}, p={m.probability:.2f}, with " + (
                ", ".join(m.partners[:6]) + (" …" if len(m.partners) > 6 else "")
            )
            parts.append(bar(m.segment, "matches", colour, 0.3 + 0.7 * m.probability, title, shared))
    elif recorded:
        parts.append(
            f'<text x="{LABEL_PX + 6}" y="{tops["matches"] + 13:.1f}" font-size="10" fill="#999">nothing recurs</text>'
        )
    # the answer and the truth
    wrong = has_truth and not _agrees(detection.intro, truth)
    method = str(part.method) if part is not None else "–"
    conf = "" if part is None or part.confidence is None else f" {part.confidence:.2f}"
    if detection.intro is not None:
        parts.append(
            bar(
                detection.intro,
                "answer",
                COLOURS["wrong"] if wrong else COLOURS["answer"],
                1.0,
                f"answer: {detection.intro} ({method}{conf})",
                f"{detection.intro} {method}{conf}",
            )
        )
    else:
        parts.append(
            f'<text x="{LABEL_PX + 6}" y="{tops["answer"] + 13:.1f}" font-size="10" '
            f'fill="{COLOURS["wrong"] if wrong else "#666"}">no intro ({method}{conf})</text>'
        )
    for other in others:  # a lane per kind found
        assert other.segment is not None
        conf = "" if other.confidence is None else f" {other.confidence:.2f}"
        lane = str(other.kind)
        drawn = bar(
            other.segment,
            lane,
            KIND_COLOURS[other.kind],
            0.85,
            f"{other.kind}: {other.segment} ({other.method}{conf})",
            f"{other.segment} {other.method}{conf}",
        )
        parts.append(
            drawn
            or f'<text x="{LABEL_PX + plot_w - 4}" y="{tops[lane] + 13:.1f}" font-size="10" text-anchor="end" '
            f'fill="#666">beyond this view: {escape(str(other.segment))}</text>'
        )
    if has_truth:
        if truth is not None:
            parts.append(bar(truth, "truth", COLOURS["truth"], 0.85, f"truth: {truth}", str(truth)))
        else:
            parts.append(
                f'<text x="{LABEL_PX + 6}" y="{tops["truth"] + 13:.1f}" font-size="10" fill="#666">no intro</text>'
            )
    if detection.intro is not None:
        for t in (detection.intro.start_s, detection.intro.end_s):
            if span.start_s <= t <= span.end_s:
                parts.append(
                    f'<line x1="{x(t):.1f}" y1="4" x2="{x(t):.1f}" y2="{height - AXIS_PX:.1f}" '
                    f'stroke="{COLOURS["answer"]}" stroke-width="1" stroke-opacity="0.6"/>'
                )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {width} {height:.0f}" '
        f'width="{width}" height="{height:.0f}" font-family="sans-serif" data-t0="{span.start_s:.3f}" '
        f'data-t1="{span.end_s:.3f}" data-x0="{LABEL_PX}" data-x1="{LABEL_PX + plot_w}" '
        f'data-y1="{height - AXIS_PX:.0f}" role="img" aria-label="timeline of {escape(detection.id)}">'
        + "".join(parts)
        + "</svg>"
    )


def _agrees(answer: Segment | None, truth: Segment | None, iou: float = DETECTION_IOU) -> bool:
    """Right by the detection criterion of the metrics (IoU ≥ DETECTION_IOU, or both "no intro")."""
    if answer is None or truth is None:
        return answer is None and truth is None
    return answer.iou(truth) >= iou
