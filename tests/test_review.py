"""The review page: the reviewed-labels store (atomic, merging, stale views refused), the server's rules (which
media it serves, to whom), the page in a real browser (Debian's chromium driven by Playwright), and the whole
journey detect → review → finetune with the commands alone."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from introdetect._cli import app as cli
from introdetect.labels import read_labels
from introdetect.metrics import evaluate, read_truth
from introdetect.model.file import ModelFile
from introdetect.result import Kind, Method, Part, read_result, write_result
from introdetect.review import Decision, ReviewFileError, ReviewStore, StaleDecision
from introdetect.review.app import (
    ReviewSession,
    create_app,
    media_length_s,
    media_of,
    preview_length_s,
    running,
)
from introdetect.timecode import Segment

runner = CliRunner()
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package (make test installs it); Playwright cannot download one here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# --- the store ---------------------------------------------------------------------------------------------------


def test_decisions_are_saved_in_the_label_format_with_who_when_how(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "reviewed.json")
    entry = store.decide("ep1", Decision("corrected", Segment(41.7, 46.85), "ann", {"method": "recurring"}), None)
    store.decide("ep2", Decision("no_intro", None, "bob"), None)
    assert entry["revision"] == 1 and entry["decision"] == "corrected" and entry["reviewed_by"] == "ann"
    assert entry["reviewed_at"].endswith("Z") and entry["method"] == "review"
    labels = read_labels(tmp_path / "reviewed.json")  # what train/finetune read
    assert labels.get("ep1").segment == Segment(41.7, 46.85) and labels.get("ep2").no_intro
    answers = {d.id: d for d in read_result(tmp_path / "reviewed.json")}
    assert answers["ep1"].intro.start_s == 41.7 and answers["ep2"].intro is None
    assert not list(tmp_path.glob(".reviewed.json.part-*"))  # nothing left half-way


def test_two_views_never_lose_each_others_decisions(tmp_path: Path) -> None:
    path = tmp_path / "reviewed.json"
    tab_a, tab_b = ReviewStore(path), ReviewStore(path)  # two servers (or tabs) on one file
    tab_a.decide("ep1", Decision("confirmed", Segment(1, 5), "ann"), None)
    tab_b.decide("ep2", Decision("confirmed", Segment(2, 6), "bob"), None)  # B never saw ep1: still kept
    assert set(tab_a.load()) == {"ep1", "ep2"}
    with pytest.raises(StaleDecision) as stale:  # B decides ep1 from a view that predates A's decision
        tab_b.decide("ep1", Decision("no_intro", None, "bob"), None)
    assert stale.value.current["reviewed_by"] == "ann"
    assert tab_b.load()["ep1"]["decision"] == "confirmed"
    tab_b.decide("ep1", Decision("no_intro", None, "bob"), 1)  # having seen it, B may change it
    assert tab_a.load()["ep1"]["revision"] == 2
    with pytest.raises(StaleDecision):
        tab_a.undo("ep1", 1)
    tab_a.undo("ep1", 2)
    assert set(tab_b.load()) == {"ep2"}


def test_concurrent_decisions_from_threads_all_land(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "reviewed.json")
    threads = [
        threading.Thread(target=store.decide, args=(f"ep{i}", Decision("confirmed", Segment(i, i + 5), "t"), None))
        for i in range(24)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.load()) == 24


def test_a_file_that_is_not_ours_is_refused_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "reviewed.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ReviewFileError, match="reviewed.json: not JSON.*refusing"):
        ReviewStore(path)
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ReviewFileError, match="not a label file"):
        ReviewStore(path)
    assert path.read_text(encoding="utf-8") == "[1, 2]"


def test_a_decision_must_be_a_real_intro_or_none() -> None:
    with pytest.raises(ValueError, match="decision must be one of"):
        Decision("maybe", None, "x")
    with pytest.raises(ValueError, match="no start and end"):
        Decision("no_intro", Segment(1, 2), "x")
    with pytest.raises(ValueError, match="need both"):
        Decision("confirmed", None, "x")
    with pytest.raises(ValueError, match="'none of it' is 'none' for the credits"):
        Decision("no_intro", None, "x", kind=Kind.CREDITS)
    with pytest.raises(ValueError, match="'none of it' is 'no_intro' for the intro"):
        Decision("none", None, "x")
    with pytest.raises(ValueError, match="the recap must start at or after 0"):
        Decision("corrected", Segment(2, 2), "x", kind=Kind.RECAP)


def test_every_part_is_decided_on_its_own_and_read_back_as_labels(tmp_path: Path) -> None:
    """A decision of one part keeps the episode's others; the file is the label format with the optional part
    keys; an episode whose intro nobody decided says nothing of its intro (never "no intro")."""
    path = tmp_path / "reviewed.json"
    store = ReviewStore(path)
    store.decide("ep1", Decision("corrected", Segment(41.7, 46.85), "ann"), None)
    entry = store.decide("ep1", Decision("corrected", Segment(1260.25, 1330.0), "ann", kind=Kind.CREDITS), 1)
    assert entry["decision"] == "corrected" and entry["start_sec"] == 41.7  # the intro's decision stays
    assert entry["credits_start"] == "0:21:00.250" and entry["reviews"]["credits"]["reviewed_by"] == "ann"
    store.decide("ep1", Decision("none", None, "bob", kind=Kind.PREVIEW), 2)
    store.decide("ep2", Decision("confirmed", Segment(30.0, 75.5), "bob", kind=Kind.RECAP), None)
    labels = read_labels(path)
    one, two = labels.get("ep1"), labels.get("ep2")
    assert one.segment == Segment(41.7, 46.85) and one.part("credits") == Segment(1260.25, 1330.0)
    assert dict(one.parts) == {"credits": Segment(1260.25, 1330.0), "preview": None}
    assert two.part("recap") == Segment(30.0, 75.5) and not two.no_intro and not two.usable and not two.defects
    truth = read_truth(path)
    assert truth["ep1"].states(Kind.PREVIEW) and truth["ep1"].span(Kind.PREVIEW) is None
    assert not truth["ep2"].states(Kind.INTRO) and truth["ep2"].states(Kind.RECAP)
    # scored: ep2 only for its recap, never as an episode without intro
    found = {d.id: d for d in read_result(path)}
    scores = evaluate(found, truth)
    assert [s.id for s in scores.episodes] == ["ep1"] and scores.kinds["recap"].hits["±1s"] == 1.0
    # undo takes back one part; the entry goes with its last decision
    left = store.undo("ep1", 3, Kind.CREDITS)
    assert left is not None and "credits_start" not in left and left["decision"] == "corrected"
    assert set(left["reviews"]) == {"preview"} and left["revision"] == 4
    assert store.undo("ep2", 1, Kind.RECAP) is None and set(store.load()) == {"ep1"}


# --- a result to review: detect over the tiny corpus's test split -----------------------------------------------


@pytest.fixture(scope="module")
def result(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("review") / "result.json"
    done = runner.invoke(cli, ["detect", str(tiny_corpus / "test"), "--out", str(out), "--no-progress"])
    assert done.exit_code == 0, done.output
    return out


def _session(result: Path, reviewed: Path, **kw) -> ReviewSession:
    detections = read_result(result)
    return ReviewSession(detections, ReviewStore(reviewed), media_of(detections), reviewer="tester", **kw)


def _client(session: ReviewSession, host: str = "127.0.0.1:8765") -> TestClient:
    return TestClient(create_app(session), base_url=f"http://{host}")


# --- the server's rules ------------------------------------------------------------------------------------------


def test_only_the_results_media_are_served(result: Path, tmp_path: Path) -> None:
    session = _session(result, tmp_path / "r.json")
    client = _client(session)
    first = next(iter(session.media))
    response = client.get(f"/media/{first}", headers={"Range": "bytes=0-99"})
    assert response.status_code == 206 and len(response.content) == 100  # seeking needs ranges
    secret = tmp_path / "secret.txt"
    secret.write_text("secret", encoding="utf-8")
    for attempt in (
        "/media/..%2F..%2Fetc%2Fpasswd",
        "/media/../../etc/passwd",
        f"/media/{secret}",
        "/media/%2Fetc%2Fpasswd",
        f"/media/{first}%2F..%2F..%2Fsecret.txt",
        "/static/..%2Fstore.py",
        "/static/%2Fetc%2Fpasswd",
        "/media/unknown_id",
    ):
        response = client.get(attempt)
        assert response.status_code == 404, attempt
        assert b"root:" not in response.content and b"secret" not in response.content


def test_loopback_answers_only_its_own_names_and_its_own_page(result: Path, tmp_path: Path) -> None:
    session = _session(result, tmp_path / "r.json")
    assert _client(session).get("/api/episodes").status_code == 200
    assert _client(session, "localhost:8765").get("/api/episodes").status_code == 200
    assert _client(session, "evil.example:8765").get("/api/episodes").status_code == 403  # DNS rebinding
    vid = session.detections[0].id
    cross = _client(session).post(
        f"/api/episodes/{vid}/decision",
        json={"action": "no_intro", "revision": None},
        headers={"Origin": "http://evil.example"},
    )
    assert cross.status_code == 403 and not (tmp_path / "r.json").exists()


def test_another_address_needs_the_token(result: Path, tmp_path: Path) -> None:
    session = _session(result, tmp_path / "r.json", token="s3cret-token", allowed_hosts=())
    client = _client(session, "192.168.1.5:8765")
    assert client.get("/").status_code == 403 and client.get(f"/media/{next(iter(session.media))}").status_code == 403
    assert client.get("/?token=wrong").status_code == 403
    page = client.get("/?token=s3cret-token")
    assert page.status_code == 200 and "introdetect review" in page.text
    assert client.get("/api/episodes").status_code == 200  # the cookie set by the first page carries it


def test_decisions_through_the_api(result: Path, tmp_path: Path) -> None:
    session = _session(result, tmp_path / "r.json")
    client = _client(session)
    episodes = client.get("/api/episodes").json()["episodes"]
    ep = next(e for e in episodes if e["intro"])
    vid, (start, end) = ep["id"], ep["intro"]
    saved = client.post(
        f"/api/episodes/{vid}/decision", json={"action": "save", "start_sec": start, "end_sec": end, "revision": None}
    )
    assert saved.status_code == 200 and saved.json()["review"]["decision"] == "confirmed"
    again = client.post(
        f"/api/episodes/{vid}/decision",
        json={"action": "save", "start_sec": start + 0.1, "end_sec": end, "revision": None},
    )
    assert again.status_code == 409 and again.json()["review"]["revision"] == 1  # a stale view
    fixed = client.post(
        f"/api/episodes/{vid}/decision",
        json={"action": "save", "start_sec": start + 0.1, "end_sec": end, "revision": 1, "reviewer": "ann"},
    )
    assert fixed.json()["review"]["decision"] == "corrected" and fixed.json()["review"]["reviewed_by"] == "ann"
    for bad in (
        {"action": "save", "start_sec": 5, "end_sec": 3},
        {"action": "save"},
        {"action": "drop"},
        {"action": "no_intro", "revision": "x"},
    ):
        assert client.post(f"/api/episodes/{vid}/decision", json=bad).status_code == 422, bad
    assert client.post("/api/episodes/nope/decision", json={"action": "no_intro"}).status_code == 404
    bad_kind = client.post(f"/api/episodes/{vid}/decision", json={"action": "none", "kind": "opening", "revision": 2})
    assert bad_kind.status_code == 422 and "kind must be one of" in bad_kind.text
    # another part: the credits added where none was found, then "no preview"; the intro's decision stays
    credits = client.post(
        f"/api/episodes/{vid}/decision",
        json={"action": "save", "kind": "credits", "start_sec": 100.0, "end_sec": 112.5, "revision": 2},
    ).json()["review"]
    assert credits["reviews"]["credits"]["decision"] == "corrected" and credits["credits_end"] == "0:01:52.500"
    assert set(credits["reviews"]["credits"]["detected"]) >= {"start_sec", "end_sec", "confidence", "method"}
    preview = client.post(f"/api/episodes/{vid}/decision", json={"action": "none", "kind": "preview", "revision": 3})
    assert preview.json()["review"]["preview_start"] is None and preview.json()["review"]["decision"] == "corrected"
    assert set(client.get("/api/episodes").json()["episodes"][0]["parts"]) == {str(k) for k in Kind}
    svg = client.get(f"/api/episodes/{vid}/timeline.svg?zoom=true&start={start}&end={end}")
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<polyline" in svg.text
    saved = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))[vid]
    assert saved["start_sec"] == round(start + 0.1, 3) and saved["credits_start"] == "0:01:40.000"


def test_the_audio_preview_reaches_a_part_in_the_tail(result: Path) -> None:
    d = read_result(result)[0]
    head = preview_length_s(d, 480.0)
    assert head == (d.analysed_s or 480.0)
    tail = d.with_part(Part(Kind.CREDITS, Segment(head + 600.0, head + 660.0), 0.8, Method.RECURRING))
    assert preview_length_s(tail, 480.0) >= head + 660.0


def test_impossible_boundaries_are_refused_with_what_is_wrong(result: Path, tmp_path: Path) -> None:
    """Negative, not finite, beyond the media, not a number: each named, never "must end after it starts"."""
    session = _session(result, tmp_path / "r.json")
    client = _client(session)
    vid = next(iter(session.media))
    url = f"/api/episodes/{vid}/decision"
    length = media_length_s(session, session.by_id[vid])
    assert length is not None and length > 30
    for body, problem in (
        ({"action": "save", "start_sec": -5, "end_sec": 10}, "start_sec must not be negative"),
        ({"action": "save", "start_sec": 5, "end_sec": 1e308}, "beyond the media"),
        ({"action": "save", "start_sec": 5, "end_sec": length + 30}, "beyond the media"),
        ({"action": "save", "start_sec": "5", "end_sec": 10}, "start_sec must be a number"),
        ({"action": "save", "start_sec": 12, "end_sec": 10}, "must end after it starts"),
    ):
        answer = client.post(url, json=body)
        assert answer.status_code == 422 and problem in answer.json()["detail"], (body, answer.json())
    for raw, problem in (
        ('{"action": "save", "start_sec": NaN, "end_sec": 10}', "start_sec must be a finite number"),
        ('{"action": "save", "start_sec": 1, "end_sec": Infinity}', "end_sec must be a finite number"),
    ):
        answer = client.post(url, content=raw, headers={"content-type": "application/json"})
        assert answer.status_code == 422 and problem in answer.json()["detail"], (raw, answer.json())
    assert not (tmp_path / "r.json").exists()  # nothing saved
    assert client.get("/favicon.ico").status_code == 200  # what browsers ask for whatever the page says


def test_review_command_refuses_a_broken_reviewed_file(result: Path, tmp_path: Path) -> None:
    broken = tmp_path / "reviewed.json"
    broken.write_text("{", encoding="utf-8")
    done = runner.invoke(cli, ["review", str(result), "--out", str(broken), "--no-open"])
    assert done.exit_code == 1 and "reviewed.json: not JSON" in done.output


# --- the page in a real browser ----------------------------------------------------------------------------------


@pytest.fixture
def server(result: Path, tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """The review server on a free loopback port: (its address, the reviewed file, the result it serves)."""
    reviewed = tmp_path / "reviewed.json"
    with running(_session(result, reviewed)) as url:
        yield url, reviewed, result


@pytest.fixture
def browser():  # a Playwright Browser
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "the browser test needs Debian's chromium: apt-get install chromium (make test does)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def test_the_page_nudges_a_boundary_confirms_and_saves(server, browser, tmp_path: Path) -> None:
    url, reviewed, result = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("response", lambda response: response.status >= 400 and errors.append(f"{response.status} {response.url}"))
    page.goto(url)
    page.wait_for_selector("#episodes li")
    # the least sure episode first, shown with its timelines
    page.wait_for_selector("#full svg")
    page.wait_for_selector("#zoom svg .overlay", state="attached")
    confidences = [float(t) if t != "–" else -1 for t in page.locator("#episodes li .conf").all_inner_texts()]
    assert confidences == sorted(confidences)
    page.locator("#episodes li", has_text="show01_s01e01").click()
    page.wait_for_function("document.getElementById('title').textContent.startsWith('show01_s01e01')")
    before = page.locator("#start").inner_text()
    page.locator("[data-nudge=start][data-by='0.1']").click()  # +0.1 s by the button
    page.keyboard.press("x")  # +0.1 s by the key
    page.keyboard.press("V")  # end +1 s
    assert page.locator("#start").inner_text() != before
    page.screenshot(path=str(tmp_path / "review.png"))
    page.locator("#confirm").click()
    page.wait_for_function("document.getElementById('status').textContent.includes('saved')")
    saved = json.loads(reviewed.read_text(encoding="utf-8"))["show01_s01e01"]
    detected = next(d for d in read_result(result) if d.id == "show01_s01e01")
    assert saved["decision"] == "corrected" and saved["reviewed_by"] == "tester"
    assert abs(saved["start_sec"] - (detected.intro.start_s + 0.2)) < 0.002
    assert abs(saved["end_sec"] - (detected.intro.end_s + 1.0)) < 0.002
    # it moved on to the next episode not yet reviewed; "no intro" by its key is saved too
    page.wait_for_function("!document.getElementById('title').textContent.startsWith('show01_s01e01')")
    current = page.locator("#title").inner_text().split(" ")[0]
    page.keyboard.press("n")
    page.wait_for_function(
        f"document.querySelector('#episodes li[data-id=\"{current}\"] .badge').textContent == 'no intro'"
    )
    assert json.loads(reviewed.read_text(encoding="utf-8"))[current]["start"] is None
    assert not errors, errors


def test_the_page_reviews_every_part_in_a_lane_of_its_own(result: Path, browser, tmp_path: Path) -> None:
    """Credits found in an episode's tail: their own lane on the timelines; chosen by key, corrected and saved
    as the label format's credits pair, the intro left undecided; "none" for the preview beside it."""
    detections = read_result(result)
    target = detections[0]
    credits = Segment(100.0, 112.0)
    parts = Part(Kind.CREDITS, credits, 0.8, Method.RECURRING, "the tails' motif")
    with_credits = tmp_path / "with_credits.json"
    write_result(with_credits, [target.with_part(parts), *detections[1:]])
    reviewed = tmp_path / "reviewed.json"
    with running(_session(with_credits, reviewed)) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        page.wait_for_selector("#episodes li")
        page.locator("#episodes li", has_text=target.id).click()
        page.wait_for_function(f"document.getElementById('title').textContent.startsWith('{target.id}')")
        page.wait_for_selector("#full svg")
        assert ">credits</text>" in page.locator("#full").inner_html()  # the credits' own lane
        page.keyboard.press("e")  # the credits under review
        page.wait_for_function("document.getElementById('answer').textContent.startsWith('credits detected')")
        page.wait_for_function("document.getElementById('start').textContent == '0:01:40.00'")
        page.keyboard.press("V")  # end +1 s
        page.keyboard.press("Enter")
        page.wait_for_function("document.getElementById('status').textContent.includes('saved the credits')")
        saved = json.loads(reviewed.read_text(encoding="utf-8"))[target.id]
        assert saved["credits_start"] == "0:01:40.000" and saved["credits_end"] == "0:01:53.000"
        assert saved["reviews"]["credits"]["decision"] == "corrected" and "decision" not in saved  # intro untouched
        assert "decided" in page.locator("#kinds button[data-kind=credits]").get_attribute("class")
        page.keyboard.press("p")
        page.keyboard.press("n")  # no preview
        page.wait_for_function("document.getElementById('status').textContent.includes('saved the preview')")
        saved = json.loads(reviewed.read_text(encoding="utf-8"))[target.id]
        assert saved["preview_start"] is None and saved["reviews"]["preview"]["decision"] == "none"
        assert read_labels(reviewed).get(target.id).part("credits") == Segment(100.0, 113.0)
        assert not errors, errors


def test_two_tabs_keep_each_others_decisions(server, browser) -> None:
    url, reviewed, _ = server
    context = browser.new_context()
    tab_a, tab_b = context.new_page(), context.new_page()
    for tab in (tab_a, tab_b):
        tab.goto(url)
        tab.wait_for_selector("#zoom svg")
    first = tab_a.locator("#title").inner_text().split(" ")[0]
    assert tab_b.locator("#title").inner_text().split(" ")[0] == first  # both opened the same episode
    tab_a.keyboard.press("Enter")  # A confirms it
    tab_a.wait_for_function("document.getElementById('status').textContent.includes('saved')")
    decided = json.loads(reviewed.read_text(encoding="utf-8"))[first]
    tab_b.keyboard.press("n")  # B, from its stale view, decides too: refused, and shown A's decision
    tab_b.wait_for_function("document.getElementById('status').textContent.includes('another tab')")
    assert json.loads(reviewed.read_text(encoding="utf-8"))[first] == decided
    assert "reviewed: " in tab_b.locator("#answer").inner_text()
    other = tab_a.locator("#title").inner_text().split(" ")[0]  # A moved on; B decides another episode
    tab_b.locator("#episodes li", has_text=other).click()
    tab_b.wait_for_function(f"document.getElementById('title').textContent.startsWith('{other}')")
    tab_b.keyboard.press("n")
    tab_b.wait_for_function("document.getElementById('status').textContent.includes('saved')")
    entries = json.loads(reviewed.read_text(encoding="utf-8"))
    assert set(entries) == {first, other}


# --- the whole journey with the commands alone -------------------------------------------------------------------


def test_detect_review_finetune_with_the_commands_alone(result: Path, tiny_corpus: Path, tmp_path: Path) -> None:
    """detect (done by the fixture) → decisions on the review server → finetune a copy of the shipped model."""
    session = _session(result, tmp_path / "reviewed.json")
    client = _client(session)
    truth = read_truth(tiny_corpus / "truth_test.json")
    for ep in client.get("/api/episodes").json()["episodes"]:  # the reviewer gives the right answer everywhere
        t = truth[ep["id"]].intro
        body = {"action": "no_intro"} if t is None else {"action": "save", "start_sec": t.start_s, "end_sec": t.end_s}
        assert client.post(f"/api/episodes/{ep['id']}/decision", json=body).status_code == 200
    model = tmp_path / "model.idmodel"
    shutil.copy(Path(__file__).parent.parent / "src/introdetect/data/default.idmodel", model)
    done = runner.invoke(
        cli,
        [
            "finetune",
            str(model),
            str(tmp_path / "reviewed.json"),
            "--videos",
            str(tiny_corpus / "test"),
            "--epochs",
            "1",
            "--force",
            "--no-progress",
            "--cache",
            str(tmp_path / "cache"),
            "--base",
            str(tiny_corpus / "truth_train.json"),
            "--base-videos",
            str(tiny_corpus / "train"),
            "--retrain-epochs",
            "2",
        ],
    )
    assert done.exit_code == 0, done.output
    assert "before" in done.output and "after: finetuned" in done.output and "after: retrained" in done.output
    record = ModelFile.load(model).meta["finetuned"][-1]
    assert set(record["candidates"]) == {"finetuned", "retrained"} and record["chosen"] in record["candidates"]
    assert record["retrained_on"] > record["episodes"]  # the base's episodes and the reviewed ones
    assert record["after"] == record["candidates"][record["chosen"]]


_DECIDER = """
import sys
from introdetect.review import Decision, ReviewStore, StaleDecision
from introdetect.timecode import Segment
store = ReviewStore(sys.argv[1])
for i in range(int(sys.argv[2]), 10_000):
    decision = Decision("confirmed", Segment(i % 50, i % 50 + 20), "killer")
    try:
        store.decide(f"ep{i:05d}", decision, None)
    except StaleDecision as stale:  # saved by the killed run just before it was told: decide again over it
        store.decide(f"ep{i:05d}", decision, stale.current["revision"])
    print(i, flush=True)  # only after decide returned: the page is told "saved" at this point
"""


def test_a_killed_server_never_loses_a_saved_decision_or_leaves_a_broken_file(tmp_path: Path) -> None:
    """SIGKILL at random moments while decisions are being saved (a bounded loop): the file always reads, and
    every decision acknowledged before the kill is in it."""
    import random
    import signal
    import subprocess
    import sys

    path = tmp_path / "reviewed.json"
    rng = random.Random(7)
    acknowledged: list[int] = []
    kills = 0
    rounds = max(8, int(os.environ.get("INTRODETECT_FAULT_KILLS", "8")))
    for _ in range(rounds):
        start = acknowledged[-1] + 1 if acknowledged else 0
        child = subprocess.Popen(
            [sys.executable, "-c", _DECIDER, str(path), str(start)], stdout=subprocess.PIPE, text=True
        )
        wanted = rng.randint(1, 25)
        for line in child.stdout:  # let it save a random number of decisions, then kill it mid-way
            acknowledged.append(int(line))
            if len(acknowledged) - start >= wanted:
                time.sleep(rng.random() * 0.01)
                break
        child.send_signal(signal.SIGKILL)
        child.wait()
        kills += 1
        entries = ReviewStore(path).load()  # never half-written
        missing = [i for i in acknowledged if f"ep{i:05d}" not in entries]
        assert not missing, missing
    assert kills == rounds and len(acknowledged) >= rounds
    print(f"\nfaults: review saves: {kills} kills, {len(acknowledged)} acknowledged decisions, 0 lost, 0 corrupt")
    # a kill mid-write leaves a temporary file beside it; the next save (under the lock) sweeps them away
    ReviewStore(path).decide("last", Decision("no_intro", None, "t"), None)
    assert not [p.name for p in tmp_path.iterdir() if ".part-" in p.name]


def test_a_file_the_browser_cannot_play_falls_back_to_an_audio_preview(
    tiny_corpus: Path, tmp_path: Path, browser
) -> None:
    """AC-3 audio (which Chromium does not decode): the page switches to the server's Opus preview of the window,
    and the browser loads it."""
    import subprocess

    source = min((tiny_corpus / "test" / "show01").iterdir())
    ac3 = tmp_path / f"{source.stem}.mkv"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source), "-map", "0:a", "-c:a", "ac3", str(ac3)],
        check=True,
    )
    result = tmp_path / "one.json"
    done = runner.invoke(cli, ["detect", str(ac3), "--out", str(result), "--no-progress", "--no-cache"])
    assert done.exit_code == 0, done.output
    with running(_session(result, tmp_path / "r.json")) as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function(
            "document.getElementById('media-note').textContent.includes('audio preview')", timeout=60_000
        )
        page.wait_for_function("document.getElementById('player').readyState >= 1", timeout=60_000)
        assert page.evaluate("document.getElementById('player').currentSrc").endswith("/preview.webm")
        assert page.evaluate("document.getElementById('player').duration") > 60  # the window, as Opus


def test_review_without_the_review_extra_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    result_file = tmp_path / "r.json"
    result_file.write_text("{}", encoding="utf-8")
    done = runner.invoke(cli, ["review", str(result_file), "--no-open"])
    assert done.exit_code == 1 and "pip install 'introdetect[review]'" in done.output and "uvicorn" in done.output
