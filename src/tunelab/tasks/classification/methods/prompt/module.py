"""Prompt-based classification: each text is put into a template with one mask, and the
masked-LM scores of each label's words at the mask are that label's score (PET, Schick and
Schütze, 2021; LM-BFF, Gao et al., 2021). It trains the whole masked LM with cross-entropy
over those scores."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForMaskedLM, AutoTokenizer

from tunelab.data.registry import from_pretrained
from tunelab.errors import TunelabError
from tunelab.models.base import SETTINGS_FILE
from tunelab.models.peft_methods import SOFT_PROMPTS
from tunelab.speed.dropout import use_fast_dropout
from tunelab.tasks.classification.methods.prompt.soft import SoftPrompt
from tunelab.tasks.classification.methods.prompt.template import Template, label_word_ids
from tunelab.tasks.classification.module import SequenceClassificationModule
from tunelab.tasks.mlm.module import HEADS

log = logging.getLogger(__name__)
SOFT_PROMPT_FILE = "soft_prompt.safetensors"


class PromptModule(SequenceClassificationModule):
    """Args (beyond the classification module's, which `classifier` passes on: class weights
    apply as in fine-tuning with a head; one label per text, no teacher):
    template: the text around `{text}`, with one `[MASK]`.
    verbalizer: each label's word, or words (their scores averaged), one sub-token each.
    """

    task = "classification"
    method = "prompt"

    def __init__(
        self,
        model_name_or_path: str,
        labels: list[str],
        template: str = "{text} It was [MASK].",
        verbalizer: dict | None = None,
        **classifier,
    ):
        if classifier.get("multi_label"):
            raise TunelabError("method=prompt picks one label per text: multi-label is not offered")
        if classifier.get("teacher"):
            raise TunelabError(
                "method=prompt learns from gold labels only: leave out model.teacher"
            )
        method = (classifier.get("peft") or {}).get("method", "none")
        if method not in ("none", *SOFT_PROMPTS):
            raise TunelabError(
                f"peft={method} is not offered for method=prompt; soft prompts are "
                f"({', '.join(SOFT_PROMPTS)}), or leave peft=none"
            )
        super().__init__(model_name_or_path, labels, **classifier)
        tokenizer = from_pretrained(AutoTokenizer, model_name_or_path)
        self.template = Template.parse(template, tokenizer)
        self.word_ids = label_word_ids(self.hparams.verbalizer or {}, self.labels, tokenizer)
        self.pad_id = tokenizer.pad_token_id or 0
        self.head = next(getattr(self.model, n) for n in HEADS if hasattr(self.model, n))
        self.soft_prompt = None
        if self.peft_method in SOFT_PROMPTS:
            self.use_soft_prompt(SoftPrompt.build(self.model, self.peft_settings))
        else:
            self.limit = self.model.config.max_position_embeddings

    def build_model(self) -> torch.nn.Module:
        """The masked LM whose scores at the template's mask are the labels' (its own head)."""
        path = self.hparams.model_name_or_path
        model, info = from_pretrained(
            AutoModelForMaskedLM,
            path,
            trust_remote_code=self.hparams.trust_remote_code,
            output_loading_info=True,
        )
        if info["missing_keys"]:
            log.warning(
                "%s has no masked-LM head: the label words' scores start from a random head; "
                "train one on the task's texts first (tunelab-train data=text data.from=PRESET) "
                "and start from its model/",
                path,
            )
        return use_fast_dropout(model).train()

    def use_soft_prompt(self, soft_prompt: SoftPrompt) -> None:
        """Put `soft_prompt`'s vectors before every templated text (texts cut to make room)."""
        self.soft_prompt = soft_prompt
        self.limit = self.model.config.max_position_embeddings - len(soft_prompt.positions)

    @classmethod
    def from_exported(cls, model_dir: str, settings: dict | None = None, **kwargs):
        settings = settings or {}
        words = {"template": settings["template"], "verbalizer": settings["verbalizer"]}
        module = super().from_exported(model_dir, settings, **words, **kwargs)
        if settings.get("soft_prompt"):
            fixed = load_file(str(Path(model_dir) / SOFT_PROMPT_FILE))["vectors"]
            module.use_soft_prompt(SoftPrompt(*fixed.shape))
            module.soft_prompt.fixed.copy_(fixed)
        return module

    def exported_settings(self) -> dict:
        return {
            **super().exported_settings(),
            "labels": self.labels,
            "template": self.hparams.template,
            "verbalizer": dict(self.hparams.verbalizer),
            "soft_prompt": self.soft_prompt is not None,
        }

    def export(self, directory: str, tokenizer) -> None:
        """The masked LM (it loads with `pipeline("fill-mask")`), its tokenizer, and
        `tunelab.json` with the template and label words; with a soft prompt, its vectors
        in `soft_prompt.safetensors`."""
        self.model.save_pretrained(directory)
        tokenizer.save_pretrained(directory)
        settings = json.dumps(self.exported_settings(), indent=2)
        (Path(directory) / SETTINGS_FILE).write_text(settings + "\n")
        if self.soft_prompt is not None:
            with torch.no_grad():
                vectors = self.soft_prompt().float().contiguous()
            save_file({"vectors": vectors}, str(Path(directory) / SOFT_PROMPT_FILE))

    def export_adapter(self, directory: str, tokenizer) -> None:
        """Nothing: `model/` already holds the frozen masked LM and the soft prompt's vectors."""

    def padded_logits(self, batch) -> torch.Tensor:
        """[batch, labels]: each label's mean word score at the mask of the templated text."""
        ids, mask, positions = self.template.splice(
            batch["input_ids"], batch["attention_mask"], self.limit, self.pad_id
        )
        inputs = {"input_ids": ids, "attention_mask": mask}
        if self.soft_prompt is not None:
            embeddings = self.model.get_input_embeddings()(ids)
            embeddings, mask = self.soft_prompt.prepend(embeddings, mask)
            inputs = {"inputs_embeds": embeddings, "attention_mask": mask}
            positions = positions + len(self.soft_prompt.positions)
        states = self.fast_forward(inputs, self.model.base_model).last_hidden_state
        scores = self.head(states[torch.arange(len(positions)), positions]).float()
        return torch.stack([scores[:, words].mean(-1) for words in self.word_ids], dim=-1)

    eval_logits = padded_logits
