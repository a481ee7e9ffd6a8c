"""What the commands print where a script, a pipe or a log reads it: tables at their full width (no cell cut), no
colour, progress as short lines on stderr (none with --quiet), and --json on stdout alone, parseable, with every
note, warning and failure on stderr."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED_LABELS

from introdetect.runner import LogProgress

CUT = re.compile(r"…\s*[│┃]")  # Rich's ellipsis at the end of a cell: what a table cut to 80 columns is full of
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(*args: object, **env: str) -> subprocess.CompletedProcess[str]:
    """The command as cron would run it: stdout and stderr are pipes, no $COLUMNS, no terminal."""
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE")}
    return subprocess.run(
        [sys.executable, "-m", "introdetect", *map(str, args)],
        capture_output=True,
        text=True,
        env={**base, **env},
        stdin=subprocess.DEVNULL,
    )


def table_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line[:1] in "┏┃┡│└"]


def test_log_progress_writes_a_line_each_tenth_and_at_the_end() -> None:
    lines: list[str] = []
    hook = LogProgress(lines.append)
    for done in range(73):
        hook("analyse", done, 72)
    hook("analyse", 72, 72)  # told twice: said once
    assert len(lines) == 11 and lines[0].startswith("analyse: 0/72 (0%)") and lines[-1].startswith("analyse: 72/72")
    tenths = [int(re.match(r"analyse: (\d+)/72", line).group(1)) * 10 // 72 for line in lines]
    assert tenths == list(range(11))  # one line as each tenth is passed
    few: list[str] = []
    small = LogProgress(few.append)
    for done in range(4):
        small("match", done, 3)
    assert [line.split(",")[0] for line in few] == ["match: 1/3 (33%)", "match: 2/3 (67%)", "match: 3/3 (100%)"]


def test_labels_table_through_a_pipe_is_whole_and_plain() -> None:
    done = run("labels", SHARED_LABELS / "train_labels.json", SHARED_LABELS / "test_labels.json")
    assert done.returncode == 0, done.stderr
    assert table_lines(done.stdout) and not CUT.search(done.stdout), done.stdout
    assert not ANSI.search(done.stdout + done.stderr)
    assert "end_not_after_start" in done.stdout and "-220020068_456241671" in done.stdout


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    terminal = run("labels", SHARED_LABELS / "train_labels.json", TTY_COMPATIBLE="1")
    assert terminal.returncode == 0 and ANSI.search(terminal.stdout)  # the severities are coloured on a terminal
    plain = run("labels", SHARED_LABELS / "train_labels.json", TTY_COMPATIBLE="1", NO_COLOR="1")
    assert plain.returncode == 0 and not re.search(r"\x1b\[[0-9;]*3[0-7]m", plain.stdout)


@pytest.fixture(scope="module")
def season(tinyparts_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Any]:
    """One structured season through ``detect`` as a script runs it: the table through a pipe, then --json
    (the analyses cached by the first run)."""
    folder = sorted(p for p in (tinyparts_corpus / "test").iterdir() if p.is_dir())[0]
    out = tmp_path_factory.mktemp("output") / "answers.json"
    done = run("detect", folder, "--out", out, "--workers", "2")
    assert done.returncode == 0, done.stderr
    return folder, out, done


def test_detect_table_through_a_pipe_has_every_column_whole(season: tuple[Path, Path, Any]) -> None:
    folder, out, done = season
    text = done.stdout
    rows = table_lines(text)
    assert not CUT.search(text), text
    header = next(line for line in rows if "confidence" in line)
    for column in ("id", "start", "end", "confidence", "method", "credits", "series"):
        assert re.search(rf"[┃]\s*{column}\s*[┃]", header), (column, header)
    answers = json.loads(out.read_text(encoding="utf-8"))
    for vid, answer in answers.items():  # every id and its times, as written, readable in the table
        line = next(line for line in rows if f" {vid} " in line)
        if answer["start"] is not None:
            assert answer["start"] in line, line
    # progress in a log: short lines on stderr, no bars
    assert re.search(r"^analyse: \d+/\d+ \(100%\), \d+ s$", done.stderr, re.MULTILINE) and "━" not in done.stderr


def test_detect_json_is_the_result_object_and_stdout_is_json_alone(season: tuple[Path, Path, Any]) -> None:
    folder, out, _ = season
    done = run("detect", folder, "--json", "--workers", "2")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)  # nothing but the JSON on stdout
    written = json.loads(out.read_text(encoding="utf-8"))
    assert printed == written
    assert all("segments" in row for row in printed.values())
    assert re.search(r"^\w+: \d+/\d+ \(100%\)", done.stderr, re.MULTILINE)  # progress went to stderr
    quiet = run("detect", folder, "--json", "--quiet", "--workers", "2")
    assert quiet.returncode == 0 and json.loads(quiet.stdout) == written and quiet.stderr == ""


def test_detect_json_keeps_failures_and_notes_on_stderr(sample_episode, bad_media, tmp_path: Path) -> None:
    done = run("detect", sample_episode.path, bad_media["no_audio"], "--json", "--quiet", "--workers", "1")
    assert done.returncode == 1  # one input failed
    printed = json.loads(done.stdout)
    assert list(printed) == [sample_episode.path.stem] and printed[sample_episode.path.stem]["method"] == "model"
    errors = done.stderr.splitlines()
    assert any("answered by the model alone" in line for line in errors)
    assert any(str(bad_media["no_audio"]) in line for line in errors) and "Traceback" not in done.stderr


def test_evaluate_through_a_pipe_and_as_json(season: tuple[Path, Path, Any], tinyparts_corpus: Path) -> None:
    _, out, _ = season
    truth = tinyparts_corpus / "truth_test.json"
    done = run("evaluate", out, truth)
    assert done.returncode == 0, done.stderr
    assert not CUT.search(done.stdout) and "false intro" in done.stdout and "median err" in done.stdout
    as_json = run("evaluate", out, truth, "--json")
    figures = json.loads(as_json.stdout)
    truth_ids = json.loads(truth.read_text(encoding="utf-8"))
    assert figures["overall"]["episodes"] == len(truth_ids) and "credits" in figures["kinds"]
    assert len(figures["missing_predictions"]) == len(truth_ids) - len(json.loads(out.read_text(encoding="utf-8")))
    # the kinds' table rows carry the same figures as the JSON
    credits = next(line for line in done.stdout.splitlines() if line.startswith("│ credits"))
    assert f"{figures['kinds']['credits']['f1']:.3f}" in credits


def test_cache_info_as_json(tmp_path: Path) -> None:
    done = run("cache", "info", "--cache", tmp_path / "cache", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"cache": str(tmp_path / "cache"), "entries": 0, "bytes": 0}


def test_library_build_and_labels_audit_as_json(tiny_corpus: Path, tmp_path: Path) -> None:
    labels, videos = tiny_corpus / "truth_train.json", tiny_corpus / "train"
    done = run("library", "build", "--labels", labels, "--videos", videos, "--out", tmp_path / "k.introlib", "--json")
    assert done.returncode == 0, done.stderr
    built = json.loads(done.stdout)
    truth = json.loads(labels.read_text(encoding="utf-8"))
    assert built["library"] == str(tmp_path / "k.introlib") and (tmp_path / "k.introlib").exists()
    assert 0 < built["known_intros"] <= sum(row["start"] is not None for row in truth.values())
    assert built["without_video"] == [] and built["failed"] == []
    audit = run("labels", labels, "--audit", "--videos", videos, "--json", "--quiet")
    assert audit.returncode == 0, audit.stderr
    report = json.loads(audit.stdout)
    assert {row["id"] for row in report["audit"]["labels"]} <= set(truth) and report["audit"]["labels"]
    assert report["audit"]["flagged"] == sum(row["flagged"] for row in report["audit"]["labels"])
