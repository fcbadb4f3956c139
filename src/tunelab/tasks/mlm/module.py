"""LightningModule for masked-LM training: further pre-training of an encoder, or a new one."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from transformers import AutoConfig, AutoModelForMaskedLM

from tunelab.data.registry import from_pretrained
from tunelab.errors import TunelabError
from tunelab.models.base import Evaluation, TaskModule
from tunelab.speed.dropout import use_fast_dropout

log = logging.getLogger(__name__)
HEADS = ("cls", "lm_head")  # where BERT-like and RoBERTa-like models keep their MLM head
IGNORE = -100


class MaskedLMModule(TaskModule):
    """Trains `AutoModelForMaskedLM` to predict masked sub-tokens.

    A checkpoint without an MLM head (a sentence-embedding model) gets the architecture's
    standard head, its decoder tied to the input embeddings; `head_warmup_steps` trains only the
    new parts for that many steps first, so that a random head does not send random gradients
    into the pre-trained encoder.

    Args (beyond TaskModule's):
        architecture: random weights instead of a checkpoint: the model config's settings
            (`model_type: bert`, `hidden_size`, `num_hidden_layers`, ...); the vocabulary is the
            DataModule's (`tokenizer_size`, `pad_token_id`).
        head_warmup_steps: optimizer steps in which only the parameters the checkpoint lacked
            are trained.
        tokenizer_size, pad_token_id, tokenizer_dir: from the DataModule's tokenizer (the
            folder of a vocabulary learnt on the corpus, which a model from scratch reads with).
    """

    task = "mlm"

    def __init__(
        self,
        model_name_or_path: str | None,
        labels: list[str] | None = None,
        optimizer: Callable | None = None,
        scheduler: Callable | None = None,
        architecture: dict | None = None,
        head_warmup_steps: int = 0,
        tokenizer_size: int | None = None,
        pad_token_id: int | None = None,
        tokenizer_dir: str | None = None,
        trust_remote_code: bool = False,
        peft: dict | None = None,
        input_settings: dict | None = None,
    ):
        super().__init__(
            model_name_or_path,
            list(labels or []),
            optimizer,
            scheduler,
            trust_remote_code,
            peft,
            input_settings,
        )
        if self.peft_method != "none":
            raise TunelabError(
                f"peft={self.peft_method} is not available for masked-LM training; use peft=none"
            )
        self.model, self.new_parameters = self.masked_lm()
        self.head = next((getattr(self.model, n) for n in HEADS if hasattr(self.model, n)), None)
        self._warming = False
        self._outputs: dict[int, tuple[float, int, int]] = {}

    def masked_lm(self) -> tuple[torch.nn.Module, set[str]]:
        """The model and the names of the parameters a checkpoint lacked (none from scratch:
        no pre-trained part to protect during head warm-up)."""
        h = self.hparams
        if h.architecture:
            settings = dict(h.architecture)
            kind = settings.pop("model_type", "bert")
            config = AutoConfig.for_model(
                kind, vocab_size=h.tokenizer_size, pad_token_id=h.pad_token_id or 0, **settings
            )
            model, new = AutoModelForMaskedLM.from_config(config), set()
        elif not h.model_name_or_path:
            raise TunelabError(
                "set model.model_name_or_path, or model.architecture for a new model"
            )
        else:
            model, info = from_pretrained(
                AutoModelForMaskedLM,
                h.model_name_or_path,
                trust_remote_code=h.trust_remote_code,
                output_loading_info=True,
            )
            missing = set(info["missing_keys"])  # may name a tied weight by its other name
            new = {name for name, _ in model.named_parameters() if name in missing}
            if new:
                log.info("new MLM parameters (not in the checkpoint): %s", ", ".join(sorted(new)))
            if h.tokenizer_size and h.tokenizer_size > model.config.vocab_size:
                raise TunelabError(
                    f"the tokenizer has {h.tokenizer_size} tokens, the model only "
                    f"{model.config.vocab_size} embeddings"
                )
        return use_fast_dropout(model).train(), new

    @classmethod
    def from_exported(cls, model_dir: str, settings: dict | None = None, **kwargs):
        data = (settings or {}).get("data")
        return cls(model_name_or_path=model_dir, labels=[], input_settings=data, **kwargs)

    @property
    def tokenizer_source(self) -> str:
        return self.hparams.model_name_or_path or self.hparams.tokenizer_dir

    def on_after_backward(self) -> None:
        """Only the new parameters train during the first `head_warmup_steps` steps: the others'
        gradients are dropped, so the optimizer leaves them as they are (weight decay included).
        Dropping gradients, not freezing parameters, keeps DDP's gradient buckets unchanged."""
        warming = bool(self.new_parameters) and self.global_step < self.hparams.head_warmup_steps
        if warming:
            for name, parameter in self.model.named_parameters():
                if name not in self.new_parameters:
                    parameter.grad = None
        if warming != self._warming:
            log.info("step %d: %s", self.global_step, "new head only" if warming else "all")
            self._warming = warming

    def masked_scores(self, batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Vocabulary scores at the masked positions only, and their targets. The head runs on
        those rows alone (about 15% of the tokens), not on every position."""
        labels = batch["labels"]
        chosen = labels != IGNORE
        inputs = self.model_inputs(batch)
        if self.head is None:  # a model whose head is not one module: run it whole
            return self.fast_forward(inputs).logits[chosen], labels[chosen]
        states = self.fast_forward(inputs, self.model.base_model).last_hidden_state
        return self.head(states[chosen]), labels[chosen]

    def training_step(self, batch, batch_idx):
        logits, targets = self.masked_scores(batch)
        loss = F.cross_entropy(logits.float(), targets)
        self.log("train/loss", loss, prog_bar=True, batch_size=batch["input_ids"].shape[0])
        return loss

    def validation_step(self, batch, batch_idx):
        logits, targets = self.masked_scores(batch)
        logits = logits.float()
        losses = F.cross_entropy(logits, targets, reduction="none")
        correct = logits.argmax(-1) == targets
        rows = batch["labels"] != IGNORE
        owners = batch["block"].unsqueeze(1).expand_as(rows)[rows]
        for block in batch["block"].tolist():
            mine = owners == block
            self._outputs[block] = (
                float(losses[mine].double().sum()),
                int(mine.sum()),
                int(correct[mine].sum()),
            )

    test_step = validation_step

    def on_validation_epoch_start(self):
        self._outputs = {}

    on_test_epoch_start = on_validation_epoch_start

    def _score(self, prefix: str) -> None:
        """Loss (mean over masked tokens), perplexity and masked-token accuracy, per block merged
        over all processes, so that every masked token counts once."""
        gathered = self._gathered()
        outputs = [gathered[block] for block in sorted(gathered)]  # one order: one sum
        loss_sum = sum(value[0] for value in outputs)
        count = sum(value[1] for value in outputs)
        correct = sum(value[2] for value in outputs)
        loss = loss_sum / max(count, 1)
        scores = {
            f"{prefix}/loss": loss,
            f"{prefix}/perplexity": math.exp(min(loss, 50.0)),
            f"{prefix}/accuracy": correct / max(count, 1),
            f"{prefix}/masked_tokens": float(count),
        }
        self.log(f"{prefix}/loss", loss, prog_bar=True)
        self.log_dict({k: v for k, v in scores.items() if k != f"{prefix}/loss"})
        self.evaluations[prefix], self._outputs = Evaluation(scores), {}

    def on_validation_epoch_end(self):
        self._score("val")

    def on_test_epoch_end(self):
        self._score("test")
