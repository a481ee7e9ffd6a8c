"""The timeline picture and the HTML report: pure functions of detections (and truth)."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

from typer.testing import CliRunner

from introdetect._cli import app
from introdetect.metrics import Truth
from introdetect.report import build_report
from introdetect.result import Curve, Detection, Evidence, Kind, Match, Method, Opinion, Part
from introdetect.timecode import Segment
from introdetect.timeline import MIN_BAR_PX, Span, timeline_svg, zoom_span

runner = CliRunner()


def _detection(intro: Segment | None = Segment(60.0, 62.0), **kw) -> Detection:  # noqa: B008
    curve = Curve(5.0, 5.0, tuple([0.0] * 11 + [0.9, 0.8] + [0.0] * 80))
    evidence = Evidence(
        curve=curve,
        model=Opinion(Segment(59.0, 63.0), 0.8, Method.MODEL),
        matches=(Match(Segment(60.2, 62.1), ("a", "b"), 0.95), Match(Segment(400, 430), ("a",), 0.2)),
    )
    part = Part(
        Kind.INTRO,
        intro,
        kw.pop("confidence", 0.9),
        kw.pop("method", Method.RECURRING),
        kw.pop("note", None),
        evidence,
    )
    return Detection(kw.pop("id", "show_s01e01"), (part,), "show", analysed_s=480.0, **kw)


def _rects(svg: str) -> list[dict]:
    root = ElementTree.fromstring(svg)
    return [el.attrib for el in root.iter("{http://www.w3.org/2000/svg}rect")]


def test_the_timeline_maps_seconds_to_x_and_draws_every_lane() -> None:
    d = _detection()
    svg = timeline_svg(d, Segment(60.5, 62.0), has_truth=True)
    root = ElementTree.fromstring(svg)  # well-formed XML
    x0, x1, t1 = float(root.get("data-x0")), float(root.get("data-x1")), float(root.get("data-t1"))
    assert float(root.get("data-t0")) == 0.0 and t1 == 480.0
    titles = {el.text.split(":")[0] for el in root.iter("{http://www.w3.org/2000/svg}title")}
    assert {"recurring", "answer", "truth", "model"} <= titles
    answer = next(r for r in _rects(svg) if r.get("fill") == "#2e9d4f")  # right (IoU 0.75): green
    assert answer is not None
    # a 2 s intro over 480 s is drawn at least MIN_BAR_PX wide, where 60 s falls
    assert abs(float(answer["x"]) - (x0 + 60 / 480 * (x1 - x0))) < 0.1 and float(answer["width"]) >= MIN_BAR_PX
    assert "<polyline" in svg  # the curve


def test_a_wrong_answer_is_drawn_red_and_no_intro_is_said_in_words() -> None:
    svg = timeline_svg(_detection(), Segment(100.0, 130.0), has_truth=True)
    assert any(r.get("fill") == "#d0342c" for r in _rects(svg))
    svg = timeline_svg(_detection(None, confidence=0.4), None, has_truth=True)
    assert "no intro (recurring 0.40)" in svg and svg.count(">no intro<") == 1  # the truth lane says it too


def test_every_other_part_has_a_lane_of_its_own_and_the_tail_is_shown() -> None:
    """Credits in the tail (past the analysed head) and a recap: a lane each, named; the full view reaches the
    episode's end; a close view of the intro names the credits beyond it with their times."""
    d = _detection(duration_s=1500.0)
    d = d.with_part(Part(Kind.CREDITS, Segment(1400.0, 1460.0), 0.8, Method.RECURRING))
    d = d.with_part(Part(Kind.RECAP, Segment(5.0, 40.0), 0.7, Method.RECURRING))
    d = d.with_part(Part(Kind.PREVIEW, None, 0.9, Method.RECURRING))  # none found: no lane
    svg = timeline_svg(d)
    root = ElementTree.fromstring(svg)
    names = {el.text for el in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"intro", "recap", "credits"} <= names and "preview" not in names
    assert float(root.get("data-t1")) == 1500.0
    fills = {r.get("fill") for r in _rects(svg)}
    assert {"#16a085", "#2c3e91"} <= fills  # recap, credits
    close = timeline_svg(d, span=zoom_span(d, d.intro))
    assert "beyond this view: 0:23:20.0–0:24:20.0" in close


def test_a_zoom_covers_the_intro_with_margins_and_finer_ticks() -> None:
    d = _detection()
    span = zoom_span(d, d.intro)
    assert span == Span(45.0, 77.0)
    svg = timeline_svg(d, span=span)
    ticks = re.findall(r">(\d+:\d\d(?:\.\d)?)</text>", svg)
    assert "1:00" in ticks and "0:50" in ticks


def test_text_from_the_result_is_escaped() -> None:
    svg = timeline_svg(_detection(id='<script>alert("x")</script>'))
    assert "<script>" not in svg
    html = build_report([_detection(id="<b>x</b>", note="<img src=x onerror=alert(1)>")])
    assert "<img src=x" not in html and "<b>x</b>" not in html


def test_the_report_with_truth_has_the_tables_and_lists_the_wrong_answers() -> None:
    right, wrong = _detection(id="e1"), _detection(Segment(200.0, 230.0), id="e2", confidence=0.5)
    truth = {"e1": Truth(Segment(60.0, 62.0)), "e2": Truth(Segment(60.0, 62.0)), "e3": Truth(None)}
    html = build_report([right, wrong], truth)
    assert "Evaluation against the truth" in html and "Wrong answers (1)" in html
    assert '<a href="#e2">e2</a>' in html and '<a href="#e1">' not in html
    assert 'class="episode unsure wrong" id="e2"' in html and 'class="episode" id="e1"' in html
    assert "Not analysed (1)" in html and '<a href="#e3">' not in html and html.count("<svg") == 2
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")  # nothing fetched from elsewhere


def test_report_command_writes_html_and_bad_input_is_one_line(tmp_path: Path) -> None:
    import json

    result_file = tmp_path / "r.json"
    result_file.write_text(json.dumps({"e1": {**_detection(id="e1").to_json(), "path": None}}), encoding="utf-8")
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(result_file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    bad = tmp_path / "bad.json"
    bad.write_text('{"e1": {"start": "0:00:10", "end": "0:00:05"}}', encoding="utf-8")
    result = runner.invoke(app, ["report", str(bad)])
    assert result.exit_code == 1 and "bad.json: e1: end" in result.output
    result = runner.invoke(app, ["report", str(result_file), "--truth", str(tmp_path / "none.json")])
    assert result.exit_code == 1 and "none.json: no such file" in result.output


def test_a_large_library_is_read_through_its_wrong_or_unsure_episodes() -> None:
    right, wrong = _detection(id="e1"), _detection(Segment(200.0, 230.0), id="e2", confidence=0.95)
    unsure = _detection(id="e3", confidence=0.4)
    truth = {"e1": Truth(Segment(60.0, 62.0)), "e2": Truth(Segment(60.0, 62.0)), "e3": Truth(Segment(60.0, 62.0))}
    html = build_report([right, wrong, unsure], truth, only="wrong")
    assert html.count("<svg") == 1 and 'id="e2"' in html and "1 episode shown" in html
    assert "<td>overall</td><td>3</td>" in html  # the tables still cover every episode
    html = build_report([right, wrong, unsure], truth, only="unsure")
    assert html.count("<svg") == 1 and 'id="e3"' in html
    result = runner.invoke(app, ["report", "x.json", "--only", "maybe"])
    assert result.exit_code == 2
