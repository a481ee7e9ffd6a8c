"""``introdetect evaluate``: any prediction file scored against truth, per stratum."""

from pathlib import Path
from typing import Annotated

import typer

from .app import app
from .options import DEFAULT_WINDOW, AsJson
from .render import check_output, handled, kinds_table, names, out, print_json, writing


@app.command()
def evaluate(
    predictions: Annotated[Path, typer.Argument(help="Predictions in the label format (keyed by id).")],
    truth: Annotated[Path, typer.Argument(help="Truth in the label format (null start/end: no intro).")],
    window: Annotated[
        float, typer.Option(help="Analysis window in seconds (span of the window figures).")
    ] = DEFAULT_WINDOW,
    as_json: AsJson = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write the JSON evaluation here.")] = None,
) -> None:
    """Score predictions against truth: window accuracy/F1, boundary MAE, hits, detection P/R/F1, per stratum;
    per kind of the other parts; seconds of story inside the parts marked; how far the confidences can be
    trusted (per method: calibration error, share right at ≥ 0.9, confidently wrong; the bins of all)."""
    from rich.table import Table  # here: a command's imports cost every start of every command

    from ..metrics import (
        FIGURE_COLUMNS,
        RELIABILITY_COLUMNS,
        evaluate_files,
        figure_rows,
        harm_line,
        reliability_rows,
        write_evaluation,
    )

    check_output(out_file, "the evaluation")
    with handled():
        result = evaluate_files(predictions, truth, window)
    if out_file:
        with writing(out_file, "the evaluation"):
            write_evaluation(out_file, result)
    if as_json:
        print_json(result.to_json())
        return
    table = Table(title=f"{predictions.name} against {truth.name}")
    for column in FIGURE_COLUMNS:
        table.add_column(column, justify="left" if column == "stratum" else "right")
    for row in figure_rows(result):
        table.add_row(*row)
    out.print(table)
    if result.kinds:
        out.print(kinds_table(result))
    harm = harm_line(result)
    if harm:
        out.print(harm)
    rows = reliability_rows(result)
    if rows:
        trust = Table(title="confidence against the share right (an intro right: both ends within ±1 s)")
        for column in RELIABILITY_COLUMNS:
            trust.add_column(column, justify="left" if column == "method" else "right")
        for row in rows:
            trust.add_row(*row)
        out.print(trust)
        bins = Table(title="reliability of all answers")
        for column in ("confidence", "answers", "mean confidence", "share right"):
            bins.add_column(column, justify="right")
        for name, n, mean, right in result.reliability["all"].bins:
            bins.add_row(name, str(n), f"{mean:.3f}", f"{right:.3f}")
        out.print(bins)
    if result.missing_predictions:
        missing = result.missing_predictions
        out.print(f"{len(missing)} truth ids without a prediction (scored as 'no intro'): {names(missing)}")
    if result.unknown_predictions:
        out.print(f"{len(result.unknown_predictions)} predicted ids not in the truth (ignored)")
