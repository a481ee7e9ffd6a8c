"""Training, prediction and cross-validation of the CNN + LSTM (needs torch: the ``train`` extra).

The Task (data + loss) in pyannote's sense: episodes → padded batches; loss = cross-entropy on the windows'
intro labels + BCE on "a boundary lies in this window" + the weighted MSE of where it lies (only in the
windows that hold it) + (a network with a kinds head) cross-entropy on the windows' kinds, where the labels
say them. Adam at lr 1e-3, halved when the validation loss stops improving; dropout and weight
decay (L2); early stopping on the validation loss, keeping the best epoch's weights.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from ..settings import SettingsError
from .inputs import HEADS, KINDS, EpisodeInputs
from .network import IntroNet, NetworkDims


@dataclass(frozen=True)
class TrainOptions:
    lr: float = 1e-3
    """Adam's learning rate (the design's)."""
    weight_decay: float = 1e-4
    """L2 penalty on the weights (Adam's weight_decay)."""
    epochs: int = 40
    patience: int = 8
    """Stop after this many epochs without a better validation loss."""
    plateau_patience: int = 2
    """Halve the learning rate after this many epochs without a better validation loss."""
    batch_size: int = 8
    """Episodes per batch (each a sequence of ~95 windows)."""
    boundary_weight: float = 10.0
    """Weight of the regression MSE (targets are fractions of a 10 s window: an error of 1 s costs 0.01)."""
    intro_pos_weight: float = 3.0
    """Weight of intro windows in the cross-entropy: they are 1–20 % of an episode's windows."""
    boundary_pos_weight: float = 10.0
    """Weight of the 1–2 windows per episode that hold a boundary, in its BCE."""
    kind_weight: float = 1.0
    """Weight of the kinds head's cross-entropy in the loss (a network with a kinds head)."""
    kind_part_weight: float = 3.0
    """Weight of the windows of a part (every kind but story) in that cross-entropy: like intro windows, a few
    per cent of an episode's."""
    freeze: bool = False
    """Train the kinds head alone, every other weight kept (a kinds head added to a trained network: its intro
    answers stay those it gave)."""
    shift: bool = True
    """Augment: each epoch, each training episode is seen through windows shifted by a random 0–5 s (see
    ``inputs.shifted``)."""
    masks: int = 0
    """Augment: each epoch, this many feature bands and this many time spans of each training episode's patch
    are masked (set to the mean: 0 after normalisation), SpecAugment's masking on our feature rows
    (``inputs.masked``): a timbre or a moment the model never heard should not decide. 0: none."""
    seed: int = 0
    threads: int = 2

    def __post_init__(self) -> None:
        if not (self.lr > 0 and self.weight_decay >= 0 and self.boundary_weight >= 0):
            raise SettingsError("learning rate must be > 0; weight decay and boundary weight >= 0")
        if min(self.epochs, self.patience, self.batch_size, self.threads) < 1 or self.plateau_patience < 0:
            raise SettingsError("epochs, patience, batch size and threads must be >= 1")
        if self.masks < 0:
            raise SettingsError("masks must be >= 0")
        if self.kind_weight < 0 or self.kind_part_weight <= 0:
            raise SettingsError("kind weight must be >= 0 and kind part weight > 0")

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class FitResult:
    net: IntroNet
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0


def _batch(episodes: Sequence[EpisodeInputs], with_targets: bool) -> dict[str, torch.Tensor]:
    """Pad episodes to the longest (zeros; ``mask`` marks the real windows)."""
    t = max(e.n_windows for e in episodes)
    b = len(episodes)
    first = episodes[0]
    step = first.patch.shape[1] // (first.n_windows + 1)
    patch = np.zeros((b, first.patch.shape[0], (t + 1) * step), np.float32)
    series = np.zeros((b, first.series.shape[0], (t + 1) * step), np.float32)
    extra = np.zeros((b, t, first.extra.shape[1]), np.float32)
    mask = np.zeros((b, t), np.float32)
    out: dict[str, np.ndarray] = {}
    if with_targets:
        out = {k: np.zeros((b, t, *v.shape[1:]), v.dtype) for k, v in first.targets.items()}  # type: ignore[union-attr]
    for i, e in enumerate(episodes):
        n = e.n_windows
        frames = e.patch.shape[1]
        patch[i, :, :frames], series[i, :, :frames], extra[i, :n], mask[i, :n] = e.patch, e.series, e.extra, 1.0
        if with_targets:
            for k, v in e.targets.items():  # type: ignore[union-attr]
                out[k][i, :n] = v
    batch = {"patch": patch, "series": series, "extra": extra, "mask": mask, **out}
    return {k: torch.from_numpy(v) for k, v in batch.items()}


def _boundary_terms(
    logits: torch.Tensor,
    at: torch.Tensor,
    target_in: torch.Tensor,
    target_at: torch.Tensor,
    mask: torch.Tensor,
    pos_weight: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A boundary's two terms over the ``mask``ed windows: the BCE of "it lies in this window" (mean over them)
    and the squared error of where, over the windows that hold it."""
    term = nn.functional.binary_cross_entropy_with_logits(logits, target_in, pos_weight=pos_weight, reduction="none")
    holds = target_in * mask
    err = (at - target_at) ** 2
    return (term * mask).sum() / mask.sum().clamp(min=1.0), (err * holds).sum() / holds.sum().clamp(min=1.0)


def loss_terms(raw: torch.Tensor, batch: dict[str, torch.Tensor], options: TrainOptions) -> dict[str, torch.Tensor]:
    """Masked loss terms of one batch; ``raw`` (B, T, C): the intro's six channels, then a kinds head's."""
    window_mask = batch["mask"]
    mask = window_mask * batch["intro_known"] if "intro_known" in batch else window_mask
    n = mask.sum().clamp(min=1.0)
    weights = torch.tensor([1.0, options.intro_pos_weight])
    ce = nn.functional.cross_entropy(
        raw[..., :2].reshape(-1, 2), batch["label"].reshape(-1), weight=weights, reduction="none"
    ).reshape(mask.shape)
    ce = (ce * mask).sum() / n
    bce = 0.0
    mse = 0.0
    pos_weight = torch.tensor(options.boundary_pos_weight)
    for k, name in ((2, "start"), (3, "end")):
        b, m = _boundary_terms(raw[..., k], raw[..., k + 2], batch[f"{name}_in"], batch[f"{name}_at"], mask, pos_weight)
        bce, mse = bce + b, mse + m
    total = ce + bce + options.boundary_weight * mse
    terms = {"ce": ce, "bce": bce, "mse": mse}
    if raw.shape[-1] > len(HEADS) and "kind" in batch:
        known = batch["kind_known"] * window_mask
        weights = torch.full((len(KINDS),), options.kind_part_weight)
        weights[0] = 1.0
        term = nn.functional.cross_entropy(
            raw[..., len(HEADS) : len(HEADS) + len(KINDS)].reshape(-1, len(KINDS)),
            batch["kind"].reshape(-1),
            weight=weights,
            reduction="none",
        ).reshape(mask.shape)
        kind = (term * known).sum() / known.sum().clamp(min=1.0)
        n_parts = len(KINDS) - 1
        first = len(HEADS) + len(KINDS)
        stated = batch["part_known"] * window_mask[..., None]
        for k, side in enumerate(("start", "end")):
            logits = raw[..., first + k * n_parts : first + (k + 1) * n_parts]
            at = raw[..., first + (2 + k) * n_parts : first + (3 + k) * n_parts]
            b, m = _boundary_terms(logits, at, batch[f"part_{side}_in"], batch[f"part_{side}_at"], stated, pos_weight)
            kind = kind + b + options.boundary_weight * m
        terms["kind"] = kind
        total = kind * options.kind_weight if options.freeze else total + options.kind_weight * kind
    return {"loss": total, **terms}  # type: ignore[dict-item]


def _evaluate_loss(net: IntroNet, episodes: Sequence[EpisodeInputs], options: TrainOptions) -> dict[str, float]:
    net.eval()
    sums: dict[str, float] = {}
    with torch.no_grad():
        for start in range(0, len(episodes), options.batch_size):
            chunk = episodes[start : start + options.batch_size]
            batch = _batch(chunk, True)
            terms = loss_terms(net(batch["patch"], batch["series"], batch["extra"]), batch, options)
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(chunk)
    return {k: v / max(len(episodes), 1) for k, v in sums.items()}


def fit(
    train: Sequence[EpisodeInputs],
    valid: Sequence[EpisodeInputs],
    dims: NetworkDims,
    options: TrainOptions | None = None,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
    init: IntroNet | None = None,
    augment: Callable[[int, np.random.Generator], EpisodeInputs] | None = None,
) -> FitResult:
    """Train a network on ``train`` (early stopping on ``valid``; on ``train`` itself when ``valid`` is empty).

    ``init``: start from these weights (fine-tuning) instead of a fresh network. ``augment(i, rng)``: a new
    view of training episode i, drawn for every epoch (None: the episodes as they are).
    """
    options = options or TrainOptions()
    torch.manual_seed(options.seed)
    torch.set_num_threads(options.threads)
    rng = np.random.default_rng(options.seed)
    net = copy.deepcopy(init) if init is not None else IntroNet(dims)
    if options.freeze:
        if net.kind is None:
            raise SettingsError("only a network with a kinds head can be trained with every other weight kept")
        learnt = list(net.kind.parameters())
        for p in net.parameters():
            p.requires_grad_(False)
        for p in learnt:
            p.requires_grad_(True)
    else:
        learnt = list(net.parameters())
    optimiser = torch.optim.Adam(learnt, lr=options.lr, weight_decay=options.weight_decay)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimiser, factor=0.5, patience=options.plateau_patience)
    monitor = list(valid) or list(train)
    best_loss, best_state, best_epoch, stale = math.inf, copy.deepcopy(net.state_dict()), 0, 0
    history: list[dict[str, float]] = []
    began = time.perf_counter()
    for epoch in range(1, options.epochs + 1):
        net.train()
        if options.freeze:
            net.eval()  # batch norm's statistics and dropout of the kept weights stay as they were
        order = rng.permutation(len(train))
        train_sum, seen = 0.0, 0
        for start in range(0, len(order), options.batch_size):
            picked = order[start : start + options.batch_size]
            chunk = [augment(int(i), rng) if augment else train[i] for i in picked]
            if len(chunk) < 2 and len(order) > 1:
                continue  # batch norm needs more than one episode's windows to be stable; the rest rolls over
            batch = _batch(chunk, True)
            terms = loss_terms(net(batch["patch"], batch["series"], batch["extra"]), batch, options)
            optimiser.zero_grad()
            terms["loss"].backward()
            nn.utils.clip_grad_norm_(learnt, 5.0)
            optimiser.step()
            train_sum += float(terms["loss"].detach()) * len(chunk)
            seen += len(chunk)
        val = _evaluate_loss(net, monitor, options)
        plateau.step(val["loss"])
        row = {
            "epoch": epoch,
            "train_loss": train_sum / max(seen, 1),
            "val_loss": val["loss"],
            "val_ce": val["ce"],
            "val_bce": val["bce"],
            "val_mse": val["mse"],
            **({"val_kind": val["kind"]} if "kind" in val else {}),
            "lr": optimiser.param_groups[0]["lr"],
            "seconds": time.perf_counter() - began,
        }
        history.append(row)
        if on_epoch:
            on_epoch(row)
        if val["loss"] < best_loss - 1e-4:
            best_loss, best_state, best_epoch, stale = val["loss"], copy.deepcopy(net.state_dict()), epoch, 0
        else:
            stale += 1
            if stale >= options.patience:
                break
    net.load_state_dict(best_state)
    net.eval()
    return FitResult(net, history, best_epoch, time.perf_counter() - began)


def predict_raw(net: IntroNet, episodes: Sequence[EpisodeInputs], batch_size: int = 8) -> list[np.ndarray]:
    """Raw (T, C) outputs of every episode (torch; inference in the package goes through ONNX instead)."""
    net.eval()
    out: list[np.ndarray] = []
    with torch.no_grad():
        for start in range(0, len(episodes), batch_size):
            chunk = episodes[start : start + batch_size]
            batch = _batch(chunk, False)
            raw = net(batch["patch"], batch["series"], batch["extra"]).numpy()
            out.extend(raw[i, : e.n_windows] for i, e in enumerate(chunk))
    return out
