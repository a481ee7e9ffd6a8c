"""Label files in the VK format: read, validate (every defect reported by id), summarise, write.

A label file is a JSON object keyed by video id; each value holds ``start`` and ``end`` as ``H:MM:SS``
strings, and usually ``name`` (series, season, episode in Russian) and ``url``. ``start`` and ``end`` both
null mean "this episode has no intro". Nothing is dropped silently: every problem becomes a ``Defect`` with
the id and the file, and the policy decides what happens to rows with error-level defects.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .atomic import write_json_atomic
from .errors import LabelDefectError, LabelFileError, SettingsError
from .errors import LabelError as LabelError  # re-exported: the base of every label problem
from .settings import (
    DEFAULT_WINDOW_S,
    LABEL_POLICIES,
    MAX_PLAUSIBLE_INTRO_S,
    MIN_PLAUSIBLE_INTRO_S,
    WINDOW_COVERAGE,
)
from .timecode import Segment, TimecodeError, format_timecode, parse_timecode

ERROR, WARNING, NOTE = "error", "warning", "note"

# kind → severity. Error-level defects make a row unusable as truth; the policy decides what happens to it.
DEFECT_KINDS: dict[str, str] = {
    "bad_row": ERROR,  # the value is not a JSON object
    "missing_time": ERROR,  # start or end absent or null while the other is given
    "bad_time": ERROR,  # start or end is not H:MM:SS
    "end_not_after_start": ERROR,
    "implausible_duration": ERROR,  # shorter than MIN_PLAUSIBLE_INTRO_S or longer than MAX_PLAUSIBLE_INTRO_S
    "conflicting_duplicate": ERROR,  # the same id with different start/end in another row
    "duplicate_id": WARNING,  # the same id with the same start/end in another row (first one kept)
    "beyond_window": WARNING,  # the intro ends after the analysis window: no detector can see it all
    "unparsed_name": WARNING,  # series/season/episode could not be read from `name`
    "lookalike_letters": NOTE,  # `name` mixes Latin look-alikes into Cyrillic words; normalised
    "bad_part": WARNING,  # a recap/credits/preview/ident time is unreadable or not a span: that part is not used
}

PART_KEYS = ("ident", "recap", "credits", "preview")
"""The parts other than the intro a label row may give, as ``<kind>_start``/``<kind>_end`` in the intro's time
format (both null: the episode has none of that kind; both absent: not labelled)."""

# Latin letters (and the digit 3) that look like Cyrillic ones, seen in the real VK names ("Бывaeт и xyжe",
# "3вeздный пyть"). Replaced only inside words that already contain Cyrillic, so "90210" and Latin titles stay.
_LOOKALIKES = str.maketrans(
    {
        "a": "а",
        "e": "е",
        "o": "о",
        "p": "р",
        "c": "с",
        "x": "х",
        "y": "у",
        "k": "к",
        "A": "А",
        "B": "В",
        "E": "Е",
        "K": "К",
        "M": "М",
        "H": "Н",
        "O": "О",
        "P": "Р",
        "C": "С",
        "T": "Т",
        "X": "Х",
        "Y": "У",
        "3": "З",
    }
)
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# "Баскетс. 4 сезон, 7 серия", "Анатомия скандала. 1 сезон. 2 серия.", "Бывает и хуже. 1 сезон ,18 серия",
# "Берлин. 8 серия (финал)", "… 1 сезон, 8 серия (Финал)"
_RU_NAME = re.compile(
    r"^(?P<series>.+?)[.,]?\s+(?:(?P<season>\d+)\s*сезон\s*[.,]?\s*)?(?P<episode>\d+)\s*серия\s*\.?"
    r"\s*(?:\((?P<note>[^)]*)\))?\s*\.?\s*$",
    re.IGNORECASE,
)
# "Show S01E02", "Show.s1e2", "Show 1x02"
_SXE = re.compile(
    r"^(?P<series>.*?)[\s._-]*(?:[Ss](?P<s1>\d{1,2})[\s._-]*[Ee](?P<e1>\d{1,3})|(?P<s2>\d{1,2})x(?P<e2>\d{2,3}))\b"
)


@dataclass(frozen=True)
class EpisodeName:
    """Series, season and episode read from a label's ``name``."""

    series: str
    season: int | None
    episode: int | None
    note: str | None = None  # e.g. "финал"

    @property
    def series_key(self) -> str:
        """Case- and spacing-insensitive key that groups episodes of one series."""
        return " ".join(self.series.casefold().split())


def normalise_lookalikes(text: str) -> str:
    """Replace Latin look-alike letters inside Cyrillic words: ``"Бывaeт и xyжe"`` → ``"Бывает и хуже"``."""

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        return word.translate(_LOOKALIKES) if _CYRILLIC.search(word) else word

    return _WORD.sub(fix, text)


def parse_episode_name(name: str) -> EpisodeName | None:
    """Read series, season and episode from the styles that occur in the VK labels (and S01E02 / 1x02).

    Returns None when no style matches. Look-alike letters are normalised first.
    """
    text = " ".join(normalise_lookalikes(name).split())
    match = _RU_NAME.match(text)
    if match:
        return EpisodeName(
            series=match["series"].strip(" .,"),
            season=int(match["season"]) if match["season"] else None,
            episode=int(match["episode"]),
            note=match["note"].strip().lower() if match["note"] else None,
        )
    match = _SXE.match(text)
    if match and match["series"].strip(" ._-"):
        return EpisodeName(
            series=re.sub(r"[._]+", " ", match["series"]).strip(" -"),
            season=int(match["s1"] or match["s2"]),
            episode=int(match["e1"] or match["e2"]),
        )
    return None


def shown(text: str) -> str:
    """``text`` for a one-line message: control characters (a newline in an id, say) escaped as ``\\n``;
    letters of any script kept as they are."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


@dataclass(frozen=True)
class Defect:
    id: str
    file: str
    kind: str
    message: str

    @property
    def severity(self) -> str:
        return DEFECT_KINDS[self.kind]

    def __str__(self) -> str:
        return f"{shown(self.file)}: {shown(self.id)}: {self.kind}: {shown(self.message)}"


@dataclass(frozen=True)
class Label:
    """One row of a label file, as read. ``start_s``/``end_s`` are None when absent or unparseable."""

    id: str
    file: str
    start_text: str | None
    end_text: str | None
    start_s: float | None
    end_s: float | None
    name: str | None = None
    url: str | None = None
    episode: EpisodeName | None = None
    defects: tuple[str, ...] = ()
    parts: tuple[tuple[str, Segment | None], ...] = ()
    """The other parts the row labels (PART_KEYS order): (kind, span, or None for "none of this kind")."""
    intro_stated: bool = True
    """False for a row that labels other parts only (no start/end keys at all: a reviewer corrected the credits
    and left the intro alone): it says nothing of the intro, neither a span nor "no intro"."""

    def part(self, kind: str) -> Segment | None:
        return dict(self.parts).get(kind)

    @property
    def no_intro(self) -> bool:
        """The row says explicitly that the episode has no intro (start and end both null)."""
        return self.intro_stated and self.start_text is None and self.end_text is None and "bad_row" not in self.defects

    @property
    def segment(self) -> Segment | None:
        """The intro as a Segment, when both times parse and end is after start."""
        if self.start_s is None or self.end_s is None or self.end_s <= self.start_s:
            return None
        return Segment(self.start_s, self.end_s)

    @property
    def duration_s(self) -> float | None:
        seg = self.segment
        return seg.duration_s if seg else None

    @property
    def has_error(self) -> bool:
        return any(DEFECT_KINDS[k] == ERROR for k in self.defects)

    @property
    def usable(self) -> bool:
        """Fit to serve as truth: no error-level defect, and either an intro segment or an explicit no-intro."""
        return not self.has_error and (self.segment is not None or self.no_intro)

    def to_json(self) -> dict[str, Any]:
        """The row in the VK label format, with the derived seconds alongside."""
        row: dict[str, Any] = {}
        if self.url is not None:
            row["url"] = self.url
        if self.name is not None:
            row["name"] = self.name
        if self.intro_stated:  # a row of other parts only stays one: null times would say "no intro"
            row["start"] = self.start_text
            row["end"] = self.end_text
            row["start_sec"] = self.start_s
            row["end_sec"] = self.end_s
            row["duration"] = self.duration_s
        for kind, segment in self.parts:
            row[f"{kind}_start"] = None if segment is None else _time_text(segment.start_s)
            row[f"{kind}_end"] = None if segment is None else _time_text(segment.end_s)
        return row


@dataclass(frozen=True)
class LabelStats:
    rows: int
    ids: int
    usable: int
    with_intro: int
    no_intro: int
    series: dict[str, int]
    duration_s: dict[str, float]
    start_s: dict[str, float]
    duration_buckets: dict[str, int]
    share_ending_within: dict[str, float]
    defects_by_kind: dict[str, int]
    recommended_window_s: float | None


@dataclass(frozen=True)
class LabelSet:
    """Labels keyed by id, the defects found while reading them, and the policy that was applied."""

    labels: tuple[Label, ...]
    defects: tuple[Defect, ...]
    files: tuple[str, ...]
    policy: str = "keep"
    window_s: float = DEFAULT_WINDOW_S
    rows_read: int = 0
    skipped: tuple[str, ...] = ()
    failed_files: tuple[tuple[str, str], ...] = ()
    _by_id: dict[str, Label] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({label.id: label for label in self.labels})

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self) -> Iterator[Label]:
        return iter(self.labels)

    def __contains__(self, video_id: object) -> bool:
        return video_id in self._by_id

    def __getitem__(self, video_id: str) -> Label:
        return self._by_id[video_id]

    def get(self, video_id: str) -> Label | None:
        return self._by_id.get(video_id)

    @property
    def ids(self) -> list[str]:
        return [label.id for label in self.labels]

    def usable(self) -> list[Label]:
        return [label for label in self.labels if label.usable]

    def refused(self) -> list[Defect]:
        """The rows the policy kept out of use, one defect each (the row's first error): skipped under "skip",
        kept flagged but unused under "keep"."""
        ids = set(self.skipped) | {label.id for label in self.labels if label.has_error}
        found: dict[str, Defect] = {}
        for defect in self.defects:
            if defect.id in ids and defect.severity == ERROR:
                found.setdefault(defect.id, defect)
        return list(found.values())

    def by_series(self) -> dict[str, list[Label]]:
        groups: dict[str, list[Label]] = defaultdict(list)
        for label in self.labels:
            key = label.episode.series if label.episode else "(unknown)"
            groups[key].append(label)
        return dict(groups)

    def defects_of(self, video_id: str) -> list[Defect]:
        return [d for d in self.defects if d.id == video_id]

    def stats(self) -> LabelStats:
        return compute_stats(self)

    def report(self) -> dict[str, Any]:
        """The whole report as plain JSON-able data (what ``introdetect labels --json`` prints)."""
        stats = self.stats()
        return {
            "files": list(self.files),
            "policy": self.policy,
            "window_s": self.window_s,
            "failed_files": [{"file": f, "error": e} for f, e in self.failed_files],
            "skipped_ids": list(self.skipped),
            "stats": stats.__dict__,
            "defects": [
                {"id": d.id, "file": d.file, "kind": d.kind, "severity": d.severity, "message": d.message}
                for d in self.defects
            ],
            "labels": {
                label.id: {
                    **label.to_json(),
                    "series": label.episode.series if label.episode else None,
                    "season": label.episode.season if label.episode else None,
                    "episode": label.episode.episode if label.episode else None,
                    "file": label.file,
                    "defects": list(label.defects),
                }
                for label in self.labels
            },
        }


def _reject_duplicate_keys(path: str, duplicates: list[str]):  # noqa: ANN202 - json hook
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                duplicates.append(key)
                seen[f"{key}\x00dup{len(duplicates)}"] = value
            else:
                seen[key] = value
        return seen

    return hook


def load_label_rows(path: str | Path) -> tuple[list[tuple[str, Any]], list[str]]:
    """Read one label file's rows in file order: (id, value) pairs, and the ids repeated inside the file.

    Raises LabelFileError with a one-line message naming the file for every file-level problem.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LabelFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LabelFileError(f"{path}: is a folder, not a label file") from None
    except OSError as exc:
        raise LabelFileError(f"{path}: cannot read: {exc.strerror}") from None
    if not raw.strip():
        raise LabelFileError(f"{path}: empty file, expected a JSON object of labels")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LabelFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    duplicates: list[str] = []
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicate_keys(str(path), duplicates))
    except json.JSONDecodeError as exc:
        raise LabelFileError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise LabelFileError(f"{path}: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise LabelFileError(f"{path}: expected a JSON object keyed by video id, got {type(data).__name__}")
    rows = [(key.split("\x00dup")[0], value) for key, value in data.items()]
    return rows, duplicates


def _parse_row(video_id: str, value: Any, file: str, window_s: float) -> tuple[Label, list[Defect]]:
    defects: list[Defect] = []

    def flag(kind: str, message: str) -> None:
        defects.append(Defect(video_id, file, kind, message))

    if not isinstance(value, dict):
        flag("bad_row", f"expected an object with start/end, got {type(value).__name__}")
        label = Label(video_id, file, None, None, None, None, defects=("bad_row",))
        return label, defects

    name = value.get("name")
    url = value.get("url")
    name = name if isinstance(name, str) else None
    url = url if isinstance(url, str) else None

    times: dict[str, tuple[str | None, float | None]] = {}
    present = {key: value.get(key) is not None for key in ("start", "end")}
    for key in ("start", "end"):
        text = value.get(key)
        if text is None:
            times[key] = (None, None)
            if present["start"] or present["end"]:
                flag("missing_time", f"{key} is {'null' if key in value else 'missing'} but the other time is given")
            continue
        if not isinstance(text, str):
            flag("bad_time", f"{key} must be a string like 0:01:42, got {type(text).__name__} {text!r:.40}")
            times[key] = (str(text)[:40], None)
            continue
        try:
            times[key] = (text, parse_timecode(text))
        except TimecodeError as exc:
            flag("bad_time", f"{key}: {exc}")
            times[key] = (text, None)
    parts = _parse_parts(value, flag)
    intro_stated = states_intro(value)
    absent = "start" not in value or "end" not in value
    if not present["start"] and not present["end"] and absent and intro_stated:
        flag("missing_time", "no start/end fields (write both as null for an episode without intro)")

    start_text, start_s = times["start"]
    end_text, end_s = times["end"]
    if start_s is not None and end_s is not None:
        duration = end_s - start_s
        if duration <= 0:
            flag("end_not_after_start", f"end {end_text} is not after start {start_text}")
        elif not MIN_PLAUSIBLE_INTRO_S <= duration <= MAX_PLAUSIBLE_INTRO_S:
            flag(
                "implausible_duration",
                f"intro of {duration:g} s lies outside {MIN_PLAUSIBLE_INTRO_S:g}..{MAX_PLAUSIBLE_INTRO_S:g} s",
            )
    known = [t for t in (start_s, end_s) if t is not None]
    reach = max(known) if known else None
    if reach is not None and reach > window_s:
        flag("beyond_window", f"intro reaches {format_timecode(reach)}, after the {window_s:g} s analysis window")

    episode = None
    if name is not None:
        episode = parse_episode_name(name)
        if episode is None:
            flag("unparsed_name", f"cannot read series/season/episode from name {name!r}")
        elif normalise_lookalikes(name) != name:
            flag("lookalike_letters", f"Latin look-alike letters in {name!r}, read as {episode.series!r}")

    label = Label(
        id=video_id,
        file=file,
        start_text=start_text,
        end_text=end_text,
        start_s=start_s,
        end_s=end_s,
        name=name,
        url=url,
        episode=episode,
        defects=tuple(d.kind for d in defects),
        parts=parts,
        intro_stated=intro_stated,
    )
    return label, defects


def _time_text(seconds: float) -> str:
    """A time as label files write it: whole seconds where it is whole, else to the millisecond."""
    return format_timecode(seconds, 0 if float(seconds).is_integer() else 3)


INTRO_KEYS = ("start", "end", "start_sec", "end_sec")


def states_intro(row: Mapping[str, Any]) -> bool:
    """Whether a label (or truth) row says anything of the intro: it has a key of the intro's times, or no key of
    another part (``<kind>_start``/``<kind>_end`` of PART_KEYS; a row of neither is a defective intro row). A
    row of other parts only (a reviewer decided the credits and left the intro alone) states no intro."""
    others = any(f"{kind}_{side}" in row for kind in PART_KEYS for side in ("start", "end"))
    return any(k in row for k in INTRO_KEYS) or not others


def _parse_parts(value: dict[str, Any], flag: Any) -> tuple[tuple[str, Segment | None], ...]:
    """The row's other parts (PART_KEYS); a part whose times cannot be read is flagged ``bad_part`` and left out."""
    parts: list[tuple[str, Segment | None]] = []
    for kind in PART_KEYS:
        keys = (f"{kind}_start", f"{kind}_end")
        if not any(k in value for k in keys):
            continue
        texts = [value.get(k) for k in keys]
        if texts[0] is None and texts[1] is None:
            parts.append((kind, None))
            continue
        try:
            if not all(isinstance(t, str) for t in texts):
                raise TimecodeError("both times must be strings like 0:41:10 (or both null: none)")
            start, end = (parse_timecode(t) for t in texts)  # type: ignore[arg-type]
        except TimecodeError as exc:
            flag("bad_part", f"{kind}: {exc}")
            continue
        if end <= start:
            flag("bad_part", f"{kind}: end {texts[1]} is not after start {texts[0]}")
            continue
        parts.append((kind, Segment(start, end)))
    return tuple(parts)


def read_labels(
    paths: str | Path | Sequence[str | Path],
    policy: str = "keep",
    window_s: float = DEFAULT_WINDOW_S,
    skip_bad_files: bool = False,
) -> LabelSet:
    """Read one or more label files into a LabelSet, reporting every defect by id.

    policy: what to do with rows that have an error-level defect: "keep" them flagged, "skip" them (their ids
    are listed in ``LabelSet.skipped``), or "fail" (raise LabelDefectError naming the first one).
    An id seen in several rows or files is kept once (its first row); the repeats are reported as
    ``duplicate_id`` or, when their times differ, ``conflicting_duplicate`` on every copy.
    skip_bad_files: record unusable files in ``failed_files`` instead of raising LabelFileError.
    """
    if policy not in LABEL_POLICIES:
        raise SettingsError(f"label policy must be one of {', '.join(LABEL_POLICIES)}, got {policy!r}")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    first: dict[str, Label] = {}
    extra: dict[str, list[Defect]] = defaultdict(list)
    defects: list[Defect] = []
    failed: list[tuple[str, str]] = []
    files: list[str] = []
    rows_read = 0
    conflicting: set[str] = set()
    for path in paths:
        file = str(path)
        try:
            rows, _ = load_label_rows(path)
        except LabelFileError as exc:
            if not skip_bad_files:
                raise
            failed.append((file, str(exc)))
            continue
        files.append(file)
        for video_id, value in rows:
            rows_read += 1
            label, row_defects = _parse_row(video_id, value, file, window_s)
            if video_id not in first:
                first[video_id] = label
                defects.extend(row_defects)
                continue
            earlier = first[video_id]
            where = "in the same file" if earlier.file == file else f"also in {earlier.file}"
            if (earlier.start_text, earlier.end_text) == (label.start_text, label.end_text):
                leak = "" if earlier.file == file else "; if the files are train and test splits, it leaks between them"
                extra[video_id].append(
                    Defect(video_id, file, "duplicate_id", f"repeated {where} with the same times (one kept{leak})")
                )
            else:
                conflicting.add(video_id)
                message = (
                    f"{where} with different times: {earlier.start_text}–{earlier.end_text} there, "
                    f"{label.start_text}–{label.end_text} here"
                )
                extra[video_id].append(Defect(video_id, file, "conflicting_duplicate", message))
    for video_id, more in extra.items():
        defects.extend(more)
        kinds = tuple(dict.fromkeys(first[video_id].defects + tuple(d.kind for d in more)))
        first[video_id] = replace(first[video_id], defects=kinds)
    labels = list(first.values())
    skipped: list[str] = []
    if policy != "keep":
        bad = [label for label in labels if label.has_error]
        if bad and policy == "fail":
            first_bad = next(d for d in defects if d.id == bad[0].id and d.severity == ERROR)
            raise LabelDefectError(f"{first_bad} ({len(bad)} rows with errors; see `introdetect labels`)")
        skipped = [label.id for label in bad]
        labels = [label for label in labels if not label.has_error]
    return LabelSet(
        labels=tuple(labels),
        defects=tuple(defects),
        files=tuple(files),
        policy=policy,
        window_s=window_s,
        rows_read=rows_read,
        skipped=tuple(skipped),
        failed_files=tuple(failed),
    )


def intro_reach_s(label: Label) -> float | None:
    """How far into the episode the intro reaches: its end, or its start when the end is unusable."""
    if label.segment is not None:
        return label.segment.end_s
    return label.start_s


def recommend_window(labels: Iterable[Label], coverage: float = WINDOW_COVERAGE, step_s: float = 60.0) -> float | None:
    """Smallest multiple of ``step_s`` seconds that holds at least ``coverage`` of the labelled intros."""
    reaches = sorted(r for r in (intro_reach_s(label) for label in labels) if r is not None)
    if not reaches:
        return None
    need = math.ceil(coverage * len(reaches) - 1e-9)
    window = step_s * math.ceil(reaches[need - 1] / step_s)
    return max(window, step_s)


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def q(p: float) -> float:
        pos = p * (len(ordered) - 1)
        low = math.floor(pos)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)

    return {
        "min": ordered[0],
        "p25": q(0.25),
        "median": statistics.median(ordered),
        "mean": statistics.fmean(ordered),
        "p75": q(0.75),
        "p90": q(0.9),
        "max": ordered[-1],
    }


DURATION_BUCKETS = (
    (0, 5, "≤5 s"),
    (5, 15, "5–15 s"),
    (15, 30, "15–30 s"),
    (30, 90, "30–90 s"),
    (90, math.inf, ">90 s"),
)


def compute_stats(label_set: LabelSet) -> LabelStats:
    labels = list(label_set)
    with_segment = [label for label in labels if label.segment is not None and not label.has_error]
    durations = [label.segment.duration_s for label in with_segment]  # type: ignore[union-attr]
    starts = [label.segment.start_s for label in with_segment]  # type: ignore[union-attr]
    series = Counter(label.episode.series if label.episode else "(unknown)" for label in labels)
    buckets = {name: sum(low < d <= high for d in durations) for low, high, name in DURATION_BUCKETS}
    reaches = [r for r in (intro_reach_s(label) for label in labels) if r is not None]
    share = {
        f"{limit}s": (sum(r <= limit for r in reaches) / len(reaches) if reaches else 0.0) for limit in (60, 300, 600)
    }
    return LabelStats(
        rows=label_set.rows_read,
        ids=len(labels),
        usable=sum(label.usable for label in labels),
        with_intro=len(with_segment),
        no_intro=sum(label.no_intro for label in labels),
        series=dict(series.most_common()),
        duration_s=_quantiles(durations),
        start_s=_quantiles(starts),
        duration_buckets=buckets,
        share_ending_within=share,
        defects_by_kind=dict(Counter(d.kind for d in label_set.defects).most_common()),
        recommended_window_s=recommend_window(labels),
    )


def write_labels(path: str | Path, labels: Iterable[Label]) -> None:
    """Write labels in the VK format (with the derived seconds), atomically."""
    write_json_atomic(path, {label.id: label.to_json() for label in labels})
