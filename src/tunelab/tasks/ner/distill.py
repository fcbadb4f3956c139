"""Distillation from the previous step's model in class-incremental NER (ExtendNER, Monaikul et
al., 2021): where the new data says O, the word may be an entity of a type learnt before, so the
student learns the teacher's soft labels there; where it names a new type, the gold label."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tunelab.data.alignment import IGNORE, UNLABELLED


def distill_loss(
    student: torch.Tensor,
    teacher: torch.Tensor,
    labels: torch.Tensor,
    outside: int,
    temperature: float,
) -> torch.Tensor:
    """Mean over labelled sub-tokens: cross-entropy with the gold label on sub-tokens of a new
    type, and on those labelled O (id `outside`) or without a label (`UNLABELLED`, from
    `data.unlabelled`) cross-entropy with the teacher's probabilities
    at `temperature` (zero on the labels it does not have), scaled by temperature squared.

    Args:
        student: [..., labels] logits over old and new labels.
        teacher: [..., old labels] logits, same positions.
        labels: [...] gold ids, IGNORE where not scored.
    """
    student, teacher = student.float(), teacher.float()
    scored = labels != IGNORE
    soft = scored & ((labels == outside) | (labels == UNLABELLED))
    hard = scored & ~soft
    total = student.new_zeros(())
    if hard.any():
        total = total + F.cross_entropy(student[hard], labels[hard], reduction="sum")
    if soft.any():
        targets = F.softmax(teacher[soft] / temperature, dim=-1)
        log_probs = F.log_softmax(student[soft] / temperature, dim=-1)[:, : teacher.shape[-1]]
        total = total - (targets * log_probs).sum() * temperature**2
    return total / scored.sum().clamp(min=1)
