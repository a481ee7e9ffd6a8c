"""The supervised model's commands: ``train``, ``cv`` (cross-validation by series), ``finetune`` (the ``train``
extra: torch)."""

from pathlib import Path
from typing import Annotated, Any

import typer

from .app import app
from .options import DEFAULT_WINDOW, AsJson, Policy, Progress, Videos, Window, Workers, audio_options
from .render import (
    check_output,
    err,
    fail,
    handled,
    notes,
    out,
    print_json,
    progress_hook,
    refused_rows,
    usage,
    writing,
)

FeatureCache = Annotated[
    Path | None, typer.Option(help="Feature cache folder (default ~/.cache/introdetect/features).")
]
Channels = Annotated[str, typer.Option(help="CNN filters of its three layers.")]
Lstm = Annotated[int, typer.Option(help="LSTM units (per direction).")]
BoundaryWeight = Annotated[float, typer.Option(help="Weight of the boundary regression in the loss.")]
Seed = Annotated[int, typer.Option(help="Random seed.")]


def _training() -> Any:
    """The training jobs' module, or one line saying what to install when torch is missing."""
    try:
        from ..model import job
    except ImportError as exc:
        fail(f"training needs torch ({exc.name} is missing): pip install 'introdetect[train]' (torch 2.13.0, CPU)")
    return job


def _training_data(
    job: Any,
    labels_file: list[Path],
    videos: list[Path],
    policy: str,
    cache: Path | None,
    window: float,
    workers: int | None,
    progress: bool,
    as_json: bool = False,
    tails: bool = False,
) -> Any:
    """The training data of ``labels_file`` (with ``tails``: each episode's tail too, and rows of other parts only,
    for a kinds head)."""
    from ..labels import read_labels

    with handled():
        inputs = job.InputOptions(span_s=window)
        label_set = read_labels(labels_file, policy=policy)
    refused_rows(label_set)
    with handled(), progress_hook(progress) as hook:
        data = job.prepare(label_set, videos, inputs, cache, audio_options(window), workers, hook, tails=tails)
    notes(as_json).print(
        f"training data: {len(data.episodes)} labelled episodes of {len(set(data.series))} series"
        + (f"; {len(data.missing)} labelled ids have no video" if data.missing else "")
    )
    for failure in data.failed:
        err.print(f"  skipped: {failure.message}", markup=False)
    if not data.episodes:
        fail("no labelled episode could be used (check --videos: ids are file names without extension)")
    return data


def _labels_state_parts(labels_file: list[Path], policy: str) -> bool:
    """Whether any row of the label files gives a part other than the intro (a kinds head can learn from them)."""
    from ..labels import read_labels

    with handled():
        return any(label.parts for label in read_labels(labels_file, policy=policy).labels)


def _train_options(job: Any, **options: Any) -> Any:
    try:
        return job.TrainOptions(**options)
    except ValueError as exc:
        usage(str(exc))


def _dims(channels: str, lstm: int) -> dict[str, Any]:
    try:
        parts = tuple(int(c) for c in channels.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or min(parts) < 1:
        usage("three positive filter counts, e.g. 32,32,64", "--channels")
    return {"channels": parts, "lstm_units": lstm}


@app.command()
def train(
    labels_file: Annotated[list[Path], typer.Argument(help="VK label file(s) of the training episodes.")],
    videos: Videos,
    out_file: Annotated[
        Path, typer.Option("--out", help="Model file to write (.idmodel); its training curve goes beside it (.png).")
    ],
    valid_file: Annotated[
        list[Path] | None,
        typer.Option(
            "--valid",
            help="Label file(s) for early stopping and calibration (default: a fifth of the series held out).",
        ),
    ] = None,
    cache: FeatureCache = None,
    epochs: Annotated[int, typer.Option(help="Most epochs (early stopping usually ends sooner).")] = 40,
    channels: Channels = "32,32,64",
    lstm: Lstm = 64,
    boundary_weight: BoundaryWeight = 10.0,
    window: Window = DEFAULT_WINDOW,
    policy: Policy = "skip",
    seed: Seed = 0,
    workers: Workers = None,
    progress: Progress = True,
    kinds: Annotated[
        bool | None,
        typer.Option(
            "--kinds/--no-kinds",
            help="Also learn which part (story, ident, recap, intro, credits, preview) each window lies in, over "
            "each episode's head and tail (default: when the labels give parts other than the intro).",
        ),
    ] = None,
) -> None:
    """Train the CNN + LSTM on labelled episodes (features extracted and cached as needed)."""
    job = _training()
    dims = _dims(channels, lstm)
    options = _train_options(job, epochs=epochs, boundary_weight=boundary_weight, seed=seed)
    check_output(out_file, "the model")
    if kinds is None:
        kinds = _labels_state_parts(labels_file, policy)
    dims["kinds"] = kinds
    data = _training_data(job, labels_file, videos, policy, cache, window, workers, progress, tails=kinds)
    inputs = job.InputOptions(span_s=window)
    valid = (
        _training_data(job, valid_file, videos, policy, cache, window, workers, progress, tails=kinds)
        if valid_file
        else None
    )

    def epoch_line(row: dict[str, Any]) -> None:
        if progress:
            out.print(
                f"epoch {row['epoch']:3d}  train {row['train_loss']:.4f}  validation {row['val_loss']:.4f}  "
                f"lr {row['lr']:.1e}  {row['seconds']:.0f} s"
            )

    report = job.train_model(
        data,
        inputs,
        options,
        valid=valid,
        on_epoch=epoch_line,
        source={"labels": [str(p) for p in labels_file]},
        **dims,
    )
    curve = out_file.with_suffix(".png")
    with writing(out_file, "the model"):
        report.model.save(out_file)
        job.plot_history(report.fitted.history, curve, f"{out_file.name}: best epoch {report.fitted.best_epoch}")
    v = report.validation
    if v:
        out.print(
            f"validation ({len(report.held_out_series)} series): window F1 {v['window_f1']:.3f}, "
            f"detection F1 {v['detection_f1']:.3f}, start MAE {v['start_mae_s']:.2f} s, "
            f"end MAE {v['end_mae_s']:.2f} s, median boundary error {v['median_boundary_error_s']:.2f} s"
        )
    if "kind_accuracy" in v:
        out.print(f"kinds: window accuracy {v['kind_accuracy']:.3f}, " + kind_f1_line(v))
    out.print(f"model written to {out_file} (training curve {curve})")


def kind_f1_line(figures: dict[str, Any]) -> str:
    """The kinds head's window F1 per kind (those the validation episodes hold)."""
    import math

    from ..model.inputs import KINDS

    found = [(k, figures.get(f"{k}_window_f1", math.nan)) for k in KINDS[1:]]
    return "window F1 " + ", ".join(f"{k} {f:.3f}" for k, f in found if math.isfinite(f))


@app.command()
def cv(
    labels_file: Annotated[list[Path], typer.Argument(help="VK label file(s).")],
    videos: Videos,
    folds: Annotated[int, typer.Option(help="Folds (whole series per fold).", min=2)] = 5,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write every fold's figures here (JSON).")] = None,
    cache: FeatureCache = None,
    epochs: Annotated[int, typer.Option(help="Most epochs per fold.")] = 40,
    channels: Channels = "32,32,64",
    lstm: Lstm = 64,
    boundary_weight: BoundaryWeight = 10.0,
    window: Window = DEFAULT_WINDOW,
    policy: Policy = "skip",
    seed: Seed = 0,
    workers: Workers = None,
    progress: Progress = True,
    as_json: AsJson = False,
) -> None:
    """Cross-validate the model by series (no series in two folds): the design's figures per fold (--json: every
    fold's figures, as --out writes them)."""
    from rich.table import Table

    from ..atomic import write_json_atomic
    from ..model.file import finite

    job = _training()
    dims = _dims(channels, lstm)
    options = _train_options(job, epochs=epochs, boundary_weight=boundary_weight, seed=seed)
    check_output(out_file, "the figures")
    data = _training_data(job, labels_file, videos, policy, cache, window, workers, progress, as_json)
    inputs = job.InputOptions(span_s=window)
    columns = ("window_accuracy", "window_f1", "detection_f1", "start_mae_s", "end_mae_s", "median_boundary_error_s")
    table = Table(title=f"{folds}-fold cross-validation by series ({len(data.episodes)} episodes)")
    for column in ("fold", "episodes", *columns):
        table.add_column(column, justify="right")

    def fold_line(k: int, figures: dict[str, Any]) -> None:
        if progress:
            notes(as_json).print(
                f"fold {k + 1}/{folds}: detection F1 {figures['detection_f1']:.3f}, "
                f"median boundary error {figures['median_boundary_error_s']:.2f} s"
            )

    try:
        result = job.cross_validate(data, folds, inputs, options, on_fold=fold_line, **dims)
    except ValueError as exc:
        fail(exc)
    for k, figures in enumerate(result["folds"]):
        table.add_row(str(k + 1), str(figures["episodes"]), *(f"{figures[c]:.3f}" for c in columns))
    table.add_row("mean", "", *(f"{result['mean'][c]:.3f} ± {result['std'][c]:.3f}" for c in columns))
    if as_json:
        print_json(finite(result))
    else:
        out.print(table)
    if out_file:
        with writing(out_file, "the figures"):
            write_json_atomic(out_file, finite(result))
        notes(as_json).print(f"figures written to {out_file}")


@app.command()
def finetune(
    model_file: Annotated[
        Path, typer.Argument(help="The model to fine-tune (.idmodel from `train`, or the shipped one's copy).")
    ],
    reviewed: Annotated[list[Path], typer.Argument(help="Reviewed or corrected labels (the label format).")],
    videos: Videos,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Where to write the fine-tuned model (default: over MODEL).")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Write the model even when it got worse on the held-out episodes.")
    ] = False,
    epochs: Annotated[int, typer.Option(help="Epochs of fine-tuning.")] = 10,
    base: Annotated[
        list[Path] | None,
        typer.Option(
            help="The model's original training labels: a from-scratch retraining on them plus the reviewed "
            "episodes competes with fine-tuning."
        ),
    ] = None,
    base_videos: Annotated[
        list[Path] | None, typer.Option(help="Videos of the --base labels (files or folders; default: --videos).")
    ] = None,
    retrain: Annotated[
        bool | None,
        typer.Option(
            "--retrain/--no-retrain",
            help="Also retrain from scratch and keep the better (default: with --base, or from 30 reviewed episodes).",
        ),
    ] = None,
    retrain_epochs: Annotated[int, typer.Option(help="Epochs of retraining (early stopping ends it sooner).")] = 40,
    cache: FeatureCache = None,
    policy: Policy = "skip",
    seed: Seed = 0,
    workers: Workers = None,
    progress: Progress = True,
    as_json: AsJson = False,
) -> None:
    """Fine-tune a model on reviewed labels (or retrain it, when that is better on held-out reviewed episodes);
    print before/after; keep the old model when the new one is worse (unless --force)."""
    from rich.table import Table

    job = _training()
    options = _train_options(job, lr=job.FINETUNE_LR, epochs=epochs, seed=seed)
    retrain_options = _train_options(job, epochs=retrain_epochs, seed=seed)
    target = out_file or model_file
    with handled():
        model = job.ModelFile.load(model_file)
    window = float(model.meta["inputs"]["span_s"])
    kinds = bool(model.meta.get("dims", {}).get("kinds", False))  # reviewed parts teach its kinds head
    check_output(target, "the model")
    data = _training_data(job, reviewed, videos, policy, cache, window, workers, progress, as_json, kinds)
    base_data = (
        _training_data(job, base, base_videos or videos, policy, cache, window, workers, progress, as_json, kinds)
        if base
        else None
    )
    if retrain is None:
        retrain = job.retrain_by_default(data, base_data)
    from ..errors import IntrodetectError

    try:
        report = job.finetune(model, data, options, base=base_data, retrain=retrain_options if retrain else None)
    except (ValueError, IntrodetectError) as exc:
        fail(f"{model_file}: {exc}")
    table = Table(title=f"held-out reviewed episodes ({len(report.held_out)})")
    columns = ["detection_f1", "median_boundary_error_s", "window_f1"] + (["kind_accuracy"] if kinds else [])
    names = {"detection_f1": "detection F1", "median_boundary_error_s": "median boundary error s"}
    names |= {"window_f1": "window F1", "kind_accuracy": "kinds: window accuracy"}
    for column in ("", *(names[c] for c in columns)):
        table.add_column(column, justify="right")
    rows = [("before", report.before)]
    rows += [
        (f"after: {name}" + (" (kept)" if name == report.chosen else ""), f) for name, f in report.candidates.items()
    ]
    for name, f in rows:
        table.add_row(name, *(f"{f.get(c, float('nan')):.3f}" for c in columns))
    written = report.improved or force
    if as_json:
        from ..model.file import finite

        print_json(
            finite(
                {
                    "held_out": list(report.held_out),
                    "before": report.before,
                    "after": report.candidates,
                    "chosen": report.chosen,
                    "improved": report.improved,
                    "model": str(target) if written else None,
                }
            )
        )
    else:
        out.print(table)
    if not written:
        fail(
            f"the {report.chosen} model is worse on the held-out episodes: {target} left as it was (--force writes it)"
        )
    with writing(target, "the model"):
        report.model.save(target)
    notes(as_json).print(f"{report.chosen} model written to {target}")
