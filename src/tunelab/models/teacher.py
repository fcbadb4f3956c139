"""The frozen teacher of continual learning's distillation: the previous step's model."""

from __future__ import annotations

import logging

import torch
from transformers import AutoTokenizer

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
