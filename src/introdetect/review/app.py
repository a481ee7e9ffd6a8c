"""The review page's server (FastAPI): the result file's episodes, their media and timelines, and the decisions.

What it will serve, and to whom:

* media: only the files the result file (or ``--videos``) names for its episodes, looked up by episode id; no
  path from the request ever reaches the file system, so there is nothing to traverse;
* on 127.0.0.1 (the default) only requests whose Host is this machine's loopback name are answered (a web page
  elsewhere cannot reach the server by rebinding a name of its own to 127.0.0.1), and writes must come from the
  page itself (same Origin);
* bound to any other address, every request must also carry a random token (in the address the command prints,
  then a cookie), since others on the network can reach it.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import hmac
import math
import os
import secrets
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..atomic import atomic_path
from ..errors import MediaError
from ..media import decode_timeout_s, preview_command, probe, stream_map, videos_by_id
from ..resources import static_text
from ..result import Detection, Kind, read_result, segment_json
from ..settings import AudioOptions
from ..timecode import Segment
from ..timeline import Span, episode_span, timeline_svg, zoom_span
from .store import Decision, ReviewStore, StaleDecision

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
COOKIE = "introdetect_review"
STARTUP_TIMEOUT_S = 20.0
BEYOND_MEDIA_SLACK_S = 0.5
"""A boundary may lie this far past the media's reported length (container durations are rounded)."""

SAME_BOUNDARY_S = 0.0005
"""A saved boundary this close to the detected one is the detected one (the file keeps milliseconds)."""


@dataclass
class ReviewSession:
    """What one review server works on."""

    detections: list[Detection]
    store: ReviewStore
    media: dict[str, Path]
    reviewer: str = field(default_factory=getpass.getuser)
    token: str | None = None
    audio: AudioOptions = field(default_factory=AudioOptions)  # the stream the previews take (as detect's)
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    preview_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="introdetect-review-")))

    def __post_init__(self) -> None:
        self.by_id = {d.id: d for d in self.detections}
        self.lengths: dict[str, float | None] = {}  # media lengths, probed when first needed


def media_of(detections: list[Detection], videos: Mapping[str, Path] | None = None) -> dict[str, Path]:
    """Episode id → media file: ``videos`` (by id) where given, else the path the result recorded; only files
    that exist, and only for episodes of the result."""
    found: dict[str, Path] = {}
    for d in detections:
        path = videos.get(d.id) if videos is not None and d.id in videos else (Path(d.path) if d.path else None)
        if path is not None and path.is_file():
            found[d.id] = path.resolve()
    return found


def open_session(
    result: str | os.PathLike[str],
    videos: Iterable[str | os.PathLike[str]] | None = None,
    out: str | os.PathLike[str] | None = None,
    host: str = "127.0.0.1",
    reviewer: str | None = None,
    audio: AudioOptions | None = None,
) -> ReviewSession:
    """A review session of a result file: its episodes and their media (``videos``, files or folders, where not
    where the result says), decisions saved to ``out`` (default ``RESULT.reviewed.json`` beside it; decisions
    already there are kept), a token required unless ``host`` is loopback, previews of ``audio``'s stream."""
    result = Path(result)
    detections = read_result(result)
    store = ReviewStore(out if out is not None else result.with_name(result.stem + ".reviewed.json"))
    media = media_of(detections, videos_by_id(videos) if videos else None)
    loopback = host in LOOPBACK_HOSTS
    session = ReviewSession(
        detections,
        store,
        media,
        token=None if loopback else new_token(),
        allowed_hosts=LOOPBACK_HOSTS if loopback else (),
        audio=audio or AudioOptions(),
    )
    if reviewer:
        session.reviewer = reviewer
    return session


def address(session: ReviewSession, host: str, port: int) -> str:
    """The page's address to print or open (with the token, when the session needs one)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # a name to visit, not to bind
    return f"http://{shown}:{port}/" + (f"?token={session.token}" if session.token else "")


def host_name(header: str) -> str:
    """The host of a Host header, without its port ("[::1]:8765" → "[::1]", "localhost:80" → "localhost")."""
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _part_json(d: Detection, kind: Kind) -> dict[str, Any]:
    """What was detected of one kind: its span (None: none found, or not looked for), confidence, method, note."""
    part = d.part(kind)
    segment = part.segment if part else None
    return {
        "span": None if segment is None else [round(segment.start_s, 3), round(segment.end_s, 3)],
        "confidence": part.confidence if part else None,
        "method": str(part.method) if part else None,
        "note": part.note if part else None,
    }


def _episode_json(d: Detection, entry: dict[str, Any] | None, has_media: bool) -> dict[str, Any]:
    part = d.part(Kind.INTRO)
    span = episode_span(d)
    return {
        "id": d.id,
        "series": d.series or "(no series)",
        "method": str(part.method) if part else None,
        "confidence": part.confidence if part else None,
        "intro": None if d.intro is None else [round(d.intro.start_s, 3), round(d.intro.end_s, 3)],
        "note": part.note if part else None,
        "parts": {str(kind): _part_json(d, kind) for kind in Kind},
        "analysed_s": d.analysed_s or None,
        "span": [span.start_s, span.end_s],
        "media": has_media,
        "review": entry,
    }


def _detected(d: Detection, kind: Kind = Kind.INTRO) -> dict[str, Any]:
    part = d.part(kind)
    return {
        **segment_json(part.segment if part else None),
        "confidence": part.confidence if part else None,
        "method": str(part.method) if part else None,
    }


def _kind(body: Mapping[str, Any]) -> Kind:
    """The part a decision is about (the intro when the request names none), or a 422."""
    from fastapi import HTTPException

    name = body.get("kind", str(Kind.INTRO))
    try:
        return Kind(name)
    except ValueError:
        raise HTTPException(422, f"kind must be one of {', '.join(Kind)}, got {name!r}") from None


def preview_length_s(d: Detection, window_s: float) -> float:
    """How much of an episode its audio preview holds: the analysed window, or up to the episode's end where a
    part found in its tail (credits, a preview) lies past the window (so that the reviewer hears it)."""
    seconds = d.analysed_s or window_s
    reach = max((p.segment.end_s for p in d.parts if p.segment is not None), default=0.0)
    if reach > seconds:
        seconds = max(reach + BEYOND_MEDIA_SLACK_S, d.duration_s or 0.0)
    return seconds


def media_length_s(session: ReviewSession, d: Detection) -> float | None:
    """How long the episode's media is (ffprobe, asked once per episode); None when unknown."""
    if d.id not in session.lengths:
        length = None
        path = session.media.get(d.id)
        if path is not None:
            with contextlib.suppress(MediaError):
                length = probe(path).duration_s
        session.lengths[d.id] = length
    return session.lengths[d.id]


def _boundaries(body: Mapping[str, Any], d: Detection, session: ReviewSession, kind: Kind = Kind.INTRO) -> Segment:
    """The span of ``kind`` a save asks for, or a 422 naming what is wrong with it."""
    from fastapi import HTTPException

    start, end = body.get("start_sec"), body.get("end_sec")
    for name, value in (("start_sec", start), ("end_sec", end)):
        if value is None:
            raise HTTPException(422, f"save needs {name} (seconds)")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise HTTPException(422, f"{name} must be a number of seconds, got {value!r}")
        if not math.isfinite(value):
            raise HTTPException(422, f"{name} must be a finite number of seconds, got {value}")
        if value < 0:
            raise HTTPException(422, f"{name} must not be negative, got {value:g}")
    if end <= start:
        raise HTTPException(422, f"the {kind} must end after it starts (got {start:g}–{end:g} s)")
    length = media_length_s(session, d)
    if length is not None and end > length + BEYOND_MEDIA_SLACK_S:
        raise HTTPException(422, f"end_sec {end:g} s lies beyond the media ({length:.1f} s long)")
    return Segment(float(start), float(end))


def create_app(session: ReviewSession):  # a FastAPI app (fastapi is imported here: the review extra)
    from fastapi import Body, FastAPI, HTTPException, Request
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

    app = FastAPI(title="introdetect review", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        host = host_name(request.headers.get("host") or "")
        if session.allowed_hosts and host not in session.allowed_hosts:
            return JSONResponse({"error": f"host {host!r} not served"}, status_code=403)
        origin = request.headers.get("origin")
        if (
            request.method not in ("GET", "HEAD")
            and origin is not None
            and urlsplit(origin).netloc != request.headers.get("host")
        ):
            return JSONResponse({"error": "requests from other sites are refused"}, status_code=403)
        if session.token is not None:
            given = request.query_params.get("token") or request.cookies.get(COOKIE) or ""
            if not hmac.compare_digest(given.encode(), session.token.encode()):
                return JSONResponse({"error": "this server needs the token it printed at start"}, status_code=403)
        response = await call_next(request)
        if session.token is not None and request.query_params.get("token"):
            response.set_cookie(COOKIE, session.token, httponly=True, samesite="strict")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return static_text("index.html")

    @app.get("/favicon.ico")
    def favicon() -> Response:  # browsers ask for it whatever the page says
        return Response(static_text("favicon.svg"), media_type="image/svg+xml")

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        kinds = {"review.js": "text/javascript", "review.css": "text/css", "favicon.svg": "image/svg+xml"}
        if name not in kinds:
            raise HTTPException(404)
        return Response(static_text(name), media_type=kinds[name])

    def episode(vid: str) -> Detection:
        d = session.by_id.get(vid)
        if d is None:
            raise HTTPException(404, f"no episode {vid!r} in this result")
        return d

    @app.get("/api/episodes")
    def episodes() -> dict[str, Any]:
        entries = session.store.load()
        return {
            "reviewer": session.reviewer,
            "file": str(session.store.path),
            "episodes": [_episode_json(d, entries.get(d.id), d.id in session.media) for d in session.by_id.values()],
        }

    @app.get("/api/episodes/{vid}/timeline.svg")
    def timeline(vid: str, start: float | None = None, end: float | None = None, zoom: bool = False) -> Response:
        d = episode(vid)
        around = Segment(start, end) if start is not None and end is not None and end > start >= 0 else d.intro
        span: Span | None = zoom_span(d, around) if zoom else None
        return Response(timeline_svg(d, span=span), media_type="image/svg+xml")

    @app.post("/api/episodes/{vid}/decision")
    def decide(vid: str, body: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008 - FastAPI's idiom
        d = episode(vid)
        action = body.get("action")
        revision = body.get("revision")
        if revision is not None and (not isinstance(revision, int) or isinstance(revision, bool)):
            raise HTTPException(422, "revision must be an integer or null")
        reviewer = body.get("reviewer")
        reviewer = reviewer.strip()[:100] if isinstance(reviewer, str) and reviewer.strip() else session.reviewer
        kind = _kind(body)
        try:
            if action == "undo":
                return JSONResponse({"review": session.store.undo(vid, revision, kind)})
            if action in ("no_intro", "none"):  # "none of this kind" ("no_intro": the intro's word for it)
                absent = "no_intro" if kind == Kind.INTRO else "none"
                decision = Decision(absent, None, reviewer, _detected(d, kind), kind)
            elif action == "save":
                span = _boundaries(body, d, session, kind)
                part = d.part(kind)
                found = part.segment if part else None
                same = (
                    found is not None
                    and abs(found.start_s - span.start_s) < SAME_BOUNDARY_S
                    and abs(found.end_s - span.end_s) < SAME_BOUNDARY_S
                )
                decision = Decision("confirmed" if same else "corrected", span, reviewer, _detected(d, kind), kind)
            else:
                raise HTTPException(422, "action must be save, none (no_intro), or undo")
            return JSONResponse({"review": session.store.decide(vid, decision, revision)})
        except StaleDecision as exc:
            return JSONResponse({"error": str(exc), "review": exc.current}, status_code=409)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        except OSError as exc:
            return JSONResponse(
                {"error": f"{session.store.path}: cannot save ({exc.strerror or exc})"}, status_code=507
            )

    @app.get("/media/{vid}")
    def media(vid: str) -> FileResponse:
        episode(vid)
        path = session.media.get(vid)
        if path is None:
            raise HTTPException(404, f"no media file for {vid!r}")
        return FileResponse(path, filename=path.name, content_disposition_type="inline")

    @app.get("/media/{vid}/preview.webm")
    def preview(vid: str) -> FileResponse:
        """The analysed window's audio (to the end where a part lies in the tail) as Opus/WebM, for media the
        browser cannot play (made once, cached)."""
        d = episode(vid)
        path = session.media.get(vid)
        if path is None:
            raise HTTPException(404, f"no media file for {vid!r}")
        target = session.preview_dir / f"{hashlib.sha1(vid.encode()).hexdigest()}.webm"
        if not target.exists():
            seconds = preview_length_s(d, session.audio.window_s)
            options = replace(session.audio, window_s=seconds)
            try:
                with atomic_path(target, suffix=".webm", durable=False) as tmp:
                    command = preview_command(path, options, str(tmp), stream_map(path, options))
                    subprocess.run(command, check=True, capture_output=True, timeout=decode_timeout_s(seconds))
            except MediaError as exc:
                raise HTTPException(500, str(exc)) from None
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                detail = exc.stderr.decode(errors="replace").strip().splitlines()[-1:] if exc.stderr else ["timed out"]
                raise HTTPException(500, f"{path}: cannot make an audio preview: {' '.join(detail)}") from None
        return FileResponse(target, media_type="audio/webm")

    return app


def serve(session: ReviewSession, host: str, port: int) -> None:  # pragma: no cover - the CLI's edge
    import shutil

    import uvicorn

    try:
        uvicorn.run(create_app(session), host=host, port=port, log_level="warning")
    finally:
        shutil.rmtree(session.preview_dir, ignore_errors=True)  # the audio previews made for this session


@contextlib.contextmanager
def running(session: ReviewSession, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
    """The review server in a background thread (tests, notebooks, scripts): yields its address; stopped and
    its previews removed on exit. ``port`` 0: a free one."""
    import shutil
    import threading
    import time

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(create_app(session), host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise OSError(f"the review server did not start on {host}:{port}")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}/"
    finally:
        server.should_exit = True
        thread.join(10)
        shutil.rmtree(session.preview_dir, ignore_errors=True)
