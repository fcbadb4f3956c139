import pytest
import torch

from tunelab.data.windows import special_tokens_around
from tunelab.tasks.classification.encoding import head_tail
from tunelab.tasks.classification.module import classification_scores


def test_head_tail_keeps_both_ends():
    ids = list(range(10))
    assert head_tail(ids, 6, 2) == [0, 1, 6, 7, 8, 9]
    assert head_tail(ids[:5], 6, 2) == [0, 1, 2, 3, 4]


def test_special_tokens_around(tiny_tokenizer):
    before, after = special_tokens_around(tiny_tokenizer)
    assert before == [tiny_tokenizer.cls_token_id] and after == [tiny_tokenizer.sep_token_id]


def test_single_label_scores_by_hand():
    probs = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    target = torch.tensor([0, 1, 1, 2])
    scores, matrix = classification_scores(probs, target, multi_label=False)
    assert scores["acc"] == pytest.approx(0.75)
    # class 0: P 1/2 R 1 F1 2/3; class 1: P 1 R 1/2 F1 2/3; class 2: F1 1
    assert scores["f1_macro"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert scores["precision_0"] == pytest.approx(0.5) and scores["recall_1"] == pytest.approx(0.5)
    assert matrix.tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]


def test_multi_label_scores_by_hand():
    probs = torch.tensor([[0.9, 0.8], [0.2, 0.6]])
    target = torch.tensor([[1, 0], [0, 1]])
    scores, matrix = classification_scores(probs, target, multi_label=True, threshold=0.5)
    assert matrix is None
    assert scores["acc"] == pytest.approx(0.5)  # exact set match on the second row only
    assert scores["f1_micro"] == pytest.approx(0.8)  # tp 2, fp 1, fn 0
