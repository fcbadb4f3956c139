"""FSDP shard units for any encoder family: each of the model's own transformer layers."""

from __future__ import annotations

import logging

import pytorch_lightning as pl
import torch

log = logging.getLogger("tunelab")


def layer_classes(network: torch.nn.Module) -> set[type]:
    """The classes of `network`'s repeated blocks: the modules that a module list holds several
    of, all of one class (BERT's BertLayer, MPNet's MPNetLayer, ModernBERT's encoder layers),
    inside any wrapper (peft, a sentence-transformers encoder). Found from the structure, since
    transformers names them (`_no_split_modules`) for some families only."""
    return {
        type(blocks[0])
        for blocks in network.modules()
        if isinstance(blocks, torch.nn.ModuleList)
        and len(blocks) > 1
        and len({type(block) for block in blocks}) == 1
    }


def wrap_layers(trainer: pl.Trainer, module: pl.LightningModule) -> None:
    """With `trainer=fsdp` and no `auto_wrap_policy` given, make each transformer layer of the
    module's network its own shard unit; a network that names none is sharded whole, said in
    one line."""
    from pytorch_lightning.strategies import FSDPStrategy
    from torch.distributed.fsdp.wrap import ModuleWrapPolicy

    strategy = trainer.strategy
    if not isinstance(strategy, FSDPStrategy) or strategy.kwargs.get("auto_wrap_policy"):
        return
    classes = layer_classes(module.model)
    if not classes:
        log.warning(
            "trainer=fsdp: %s names no layer class: the whole model is one shard unit "
            "(set trainer.strategy.auto_wrap_policy to shard it by layer)",
            type(module.model).__name__,
        )
        return
    strategy.kwargs["auto_wrap_policy"] = ModuleWrapPolicy(classes)
    log.info(
        "trainer=fsdp: each %s is a shard unit", ", ".join(sorted(c.__name__ for c in classes))
    )
