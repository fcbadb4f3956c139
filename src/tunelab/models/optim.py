"""Optimizer parameter groups and warm-up schedules."""

from __future__ import annotations

import torch
from transformers import get_scheduler


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Two AdamW groups: weight decay on weight matrices, none on biases and LayerNorm weights
    (decaying those hurts fine-tuning, as in the BERT recipe)."""
    no_decay_ids = set()
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            if name == "bias" or isinstance(module, torch.nn.LayerNorm) or "LayerNorm" in name:
                no_decay_ids.add(id(param))
    params = [p for p in model.parameters() if p.requires_grad]
    return [
        {"params": [p for p in params if id(p) not in no_decay_ids], "weight_decay": weight_decay},
        {"params": [p for p in params if id(p) in no_decay_ids], "weight_decay": 0.0},
    ]


def warmup_schedule(
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    name: str = "linear",
    warmup_ratio: float = 0.1,
) -> torch.optim.lr_scheduler.LRScheduler:
    """A transformers schedule (`linear`, `cosine`, `constant_with_warmup`, ...) whose warm-up is
    `warmup_ratio` of the run's optimizer steps."""
    return get_scheduler(
        name,
        optimizer,
        num_warmup_steps=int(warmup_ratio * total_steps),
        num_training_steps=total_steps,
    )
