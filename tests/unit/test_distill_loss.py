"""Texts without labels (data.unlabelled): how they are read and what the loss takes from them."""

from __future__ import annotations

import pytest
import torch

from tunelab.data.alignment import UNLABELLED
from tunelab.data.unlabelled import read_unlabelled
from tunelab.errors import TunelabError
from tunelab.models.teacher import gold_and_soft_loss


def test_an_unlabelled_row_learns_from_the_teacher_alone():
    student = torch.tensor([[2.0, 0.0, -1.0], [0.5, 1.0, 0.0]])
    soft = torch.softmax(torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]) / 2, -1)
    target = torch.tensor([0, UNLABELLED])
    teacher_term = (soft * torch.log_softmax(student / 2, -1)).sum(-1).mean() * 4
    expected = -torch.log_softmax(student[0], -1)[0] - teacher_term
    found = gold_and_soft_loss(student, soft, target, 2.0)
    assert found.item() == pytest.approx(expected.item(), rel=1e-6)
    alone = gold_and_soft_loss(student[1:], soft[1:], target[1:], 2.0)  # no gold row at all
    expected = -(soft[1] * torch.log_softmax(student[1] / 2, -1)).sum() * 4
    assert alone.item() == pytest.approx(expected.item(), rel=1e-6)


def test_unlabelled_texts_are_read_a_line_each(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_bytes("\ufefffirst text\n\n  second  \n".encode())
    assert read_unlabelled(str(path)) == [(1, "first text"), (3, "second")]
    path.write_bytes(b"fine\n\xff bad\n")
    with pytest.raises(TunelabError, match=r"texts.txt:2: not UTF-8"):
        read_unlabelled(str(path))
    path.write_text("\n \n")
    with pytest.raises(TunelabError, match="no texts"):
        read_unlabelled(str(path))
    with pytest.raises(TunelabError, match="no such file"):
        read_unlabelled(str(tmp_path / "missing.txt"))
