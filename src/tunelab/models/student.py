"""A smaller student cut from a model: some of its layers, spread evenly, the rest dropped.

The layer that ends each of `keep` equal groups is kept (of 6 layers, keep 3: layers 1, 3 and 5,
counting from 0), so the last layer, the one the head was trained on, always stays.
"""

from __future__ import annotations

import logging

from torch import nn

from tunelab.errors import TunelabError

log = logging.getLogger("tunelab")


def kept_layers(total: int, keep: int) -> list[int]:
    return [(group + 1) * total // keep - 1 for group in range(keep)]


def keep_layers(model: nn.Module, keep: int) -> None:
    """Cut `model`'s stack of transformer layers down to `keep` of them, in place."""
    total = model.config.num_hidden_layers
    if isinstance(keep, bool) or not isinstance(keep, int) or not 1 <= keep <= total:
        raise TunelabError(f"model.keep_layers={keep!r}: give a whole number from 1 to {total}")
    if keep == total:
        return
    stacks = [m for m in model.modules() if isinstance(m, nn.ModuleList) and len(m) == total]
    if not stacks:
        raise TunelabError(
            f"model.keep_layers: {type(model).__name__} has no list of its {total} layers to cut"
        )
    chosen = kept_layers(total, keep)
    for index in reversed(range(total)):  # ModuleList renumbers what stays
        if index not in chosen:
            del stacks[0][index]
    model.config.num_hidden_layers = keep
    log.info("student: layers %s of the %d kept", ", ".join(map(str, chosen)), total)
