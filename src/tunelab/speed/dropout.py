"""Dropout whose masks are cheap to draw on CPU, and an attention function that uses it.

On CPU `torch.nn.functional.dropout` draws one 32-bit random number per element through a
single-threaded generator, a large share of a MiniLM training step (docs/benchmarks.md). Here each
64-bit draw of the same generator gives four 16-bit lanes, one per element, and an element is kept
when its lane is at or above `p` of the 16-bit range: drop probability `round(p * 65536) / 65536`
(0.1 -> 0.100006), and masks are much cheaper forward and backward. Seeded runs stay
reproducible (the same `torch` generator). Off CPU, PyTorch's own (fused) dropout is used.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from transformers import AttentionInterface
from transformers.masking_utils import AttentionMaskInterface, eager_mask

LANES = 65536  # values of a 16-bit lane
ATTENTION = "tunelab_eager"  # config._attn_implementation name of `eager_attention`


def fast_dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """`F.dropout(x, p, training)` with CPU masks drawn 16 bits per element."""
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu" or not 0.0 < p < 1.0:
        return F.dropout(x, p, training)
    n = x.numel()
    draws = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-(2**63), None)  # all 64 bits
    lanes = draws.view(torch.int16)[:n].view(x.shape)
    keep = lanes >= round(p * LANES) - LANES // 2  # int16 runs from -32768
    return x * (keep.to(x.dtype) * (1.0 / (1.0 - p)))


class Dropout(torch.nn.Dropout):
    """`torch.nn.Dropout` drawing its masks with `fast_dropout`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fast_dropout(x, self.p, self.training)


def use_fast_dropout(model: torch.nn.Module) -> torch.nn.Module:
    """Make every `torch.nn.Dropout` of `model` a `Dropout` (same probability, no weights)."""
    for module in model.modules():
        if type(module) is torch.nn.Dropout:  # a subclass may do more than drop
            module.__class__ = Dropout  # in place: keeps p, inplace, hooks
    return model


def eager_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Transformers' eager attention (softmax of scaled scores plus additive mask, times values)
    with `fast_dropout` on the attention probabilities."""
    if scaling is None:
        scaling = 1 / math.sqrt(query.shape[-1])
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        scores = scores + attention_mask[:, :, :, : key.shape[-2]]
    weights = F.softmax(scores, dim=-1)
    weights = fast_dropout(weights, dropout, module.training)
    output = torch.matmul(weights, value).transpose(1, 2).contiguous()
    return output, weights


@contextmanager
def attention_implementation(model: torch.nn.Module, name: str) -> Iterator[None]:
    """Run `model` with attention `name` (transformers reads it from the config at each forward)."""
    config = model.config
    previous = config._attn_implementation
    config._attn_implementation = name
    try:
        yield
    finally:
        config._attn_implementation = previous


AttentionInterface.register(ATTENTION, eager_attention)
AttentionMaskInterface.register(ATTENTION, eager_mask)
