"""Zero-shot classification with a sentence encoder: each text gets the label whose description
embeds closest to it (cosine similarity), with no labelled example."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tunelab.errors import TunelabError
from tunelab.tasks.classification.embedding import EmbeddingClassifier

DEFAULT_TEMPLATES = ("This text is about {label}.",)


def label_descriptions(
    labels: list[str], templates: list[str], given: dict | None = None
) -> list[list[str]]:
    """The descriptions of each label: those given for it (a string or a list), else each
    template with the label name filled in, its underscores read as spaces (`card_arrival`:
    "card arrival", as intent corpora name their labels)."""
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
            words = label.replace("_", " ")
            described.append([t.replace("{label}", words) for t in templates])
    return described


class DescribedLabels:
    """What both zero-shot methods share (a mix-in before their network's class): labels
    described in words (`descriptions`), nothing trained, exported with the descriptions and
    rebuilt from them."""

    task = "classification"
    trains = False

    @classmethod
    def from_exported(cls, model_dir: str, settings: dict | None = None, **kwargs):
        settings = settings or {}
        own = {"scale": settings["scale"]} if "scale" in settings else {}
        described = settings["labels"], settings["descriptions"]
        return cls(model_dir, *described, input_settings=settings.get("data"), **own, **kwargs)

    def exported_settings(self) -> dict:
        described = {"labels": self.labels, "descriptions": self.descriptions}
        return {**super().exported_settings(), **described}


class ZeroShotModule(DescribedLabels, EmbeddingClassifier):
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

    method = "zero_shot"

    def __init__(
        self,
        model_name_or_path: str,
        labels: list[str],
        descriptions: list[list[str]],
        scale: float = 20.0,
        input_settings: dict | None = None,
        trust_remote_code: bool = False,
    ):
        super().__init__(
            model_name_or_path,
            labels,
            trust_remote_code=trust_remote_code,
            input_settings=input_settings,
        )
        self.scale, self.descriptions = scale, [list(texts) for texts in descriptions]
        self.model.eval()
        with torch.inference_mode():
            flat = [text for texts in descriptions for text in texts]
            embedded = self.model.encode(flat, convert_to_tensor=True, normalize_embeddings=True)
        means, start = [], 0
        for texts in descriptions:
            means.append(embedded[start : start + len(texts)].mean(0))
            start += len(texts)
        self.register_buffer("label_embeddings", F.normalize(torch.stack(means), dim=-1).clone())

    def exported_settings(self) -> dict:
        return {**super().exported_settings(), "scale": self.scale}

    def head_logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        return F.normalize(embeddings, dim=-1) @ self.label_embeddings.T * self.scale
