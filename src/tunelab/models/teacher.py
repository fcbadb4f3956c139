"""A frozen teacher to distil from: the previous step's model (continual learning) or a larger
fine-tuned model (`tunelab distill`), and the loss that learns from it and the gold labels."""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from transformers import AutoConfig, AutoTokenizer

from tunelab.data.alignment import UNLABELLED
from tunelab.data.registry import from_pretrained
from tunelab.errors import TunelabError
from tunelab.models.labels import trained_labels
from tunelab.models.student import kept_layers

log = logging.getLogger("tunelab")


def load_teacher(
    teacher: str, student: str, labels: list[str], auto_class, hidden: bool = False
) -> torch.nn.Module:
    """`auto_class.from_pretrained(teacher)`, frozen, in eval mode, checked: its labels must be
    the student's first labels, in order, and its tokenizer the student's (both read the same
    sub-tokens); with `hidden` (its hidden states teach too) its width the student's."""
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
    if hidden:
        width = from_pretrained(AutoConfig, student).hidden_size
        if width != model.config.hidden_size:
            raise TunelabError(
                f"teacher {teacher}: its hidden states ({model.config.hidden_size} wide) cannot "
                f"teach the model's ({width}); leave model.distill_hidden unset"
            )
    log.info("distilling from %s, the teacher of %d labels: %s", teacher, len(old), " ".join(old))
    return model


def teacher_outputs(
    teacher: torch.nn.Module, inputs: dict[str, torch.Tensor], hidden: bool = False
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None]:
    """The teacher's scores for a batch's model inputs and, with `hidden`, its hidden states
    (the embeddings', then each layer's), on the batch's device, without autograd."""
    device = next(iter(inputs.values())).device
    with torch.no_grad():
        outputs = teacher.to(device)(**inputs, output_hidden_states=hidden)
    return outputs.logits, outputs.hidden_states if hidden else None


def hidden_state_loss(
    student: tuple[torch.Tensor, ...], teacher: tuple[torch.Tensor, ...], mask: torch.Tensor
) -> torch.Tensor:
    """Mean over the student's layers of 1 - the cosine similarity between each real token's
    state after that layer and after the teacher layer it was cut from
    (`tunelab.models.student.kept_layers`): the student keeps each layer's view, not only the
    teacher's outputs (Sun et al., 2019, patient distillation; a cosine as in DistilBERT).

    Args:
        student, teacher: hidden states as transformers gives them (the embeddings', then one
            per layer), each [rows, length, width], the same rows and positions.
        mask: [rows, length], 1 on real tokens.
    """
    real = mask.bool()
    losses = [
        1 - F.cosine_similarity(student[mine + 1][real].float(), teacher[theirs + 1][real].float())
        for mine, theirs in enumerate(kept_layers(len(teacher) - 1, len(student) - 1))
    ]
    return torch.cat(losses).mean()


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
