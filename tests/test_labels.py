"""Label reading on the real VK files (counts verified by hand against the JSON) and on crafted defects."""

import json
from collections import Counter

import pytest
from conftest import PACKAGED_LABELS, SHARED_LABELS, SHARED_LABELS_ORIGINAL

from introdetect.labels import (
    LabelDefectError,
    LabelFileError,
    normalise_lookalikes,
    parse_episode_name,
    read_labels,
    recommend_window,
    write_labels,
)
from introdetect.settings import DEFAULT_WINDOW_S

TRAIN = SHARED_LABELS / "train_labels.json"
TEST = SHARED_LABELS / "test_labels.json"


@pytest.fixture(scope="module")
def both():
    return read_labels([TRAIN, TEST])


def test_real_files_counts_verified_by_hand(both):
    # train: 80 rows, test: 45 rows; 15 test ids repeat train ids with identical times
    assert both.rows_read == 125
    assert len(both) == 110
    kinds = Counter(d.kind for d in both.defects)
    # 24 train rows have end <= start (e.g. 456241671 "0:03:47"–"0:03:10"); test's 5 such rows are repeats
    assert kinds["end_not_after_start"] == 24
    assert kinds["duplicate_id"] == 15
    assert kinds["conflicting_duplicate"] == 0
    # starts past 8:00: 456256475 (10:42), 456254614 (8:39), 456253855 (8:31), 456253876 (12:48)
    assert kinds["beyond_window"] == 4
    # Latin look-alikes: Бывaeт и xyжe (9), Амepикaнcкий вaндaл (4), Бeвepли-Xиллз, Блaгиe знaмeния, 3вeздный пyть
    assert kinds["lookalike_letters"] == 16
    assert kinds["unparsed_name"] == 0
    assert kinds["bad_time"] == 0
    stats = both.stats()
    assert stats.usable == 86 and stats.with_intro == 86
    assert stats.series["24 часа"] == 30 and stats.series["Баскетс"] == 19 and len(stats.series) == 18
    assert stats.duration_s["min"] == 2.0 and stats.duration_s["max"] == 15.0


@pytest.mark.skipif(not SHARED_LABELS_ORIGINAL.is_dir(), reason="no shared/ beside this checkout")
def test_packaged_copy_is_the_shared_files():
    for name in ("train_labels.json", "test_labels.json"):
        assert (PACKAGED_LABELS / name).read_bytes() == (SHARED_LABELS_ORIGINAL / name).read_bytes()


def test_train_alone_has_no_duplicates():
    train = read_labels(TRAIN)
    assert len(train) == 80
    assert not [d for d in train.defects if "duplicate" in d.kind]


def test_every_defect_names_id_and_file(both):
    for defect in both.defects:
        assert defect.id in both
        assert defect.file in (str(TRAIN), str(TEST))
        assert defect.id in str(defect) and defect.file in str(defect)
    label = both["-220020068_456241671"]
    assert label.start_s == 227 and label.end_s == 190 and label.segment is None and not label.usable
    assert "end_not_after_start" in label.defects and "duplicate_id" in label.defects


def test_default_window_is_the_data_driven_choice(both):
    assert recommend_window(both) == DEFAULT_WINDOW_S
    assert both.stats().share_ending_within["300s"] < 0.95  # the design's 300 s would miss too many


def test_policies(both):
    skipped = read_labels([TRAIN, TEST], policy="skip")
    assert len(skipped) == 86 and len(skipped.skipped) == 24
    assert all(label.usable for label in skipped)
    assert len(skipped.defects) == len(both.defects)  # skipping never hides the report
    with pytest.raises(LabelDefectError, match="end_not_after_start"):
        read_labels([TRAIN], policy="fail")
    with pytest.raises(ValueError):
        read_labels([TRAIN], policy="ignore")


@pytest.mark.parametrize(
    ("name", "series", "season", "episode", "note"),
    [
        ("Баскетс. 4 сезон, 7 серия", "Баскетс", 4, 7, None),
        ("Анатомия скандала. 1 сезон. 2 серия.", "Анатомия скандала", 1, 2, None),
        ("Бывaeт и xyжe. 1 сезон ,18 серия", "Бывает и хуже", 1, 18, None),
        ("Берлин. 8 серия (финал)", "Берлин", None, 8, "финал"),
        (
            "Бойцовская ночь: Афера на миллион. 1 сезон, 8 серия (Финал)",
            "Бойцовская ночь: Афера на миллион",
            1,
            8,
            "финал",
        ),
        ("3вeздный пyть: Пикap. 3 сезон, 10 серия", "Звездный путь: Пикар", 3, 10, None),
        ("Бeвepли-Xиллз 90210. 5 сезон, 4 серия", "Беверли-Хиллз 90210", 5, 4, None),
        ("24 часа. 8 сезон, 18 серия", "24 часа", 8, 18, None),
        ("The Office S02E03", "The Office", 2, 3, None),
        ("Doctor.Who.1x07", "Doctor Who", 1, 7, None),
    ],
)
def test_name_styles(name, series, season, episode, note):
    parsed = parse_episode_name(name)
    assert parsed is not None
    assert (parsed.series, parsed.season, parsed.episode, parsed.note) == (series, season, episode, note)


def test_every_real_name_parses(both):
    assert all(label.episode is not None for label in both)


def test_lookalikes_only_inside_cyrillic_words():
    assert normalise_lookalikes("Бывaeт и xyжe") == "Бывает и хуже"
    assert normalise_lookalikes("Beverly Hills 90210") == "Beverly Hills 90210"
    assert parse_episode_name("no episode here") is None


def write(tmp_path, content, name="labels.json"):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


def test_row_defects(tmp_path):
    path = write(
        tmp_path,
        {
            "a": {"start": "1:2", "end": "0:00:10"},
            "b": {"start": "0:00:05", "end": None},
            "c": {"start": "0:00:05"},
            "d": {"start": None, "end": None, "name": "Шоу. 1 сезон, 2 серия"},
            "e": "0:00:05",
            "f": {"start": 5, "end": "0:00:10"},
            "g": {"start": "0:00:05", "end": "0:00:05.5"},
            "h": {"start": "0:00:05", "end": "0:05:05"},
            "i": {"start": "0:00:05", "end": "0:00:15", "name": "просто название"},
            "j": {"url": "x"},
        },
    )
    labels = read_labels(path)
    kinds = {label.id: set(label.defects) for label in labels}
    assert kinds["a"] == {"bad_time"}
    assert kinds["b"] == {"missing_time"}
    assert kinds["c"] == {"missing_time"}
    assert kinds["d"] == set() and labels["d"].no_intro and labels["d"].usable
    assert kinds["e"] == {"bad_row"}
    assert kinds["f"] == {"bad_time"}
    assert kinds["g"] == {"implausible_duration"}
    assert kinds["h"] == {"implausible_duration"}
    assert kinds["i"] == {"unparsed_name"} and labels["i"].usable
    assert kinds["j"] == {"missing_time"}
    messages = {d.id: d.message for d in labels.defects}
    assert "'1:2'" in messages["a"] and "end is null" in messages["b"]


def test_duplicates_within_and_across_files(tmp_path):
    one = write(
        tmp_path,
        '{"x": {"start": "0:00:01", "end": "0:00:05"}, "x": {"start": "0:00:01", "end": "0:00:05"}}',
        "one.json",
    )
    two = write(tmp_path, {"x": {"start": "0:00:02", "end": "0:00:05"}}, "two.json")
    labels = read_labels([one, two])
    kinds = Counter(d.kind for d in labels.defects)
    assert kinds == {"duplicate_id": 1, "conflicting_duplicate": 1}
    assert len(labels) == 1 and labels["x"].start_s == 1
    assert not labels["x"].usable
    assert read_labels([one, two], policy="skip").skipped == ("x",)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "invalid JSON at line 1"),
        ("", "empty file"),
        ("[1, 2]", "expected a JSON object"),
        (b"\xff\xfe{}", "not UTF-8"),
        ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ],
)
def test_bad_files_give_one_line_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "bad labels.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(LabelFileError) as info:
        read_labels(path)
    message = str(info.value)
    assert message.startswith(str(path)) and problem in message and "\n" not in message


def test_missing_file_and_batch_goes_on(tmp_path):
    good = write(tmp_path, {"a": {"start": "0:00:01", "end": "0:00:05"}})
    missing = tmp_path / "nope.json"
    with pytest.raises(LabelFileError, match="no such file"):
        read_labels(missing)
    labels = read_labels([missing, good], skip_bad_files=True)
    assert len(labels) == 1 and labels.failed_files[0][0] == str(missing)


def test_write_round_trip(tmp_path, both):
    out = tmp_path / "out.json"
    write_labels(out, both)
    again = read_labels(out)
    assert again.ids == both.ids
    assert [(a.start_s, a.end_s) for a in again] == [(b.start_s, b.end_s) for b in both]
    assert not list(tmp_path.glob(".*part*"))


def test_report_is_json(both):
    report = both.report()
    text = json.dumps(report, ensure_ascii=False)
    assert json.loads(text)["stats"]["ids"] == 110
    assert report["labels"]["-220020068_456255414"]["start_sec"] == 102
    assert report["labels"]["-220020068_456255414"]["duration"] == 5


def test_optional_part_keys_are_read_written_and_their_defects_reported(tmp_path):
    path = tmp_path / "parts.json"
    rows = {
        "e1": {
            "start": "0:01:00",
            "end": "0:01:30",
            "recap_start": "0:00:02",
            "recap_end": "0:00:40",
            "credits_start": "0:41:10",
            "credits_end": "0:42:00",
            "preview_start": None,
            "preview_end": None,
        },
        "e2": {"start": "0:01:00", "end": "0:01:30", "credits_start": "0:41:10", "credits_end": "0:40:00"},
        "e3": {"start": "0:01:00", "end": "0:01:30", "recap_start": 12, "recap_end": "0:00:40"},
    }
    path.write_text(json.dumps(rows), encoding="utf-8")
    labels = read_labels(path)
    e1 = labels["e1"]
    assert e1.part("recap").start_s == 2 and e1.part("credits").end_s == 2520 and e1.part("preview") is None
    assert dict(e1.parts).keys() == {"recap", "credits", "preview"} and e1.usable
    # a bad part is reported by id and left out; the intro stays usable truth
    bad = {d.id: d.message for d in labels.defects if d.kind == "bad_part"}
    assert set(bad) == {"e2", "e3"} and "credits: end 0:40:00 is not after start 0:41:10" in bad["e2"]
    assert labels["e2"].parts == () and labels["e2"].usable
    write_labels(tmp_path / "back.json", labels)
    again = read_labels(tmp_path / "back.json")
    assert again["e1"].parts == e1.parts
    # the VK files read exactly as before: no part keys, no parts
    assert all(label.parts == () for label in read_labels([TRAIN, TEST]))


def test_a_row_of_other_parts_only_says_nothing_of_the_intro(tmp_path):
    """Credits labelled (a reviewer's correction) and no start/end keys: neither an intro nor "no intro", no
    defect; written back the same; a row with neither intro nor part keys is still a missing time."""
    path = tmp_path / "parts.json"
    path.write_text(json.dumps({"e1": {"credits_start": "0:41:10", "credits_end": "0:42:00.5"}, "e2": {}}))
    labels = read_labels(path)
    e1 = labels["e1"]
    assert not e1.intro_stated and not e1.no_intro and e1.segment is None and not e1.usable and e1.defects == ()
    assert e1.part("credits").end_s == 2520.5
    assert [d.kind for d in labels.defects if d.id == "e2"] == ["missing_time"]
    write_labels(tmp_path / "back.json", labels)
    back = json.loads((tmp_path / "back.json").read_text())
    assert "start" not in back["e1"] and read_labels(tmp_path / "back.json")["e1"].parts == e1.parts
