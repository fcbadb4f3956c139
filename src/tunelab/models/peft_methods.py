"""Parameter-efficient fine-tuning on top of any task module, built on the `peft` library.

Methods: `none` (full fine-tuning), `lora`, `adalora`, `ia3`, `prefix` (prefix tuning), the
soft prompts `prompt_tuning` and `p_tuning` (trained vectors before the text), and `head_only`
(the encoder frozen, only the classifier trained). The classifier head is always
trained and saved: peft's token/sequence-classification task types keep it in `modules_to_save`.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from peft import (
    AdaLoraConfig,
    IA3Config,
    LoraConfig,
    PeftModel,
    PrefixTuningConfig,
    PromptEncoderConfig,
    PromptTuningConfig,
    TaskType,
    get_peft_model,
)

from tunelab.errors import TunelabError

METHODS = ("none", "lora", "adalora", "ia3", "prefix", "prompt_tuning", "p_tuning", "head_only")
CONFIGS = {
    "lora": LoraConfig,
    "adalora": AdaLoraConfig,
    "ia3": IA3Config,
    "prefix": PrefixTuningConfig,
    "prompt_tuning": PromptTuningConfig,
    "p_tuning": PromptEncoderConfig,
}
MERGEABLE = ("lora", "adalora", "ia3")
# Soft prompts: trained input vectors put before the text, which lengthen every sequence.
SOFT_PROMPTS = ("prompt_tuning", "p_tuning")
# `target_modules` value that names every linear layer of the encoder, in any family
ENCODER_LINEAR = "encoder_linear"
# AdaLoRA needs the run's length before the trainer knows it; `AdaLoraRanks` sets the real one.
PLACEHOLDER_STEPS = 1_000_000


def apply_peft(model: torch.nn.Module, settings: dict | None, task_type: str) -> torch.nn.Module:
    """Wrap `model` for the method in `settings` (`method` plus the peft config's own keys)."""
    settings = dict(settings or {})
    method = settings.pop("method", "none")
    if method not in METHODS:
        raise TunelabError(f"peft.method={method!r}; choose one of {', '.join(METHODS)}")
    if method == "none":
        return model
    if method == "head_only":
        for param in model.base_model.parameters():  # the encoder; the head lies outside it
            param.requires_grad = False
        return model
    if method == "adalora":
        # tinit/tfinal are given as fractions of the run; AdaLoraRanks turns them into steps.
        settings.pop("tinit_fraction", None), settings.pop("tfinal_fraction", None)
        settings.update(total_step=PLACEHOLDER_STEPS, tinit=0, tfinal=0)
    if settings.get("target_modules") == ENCODER_LINEAR:
        settings["target_modules"] = encoder_linear_layers(model)
    try:
        config = CONFIGS[method](task_type=getattr(TaskType, task_type), **settings)
        wrapped = get_peft_model(model, config)
    except (ValueError, TypeError) as err:  # peft's NoMatchingPeftModuleError is a ValueError
        first = str(err).strip().splitlines()[0]
        raise TunelabError(
            f"peft={method} on {type(model).__name__}: {first} "
            f"(model.peft.target_modules={ENCODER_LINEAR} takes every linear layer of any encoder)"
        ) from None
    if method == "prefix":
        check_prefix_support(wrapped)
    return wrapped


def encoder_linear_layers(model: torch.nn.Module) -> list[str]:
    """The full names of every linear layer of the encoder (`model.base_model`), whatever the
    family calls them (BERT's query/key/value/dense, DistilBERT's q_lin..., MPNet's attn.q...,
    ModernBERT's Wqkv...): the head outside it is trained whole (`modules_to_save`)."""
    encoder = model.base_model
    prefix = next(name for name, module in model.named_modules() if module is encoder)
    return [
        f"{prefix}.{name}" if prefix else name
        for name, module in encoder.named_modules()
        if isinstance(module, torch.nn.Linear)
    ]


def virtual_tokens(settings: dict) -> int:
    """How many positions a soft prompt puts before the text (0 for the other methods)."""
    if settings.get("method") not in SOFT_PROMPTS:
        return 0
    return int(settings.get("num_virtual_tokens") or 0)


def check_prefix_support(model: PeftModel) -> None:
    """One tiny forward pass, so that a model whose attention takes no prefix fails now, clearly,
    and not after data loading."""
    ids = torch.tensor([[0, 1, 2]])
    try:
        with torch.no_grad():
            model(input_ids=ids, attention_mask=torch.ones_like(ids))
    except Exception as error:  # any failure here means the same: no prefix support
        kind = model.base_model.config.model_type
        raise TunelabError(
            f"prefix tuning does not work with this model ({kind}): its attention does not take "
            f"the prefix key/values ({type(error).__name__}: {error}); use peft=lora or peft=ia3"
        ) from None


def parameter_counts(module: torch.nn.Module) -> dict[str, int]:
    """`model/trainable_params` and `model/total_params` for metrics.json."""
    params = list(module.parameters())
    return {
        "model/trainable_params": sum(p.numel() for p in params if p.requires_grad),
        "model/total_params": sum(p.numel() for p in params),
    }


class AdaLoraRanks(pl.Callback):
    """AdaLoRA's rank allocation: the schedule set from the run's real length at the start, and
    `update_and_allocate` after every optimizer step, while the gradients it scores still exist."""

    def __init__(self, tinit_fraction: float, tfinal_fraction: float):
        self.tinit_fraction, self.tfinal_fraction = tinit_fraction, tfinal_fraction

    def on_fit_start(self, trainer, pl_module) -> None:
        config = pl_module.model.peft_config["default"]
        total = int(trainer.estimated_stepping_batches)
        config.total_step = total
        config.tinit = int(self.tinit_fraction * total)
        config.tfinal = int(self.tfinal_fraction * total)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        # After the optimizer step; the gradients are cleared only before the next batch.
        pl_module.model.base_model.update_and_allocate(trainer.global_step)
