"""The label reader under generated input (hypothesis): wrong types, huge numbers, odd time strings, deep
nesting, invalid UTF-8. Only clean errors (LabelError: one line naming the file), never another exception.
CI runs a few hundred cases; bench/fuzz_labels.py runs 10,000+ with the same strategies and counts outcomes."""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from introdetect.labels import LABEL_POLICIES, LabelError, read_labels
from introdetect.metrics import read_truth
from introdetect.result import read_result

CI_EXAMPLES = 300

ODD_TIMES = [
    "0:01:30",
    "1:30",
    "90",
    "0:00:00",
    "00:01:30.5",
    "-0:00:05",
    "0:61:00",
    "0:00:99",
    "1e9",
    "nan",
    "inf",
    "",
    " ",
    "0:00:05 ",
    "٠:٠١:٣٠",
    "0：01：30",
    "0:01:30:00",
    "::",
    "9" * 400,
    "0:01:30\x00",
    "0:1:3",
    "24:00:00",
    "99999999999999999999:00:00",
]
TIMES = st.one_of(
    st.sampled_from(ODD_TIMES),
    st.from_regex(r"-?\d{0,4}(:\d{0,3}){0,3}(\.\d{0,12})?", fullmatch=True),
    st.text(max_size=30),
)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(2**63),
    st.just(-(2**63) - 1),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TIMES)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
ROW = st.fixed_dictionaries(
    {},
    optional={
        "start": st.one_of(TIMES, VALUES),
        "end": st.one_of(TIMES, VALUES),
        "name": st.one_of(st.text(max_size=40), VALUES),
        "url": VALUES,
        "start_sec": st.one_of(NUMBERS, VALUES),
        "end_sec": st.one_of(NUMBERS, VALUES),
        "confidence": st.one_of(NUMBERS, VALUES),
        "tags": VALUES,
        "duration_sec": NUMBERS,
    },
)
LABEL_JSON = st.one_of(
    st.dictionaries(st.text(max_size=12), st.one_of(ROW, VALUES), max_size=6),  # a label file, more or less
    VALUES,  # any JSON at all
)


def _encode(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8", errors="surrogatepass")


RAW = st.one_of(
    LABEL_JSON.map(_encode),
    st.binary(max_size=200),  # invalid UTF-8, truncated, anything
    st.integers(min_value=1, max_value=200_000).map(lambda n: b"[" * n + b"]" * n),  # deep nesting
    st.integers(min_value=1, max_value=200_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.tuples(LABEL_JSON.map(_encode), st.integers(min_value=0, max_value=400)).map(lambda t: t[0][: t[1]]),
    st.tuples(LABEL_JSON.map(_encode), st.binary(min_size=1, max_size=3)).map(lambda t: t[1] + t[0]),
)


def check_label_bytes(data: bytes, outcomes: Counter | None = None) -> None:
    """Read ``data`` as a label file every way the tool reads one; anything but a LabelError is a failure."""
    fd, name = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    path = Path(name)
    try:
        path.write_bytes(data)
        for policy in LABEL_POLICIES:
            try:
                labels = read_labels(path, policy=policy)
                labels.stats()  # what `introdetect labels` prints
                outcome = "read"
            except LabelError as exc:
                message = str(exc)
                assert "\n" not in message and str(path) in message, message  # one line naming the file
                outcome = type(exc).__name__
            if outcomes is not None:
                outcomes[f"read_labels/{policy}: {outcome}"] += 1
        try:
            read_result(path)
            read_truth(path)
            outcome = "read"
        except LabelError as exc:
            assert "\n" not in str(exc) and str(path) in str(exc), str(exc)
            outcome = type(exc).__name__
        if outcomes is not None:
            outcomes[f"read_result: {outcome}"] += 1
    finally:
        path.unlink(missing_ok=True)


@settings(
    max_examples=CI_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(RAW)
def test_label_reader_gives_only_clean_errors(data: bytes) -> None:
    check_label_bytes(data)


def test_an_id_with_a_newline_is_escaped_in_the_one_line_message(tmp_path: Path) -> None:
    """Found by bench/fuzz_labels.py: an id holding a newline made the error two lines."""
    path = tmp_path / "labels.json"
    path.write_text(json.dumps({"ep\n1": None, "ep\t2": {"start": "0:00:10", "end": "0:00:05"}}), encoding="utf-8")
    for policy in ("fail",):
        try:
            read_labels(path, policy=policy)
        except LabelError as exc:
            assert "\n" not in str(exc) and "ep\\n1" in str(exc)
        else:
            raise AssertionError("a bad row must fail under policy 'fail'")
    try:
        read_result(path)
    except LabelError as exc:
        assert "\n" not in str(exc) and "ep\\n1" in str(exc)
    else:
        raise AssertionError("read_result must refuse a row that is not an object")
