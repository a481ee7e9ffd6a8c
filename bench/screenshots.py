"""Pictures of the report and the review page for the docs (docs/report.png, docs/review.png), taken in
Debian's chromium by Playwright from a result file (e.g. `make demo`'s demo-output/detections.json).

    .venv/bin/python bench/screenshots.py --result demo-output/detections.json --truth TRUTH.json --out docs/
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from introdetect.metrics import read_truth
from introdetect.report import build_report
from introdetect.result import read_result
from introdetect.review import ReviewStore
from introdetect.review.app import ReviewSession, media_of, running

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--truth", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    args = parser.parse_args()
    detections = read_result(args.result)
    truth = read_truth(args.truth) if args.truth else None
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.html"
        report.write_text(build_report(detections, truth, title=f"introdetect: {args.result.name}"), encoding="utf-8")
        session = ReviewSession(detections, ReviewStore(Path(tmp) / "reviewed.json"), media_of(detections), "you")
        with running(session, args.port) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1050, "height": 1400})
            page.goto(report.as_uri())
            page.screenshot(path=str(args.out / "report.png"))
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(url)
            page.wait_for_selector("#zoom svg")
            page.wait_for_timeout(500)
            page.screenshot(path=str(args.out / "review.png"))
            browser.close()
    print(f"written {args.out / 'report.png'} and {args.out / 'review.png'}")


if __name__ == "__main__":
    main()
