import math

import pytest

from introdetect.timecode import Segment, TimecodeError, format_timecode, parse_timecode


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0:01:42", 102.0),
        ("1:02:03", 3723.0),
        ("0:00:00", 0.0),
        ("01:42", 102.0),
        ("1:42", 102.0),
        ("0:01:42.5", 102.5),
        ("0:01:42,25", 102.25),
        (" 0:00:06 ", 6.0),
        ("12:00:00", 43200.0),
    ],
)
def test_parse_accepts_hms_and_ms(text, seconds):
    assert parse_timecode(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["1:2", "0:1:2", "0:60:00", "0:00:60", "", "abc", "1:02:03:04", "-0:00:01"])
def test_parse_rejects_ambiguous_or_malformed(text):
    with pytest.raises(TimecodeError, match="H:MM:SS"):
        parse_timecode(text)


@pytest.mark.parametrize("value", [None, 12, 1.5, ["0:00:01"]])
def test_parse_rejects_non_strings(value):
    with pytest.raises(TimecodeError):
        parse_timecode(value)


def test_format_round_trip():
    for seconds in (0.0, 5.0, 102.0, 3723.0, 59.96):
        assert parse_timecode(format_timecode(seconds, 1)) == pytest.approx(round(seconds, 1))
    assert format_timecode(102) == "0:01:42"
    assert format_timecode(59.96, 1) == "0:01:00.0"
    with pytest.raises(TimecodeError):
        format_timecode(-1)
    with pytest.raises(TimecodeError):
        format_timecode(math.nan)


def test_segment_geometry():
    a, b = Segment(10, 20), Segment(15, 25)
    assert a.duration_s == 10 and a.centre_s == 15
    assert a.contains(10) and a.contains(20) and not a.contains(20.01)
    assert a.overlap_s(b) == 5
    assert a.iou(b) == pytest.approx(5 / 15)
    assert Segment(0, 0).iou(Segment(0, 0)) == 0.0
    with pytest.raises(ValueError):
        Segment(5, 4)
    with pytest.raises(ValueError):
        Segment(-1, 4)
    with pytest.raises(ValueError):
        Segment(0, math.inf)
