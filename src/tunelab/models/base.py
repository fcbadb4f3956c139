"""What every task module shares: the Hugging Face model, optimizer and scheduler set-up."""

from __future__ import annotations

import copy
import json
import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
import torch.distributed as dist
from omegaconf import DictConfig, OmegaConf
from transformers import AutoConfig

from tunelab.data.registry import from_pretrained
from tunelab.errors import TunelabError
from tunelab.models.labels import grow_head, trained_labels
from tunelab.models.optim import parameter_groups
from tunelab.models.peft_methods import MERGEABLE, AdaLoraRanks, apply_peft, virtual_tokens
from tunelab.models.student import keep_layers
from tunelab.speed.cpu_memory import (
    keep_freed_memory,
    limit_kernel_cache,
    release_freed_memory,
    release_if_wasteful,
)
from tunelab.speed.dropout import ATTENTION, attention_implementation, use_fast_dropout

SETTINGS_FILE = "tunelab.json"  # in an exported model: its task and how it reads input
UNCHECKED = object()  # what a model's first training batch has not shown yet
log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """What scoring one split gave (`TaskModule.evaluation(prefix)`): its scores (the keys of
    metrics.json), each item's prediction (NER: a sentence's tags; classification: a text's
    probabilities), where the task has one the confusion matrix, and each item's raw outputs
    that calibration starts from (NER: its words' log-probabilities; classification: logits)."""

    scores: dict[str, float]
    predictions: dict[int, Any] = field(default_factory=dict)
    confusion: Any = None
    outputs: dict[int, Any] = field(default_factory=dict)


class TaskModule(pl.LightningModule):
    """Base for task modules; subclasses build `self.model` and the steps.

    Args:
        model_name_or_path: hub id, local folder, or a packaged model's hub id.
        labels: label names in id order (the DataModule's).
        optimizer: partial optimizer taking parameter groups (from the `optimizer` config).
        scheduler: partial schedule taking `optimizer` and `total_steps`; None for a constant rate.
        trust_remote_code: allow model code from the hub; off unless the user sets it.
        peft: parameter-efficient fine-tuning (`tunelab.models.peft_methods`): `method` and the
            peft config's settings; None or method `none` for full fine-tuning.
        input_settings: how the model reads its input (the DataModule's `input_settings()`),
            kept in the checkpoint and exported as `tunelab.json`, so that eval and predict
            read text the way training did without repeated settings.
        keep_layers: a student of this many of the model's layers, spread evenly
            (`tunelab.models.student`); None keeps them all.

    The entry points hand a module what it scores against (`set_references`); it never reads
    the DataModule.
    """

    task = ""  # the registry name of its task (`tunelab.tasks`)
    method = "finetune"  # how it learns that task (`method=`; `tunelab.tasks.Method`)
    trains = True  # False: a method that learns nothing (zero-shot): tunelab-train only tests it
    peft_task_type = ""  # peft's TaskType name for this task

    def __init__(
        self,
        model_name_or_path: str,
        labels: list[str],
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
        scheduler: Callable[..., torch.optim.lr_scheduler.LRScheduler] | None = None,
        trust_remote_code: bool = False,
        peft: dict | None = None,
        input_settings: dict | None = None,
        keep_layers: int | None = None,
    ):
        super().__init__()
        # Plain lists and dicts in hparams: checkpoints load with weights_only=True.
        labels = list(labels)
        if isinstance(peft, DictConfig):
            peft = OmegaConf.to_container(peft, resolve=True)
        input_settings = dict(input_settings or {})
        # Optimizer and scheduler are callables: not needed to rebuild the model, and kept out of
        # the checkpoint so that it loads with torch.load(weights_only=True).
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        self.labels = list(labels)
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self._cpu_attention: bool | object = UNCHECKED
        self.references: dict[str, list] = {}
        self.evaluations: dict[str, Evaluation] = {}  # by prefix, as the epoch ends score them
        self.temperature = 1.0  # divides the logits of every probability reported (calibration)

    def evaluation(self, prefix: str) -> Evaluation:
        """The last scoring of `prefix` (`val`, `test`): what `trainer.validate`/`test` gave."""
        return self.evaluations.get(prefix) or Evaluation({})

    def set_references(self, references: dict[str, list]) -> None:
        """What each evaluation prefix (`val`, `test`) is scored against: one entry per item of
        that split, in the split's order (gold tags per sentence, label ids per text, ...)."""
        self.references = dict(references)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # what tunelab-eval ckpt_path=... loads it as
        checkpoint["tunelab_task"], checkpoint["tunelab_method"] = self.task, self.method

    @property
    def tokenizer_source(self) -> str:
        """Where the model's tokenizer is (a hub id or folder)."""
        return self.hparams.model_name_or_path

    @property
    def input_settings(self) -> dict:
        return dict(self.hparams.get("input_settings") or {})

    @classmethod
    def from_exported(cls, model_dir: str, settings: dict | None = None, **kwargs):
        """Load an exported model (`settings`: its `tunelab.json`; labels from there, or from
        the Hugging Face config's id2label where tunelab.json does not list them)."""
        settings = settings or {}
        labels = settings.get("labels")
        if labels is None:
            id2label = AutoConfig.from_pretrained(model_dir).id2label
            labels = [id2label[i] for i in range(len(id2label))]
        data = settings.get("data")
        module = cls(model_name_or_path=model_dir, labels=labels, input_settings=data, **kwargs)
        temperature = settings.get("temperature", 1.0)
        if isinstance(temperature, bool) or not isinstance(temperature, int | float):
            temperature = float("nan")
        if not math.isfinite(temperature) or temperature <= 0:
            raise TunelabError(
                f"{model_dir}/{SETTINGS_FILE}: temperature {settings.get('temperature')!r} is "
                "not a positive number"
            )
        module.temperature = float(temperature)
        return module

    def pretrained(self, auto_class, **kwargs) -> torch.nn.Module:
        """The Hugging Face model with a fresh head sized for `self.labels`, in train mode. From
        a fine-tuned model whose labels are the first of `self.labels` (train.py puts them
        there), its head is kept and widened for the labels it lacks."""
        path = self.hparams.model_name_or_path
        old = trained_labels(path)
        grow = old is not None and old != self.labels
        if grow and self.labels[: len(old)] != old:
            raise TunelabError(
                f"{path} was trained on labels {', '.join(old)}; a model from it needs them "
                f"first, in that order (got {', '.join(self.labels)})"
            )
        start = old if grow else self.labels
        model = from_pretrained(
            auto_class,
            path,
            num_labels=len(start),
            id2label=dict(enumerate(start)),
            label2id={label: i for i, label in enumerate(start)},
            trust_remote_code=self.hparams.trust_remote_code,
            **kwargs,
        )
        if grow:
            grow_head(model, len(old), len(self.labels))
            model.config.id2label, model.config.label2id = self.id2label, self.label2id
        if self.hparams.get("keep_layers"):
            keep_layers(model, self.hparams.keep_layers)
        model = use_fast_dropout(apply_peft(model, self.peft_settings, self.peft_task_type))
        # from_pretrained returns eval mode, and Lightning keeps submodule modes as it finds
        # them: without this, dropout would stay off during fine-tuning.
        return model.train()

    def padded_logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The model's scores for a padded training batch. On CPU through tunelab's eager attention
        and its cheap dropout masks (with dropout and a mask, SDPA takes its slower unfused path
        there; docs/benchmarks.md), once the first batch has shown that the model gives the
        same outputs that way; else, and elsewhere, with its own attention."""
        return self.padded_outputs(batch)[0]

    def padded_outputs(
        self, batch: dict[str, torch.Tensor], hidden: bool = False
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None]:
        """`padded_logits` and, with `hidden`, the hidden states of the same forward pass (the
        embeddings', then each layer's; the text's positions only)."""
        outputs = self.fast_forward(self.model_inputs(batch), output_hidden_states=hidden)
        logits, states = outputs.logits, outputs.hidden_states if hidden else None
        if self.prompt_length and logits.dim() == 3:
            # peft returns scores for the soft prompt's positions too; only the text's are kept.
            logits = logits[:, self.prompt_length :]
        if states is not None:  # a soft prompt leads each row
            length = batch["input_ids"].shape[1]
            states = tuple(state[:, state.shape[1] - length :] for state in states)
        return logits, states

    @property
    def distills_hidden(self) -> bool:
        """Whether the teacher's hidden states teach too (`model.distill_hidden` set, not 0)."""
        return bool(getattr(self, "teacher", None)) and bool(self.hparams.get("distill_hidden"))

    def fast_forward(
        self, inputs: dict[str, torch.Tensor], part: torch.nn.Module | None = None, **options
    ):
        """`part(**inputs, **options)` (`self.model` or a piece of it, e.g. its encoder), on CPU
        through tunelab's eager attention once the model has been seen to give the same outputs
        so."""
        part = self.model if part is None else part
        if self.device.type == "cpu" and self._cpu_attention is UNCHECKED:
            self._cpu_attention = self._same_outputs_with(ATTENTION, inputs)
        if self.device.type != "cpu" or not self._cpu_attention:
            return part(**inputs, **options)
        with attention_implementation(self.model, ATTENTION):
            return part(**inputs, **options)

    @contextmanager
    def reference_mode(self) -> Iterator[None]:
        """The model in eval mode, fp32, without gradients (train mode put back after): how the
        first-batch checks compare one way of running it with another, dropout aside."""
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad(), torch.autocast(self.device.type, enabled=False):
                yield
        finally:
            self.model.train(was_training)

    def _same_outputs_with(self, attention: str, inputs: dict[str, torch.Tensor]) -> bool:
        """Whether the model's last hidden states (of real tokens) are the same with `attention` as
        with its own: False for a model whose attention does not go through transformers'
        interface, or that reads the mask another way."""
        real = inputs["attention_mask"].bool()
        outputs = []
        try:
            with self.reference_mode():
                for name in (self.model.config._attn_implementation, attention):
                    with attention_implementation(self.model, name):
                        hidden = self.model(**inputs, output_hidden_states=True).hidden_states
                    outputs.append(hidden[-1][real])
        except Exception:  # noqa: BLE001 - any failure means: keep the model's own
            pass
        same = len(outputs) == 2 and torch.allclose(*outputs, rtol=1e-3, atol=1e-4)
        if not same:
            log.info("%s: training with its own attention", type(self.model).__name__)
        return same

    def on_fit_start(self) -> None:
        if self.device.type == "cpu":
            limit_kernel_cache()
            keep_freed_memory()  # a CPU step's big gradients then skip page faults

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:
        if self.device.type == "cpu":
            release_if_wasteful()

    def on_train_end(self) -> None:
        if self.device.type == "cpu":
            release_freed_memory()

    @property
    def peft_settings(self) -> dict:
        peft = self.hparams.get("peft") or {}
        return dict(peft.items()) if hasattr(peft, "items") else {}

    @property
    def peft_method(self) -> str:
        return self.peft_settings.get("method", "none")

    @property
    def prompt_length(self) -> int:
        """The positions a soft prompt (`peft=prompt_tuning`/`p_tuning`) puts before the text."""
        return virtual_tokens(self.peft_settings)

    def configure_callbacks(self):
        if self.peft_method != "adalora":
            return []
        settings = self.peft_settings
        return [AdaLoraRanks(settings["tinit_fraction"], settings["tfinal_fraction"])]

    @property
    def label2id(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.labels))

    def configure_optimizers(self):
        if self.optimizer_factory is None:
            raise ValueError(
                "no optimizer given: pass optimizer=partial(torch.optim.AdamW, lr=...)"
            )
        factory = self.optimizer_factory
        settings = getattr(factory, "keywords", {})
        groups = parameter_groups(self.model, settings.get("weight_decay", 0.0))
        optimizer = factory(groups + self.extra_parameter_groups(settings.get("lr", 1e-3)))
        if self.scheduler_factory is None:
            return optimizer
        total_steps = int(self.trainer.estimated_stepping_batches)
        scheduler = self.scheduler_factory(optimizer, total_steps=total_steps)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def configure_gradient_clipping(
        self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None
    ) -> None:
        """Clip as configured (`trainer.gradient_clip_val`), fused optimizers included.

        Lightning refuses to clip for a fused optimizer, whose step would unscale the gradients
        of a 16-bit gradient scaler only after clipping. Without a scaler (fp32, bf16) there is
        nothing to unscale, so tunelab clips itself; with one, Lightning's check stands.
        """
        if not gradient_clip_val or getattr(self.trainer.precision_plugin, "scaler", None):
            return super().configure_gradient_clipping(
                optimizer, gradient_clip_val, gradient_clip_algorithm
            )
        params = [p for group in optimizer.param_groups for p in group["params"]]
        if gradient_clip_algorithm == "value":
            torch.nn.utils.clip_grad_value_(params, gradient_clip_val)
        else:
            torch.nn.utils.clip_grad_norm_(params, gradient_clip_val)

    def extra_parameter_groups(self, lr: float) -> list[dict]:
        """Optimizer groups for trained parameters outside `self.model` (none here)."""
        return []

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.model(**self.model_inputs(batch), labels=batch["labels"]).loss
        self.log("train/loss", loss, prog_bar=True, batch_size=batch["input_ids"].shape[0])
        return loss

    def _gathered(self) -> dict:
        """`self._outputs` (a dict keyed by item) merged over all processes. The distributed
        sampler repeats items to even out ranks; keying by item counts each one once."""
        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
            return self._outputs
        parts: list[dict] = [None] * dist.get_world_size()
        dist.all_gather_object(parts, self._outputs)
        return {key: value for part in parts for key, value in part.items()}

    def run_on(self, model: torch.nn.Module) -> None:
        """Predict with `model` (e.g. an ONNX Runtime session,
        `tunelab.models.export.onnx.OnnxModel`) in the place of the Hugging Face model: called
        the same way, it returns `.logits`."""
        self.model = model
        self._cpu_attention = False  # its own graph: no attention to swap

    @staticmethod
    def model_inputs(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        names = ("input_ids", "attention_mask", "token_type_ids")
        return {name: batch[name] for name in names if name in batch}

    def export(self, directory: str, tokenizer) -> None:
        """Save the model in Hugging Face format (safetensors) with its tokenizer. Adapters
        (LoRA, AdaLoRA, IA3) are merged into a copy of the weights, so that `directory` holds a
        plain model; prefix tuning and soft prompts cannot be merged and export only the adapter."""
        model = self.model
        if self.peft_method in MERGEABLE:
            model = copy.deepcopy(model).merge_and_unload()
        model.save_pretrained(directory)
        tokenizer.save_pretrained(directory)
        settings = json.dumps(self.exported_settings(), indent=2)
        (Path(directory) / SETTINGS_FILE).write_text(settings + "\n")

    def exported_settings(self) -> dict:
        """What `tunelab.json` records: the task and how the model reads input (`data`: the
        DataModule's settings)."""
        settings = {"task": self.task, "method": self.method, "data": self.input_settings}
        teacher = self.hparams.get("teacher")
        taught = {"distilled_from": str(teacher)} if teacher else {}
        return {**settings, "temperature": self.temperature, **taught}

    # -- calibration (`tunelab.trust.calibration`) ---------------------------------------------
    def uncalibrated_reason(self) -> str | None:
        """Why this model's confidence cannot be calibrated; None where it can."""
        return f"a {self.task} model reports no decision probabilities"

    def decision_events(self, prefix: str, temperature: float) -> tuple:
        """(confidence, right) of each decision of the last scoring of `prefix`, the
        probabilities taken at `temperature`; the decisions are the same at every temperature."""
        raise NotImplementedError

    def set_temperature(self, temperature: float) -> None:
        """Report every probability from now on at `temperature`."""
        self.temperature = float(temperature)

    def export_adapter(self, directory: str, tokenizer) -> None:
        """The adapter alone, with the trained head (peft's format), for one base and many
        adapters, plus the model config that names the labels: load it with
        `AutoPeftModelFor...Classification.from_pretrained(dir, id2label=config.id2label)`, where
        `config = AutoConfig.from_pretrained(dir)`."""
        self.model.save_pretrained(directory)
        self.model.get_base_model().config.save_pretrained(directory)
        tokenizer.save_pretrained(directory)
