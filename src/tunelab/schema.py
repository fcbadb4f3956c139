"""The values users set, typed and ranged, checked before anything loads.

A wrong value stops the command with one line naming the key, the value and what is allowed, before
a model, a corpus or a checkpoint is touched. Keys are checked where the composed config has them
(`data.batch_size` in training, `batch_size` in prediction); the rest of the config is Hydra's.
A plain table rather than structured configs: the presets add keys per task, and one table of
the user-facing numbers is easier to read and extend than a dataclass per config group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from tunelab.errors import TunelabError


@dataclass(frozen=True)
class Setting:
    """One user-facing value: its type (`int` or `float`; `float` accepts integers), its bounds
    (inclusive unless `above` is set: then it must exceed `low`), and whether null is allowed."""

    key: str
    kind: type
    low: float | None = None
    high: float | None = None
    above: bool = False
    nullable: bool = False
    also: tuple = ()  # other allowed values (e.g. -1 for "no limit")

    def allowed(self) -> str:
        name = "an integer" if self.kind is int else "a number"
        if self.low is not None and self.high is not None:
            bounds = f" from {self.low} to {self.high}"
        elif self.low is not None:
            bounds = f" {'>' if self.above else '>='} {self.low}"
        else:
            bounds = ""
        extras = [repr(value) for value in self.also] + (["null"] if self.nullable else [])
        return name + bounds + (f" (or {', '.join(extras)})" if extras else "")

    def fits(self, value: Any) -> bool:
        if value is None:
            return self.nullable
        if any(type(value) is type(other) and value == other for other in self.also):
            return True
        if isinstance(value, bool) or not isinstance(value, self.kind | int):
            return False
        if self.kind is int and not isinstance(value, int):
            return False
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            return False
        return self.high is None or value <= self.high


SETTINGS = (
    Setting("seed", int),
    Setting("optimizer.lr", float, 0, above=True),
    Setting("optimizer.weight_decay", float, 0),
    Setting("scheduler.warmup_ratio", float, 0, 1),
    Setting("trainer.max_epochs", int, 1, also=(-1,), nullable=True),
    Setting("trainer.max_steps", int, 1, also=(-1,)),
    Setting("trainer.accumulate_grad_batches", int, 1),
    Setting("trainer.gradient_clip_val", float, 0, nullable=True),
    Setting("trainer.log_every_n_steps", int, 1),
    Setting("callbacks.early_stopping.patience", int, 0),
    *(
        setting
        for prefix in ("data.", "")  # training and eval configs; the prediction config
        for setting in (
            # null: as the model was trained (tunelab-eval, tunelab-predict)
            Setting(f"{prefix}max_length", int, 4, nullable=True),
            Setting(f"{prefix}stride", int, 0, nullable=True),
            Setting(f"{prefix}batch_size", int, 1),
            Setting(f"{prefix}context", int, 0, nullable=True),
        )
    ),
    Setting("max_tokens", int, 1, nullable=True),
    Setting("max_chars", int, 1, nullable=True),
    Setting("data.eval_batch_size", int, 1),
    Setting("data.eval_max_tokens", int, 1, nullable=True),
    Setting("data.eval_window", int, 4, nullable=True, also=("auto",)),
    Setting("data.group_by_length", int, 0),
    Setting("data.running_text", float, 0, 1),
    Setting("data.running_length", int, 4),
    Setting("data.pad_to_multiple_of", int, 1, nullable=True),
    Setting("data.num_workers", int, 0),
    Setting("data.mlm_probability", float, 0, 1, above=True),
    Setting("data.dev_fraction", float, 0, 1, above=True),
    Setting("data.vocab_size", int, 6),  # beyond the five special tokens
    Setting("data.shuffle_buffer", int, 0),
    Setting("data.k_shot", int, 1, nullable=True),
    Setting("data.k_shot_seed", int, 0),
    Setting("data.k_shot_epoch_steps", int, 1, nullable=True),
    Setting("model.head_warmup_steps", int, 0),
    Setting("continual.replay", int, 0),
    Setting("opset", int, 14, 21),  # tunelab-export: the ONNX operator sets torch writes
    # tunelab-serve
    Setting("port", int, 0, 65535),
    Setting("max_batch", int, 1),
    Setting("chunk_texts", int, 1),
    Setting("max_wait_ms", float, 0),
    Setting("shutdown_timeout_s", float, 0),
    Setting("header_timeout_s", float, 0, above=True),
    Setting("limits.max_texts", int, 1),
    Setting("limits.max_chars", int, 1),
    Setting("limits.max_body_bytes", int, 1),
    Setting("limits.body_timeout_s", float, 0, above=True),
    # tunelab-monitor
    Setting("poll_s", float, 0, above=True),
    Setting("idle_stop_s", float, 0, nullable=True),
    Setting("rule.baseline", int, 1),
    Setting("rule.min_count", int, 1),
    Setting("rule.min_baseline_count", int, 1),
    Setting("rule.margin", float, 0, 1),
    Setting("rule.z", float, 0),
    Setting("examples", int, 0),
)


def missing_keys(node: DictConfig, where: str = "") -> list[str]:
    """Mandatory keys (`???`) still unset, outside Hydra's own section; interpolations are not
    resolved (an evaluation config may hold some that it never uses)."""
    found = []
    for key in node:
        path = f"{where}{key}"
        if path == "hydra" or OmegaConf.is_interpolation(node, key):
            continue
        if OmegaConf.is_missing(node, key):
            found.append(path)
        elif isinstance(node[key], DictConfig):
            found += missing_keys(node[key], f"{path}.")
    return sorted(found)


def check(cfg: DictConfig) -> None:
    """Stop with one line at the first unset key or out-of-range value.

    Raises:
        TunelabError: naming the key, the value and what is allowed.
    """
    unset = missing_keys(cfg)
    if unset:
        raise TunelabError(f"{unset[0]} is not set; give it on the command line ({unset[0]}=...)")
    for setting in SETTINGS:
        try:
            value = OmegaConf.select(cfg, setting.key, throw_on_missing=True, default=KeyError)
        except OmegaConfBaseException as err:  # a broken interpolation
            raise TunelabError(f"{setting.key}: {str(err).splitlines()[0]}") from None
        if value is KeyError:
            continue
        if not setting.fits(value):
            raise TunelabError(f"{setting.key}={value!r} is not allowed: use {setting.allowed()}")
    check_method(cfg)
    check_strategy(cfg)
    stride, length = OmegaConf.select(cfg, "data.stride"), OmegaConf.select(cfg, "data.max_length")
    windows = OmegaConf.select(cfg, "data.windows") or OmegaConf.select(cfg, "data.long_text")
    if windows in (True, "windows") and isinstance(length, int) and (stride or 0) >= length:
        raise TunelabError(
            f"data.stride={stride} is not allowed: windows must advance, use a stride below "
            f"data.max_length={length}"
        )


def check_strategy(cfg: DictConfig) -> None:
    """`trainer=fsdp` on CPUs stops with one line: Lightning's FSDPStrategy takes GPUs only
    (torch's FSDP itself can run on CPU processes, Lightning's strategy refuses them)."""
    strategy = OmegaConf.select(cfg, "trainer.strategy")
    name = strategy.get("_target_", "") if isinstance(strategy, DictConfig) else str(strategy)
    if "fsdp" in name.lower() and OmegaConf.select(cfg, "trainer.accelerator") == "cpu":
        raise TunelabError(
            "trainer=fsdp runs on GPUs only (Lightning's FSDPStrategy refuses accelerator=cpu); "
            "on CPUs use trainer=ddp trainer.accelerator=cpu, which trains the same model unsharded"
        )


def check_method(cfg: DictConfig) -> None:
    """`method=` names a way to learn the task the data preset picked."""
    from tunelab import tasks

    name, method = cfg.get("task"), cfg.get("method")
    if not name or method in (None, tasks.FINETUNE):
        return
    task = tasks.get(str(name))
    if all(m.name != method for m in task.methods):
        learns = [t for t in tasks.known() if any(m.name == method for m in tasks.get(t).methods)]
        raise TunelabError(
            f"method={method} learns {' or '.join(learns) or 'no task'}, but the data is "
            f"{name} data: give {' or '.join(learns) or 'other'} data, or method=finetune"
        )


def check_model_positions(cfg: DictConfig) -> None:
    """`data.max_length` within the positions the model has (read from its config alone)."""
    length = OmegaConf.select(cfg, "data.max_length")
    name = OmegaConf.select(cfg, "model.model_name_or_path")
    if not isinstance(length, int) or not name:
        return
    from transformers import AutoConfig

    from tunelab.data.registry import from_pretrained
    from tunelab.models.peft_methods import virtual_tokens

    config = from_pretrained(AutoConfig, name)
    positions = getattr(config, "max_position_embeddings", None)
    if positions and "roberta" in getattr(config, "model_type", ""):
        positions -= 2  # RoBERTa's position ids start after the padding index
    peft = OmegaConf.select(cfg, "model.peft") or {}
    prompt = virtual_tokens(dict(peft))
    if positions and length + prompt > positions:
        soft = f", {prompt} of them for the soft prompt" if prompt else ""
        raise TunelabError(
            f"data.max_length={length} is not allowed: {name} has {positions} positions{soft}; "
            f"use at most {positions - prompt} (longer texts are read in windows)"
        )
