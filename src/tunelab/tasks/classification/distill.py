"""Distillation from the previous step's model in class-incremental classification (Learning
without Forgetting, Li and Hoiem, 2016): each text of a new class also carries the teacher's
opinion of it over the old classes, which the student keeps matching while it learns the new."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tunelab.models.teacher import gold_and_teacher_loss


def distill_loss(
    student: torch.Tensor,
    teacher: torch.Tensor,
    target: torch.Tensor,
    multi_label: bool,
    temperature: float,
    weight: torch.Tensor | None = None,
    teacher_weight: float = 1.0,
) -> torch.Tensor:
    """The gold loss plus the teacher's, mean over texts.

    Single-label: cross-entropy with the gold class, plus `teacher_weight` times the
    cross-entropy between the teacher's probabilities and the student's over the old classes
    alone, both at `temperature`, scaled by temperature squared (LwF's lambda: below 1, the new
    data counts for more than keeping the old model's view). Multi-label: binary cross-entropy
    in which an old label's target is the teacher's probability where the gold says absent (new
    data leaves old labels unmarked).

    Args:
        student: [texts, labels] logits over old and new labels.
        teacher: [texts, old labels] logits.
        target: [texts] gold ids, or [texts, labels] multi-hot.
        weight: per-label weights of the single-label gold cross-entropy.
        teacher_weight: single-label only.
    """
    student, teacher = student.float(), teacher.float()
    old = teacher.shape[-1]
    if multi_label:
        target = target.float().clone()
        target[:, :old] = torch.maximum(target[:, :old], torch.sigmoid(teacher))
        return F.binary_cross_entropy_with_logits(student, target)
    return gold_and_teacher_loss(student, teacher, target, temperature, weight, teacher_weight)
