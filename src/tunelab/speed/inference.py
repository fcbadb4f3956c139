"""Inference under bf16 autocast without the per-call weight copies."""

from __future__ import annotations

import torch


def cast_linear_weights(model: torch.nn.Module) -> int:
    """Store each Linear's weight and bias in bf16, for a model that only predicts under CPU
    bf16 autocast: autocast casts them to bf16 on every call, rounding the same way, so the
    scores are unchanged and each call skips copying the weights. Weights shared with an
    embedding (a tied MLM decoder) stay as they are. Returns the number of layers cast."""
    shared = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
    cast = 0
    for layer in model.modules():
        if isinstance(layer, torch.nn.Linear) and id(layer.weight) not in shared:
            layer.weight.data = layer.weight.data.to(torch.bfloat16)
            if layer.bias is not None:
                layer.bias.data = layer.bias.data.to(torch.bfloat16)
            cast += 1
    return cast
