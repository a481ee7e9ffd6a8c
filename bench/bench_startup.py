"""Start-up cost of the command line: `introdetect --help` against `python -c "import typer, rich.console"` (what
any Typer program pays), both in this venv, alternated in one run; the target is a ratio of 1.5 at most.

    .venv/bin/python bench/bench_startup.py [--runs 15] [--write-docs]

Also lists what `introdetect --help` imports that a Typer program does not (python -X importtime), so a
regression names its culprit. The package is byte-compiled first, as pip does at install.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
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
