"""Classifiers on a sentence encoder's embeddings (zero-shot, SetFit): the encoder is a
sentence-transformers model, so its own pooling and normalisation apply, and it exports in that
format with `tunelab.json` beside it."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from tunelab.data.registry import resolve_model
from tunelab.models.base import SETTINGS_FILE, TaskModule
from tunelab.tasks.classification.module import SequenceClassificationModule


class EmbeddingClassifier(SequenceClassificationModule):
    """Scores texts from their sentence embeddings (`head_logits`); scored, exported and
    predicting as a classifier. Subclasses call `start` in place of the parent constructor,
    which would build a sequence-classification model."""

    def start(
        self,
        model_name_or_path: str,
        labels: list[str],
        multi_label: bool,
        threshold: float,
        input_settings: dict | None,
        trust_remote_code: bool,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        TaskModule.__init__(self, model_name_or_path, labels, input_settings=input_settings)
        self.multi_label, self.threshold, self.class_weights = multi_label, threshold, None
        self.model = SentenceTransformer(
            resolve_model(model_name_or_path), device="cpu", trust_remote_code=trust_remote_code
        )
        self._outputs, self.test_probs, self.scores, self.confusion = {}, {}, {}, {}

    def embed(self, batch) -> torch.Tensor:
        """[batch, dim] sentence embeddings, fp32."""
        return self.model(self.model_inputs(batch))["sentence_embedding"].float()

    def head_logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def eval_logits(self, batch) -> torch.Tensor:
        return self.head_logits(self.embed(batch))

    def exported_settings(self) -> dict:
        return {
            "task": self.task,
            "method": self.method,
            "labels": self.labels,
            "multi_label": self.multi_label,
            "threshold": self.threshold,
            "data": self.input_settings,
        }

    def export(self, directory: str, tokenizer=None) -> None:
        """The encoder in sentence-transformers format (its pooling kept) and `tunelab.json`
        (labels and what the head needs): `tunelab-predict model_dir=...` reads it."""
        self.model.save(directory)
        settings = json.dumps(self.exported_settings(), indent=2)
        (Path(directory) / SETTINGS_FILE).write_text(settings + "\n")
