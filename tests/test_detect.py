"""detect on media: the tiny corpus's series (real recordings, five codecs, PAL speed-up, speech and effects
over intros, no-intro episodes), the output contract, known intros, series grouping, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from introdetect import detect
from introdetect._cli import app
from introdetect.grouping import group_series, series_of
from introdetect.known import IntroLibrary, build_library
from introdetect.labels import read_labels
from introdetect.metrics import read_truth
from introdetect.result import Kind, Method, read_result
from introdetect.settings import AudioOptions
from introdetect.timecode import format_timecode, parse_timecode

runner = CliRunner()


def _truth(corpus: Path) -> dict:
    truth = {}
    for split in ("train", "validation", "test", "seen"):
        truth.update(read_truth(corpus / f"truth_{split}.json"))
    return truth


def _within(found, expected, tolerance_s: float) -> bool:
    if expected is None or found is None:
        return expected is None and found is None
    return abs(found.start_s - expected.start_s) <= tolerance_s and abs(found.end_s - expected.end_s) <= tolerance_s


@pytest.fixture(scope="module")
def season_answers(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """`introdetect detect` over the whole tiny corpus (no labels): series come from the S01E02 file names."""
    out = tmp_path_factory.mktemp("detect") / "result.json"
    result = runner.invoke(app, ["detect", str(tiny_corpus), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8")), out


def test_output_is_the_label_format_with_seconds_confidence_and_method(season_answers, tiny_corpus):
    answers, _ = season_answers
    assert set(answers) == set(_truth(tiny_corpus))
    for vid, row in answers.items():
        assert set(row) >= {"start", "end", "start_sec", "end_sec", "confidence", "method"}, vid
        assert 0.0 <= row["confidence"] <= 1.0
        if row["start"] is None:
            assert row["end"] is None and row["start_sec"] is None
        else:
            assert abs(parse_timecode(row["start"]) - row["start_sec"]) <= 0.05  # H:MM:SS.s
            assert row["end_sec"] > row["start_sec"]


def test_stings_and_themes_found_within_half_a_second(season_answers, tiny_corpus):
    """show01: 5.1 s sting, speech over it in e02, e03 without intro (and sped up); show03: 3.7 s sting with
    EQ and volume changes, e03 without; show05: 25 s theme, effects over it, e02 sped up (PAL)."""
    answers, out = season_answers
    found = {d.id: d for d in read_result(out)}
    truth = _truth(tiny_corpus)
    for vid in (
        "show01_s01e01",
        "show01_s01e02",
        "show01_s01e03",
        "show03_s01e01",
        "show03_s01e02",
        "show03_s01e03",
        "show03_s01e04",
        "show05_s01e01",
        "show05_s01e02",
        "show05_s01e03",
        "show05_s01e04",
    ):
        assert _within(found[vid].intro, truth[vid].intro, 0.5), (vid, found[vid].intro, truth[vid].intro)


def test_no_false_intros_where_there_is_none(season_answers, tiny_corpus):
    found = {d.id: d for d in read_result(season_answers[1])}
    for vid, t in _truth(tiny_corpus).items():
        if t.intro is None:
            assert found[vid].intro is None, vid


def test_known_series_one_new_episode_by_lookup(tiny_corpus, tmp_path):
    """The train split's labels and videos teach show03 and show05; their unseen episodes come one at a time."""
    labels = read_labels(tiny_corpus / "truth_train.json")
    library, failed, missing = build_library(labels, sorted((tiny_corpus / "train").rglob("*.*")))
    assert not failed and not missing and library.series == {"сериал 03", "сериал 05"}
    assert all(e.refined for e in library.entries)  # each series has 2 labelled intros to refine from
    library.save(tmp_path / "known.introlib")
    loaded = IntroLibrary.load(tmp_path / "known.introlib")
    truth = read_truth(tiny_corpus / "truth_seen.json")
    seen_labels = read_labels(tiny_corpus / "truth_seen.json")
    for video in sorted((tiny_corpus / "seen").rglob("*.*")):
        [d] = detect([video], labels=seen_labels, library=loaded)
        assert d.part(Kind.INTRO).method == Method.KNOWN and d.series in library.series, d
        assert _within(d.intro, truth[video.stem].intro, 0.5), (d, truth[video.stem])


def test_lone_unknown_episode_is_answered_by_the_model_alone(tiny_corpus, tmp_path):
    """No siblings, no labels: the model answers (the design's rule); matching alone says it cannot match it."""
    video = next((tiny_corpus / "test").rglob("show02_s01e01.*"))
    out = tmp_path / "lone.json"
    result = runner.invoke(app, ["detect", str(video), "--no-progress", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "answered by the model alone" in result.output
    assert json.loads(out.read_text(encoding="utf-8"))[video.stem]["method"] == "model"
    result = runner.invoke(app, ["detect", str(video), "--no-progress", "--use", "matching"])
    assert result.exit_code == 0, result.output
    assert "cannot be matched" in result.output


def _whole_second_labels(rows: dict, ids: list[str], path: Path):
    """The truth rows of ``ids`` as an annotator gives them: the intro in whole seconds, names kept."""
    labels = {}
    for vid in ids:
        row = rows[vid]
        start, end = (format_timecode(float(round(row[key])), 0) for key in ("start_sec", "end_sec"))
        labels[vid] = {"name": row["name"], "start": start, "end": end}
    path.write_text(json.dumps(labels, ensure_ascii=False), encoding="utf-8")
    return read_labels(path)


def test_a_new_episode_named_as_labelled_ones_are_is_of_their_series(tmp_path: Path) -> None:
    """Labels name a series in words ("Сериал 05. 1 сезон, 1 серия"); a new file named as the labelled videos'
    files are ("show05_s01e04" beside "show05_s01e01"), or a video id in the folder of one series' labelled
    ids, is of that series; another show's file beside them, a folder of two series' labelled ids, or a file
    with a label of its own keep their own names."""
    from introdetect.grouping import SeriesNames, labelled_aliases, labelled_videos

    season, ids, mixed = tmp_path / "season", tmp_path / "ids", tmp_path / "mixed"
    names_on_disk = (
        "season/show05_s01e01.mp4",
        "season/show05_s01e04.mp4",
        "season/Other.Show.S01E02.mp4",
        "ids/-220020068_456241671.mp4",
        "ids/-220020068_456241699.mp4",
        "mixed/a1.mp4",
        "mixed/b1.mp4",
        "mixed/c.mp4",
    )
    for name in names_on_disk:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    rows = {
        "show05_s01e01": {"name": "Сериал 05. 1 сезон, 1 серия", "start": "0:00:35", "end": "0:01:00"},
        "-220020068_456241671": {"name": "Берлин. 1 сезон, 1 серия", "start": "0:00:10", "end": "0:00:30"},
        "a1": {"name": "Сериал A. 1 сезон, 1 серия", "start": "0:00:10", "end": "0:00:30"},
        "b1": {"name": "Сериал B. 1 сезон, 1 серия", "start": "0:00:10", "end": "0:00:30"},
    }
    (tmp_path / "labels.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    labels = read_labels(tmp_path / "labels.json")
    pairs, missing = labelled_videos(labels, [season, ids, mixed])
    assert not missing
    names = SeriesNames(labels, None, labelled_aliases(pairs, labels))
    assert names.of(season / "show05_s01e04.mp4") == names.of(season / "show05_s01e01.mp4") == "сериал 05"
    assert names.of(season / "Other.Show.S01E02.mp4") == "other show"
    assert names.of(ids / "-220020068_456241699.mp4") == "берлин"
    assert names.of(mixed / "c.mp4") == "mixed"  # two series labelled there: neither
    assert names.of(mixed / "a1.mp4") == "сериал a"
    assert SeriesNames(labels, "Given", labelled_aliases(pairs, labels)).of(season / "show05_s01e04.mp4") == "Given"
    assert SeriesNames(labels).of(season / "show05_s01e04.mp4") == "show05"  # no labelled videos: its own name


def test_a_known_series_is_heard_where_its_labels_say(tiny_corpus: Path, tmp_path: Path) -> None:
    """show05's intros (25 s, at 35.3 s and 49.7 s of the two labelled episodes, whole-second labels) lie past a
    45 s head window; a new episode (intro 41.3-66.2 s), named only by its file, sits beside them. The
    labelled episodes are analysed to hold their labels, the new one is heard further because its series'
    intros lie late, and it is answered by lookup in its series, within 1 s."""
    folder = tmp_path / "show05"
    folder.mkdir()
    labelled = sorted((tiny_corpus / "train" / "show05").glob("show05_s01e0[12].*"))
    for video in [*labelled, *(tiny_corpus / "seen" / "show05").glob("show05_s01e04.*")]:
        shutil.copy(video, folder / video.name)
    rows = json.loads((tiny_corpus / "truth_train.json").read_text(encoding="utf-8"))
    labels = _whole_second_labels(rows, ["show05_s01e01", "show05_s01e02"], tmp_path / "labels.json")
    new = next(folder.glob("show05_s01e04.*"))
    [d] = detect([new], labels=labels, videos=[folder], options=AudioOptions(window_s=45.0), workers=1)
    assert d.series == "сериал 05" and d.part(Kind.INTRO).method == Method.KNOWN, d
    assert _within(d.intro, read_truth(tiny_corpus / "truth_seen.json")["show05_s01e04"].intro, 1.0), d


def test_label_audit_flags_a_label_the_audio_contradicts(tiny_corpus, tmp_path):
    rows = json.loads((tiny_corpus / "truth_train.json").read_text(encoding="utf-8"))
    rows["show05_s01e01"]["start"] = "0:00:39"  # 4 s late: the theme starts at 35.3 s
    rows["show05_s01e01"]["end"] = "0:01:04"
    for row in rows.values():  # as real labels: whole seconds only
        row.pop("start_sec", None), row.pop("end_sec", None)
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["labels", str(path), "--audit", "--videos", str(tiny_corpus / "train")])
    assert result.exit_code == 0, result.output
    flagged = [line for line in result.output.splitlines() if "show05_s01e01" in line]
    assert flagged and "flag" in flagged[0].lower(), result.output


def test_a_bad_file_fails_alone_and_is_listed(tiny_corpus, tmp_path):
    folder = tmp_path / "season"
    folder.mkdir()
    for video in sorted((tiny_corpus / "test" / "show01").glob("*.*")):
        shutil.copy(video, folder / video.name)
    (folder / "show01_s01e09.mp4").write_bytes(b"not a video at all" * 100)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["detect", str(folder), "--out", str(out), "--no-progress"])
    assert result.exit_code == 1
    assert "show01_s01e09.mp4" in result.output and "1 failed" in result.output
    answers = json.loads(out.read_text(encoding="utf-8"))
    assert set(answers) == {"show01_s01e01", "show01_s01e02", "show01_s01e03"}


def test_series_from_names_folders_and_override(tmp_path):
    labels_file = tmp_path / "l.json"
    labels_file.write_text(
        json.dumps(
            {
                "a1": {"name": "Берлин. 8 серия (финал)", "start": "0:01:00", "end": "0:01:10"},
                "b2": {"name": "Бывaeт и xyжe. 1 сезон, 2 серия", "start": None, "end": None},
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    labels = read_labels(labels_file)
    assert series_of(tmp_path / "a1.mp4", labels) == "берлин"
    assert series_of(tmp_path / "b2.mkv", labels) == "бывает и хуже"
    assert series_of(Path("/media/Doctor Who/Season 1/x.mkv")) == "doctor who"
    assert series_of(Path("/media/x/The.Office.S02E03.mkv")) == "the office"
    assert series_of(Path("/media/x/Friends 1x02.avi")) == "friends"
    groups = group_series([Path("/a/Show/S01/1.mkv"), Path("/b/other.mkv")], series="mine")
    assert list(groups) == ["mine"] and len(groups["mine"]) == 2


def test_unknown_label_policy_is_a_usage_error(tiny_corpus):
    result = runner.invoke(app, ["detect", str(tiny_corpus / "test"), "--policy", "bogus", "--no-progress"])
    assert result.exit_code == 2 and "policy" in result.output


def test_one_decode_gives_every_detectors_answer(tiny_corpus):
    """candidates(): the matcher's and the model's answers from one decode; each view of them keeps every
    episode, in order; the model view is the model's alone, the fused one takes the matcher's where it is sure."""
    from introdetect.pipeline import candidates

    videos = sorted((tiny_corpus / "test").rglob("*.m*"))
    found = candidates(videos, workers=1)
    assert {vid for vid, given in found.found.items() if any(c.method == Method.MODEL for c in given)} == {
        v.stem for v in videos
    }
    views = {use: found.answers(use) for use in ("fused", "matching", "model")}
    for answers in views.values():
        assert [d.id for d in answers] == [v.stem for v in videos]
    assert all(d.part(Kind.INTRO).method == Method.MODEL for d in views["model"])
    assert all(d.part(Kind.INTRO).method == Method.RECURRING for d in views["matching"])
    for fused, matched in zip(views["fused"], views["matching"], strict=True):
        if matched.intro is not None and (matched.part(Kind.INTRO).confidence or 0) >= 0.5:
            assert fused.intro == matched.intro


def test_the_result_keeps_each_answers_evidence_and_reads_back(season_answers):
    """Every answer carries what it rests on (analysed seconds, the model's curve and answer, what recurred,
    matching's own answer where fusion decided); reading the file back gives the same rows."""
    answers, path = season_answers
    detections = read_result(path)
    assert [d.id for d in detections] == list(answers)
    for d in detections:
        e = d.part(Kind.INTRO).evidence
        assert d.analysed_s and d.analysed_s > 30, d.id
        assert e.curve is not None and len(e.curve.values) >= d.analysed_s / e.curve.step_s - 2, d.id
        assert all(0.0 <= v <= 1.0 for v in e.curve.values) and e.model is not None
        assert Path(d.path).is_file()
        assert d.to_json() == answers[d.id], d.id
    recurring = [d for d in detections if d.part(Kind.INTRO).method == Method.RECURRING and d.intro is not None]
    assert recurring and all(d.part(Kind.INTRO).evidence.matches for d in recurring)
    for d in recurring:  # the answer is one of the segments that recur, refined
        best = max(d.part(Kind.INTRO).evidence.matches, key=lambda m: m.segment.iou(d.intro))
        assert best.segment.iou(d.intro) >= 0.5 and best.partners and d.id not in best.partners
    assert all(
        d.part(Kind.INTRO).evidence.matcher is not None
        for d in detections
        if d.part(Kind.INTRO).method in (Method.RECURRING, Method.MODEL)
    )


def test_a_provisional_answer_leaves_its_episode_to_the_next_detector_which_hears_the_whole_season() -> None:
    """Pure (stand-in detectors): the first answers a season's intros, one of them provisionally (a known intro
    the episode holds part of); the next detector of the intro is asked about the whole season, the closed
    episodes too, and its answers are kept for the open one only. A season answered wholly is not asked."""
    from types import SimpleNamespace

    from introdetect.analysis import Analysed
    from introdetect.detectors import Candidate
    from introdetect.grouping import SeriesNames
    from introdetect.pipeline import _series_candidates
    from introdetect.timecode import Segment

    class First:
        name, family, kinds, remote, answers = "first", "matching", frozenset({Kind.INTRO}), False, True

        def key(self) -> str:
            return self.name

        def detect_series(self, series: str, prints: list, earlier: tuple = ()) -> list:
            return [
                [Candidate(Kind.INTRO, Segment(10.0, 20.0), 0.9, Method.KNOWN, provisional=p.id.endswith("e03"))]
                for p in prints
            ]

    asked: list[list[str]] = []

    class Second(First):
        name = "second"

        def detect_series(self, series: str, prints: list, earlier: tuple = ()) -> list:
            asked.append([p.id for p in prints])
            return [[Candidate(Kind.INTRO, Segment(9.0, 20.0), 0.8, Method.RECURRING)] for _ in prints]

    paths = [Path(f"show{s}_s01e0{e}.mkv") for s in (1, 2) for e in (1, 2, 3)]
    analysed = Analysed(prints={p: SimpleNamespace(id=p.stem) for p in paths})
    only_first = [p for p in paths if p.stem != "show2_s01e03"]  # show2 wholly answered: nothing provisional
    found = _series_candidates(only_first, analysed, SeriesNames(), [First(), Second()], None, None, {}, None)
    assert asked == [["show1_s01e01", "show1_s01e02", "show1_s01e03"]]
    methods = {p.stem: [c.method for c in cs] for p, cs in found.items()}
    assert methods["show1_s01e03"] == [Method.KNOWN, Method.RECURRING]
    assert all(m == [Method.KNOWN] for stem, m in methods.items() if stem != "show1_s01e03")
