"""Zero-shot classification with a sentence encoder: each text gets the label whose description
embeds closest to it (cosine similarity), with no labelled example."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F

from tunelab.data.registry import resolve_model
from tunelab.errors import TunelabError
from tunelab.models.base import SETTINGS_FILE, TaskModule
from tunelab.tasks.classification.module import SequenceClassificationModule

DEFAULT_TEMPLATES = ("This text is about {label}.",)


def label_descriptions(
    labels: list[str], templates: list[str], given: dict | None = None
) -> list[list[str]]:
    """The descriptions of each label: those given for it (a string or a list), else each
    template with the label name filled in."""
    given = {str(k): v for k, v in (given or {}).items()}
    unknown = sorted(set(given) - set(labels))
    if unknown:
        raise TunelabError(
            f"data.label_descriptions names {', '.join(map(repr, unknown))}, not among the "
            f"labels ({', '.join(labels)})"
        )
    for template in templates:
        if "{label}" not in template:
            raise TunelabError(f"template {template!r} has no {{label}} to fill in")
    described = []
    for label in labels:
        own = given.get(label)
        if own:
            described.append([own] if isinstance(own, str) else [str(d) for d in own])
        else:
            described.append([t.replace("{label}", label) for t in templates])
    return described


def encoder_max_length(name_or_path: str) -> int | None:
    """The longest input a sentence-transformers encoder embeds (`max_seq_length` in its
    `sentence_bert_config.json`); None for a plain encoder."""
    config = Path(resolve_model(name_or_path)) / "sentence_bert_config.json"
    if not config.is_file():
        return None
    return json.loads(config.read_text()).get("max_seq_length")


class ZeroShotModule(SequenceClassificationModule):
    """Scores texts against label embeddings: the mean of each label's normalised description
    embeddings, normalised again. It is scored, exported and predicts as a classifier.

    Args:
        model_name_or_path: a sentence encoder (a sentence-transformers folder or hub id; its
            pooling and normalisation come from its own `modules.json`; a plain encoder gets
            mean pooling).
        labels: label names in id order.
        descriptions: per label, the texts that describe it (`label_descriptions`).
        scale: cosine similarities are multiplied by this before the softmax; it shapes the
            probabilities, never which label is picked.
        input_settings: how texts are read (the DataModule's settings).
    """

    task = "zero_shot"

    def __init__(
        self,
        model_name_or_path: str,
        labels: list[str],
        descriptions: list[list[str]],
        scale: float = 20.0,
        input_settings: dict | None = None,
        trust_remote_code: bool = False,
    ):
        TaskModule.__init__(self, model_name_or_path, labels, input_settings=input_settings)
        from sentence_transformers import SentenceTransformer

        self.multi_label, self.threshold, self.class_weights = False, 0.5, None
        self.scale, self.descriptions = scale, [list(texts) for texts in descriptions]
        self.model = SentenceTransformer(
            resolve_model(model_name_or_path),
            device="cpu",
            trust_remote_code=trust_remote_code,
        )
        self.model.eval()
        with torch.inference_mode():
            flat = [text for texts in descriptions for text in texts]
            embedded = self.model.encode(flat, convert_to_tensor=True, normalize_embeddings=True)
        means, start = [], 0
        for texts in descriptions:
            means.append(embedded[start : start + len(texts)].mean(0))
            start += len(texts)
        self.register_buffer("label_embeddings", F.normalize(torch.stack(means), dim=-1).clone())
        self._outputs = {}
        self.test_probs = {}
        self.scores = {}
        self.confusion = {}

    @classmethod
    def from_exported(cls, model_dir: str, settings: dict | None = None, **kwargs):
        settings = settings or {}
        return cls(
            model_dir,
            settings["labels"],
            settings["descriptions"],
            settings.get("scale", 20.0),
            input_settings=settings.get("data"),
            **kwargs,
        )

    def exported_settings(self) -> dict:
        return {
            "task": self.task,
            "labels": self.labels,
            "descriptions": self.descriptions,
            "scale": self.scale,
            "data": self.input_settings,
        }

    def export(self, directory: str, tokenizer=None) -> None:
        """The encoder in sentence-transformers format (its pooling kept) and `tunelab.json`
        with the labels and their descriptions: `tunelab-predict model_dir=...` reads it."""
        self.model.save(directory)
        settings = json.dumps(self.exported_settings(), indent=2)
        (Path(directory) / SETTINGS_FILE).write_text(settings + "\n")

    def window_logits(self, batch) -> dict[tuple[int, int], torch.Tensor]:
        features = self.model_inputs(batch)
        embedded = self.model(features)["sentence_embedding"].float()
        scores = F.normalize(embedded, dim=-1) @ self.label_embeddings.T * self.scale
        logits = scores.cpu()
        keys = zip(batch["example"].tolist(), batch["window"].tolist(), strict=True)
        return {key: logits[row] for row, key in enumerate(keys)}
