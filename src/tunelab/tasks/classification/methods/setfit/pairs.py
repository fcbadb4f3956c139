"""The contrastive objective on all pairs of a batch of texts."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pair_targets(labels: torch.Tensor) -> torch.Tensor:
    """[n, n] 1.0 where two texts share a label (multi-label: at least one), else 0.0.

    Args:
        labels: [n] label ids, or [n, labels] multi-hot rows.
    """
    if labels.dim() == 1:
        return (labels[:, None] == labels[None, :]).float()
    return ((labels.float() @ labels.float().T) > 0).float()


def pair_loss(embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """SetFit's cosine-similarity loss over every pair of distinct texts in the batch: the
    squared gap between the pair's cosine similarity and 1 (same label) or 0 (different),
    positive and negative pairs weighted equally (as SetFit's oversampling of the rarer kind
    does), so one forward pass of n texts trains on n(n-1)/2 pairs instead of n/2."""
    unit = F.normalize(embeddings.float(), dim=-1)
    cosine = unit @ unit.T
    targets = pair_targets(labels)
    upper = torch.triu(torch.ones_like(cosine, dtype=torch.bool), diagonal=1)
    errors = (cosine - targets)[upper] ** 2
    same = targets[upper].bool()
    parts = [errors[chosen].mean() for chosen in (same, ~same) if chosen.any()]
    return torch.stack(parts).mean() if parts else cosine.sum() * 0.0


def softmax_pair_loss(
    embeddings: torch.Tensor, labels: torch.Tensor, temperature: float = 0.05
) -> torch.Tensor:
    """The supervised contrastive loss (Khosla et al., 2020) over the batch: each text's cosine
    similarities to the others, divided by `temperature`, as a softmax whose target is spread
    over the texts sharing its label; texts with no such partner in the batch are left out. It
    ranks a partner above every other text, which retrieval asks for, where `pair_loss` pushes
    every pair to a fixed similarity."""
    unit = F.normalize(embeddings.float(), dim=-1)
    scores = unit @ unit.T / temperature
    others = ~torch.eye(len(unit), dtype=torch.bool, device=unit.device)
    positive = pair_targets(labels).bool() & others
    log_probs = scores.masked_fill(~others, float("-inf")).log_softmax(-1)
    anchors = positive.any(-1)
    if not anchors.any():
        return scores.sum() * 0.0
    mean_positive = log_probs.masked_fill(~positive, 0).sum(-1) / positive.sum(-1).clamp(min=1)
    return -mean_positive[anchors].mean()
