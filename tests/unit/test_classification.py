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


def test_a_method_takes_its_own_and_the_classifiers_settings_only():
    from omegaconf import OmegaConf

    from tunelab.config import build_taking, taken_keywords
    from tunelab.errors import TunelabError
    from tunelab.tasks.classification.methods.prompt.module import PromptModule
    from tunelab.tasks.classification.methods.setfit.module import SetFitModule

    taken = taken_keywords(PromptModule)  # its constructor passes **classifier on
    assert {"template", "verbalizer", "class_weights", "threshold", "peft"} <= taken
    assert "classifier" not in taken and "self" not in taken
    assert "class_weights" not in taken_keywords(SetFitModule)  # its own signature only
    target = "tunelab.tasks.classification.methods.prompt.module.PromptModule"
    node = OmegaConf.create({"_target_": target, "model_name_or_path": "x", "shell": "rm"})
    with pytest.raises(TunelabError, match="model.shell is not a setting of PromptModule"):
        build_taking(node, "model", labels=["a"])
