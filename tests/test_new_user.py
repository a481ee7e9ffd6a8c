"""The defects a new user hit (issue 13), each with the test that failed before it was mended: workers left
behind by a killed run, worker counts out of range, folders in the Python API, the report's missing answers,
label rows dropped in silence, a run where every file failed, exports that ignored what the result records,
and an unwritable output found only after the analysis. (The review page's two are in test_review.py.)"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from introdetect import build_library, detect, read_labels
from introdetect._cli import app
from introdetect.result import Kind, Method

runner = CliRunner()
INTRODETECT = [sys.executable, "-m", "introdetect"]


def _season(tiny_corpus: Path, tmp_path: Path, name: str = "show01") -> Path:
    """A copy of one season of the tiny corpus's test split (show01: three episodes whose 5 s sting recurs)."""
    folder = tmp_path / name
    shutil.copytree(tiny_corpus / "test" / name, folder)
    return folder


# --- 1. workers end with their parent ---------------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    """Every process whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its exit status is left


def _kill_midway(command: list[str], workers: int) -> list[int]:
    """Start ``command``, wait until it has ``workers`` children, SIGKILL it; its children, a few seconds on,
    that are still alive."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        children: set[int] = set()
        while time.monotonic() < deadline and len(children) < workers:
            children = {c for c in _children(process.pid) if _alive(c)}
            time.sleep(0.05)
        assert len(children) >= workers, f"{command[3]} started {len(children)} children, not {workers}"
        time.sleep(0.3)  # the workers are at work
        descendants = children | {g for c in children for g in _children(c)}  # ffmpeg under a worker
        process.send_signal(signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in descendants):
            time.sleep(0.1)
        left = [p for p in descendants if _alive(p)]
    finally:
        if process.poll() is None:
            process.kill()
    for pid in left:  # never leave them to the next test
        os.kill(pid, signal.SIGKILL)
    return left


@pytest.mark.parametrize("command", ["detect", "extract", "features"])
def test_no_worker_outlives_a_killed_run(command: str, tiny_corpus: Path, tmp_path: Path) -> None:
    videos = str(tiny_corpus / "test")
    files = [str(p) for p in sorted((tiny_corpus / "test").rglob("*.*"))]  # features searches folders for WAVs
    args = {
        "detect": ["detect", videos, "--no-cache"],
        "extract": ["extract", videos, "--out", str(tmp_path / "audio")],
        "features": ["features", *files, "--out", str(tmp_path / "features")],
    }[command]
    left = _kill_midway([*INTRODETECT, *args, "--workers", "2", "--no-progress"], workers=2)
    assert not left, f"{command}: {len(left)} processes outlived their parent"


# --- 2. worker counts out of range ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["extract", "{v}", "--out", "{o}", "--workers", "-3"],
        ["features", "{v}", "--out", "{o}", "--workers", "-1"],
        ["detect", "{v}", "--workers", "0"],
        ["detect", "{v}", "--workers", "-3"],
    ],
)
def test_a_worker_count_below_one_is_a_usage_error_before_anything_is_made(
    args: list[str], tiny_corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    argv = [a.format(v=tiny_corpus / "test" / "show01", o=out) for a in args]
    result = runner.invoke(app, [*argv, "--no-progress"])
    assert result.exit_code == 2 and "workers must be a whole number of at least 1" in result.output, result.output
    assert "Traceback" not in result.output and not out.exists()
    from introdetect.batch import extract_many
    from introdetect.errors import SettingsError

    with pytest.raises(SettingsError, match="workers"):  # the same check for a Python user
        extract_many([tiny_corpus / "test" / "show01"], out, workers=-3)
    assert not out.exists()


# --- 3. folders in the Python API -------------------------------------------------------------------------------


def test_the_python_api_takes_folders_as_the_command_line_does(tiny_corpus: Path) -> None:
    labels = read_labels(tiny_corpus / "truth_train.json")
    library, failed, missing = build_library(labels, [tiny_corpus / "train"])
    assert not failed and not missing and len(library) == len(labels.usable()) - 1  # show05's e03 has no intro
    seen = read_labels(tiny_corpus / "truth_seen.json")
    found = detect([tiny_corpus / "seen"], labels=labels, videos=[tiny_corpus / "train"], workers=1)
    methods = {d.id: d.part(Kind.INTRO).method for d in found}
    assert set(methods) == set(seen.ids) and set(methods.values()) == {Method.KNOWN}, methods


# --- 4. the report's truth without an answer --------------------------------------------------------------------


def test_report_lists_truth_without_an_answer_as_not_analysed(tiny_corpus: Path, tmp_path: Path) -> None:
    season = _season(tiny_corpus, tmp_path)
    result_file = tmp_path / "r.json"
    done = runner.invoke(app, ["detect", str(season), "--out", str(result_file), "--no-progress"])
    assert done.exit_code == 0, done.output
    out = tmp_path / "r.html"
    truth = tiny_corpus / "truth_test.json"  # also show02, which this result does not hold
    done = runner.invoke(app, ["report", str(result_file), "--truth", str(truth), "--out", str(out)])
    assert done.exit_code == 0, done.output
    html = out.read_text(encoding="utf-8")
    assert "Not analysed (3)" in html and "show02_s01e01" in html.split("Not analysed")[1]
    wrong = html.split("Wrong answers")[1].split("</table>")[0] if "Wrong answers" in html else ""
    assert "show02" not in wrong and 'href="#show02' not in html


# --- 5. label rows refused by the policy ------------------------------------------------------------------------


def test_label_rows_the_policy_refuses_are_each_named(tiny_corpus: Path, tmp_path: Path) -> None:
    rows = json.loads((tiny_corpus / "truth_train.json").read_text(encoding="utf-8"))
    rows["show05_s01e01"]["start"], rows["show05_s01e01"]["start_sec"] = "0:01:30", None  # ends before it starts
    rows["show03_s01e01"]["end"], rows["show03_s01e01"]["end_sec"] = "1:2", None  # not a time
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    for policy in ("skip", "keep"):
        done = runner.invoke(
            app,
            ["library", "build", "--labels", str(labels), "--videos", str(tiny_corpus / "train")]
            + ["--out", str(tmp_path / "k.introlib"), "--policy", policy, "--no-progress"],
        )
        assert done.exit_code == 0, done.output
        refused = [line for line in done.output.splitlines() if line.startswith("label refused:")]
        assert len(refused) == 2 and {"show05_s01e01", "show03_s01e01"} == {
            vid for vid in ("show05_s01e01", "show03_s01e01") if any(vid in line for line in refused)
        }, done.output
    seen = tiny_corpus / "seen"
    done = runner.invoke(app, ["detect", str(seen), "--labels", str(labels), "--videos", str(tiny_corpus / "train")])
    assert done.exit_code == 0 and done.output.count("label refused:") == 2, done.output


# --- 8. a run where every file failed ---------------------------------------------------------------------------


def test_a_run_where_every_file_failed_says_so_and_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "season"
    folder.mkdir()
    (folder / "show_s01e01.mp4").write_bytes(b"not a video" * 100)
    out = tmp_path / "r.json"
    done = runner.invoke(app, ["detect", str(folder), "--out", str(out), "--no-progress"])
    assert done.exit_code == 1 and "1 failed" in done.output and "show_s01e01.mp4" in done.output
    assert "parts of" not in done.output and "answers of" not in done.output and "not written" in done.output
    assert not out.exists()


def test_counts_are_of_the_episodes_answered(tiny_corpus: Path, tmp_path: Path) -> None:
    season = _season(tiny_corpus, tmp_path)
    (season / "show01_s01e09.mp4").write_bytes(b"not a video" * 100)
    out = tmp_path / "r.json"
    done = runner.invoke(app, ["detect", str(season), "--out", str(out), "--no-progress"])
    assert done.exit_code == 1
    said = " ".join(done.output.split())
    assert "parts of 3 episodes" in said and "answers of 3 episodes written" in said, said
    # every episode has its credits now: keep only the intros, so that the one without an intro has no part
    rows = json.loads(out.read_text(encoding="utf-8"))
    for row in rows.values():
        row["segments"] = [s for s in row["segments"] if s["kind"] == "intro"]
    out.write_text(json.dumps(rows), encoding="utf-8")
    done = runner.invoke(app, ["export", str(out), "--format", "edl"])
    assert done.exit_code == 0 and "1 episode without a part found needs none" in " ".join(done.output.split())


# --- 9. exports from what the result records --------------------------------------------------------------------


def test_side_files_go_next_to_the_recorded_media_or_into_out(tiny_corpus: Path, tmp_path: Path) -> None:
    season = _season(tiny_corpus, tmp_path)
    result_file = tmp_path / "r.json"
    assert runner.invoke(app, ["detect", str(season), "--out", str(result_file), "--no-progress"]).exit_code == 0
    done = runner.invoke(app, ["export", str(result_file), "--format", "edl"])  # no --videos: the recorded paths
    # every episode's credits are marked, the no-intro episode's too
    assert done.exit_code == 0 and "3 side files written" in " ".join(done.output.split()), done.output
    names = sorted(p.name for p in season.glob("*.edl"))
    assert names == ["show01_s01e01.edl", "show01_s01e02.edl", "show01_s01e03.edl"]
    elsewhere = tmp_path / "chapters"
    done = runner.invoke(app, ["export", str(result_file), "--format", "vtt", "--out", str(elsewhere)])
    assert done.exit_code == 0 and f"written in {elsewhere}" in " ".join(done.output.split()), done.output
    assert len(list(elsewhere.glob("*.chapters.vtt"))) == 3 and not list(season.glob("*.vtt"))


# --- 10. an output that cannot be written, before any decoding --------------------------------------------------


def test_an_unwritable_out_is_refused_before_any_decoding(
    tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import introdetect.analysis

    decoded: list[str] = []
    monkeypatch.setattr(introdetect.analysis, "analyse_episode", lambda path, *a, **k: decoded.append(path))
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    for target in (blocker / "r.json", tmp_path):  # under a file; a folder where the file should be
        done = runner.invoke(app, ["detect", str(tiny_corpus / "test"), "--out", str(target), "--no-progress"])
        assert done.exit_code == 1 and f"{target}: cannot write the answers" in done.output, done.output
    assert decoded == []
    for command in (["library", "build", "--labels", str(tiny_corpus / "truth_train.json")], ["train"]):
        extra = ["--videos", str(tiny_corpus / "train"), "--out", str(blocker / "x")]
        args = [*command, *([str(tiny_corpus / "truth_train.json")] if command == ["train"] else []), *extra]
        done = runner.invoke(app, [*args, "--no-progress"])
        assert done.exit_code == 1 and "cannot write" in done.output, done.output
    assert decoded == []
