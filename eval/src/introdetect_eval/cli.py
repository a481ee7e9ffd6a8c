"""``introdetect-eval``: build the evaluation corpus, run the demo. Parse, call, print (as introdetect's CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from introdetect._cli.render import err, fail, failure_list, out, progress_hook, usage

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="The evaluation corpus and the demo of introdetect.",
    pretty_exceptions_enable=False,
)


@app.command()
def corpus(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the corpus (media, truth files, corpus.json).")],
    size: Annotated[
        str,
        typer.Option(
            help="tiny (tests), small, full (≥ 40 series, ≥ 300 episodes), or season (40 episodes of one series, "
            "for cost scaling)."
        ),
    ] = "tiny",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed and size give the same corpus.")] = 0,
    workers: Annotated[Optional[int], typer.Option(help="Parallel encoders.")] = None,
    without: Annotated[
        Optional[list[str]],
        typer.Option(
            help="Switch a variation off (repeatable): no_intro, trimmed_intro, dialogue_over_intro, "
            "effects_over_intro, pal_speedup, volume_change, eq_change, recap, codecs."
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    split: Annotated[
        Optional[list[str]],
        typer.Option(
            help="Build only this split (repeatable): train, validation, test, seen; its episodes are those of the "
            "whole corpus, and the manifest keeps the other splits already built there."
        ),
    ] = None,
) -> None:
    """Build the evaluation corpus from real recordings in Debian packages (apt-get download, no install)."""
    from introdetect.errors import IntrodetectError

    from .corpus import SIZES, build_corpus
    from .corpus.plan import SWITCHES

    if size not in SIZES:
        usage(f"size must be one of {', '.join(SIZES)}", "--size")
    for name in without or []:
        if name not in SWITCHES:
            usage(f"unknown variation {name!r}; known: {', '.join(SWITCHES)}", "--without")
    try:
        with progress_hook(progress) as hook:
            result = build_corpus(
                out_dir, size, seed, workers=workers, progress=hook, without=set(without or []), splits=split or None
            )
    except IntrodetectError as exc:
        fail(exc)
    summary = result.summary
    out.print(
        f"corpus {size} (seed {seed}) in {out_dir}: {result.episodes} episodes, {result.rendered} rendered, "
        f"{result.up_to_date} up to date, {len(result.failed)} failed"
    )
    out.print(
        f"intros: {summary['short_intros_le_15s']} short (≤ 15 s), {summary['long_intros']} long, "
        f"{summary['no_intro']} episodes without, {summary['starts_past_300s']} starting past 300 s; "
        f"median {summary['median_intro_s']:.1f} s; {summary['without_dialogue']} episodes without any dialogue"
    )
    out.print("variations: " + ", ".join(f"{k} {v}" for k, v in summary["variations"].items()))
    failure_list(result.failed)


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Working folder for the demo's files.")] = Path("demo-output"),
    labels_dir: Annotated[
        Optional[Path], typer.Option(help="Folder of VK label files (default: the built-in copy).")
    ] = None,
) -> None:
    """introdetect on the built-in sample: label statistics, a sample season from real recordings, extract →
    features → windows, detect, and the scores of detect and the baselines against the truth."""
    from introdetect.errors import IntrodetectError

    from .demo import run_demo

    try:
        run_demo(out_dir, labels_dir, out)
    except IntrodetectError as exc:
        fail(exc)


__all__ = ["app", "err"]
