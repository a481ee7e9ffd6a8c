"""The design's CNN + LSTM (needs torch: the ``train`` extra). Inference runs its ONNX export instead.

A small CNN reads the MFCC/contrast rows as an image (3×3 convolutions, batch norm, ReLU, 2×2 max pooling)
and a 1-D CNN reads the frame series; each window's maps keep their time axis (flattened), so the window's
embedding still knows *where* in the window things change. An LSTM runs across the windows of the
episode; heads give, per window: intro / not (two logits, cross-entropy), "the start lies in this window"
and "the end lies in this window" (logits), and where in the window each lies (regression, 0..1); and, in a
network built with a kinds head (``NetworkDims.kinds``), which part of the episode the window's centre lies in
(``KINDS``: story, ident, recap, intro, credits, preview; logits, cross-entropy), read by a small LSTM of its
own (``KindHead``) from each window's context, its own embedding and its scalars (among them where the window
lies: from the start in the head, from the end in the tail: ``inputs.episode_inputs``, ``inputs.tail_inputs``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .inputs import HEADS, KIND_HEADS, KINDS, PARTS


def heads_of(dims: NetworkDims) -> tuple[str, ...]:
    """The output channels of a network of these dims, in order."""
    return (*HEADS, *KIND_HEADS) if dims.kinds else HEADS


@dataclass(frozen=True)
class NetworkDims:
    """Everything that shapes the weights: saved in the model file, so a file loads into the same network."""

    patch_rows: int = 27
    series_rows: int = 20
    extra: int = 4
    step_frames: int = 40
    channels: tuple[int, int, int] = (32, 32, 64)
    series_channels: int = 32
    embedding: int = 128
    lstm_units: int = 64
    bidirectional: bool = True
    dropout: float = 0.3
    kinds: bool = False
    """A kinds head (KINDS) beside the intro's heads; False in model files made before it (which load as they
    were)."""

    def to_json(self) -> dict:
        return {**asdict(self), "channels": list(self.channels)}

    @classmethod
    def from_json(cls, data: dict) -> NetworkDims:
        return cls(**{**data, "channels": tuple(data["channels"]), "kinds": bool(data.get("kinds", False))})


def _conv2d(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.MaxPool2d(2, ceil_mode=True),
    )


def _conv1d(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm1d(c_out),
        nn.ReLU(),
        nn.MaxPool1d(2, ceil_mode=True),
    )


def _pooled(n: int, times: int) -> int:
    for _ in range(times):
        n = (n + 1) // 2
    return n


class KindHead(nn.Module):
    """Which part each window lies in, from what the network sees of it: a small bidirectional LSTM of its own
    across the windows (a part's kind is a matter of the whole sequence: credits run to the end, a preview
    follows them, a recap opens the episode), then a linear layer to the kinds' logits; and per part kind, as
    the intro's heads, whether its start or end lies in the window and where (``inputs.KIND_HEADS``)."""

    def __init__(self, features: int, units: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(features, units, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * units, len(KINDS))
        self.boundary_in = nn.Linear(2 * units + features, 2 * len(PARTS))
        self.boundary_at = nn.Sequential(nn.Linear(2 * units + features, 64), nn.ReLU(), nn.Linear(64, 2 * len(PARTS)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        context, _ = self.lstm(x)
        both = torch.cat([context, x], dim=2)
        return torch.cat([self.out(context), self.boundary_in(both), torch.sigmoid(self.boundary_at(both))], dim=2)


class IntroNet(nn.Module):
    """patch (B, patch_rows, N), series (B, series_rows, N), extra (B, T, n_extra) → (B, T, C), where
    N = (T + 1) · step_frames: the frames of T windows of two steps each, and C = len(heads_of(dims))."""

    def __init__(self, dims: NetworkDims) -> None:
        super().__init__()
        self.dims = dims
        c1, c2, c3 = dims.channels
        self.patch_cnn = nn.Sequential(_conv2d(1, c1), _conv2d(c1, c2), _conv2d(c2, c3))
        self.series_cnn = nn.Sequential(
            _conv1d(dims.series_rows, dims.series_channels),
            _conv1d(dims.series_channels, dims.series_channels),
            _conv1d(dims.series_channels, dims.series_channels),
        )
        self.step_out = dims.step_frames // 8  # CNN output frames per step (three 2× poolings)
        flat = 2 * self.step_out * (c3 + dims.series_channels)
        self.embed = nn.Sequential(nn.Dropout(dims.dropout), nn.Linear(flat + dims.extra, dims.embedding), nn.ReLU())
        self.lstm = nn.LSTM(dims.embedding, dims.lstm_units, batch_first=True, bidirectional=dims.bidirectional)
        context = dims.lstm_units * (2 if dims.bidirectional else 1)
        self.drop = nn.Dropout(dims.dropout)
        self.classify = nn.Linear(context, 2)
        self.boundary_in = nn.Linear(context + dims.embedding, 2)
        self.boundary_at = nn.Sequential(nn.Linear(context + dims.embedding, 64), nn.ReLU(), nn.Linear(64, 2))
        self.kind = KindHead(context + dims.embedding + dims.extra, dims.lstm_units // 2) if dims.kinds else None

    def forward(self, patch: torch.Tensor, series: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        b = patch.shape[0]
        # the convolutions run once over the whole episode (their reach is ~2 s, so each window's maps are what
        # a CNN of that window alone would give, bar its first and last frames) and are cut into windows after
        image = self.patch_cnn(patch.unsqueeze(1)).mean(dim=2)  # (B, c3, N / 8): frequency pooled away
        lines = self.series_cnn(series)  # (B, cs, N / 8)
        maps = torch.cat([image, lines], dim=1)
        channels = maps.shape[1]
        steps = maps.reshape(b, channels, -1, self.step_out).permute(0, 2, 1, 3).flatten(2)  # (B, T + 1, C·q)
        windows = torch.cat([steps[:, :-1], steps[:, 1:]], dim=2)  # window w = steps w and w + 1
        window = self.embed(torch.cat([windows, extra], dim=2))
        context, _ = self.lstm(window)
        context = self.drop(context)
        both = torch.cat([context, window], dim=2)
        at = torch.sigmoid(self.boundary_at(both))
        out = [self.classify(context), self.boundary_in(both), at]
        if self.kind is not None:
            out.append(self.kind(torch.cat([both, extra], dim=2)))
        return torch.cat(out, dim=2)
