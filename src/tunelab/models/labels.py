"""Starting from a fine-tuned model whose label set differs from the data's: the old labels keep
their ids and head rows, the data's new labels are appended with fresh rows (continual
learning; a label the data lacks is kept, never dropped)."""

from __future__ import annotations

import logging
import re

import torch
from torch import nn
from transformers import AutoConfig

from tunelab.data.registry import from_pretrained
from tunelab.errors import TunelabError

log = logging.getLogger("tunelab")
PLACEHOLDER = re.compile(r"LABEL_\d+")  # what transformers names labels nobody named


def trained_labels(name_or_path: str) -> list[str] | None:
    """The labels a fine-tuned classifier (token or sequence) was trained on, in id order; None
    for a model without a classification head or whose labels were never named."""
    try:
        config = from_pretrained(AutoConfig, name_or_path)
    except TunelabError:
        return None  # not a model folder or hub id this machine has: the model load reports it
    if not any("Classification" in a for a in config.architectures or []):
        return None
    names = [str(config.id2label[i]) for i in range(len(config.id2label))]
    return None if all(PLACEHOLDER.fullmatch(n) for n in names) else names


def merged_labels(old: list[str], found: list[str], model: str) -> list[str]:
    """The old model's labels in their order, then those of `found` (the data's) it lacked;
    what changed is logged."""
    added = [label for label in found if label not in old]
    missing = [label for label in old if label not in found]
    if added:
        log.info("labels: %s's %d kept, added from the data: %s", model, len(old), " ".join(added))
    if missing:
        log.warning(
            "labels: %s not in the training data; kept from %s (their head rows are trained "
            "only as the other labels' competitors)",
            " ".join(missing),
            model,
        )
    return list(old) + added


def grow_head(model: nn.Module, old: int, new: int) -> None:
    """Widen the classification head of `model` from `old` to `new` outputs in place: the old
    rows are kept, the new ones initialised as the model initialises a head."""
    heads = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and module.out_features == old
    ]
    if not heads:
        raise TunelabError(f"cannot find the {old}-label classification head to widen")
    name, head = heads[-1]  # the output layer comes last
    wider = nn.Linear(head.in_features, new, bias=head.bias is not None)
    wider.to(dtype=head.weight.dtype, device=head.weight.device)
    std = getattr(model.config, "initializer_range", 0.02)
    with torch.no_grad():
        wider.weight.normal_(0.0, std)
        wider.weight[:old] = head.weight
        if head.bias is not None:
            wider.bias.zero_()
            wider.bias[:old] = head.bias
    parent = model.get_submodule(name.rpartition(".")[0]) if "." in name else model
    setattr(parent, name.rpartition(".")[2], wider)
    if hasattr(model, "num_labels"):
        model.num_labels = new
