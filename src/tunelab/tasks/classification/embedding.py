"""Classifiers on a sentence encoder's embeddings (zero-shot, SetFit): the encoder is a
sentence-transformers model, so its own pooling and normalisation apply, and it exports in that
format with `tunelab.json` beside it."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from tunelab.data.registry import resolve_model
from tunelab.models.base import SETTINGS_FILE
from tunelab.tasks.classification.module import SequenceClassificationModule


class EmbeddingClassifier(SequenceClassificationModule):
    """Scores texts from their sentence embeddings (`head_logits`); scored, exported and
    predicting as a classifier, its network a sentence-transformers encoder (`build_model`)."""

    def build_model(self) -> torch.nn.Module:
        from sentence_transformers import SentenceTransformer

        path = resolve_model(self.hparams.model_name_or_path)
        remote = self.hparams.trust_remote_code
        return SentenceTransformer(path, device="cpu", trust_remote_code=remote)

    def embed(self, batch) -> torch.Tensor:
        """[batch, dim] sentence embeddings, fp32."""
        return self.model(self.model_inputs(batch))["sentence_embedding"].float()

    def head_logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def eval_logits(self, batch) -> torch.Tensor:
        return self.head_logits(self.embed(batch))

    def exported_settings(self) -> dict:
        # not a Hugging Face classifier: its labels are not in a config.json
        return {
            **super().exported_settings(),
            "labels": self.labels,
            "multi_label": self.multi_label,
        }

    def export(self, directory: str, tokenizer=None) -> None:
        """The encoder in sentence-transformers format (its pooling kept) and `tunelab.json`
        (labels and what the head needs): `tunelab-predict model_dir=...` reads it."""
        self.model.save(directory)
        settings = json.dumps(self.exported_settings(), indent=2)
        (Path(directory) / SETTINGS_FILE).write_text(settings + "\n")
