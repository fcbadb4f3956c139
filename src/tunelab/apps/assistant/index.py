"""Past questions and their intents, embedded by a model's encoder and searched by cosine
similarity; saved beside the model (`assistant/index.safetensors`, `assistant/questions.jsonl`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

EMBEDDINGS, QUESTIONS = "index.safetensors", "questions.jsonl"


@dataclass
class QuestionIndex:
    texts: list[str]
    intents: list[str]
    embeddings: torch.Tensor  # [questions, dim], unit length

    @classmethod
    def build(cls, texts: list[str], intents: list[str], embeddings: torch.Tensor):
        unit = torch.nn.functional.normalize(embeddings.float(), dim=-1)
        return cls(list(texts), list(intents), unit)

    def search(self, queries: torch.Tensor, k: int) -> list[list[dict]]:
        """The `k` nearest questions of each query embedding: text, intent and cosine score."""
        scores = torch.nn.functional.normalize(queries.float(), dim=-1) @ self.embeddings.T
        top = scores.topk(min(k, len(self.texts)), dim=-1)
        return [
            [
                {"text": self.texts[i], "intent": self.intents[i], "score": round(s, 6)}
                for s, i in zip(values.tolist(), indices.tolist(), strict=True)
            ]
            for values, indices in zip(top.values, top.indices, strict=True)
        ]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        save_file({"embeddings": self.embeddings.contiguous()}, str(folder / EMBEDDINGS))
        with (folder / QUESTIONS).open("w", encoding="utf-8") as handle:
            for text, intent in zip(self.texts, self.intents, strict=True):
                handle.write(json.dumps({"text": text, "intent": intent}) + "\n")

    @classmethod
    def load(cls, folder: Path) -> QuestionIndex | None:
        if not (folder / EMBEDDINGS).is_file():
            return None
        rows = [json.loads(line) for line in (folder / QUESTIONS).read_text().splitlines()]
        embeddings = load_file(str(folder / EMBEDDINGS))["embeddings"]
        return cls([r["text"] for r in rows], [r["intent"] for r in rows], embeddings)


def retrieval_scores(found: list[list[str]], gold: list[str], ks=(1, 5)) -> dict[str, float]:
    """recall@k (a question of the query's intent among the first k found) and MRR (the mean
    of 1 / the rank of the first such question; 0 where none is found)."""
    ranks = [
        next((r for r, intent in enumerate(f, 1) if intent == g), None)
        for f, g in zip(found, gold, strict=True)
    ]
    scores = {f"recall@{k}": float(np.mean([r is not None and r <= k for r in ranks])) for k in ks}
    scores["mrr"] = float(np.mean([1 / r if r else 0.0 for r in ranks]))
    return scores
