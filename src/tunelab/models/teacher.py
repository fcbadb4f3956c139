"""A frozen teacher to distil from: the previous step's model (continual learning) or a larger
fine-tuned model (`tunelab distill`), and the loss that learns from it and the gold labels."""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from transformers import AutoTokenizer

from tunelab.data.alignment import UNLABELLED
from tunelab.data.registry import from_pretrained
from tunelab.errors import TunelabError
from tunelab.models.labels import trained_labels

log = logging.getLogger("tunelab")


def load_teacher(teacher: str, student: str, labels: list[str], auto_class) -> torch.nn.Module:
    """`auto_class.from_pretrained(teacher)`, frozen, in eval mode, checked: its labels must be
    the student's first labels, in order, and its tokenizer the student's (both read the same
    sub-tokens)."""
    old = trained_labels(teacher)
    if not old or labels[: len(old)] != old:
        raise TunelabError(
            f"teacher {teacher}: its labels ({', '.join(old or ['none'])}) must be the first "
            f"of the model's ({', '.join(labels)})"
        )
    mine = from_pretrained(AutoTokenizer, student).get_vocab()
    if from_pretrained(AutoTokenizer, teacher).get_vocab() != mine:
        raise TunelabError(f"teacher {teacher}: its tokenizer differs from the model's ({student})")
    model = from_pretrained(auto_class, teacher).eval()
    model.requires_grad_(False)
    log.info("distilling from %s, the teacher of %d labels: %s", teacher, len(old), " ".join(old))
    return model


def teacher_logits(teacher: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """The teacher's scores for a batch's model inputs, on the batch's device, without autograd."""
    device = next(iter(inputs.values())).device
    with torch.no_grad():
        return teacher.to(device)(**inputs).logits


def gold_and_teacher_loss(
    student: torch.Tensor,
    teacher: torch.Tensor,
    target: torch.Tensor,
    temperature: float,
    weight: torch.Tensor | None = None,
    teacher_weight: float = 1.0,
) -> torch.Tensor:
    """Cross-entropy with the gold labels plus `teacher_weight` times the cross-entropy between
    the teacher's probabilities and the student's over the teacher's labels (the first ones),
    both at `temperature`, scaled by temperature squared (Hinton et al., 2015); mean over rows.

    Args:
        student: [rows, labels] logits; teacher: [rows, teacher's labels] logits.
        target: [rows] gold ids; weight: per-label weights of the gold cross-entropy.
    """
    soft = F.softmax(teacher.float() / temperature, dim=-1)
    return gold_and_soft_loss(student, soft, target, temperature, weight, teacher_weight)


def gold_and_soft_loss(
    student: torch.Tensor,
    soft: torch.Tensor,
    target: torch.Tensor,
    temperature: float,
    weight: torch.Tensor | None = None,
    teacher_weight: float = 1.0,
) -> torch.Tensor:
    """`gold_and_teacher_loss` for a teacher whose probabilities at `temperature` are given
    (`soft`: [rows, teacher's labels]), e.g. a CRF's marginals. Rows without a gold label
    (`UNLABELLED`, from `data.unlabelled`) learn from the teacher alone."""
    student = student.float()
    labelled = target != UNLABELLED
    gold = student.new_zeros(())
    if labelled.any():
        gold = F.cross_entropy(student[labelled], target[labelled], weight=weight)
    log_probs = F.log_softmax(student[:, : soft.shape[-1]] / temperature, dim=-1)
    return gold - teacher_weight * (soft * log_probs).sum(-1).mean() * temperature**2
