"""Start-up cost of the command line: `introdetect --help` against `python -c "import typer, rich.console"` (what
any Typer program pays), both in this venv, alternated in one run; the target is a ratio of 1.5 at most.

    .venv/bin/python bench/bench_startup.py [--runs 15] [--write-docs]

Also lists what `introdetect --help` imports that a Typer program does not (python -X importtime), so a
regression names its culprit. The package is byte-compiled first, as pip does at install.

With ``--against REV --detect MEDIA...``: what a `detect` call pays before and around its work, this checkout
against the commit REV (a temporary git worktree, run through PYTHONPATH in this venv), alternated: the import of
the pipeline and the command line, and `introdetect detect MEDIA --no-cache -q` for each MEDIA (an episode, a
season's folder).

    .venv/bin/python bench/bench_startup.py --runs 7 --against f82159d --detect EPISODE SEASON_FOLDER
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "eval" / "src")]

from common import machine, write_docs_block  # noqa: E402

TARGET_RATIO = 1.5
BASELINE = [sys.executable, "-c", "import typer, rich.console"]
HELP = [sys.executable, "-m", "introdetect", "--help"]
HELP_ENTRY = [str(Path(sys.executable).with_name("introdetect")), "--help"]


def _seconds(command: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - began


def _imported(command: list[str]) -> set[str]:
    """Top-level modules a Python command imports (python -X importtime on stderr)."""
    done = subprocess.run([command[0], "-X", "importtime", *command[1:]], check=True, capture_output=True, text=True)
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name and name != "package":
                names.add(name.split(".")[0])
    return names


IMPORT = "import introdetect.pipeline, introdetect._cli"


def against(rev: str, media: list[str], runs: int) -> str:
    """A table: each measure's median for REV and for this checkout (alternated runs), and their ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "-f", "-q", str(tree), rev], check=True)
        try:
            sources = {rev: tree / "src", "this checkout": REPO / "src"}
            for src in sources.values():
                subprocess.run([sys.executable, "-m", "compileall", "-q", str(src / "introdetect")], check=True)
            measures = {f"`{IMPORT}`": [sys.executable, "-c", IMPORT]}
            for item in media:
                out = str(Path(tmp) / "out.json")
                measures[f"`introdetect detect {item} --no-cache -q`"] = [
                    sys.executable, "-m", "introdetect", "detect", item, "--no-cache", "-q", "--out", out
                ]  # fmt: skip
            times = {(m, s): [] for m in measures for s in sources}
            for _ in range(runs):
                for name, command in measures.items():
                    for label, src in sources.items():
                        env = {**os.environ, "PYTHONPATH": str(src)}
                        began = time.perf_counter()
                        subprocess.run(command, check=True, capture_output=True, env=env)
                        times[(name, label)].append(time.perf_counter() - began)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False)
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        (
            f"Run {date} on {machine()}; command: `.venv/bin/python bench/bench_startup.py --runs {runs} --against "
            f"{rev}{' --detect ' + ' '.join(media) if media else ''}` (medians of {runs} alternated runs each)."
        ),
        "",
        f"| measure | {rev} s | this checkout s | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name in measures:
        old, new = (statistics.median(times[(name, s)]) for s in sources)
        spread = ", ".join(f"{min(times[(name, s)]):.2f}–{max(times[(name, s)]):.2f}" for s in sources)
        lines.append(f"| {name} (ranges {spread}) | {old:.2f} | {new:.2f} | {new / old:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--against", metavar="REV", help="compare a detect call's start-up with this commit's")
    parser.add_argument("--detect", nargs="*", default=[], metavar="MEDIA", help="with --against: detect these")
    args = parser.parse_args()
    if args.detect and not args.against:
        parser.error("--detect needs --against REV")
    if args.against:
        print(against(args.against, args.detect, args.runs))
        return
    commands = {"python -c 'import typer, rich.console'": BASELINE, "introdetect --help": HELP_ENTRY}
    if not Path(HELP_ENTRY[0]).exists():
        commands["introdetect --help"] = HELP
    # the package's bytecode, as an installed wheel has it (pip compiles at install; this checkout may run with
    # PYTHONDONTWRITEBYTECODE=1, as these machines do, and would then compile every module at every start)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "introdetect")], check=True)
    for command in commands.values():  # warm the page cache
        _seconds(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):  # alternated, so that a busy moment of the machine hits both alike
        for name, command in commands.items():
            times[name].append(_seconds(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    base, ours = medians.values()
    ratio = ours / base
    extra = sorted(_imported(HELP) - _imported(BASELINE) - {"introdetect", "runpy"})
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run {date} on {machine()}; command: `.venv/bin/python bench/bench_startup.py --runs {args.runs}` "
        f"(medians of {args.runs} alternated runs each).",
        "",
        "| command | median s | × typer + rich |",
        "|---|---:|---:|",
        *[f"| `{name}` | {seconds:.3f} | {seconds / base:.2f} |" for name, seconds in medians.items()],
        "",
        f"Ratio {ratio:.2f} (target ≤ {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'NOT met'}). "
        f"Top-level modules `introdetect --help` imports beyond typer and rich's: {', '.join(extra) or 'none'}.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        write_docs_block("bench_startup", text, "Start-up of the command line (bench/bench_startup.py)")


if __name__ == "__main__":
    main()
