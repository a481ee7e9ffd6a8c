"""Several versions of one episode in a season: copies of an episode (a re-encode, a PAL-speed copy, a copy two
seconds later, a copy with a scene more, a copy without its recap) change no answer of the other episodes and
are each answered with their episode's parts mapped onto their own audio. Real recordings: the first structured
season of ``tinyparts`` (episode 2: an ident 0-3 s, a recap 4.0-32.1 s replaying episode 1, the intro
50.8-55.9 s, credits from 143.8 s); the copies made with ffmpeg."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import ffmpeg

from introdetect import detect
from introdetect.analysis import analyse_samples
from introdetect.matching.versions import Alignment, PairMatch, Piece, find_versions
from introdetect.result import Curve, Evidence, Kind, Method, Part, read_result, write_result
from introdetect.timecode import Segment

WITHIN_S = 0.1  # the bar: the answers without the copies, within ±0.1 s
PAL = 25 / 24
CUT_S = 66.0  # the extended copy: a 15 s scene of another series inserted here, in the story after the intro
SCENE_S = 15.0
RECAP = (4.0, 32.1)  # the copy without its recap: this stretch cut out


# --- pure: arrays in, versions and clocks out -----------------------------------------------------------------

RATE = 22050


def chords(seconds: float, seed: int) -> np.ndarray:
    """A changing sound: a chord of three random tones every 0.3 s (each frame's spectrum its own)."""
    rng = np.random.default_rng(seed)
    step = int(0.3 * RATE)
    t = np.arange(step) / RATE
    blocks = [
        sum(np.sin(2 * np.pi * f * t) for f in rng.uniform(150, 4000, 3)) * rng.uniform(0.2, 1.0)
        for _ in range(int(seconds / 0.3))
    ]
    return (np.concatenate(blocks) * 0.2).astype(np.float32)


def s(t: float) -> int:
    return int(t * RATE)


@pytest.fixture(scope="module")
def arrays() -> dict:
    """An episode (300 s), a copy of it (2 s of silence more at its start, 5 s of other sound inserted at its
    100 s, its 200-220 s cut out) and a sibling (other sound, sharing the episode's first 20 s: an intro)."""
    episode, other = chords(300, 1), chords(300, 2)
    copy = np.concatenate(
        [
            np.zeros(s(2), np.float32),
            episode[: s(100)],
            other[s(40) : s(45)],
            episode[s(100) : s(200)],
            episode[s(220) :],
        ]
    )
    sibling = np.concatenate([episode[: s(20)], other[s(20) :]])
    prints = [analyse_samples(x, RATE, name) for x, name in ((episode, "e1"), (copy, "e1 copy"), (sibling, "e2"))]
    return {"prints": prints}


def test_a_copy_is_a_version_and_a_sibling_sharing_its_intro_is_not(arrays: dict) -> None:
    groups = find_versions(arrays["prints"], rank=[2.0, 1.0, 1.0])
    assert len(groups) == 1 and groups[0].rep == 0 and [a.copy for a in groups[0].copies] == [1]
    clocks = groups[0].copies[0].clocks
    assert any(abs(o - 2.0) < 0.06 for _, o in clocks) and any(abs(o - 7.0) < 0.06 for _, o in clocks)


def test_a_part_maps_at_the_clock_whose_frames_hold_it(arrays: dict) -> None:
    rep, copy, _ = arrays["prints"]
    pieces = (Piece(0.0, 100.0, 2.0, 102.0, 1.0, 2.0), Piece(100.0, 300.0, 107.0, 307.0, 1.0, 7.0))
    alignment = Alignment(1, 0, pieces, 0.9)
    assert alignment.clock_for(Segment(5.0, 15.0), rep, copy) == (1.0, 2.0)
    assert alignment.clock_for(Segment(140.0, 150.0), rep, copy) == (1.0, 7.0)
    assert alignment.clock_for(Segment(205.0, 215.0), rep, copy) is None  # cut from the copy: its own answer
    part = Part(Kind.INTRO, Segment(140.0, 150.0), 0.9, Method.RECURRING, evidence=Evidence(curve=Curve(0, 5, (1,))))
    moved = part.mapped(*alignment.clock_for(part.segment, rep, copy))
    assert moved.segment == Segment(147.0, 157.0) and moved.evidence.curve.start_s == 7.0
    pal = Piece(0.0, 480.0, 0.0, 480 / PAL, 1 / PAL, 0.0)  # a PAL-speed copy: everything at 24/25 of its time
    credits = Part(Kind.CREDITS, Segment(240.0, 300.0), 0.9, Method.RECURRING).mapped(pal.speed, 0.0)
    assert credits.segment == Segment(240 / PAL, 300 / PAL)
    back = PairMatch((pal,), 0.9, 0.95).inverse().pieces[0]
    assert back.to_other(pal.to_other(123.0)) == pytest.approx(123.0)


# --- media: a season with copies of one episode ------------------------------------------------------------


@pytest.fixture(scope="module")
def season(tinyparts_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The season (show01, 4 episodes) and, in another folder, the same episodes beside five copies of episode 2
    (audio-only Opus at 64 kb/s: less per second than the originals, which therefore represent their episode),
    each with the map from the original's time to the copy's."""
    source = tinyparts_corpus / "test" / "show01"
    originals = sorted(p for p in source.iterdir() if p.suffix in {".mp3", ".mkv", ".mp4"})
    e2 = originals[1]
    scene = min((tinyparts_corpus / "test" / "show02").iterdir())
    folder = tmp_path_factory.mktemp("versions") / "show01"
    folder.mkdir()
    for p in originals:
        (folder / p.name).symlink_to(p)
    opus = ["-vn", "-ac", "2", "-c:a", "libopus", "-b:a", "64k"]
    fmt = "aformat=sample_rates=48000:channel_layouts=stereo"
    maps: dict[str, Callable[[float], float]] = {}

    def copy(name: str, mapping: Callable[[float], float], *args: str) -> None:
        ffmpeg(*args, *opus, str(folder / f"{e2.stem}.{name}.mka"))
        maps[f"{e2.stem}.{name}"] = mapping

    copy("opus", lambda t: t, "-i", str(e2))
    copy("pal", lambda t: t / PAL, "-i", str(e2), "-af", "aresample=48000,asetrate=50000,aresample=48000")
    copy("late", lambda t: t + 2.0, "-i", str(e2), "-af", "adelay=2000:all=1")
    graph = (
        f"[0:a]atrim=0:{CUT_S},asetpts=N/SR/TB,{fmt}[a];[1:a]atrim=100:{100 + SCENE_S},asetpts=N/SR/TB,{fmt}[b];"
        f"[0:a]atrim={CUT_S},asetpts=N/SR/TB,{fmt}[c];[a][b][c]concat=n=3:v=0:a=1[o]"
    )
    extended = lambda t: t if t < CUT_S else t + SCENE_S
    copy("extended", extended, "-i", str(e2), "-i", str(scene), "-filter_complex", graph, "-map", "[o]")
    lo, hi = RECAP
    graph = f"[0:a]atrim=0:{lo},asetpts=N/SR/TB,{fmt}[a];[0:a]atrim={hi},asetpts=N/SR/TB,{fmt}[b];[a][b]concat=n=2:v=0:a=1[o]"
    copy("norecap", lambda t: t if t < lo else t - (hi - lo), "-i", str(e2), "-filter_complex", graph, "-map", "[o]")
    base = detect([source], workers=2).by_id()
    found = detect([folder], workers=2)
    return {"base": base, "found": found, "by_id": found.by_id(), "e2": e2.stem, "maps": maps, "folder": folder}


def _same(a: Part | None, b: Part | None, mapping: Callable[[float], float] = lambda t: t) -> bool:
    sa, sb = (p.segment if p is not None else None for p in (a, b))
    if sa is None or sb is None:
        return sa is None and sb is None
    return abs(sb.start_s - mapping(sa.start_s)) <= WITHIN_S and abs(sb.end_s - mapping(sa.end_s)) <= WITHIN_S


def test_copies_change_no_answer_of_the_other_episodes(season: dict) -> None:
    base, found = season["base"], season["by_id"]
    assert set(base) <= set(found)
    for vid, was in base.items():
        now = found[vid]
        assert now.version_of is None, vid  # no original is taken for a copy of another
        for kind in Kind:
            assert _same(was.part(kind), now.part(kind)), (vid, kind, was.part(kind), now.part(kind))


@pytest.mark.parametrize("name", ["opus", "pal", "late", "extended"])
def test_every_copy_is_answered_with_its_episodes_parts_mapped(season: dict, name: str) -> None:
    vid = f"{season['e2']}.{name}"
    copy, original = season["by_id"][vid], season["base"][season["e2"]]
    assert copy.version_of == season["e2"]
    for kind in Kind:
        assert _same(original.part(kind), copy.part(kind), season["maps"][vid]), (kind, copy.part(kind))


def test_a_copy_without_its_recap_maps_what_follows_the_cut(season: dict) -> None:
    """The recap's 28 s cut out (4.0-32.1 s): the ident before the cut stays, the intro and credits after it come
    28.1 s sooner; the original's recap (found: 3.9-31.4 s) is not marked in the copy, nor anything over the
    cut."""
    vid = f"{season['e2']}.norecap"
    copy, original = season["by_id"][vid], season["base"][season["e2"]]
    assert copy.version_of == season["e2"]
    for kind in Kind:
        if kind != Kind.RECAP:
            assert _same(original.part(kind), copy.part(kind), season["maps"][vid]), (kind, copy.part(kind))
    was = original.part(Kind.RECAP)
    assert was is not None and was.segment is not None
    recap = copy.part(Kind.RECAP)
    assert recap is None or recap.segment is None


def test_the_result_says_which_episode_a_copy_is_a_version_of(season: dict, tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    write_result(out, season["found"].detections)
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert rows[f"{season['e2']}.pal"]["version_of"] == season["e2"]
    assert "version_of" not in rows[season["e2"]]
    again = {d.id: d for d in read_result(out)}
    assert again[f"{season['e2']}.late"].version_of == season["e2"]


def test_the_table_and_the_report_say_it_too(season: dict) -> None:
    from rich.console import Console

    from introdetect._cli.render import detection_table
    from introdetect.report import build_report

    detections = season["found"].detections
    console = Console(width=400, record=True)
    console.print(detection_table(detections, "parts"))
    lines = console.export_text().splitlines()
    assert any("version of" in line for line in lines)
    row = next(line for line in lines if f"{season['e2']}.opus " in line)
    assert row.rstrip(" │").endswith(season["e2"])  # the last column: the episode it is a copy of
    html = build_report(detections)
    assert f'version of <a href="#{season["e2"]}">' in html
