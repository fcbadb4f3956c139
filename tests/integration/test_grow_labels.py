"""Starting from a fine-tuned model whose labels differ from the data's: old ids and head rows
kept, new labels appended, labels the data lacks kept (continual learning, part 1)."""

import json

import pytest
import torch
from transformers import AutoConfig, AutoModelForTokenClassification

from tests.conftest import compose_train, tiny_train_overrides, write_conll
from tunelab.errors import TunelabError
from tunelab.tasks.ner.module import TokenClassificationModule
from tunelab.training.train import train


@pytest.fixture(scope="module")
def new_types_dir(tmp_path_factory, conll_dir):
    """conll_dir with ORG renamed COMP and LOC gone (read as O): one type added, two missing."""
    folder = tmp_path_factory.mktemp("new-types")
    rename = {"B-ORG": "B-COMP", "I-ORG": "I-COMP", "B-LOC": "O", "I-LOC": "O"}
    for name in ("train.txt", "dev.txt", "test.txt"):
        blocks = (conll_dir / name).read_text().strip().split("\n\n")
        sentences = [
            [(w, rename.get(t, t)) for w, t in (line.split() for line in block.splitlines())]
            for block in blocks
        ]
        write_conll(folder / name, sentences)
    return folder


def test_a_model_from_a_trained_one_keeps_old_rows_and_appends_new(trained_run):
    old_dir = trained_run[0] / "model"
    old = AutoModelForTokenClassification.from_pretrained(old_dir)
    old_labels = [old.config.id2label[i] for i in range(old.config.num_labels)]
    labels = [*old_labels, "B-COMP", "I-COMP"]
    module = TokenClassificationModule(str(old_dir), labels)
    head, old_head = module.model.classifier, old.classifier
    assert head.weight.shape[0] == len(labels)
    assert torch.equal(head.weight[: len(old_labels)], old_head.weight)
    assert torch.equal(head.bias[: len(old_labels)], old_head.bias)
    assert head.weight[len(old_labels) :].abs().sum() > 0  # new rows initialised, not zeros
    assert module.model.config.id2label == dict(enumerate(labels))
    with pytest.raises(TunelabError, match="needs them first, in that order"):
        TokenClassificationModule(str(old_dir), ["B-COMP", *old_labels])


def test_training_from_a_model_with_other_labels_grows_them(
    tmp_path, trained_run, tiny_bert, new_types_dir, caplog
):
    from transformers import pipeline

    old_dir = trained_run[0] / "model"
    old_labels = json.loads((old_dir / "config.json").read_text())["id2label"]
    overrides = tiny_train_overrides(tiny_bert, new_types_dir)
    overrides += [f"model.model_name_or_path={old_dir}", "trainer.max_epochs=1"]
    with caplog.at_level("INFO", logger="tunelab"):
        train(compose_train(tmp_path, overrides))
    config = AutoConfig.from_pretrained(tmp_path / "model")
    grown = [config.id2label[i] for i in range(config.num_labels)]
    assert grown == [old_labels[str(i)] for i in range(len(old_labels))] + ["B-COMP", "I-COMP"]
    assert "added from the data: B-COMP I-COMP" in caplog.text
    assert "B-LOC I-LOC B-ORG I-ORG not in the training data; kept" in caplog.text
    tagger = pipeline("token-classification", model=str(tmp_path / "model"), device="cpu")
    found = {entity["entity"] for entity in tagger("john works for acme in new york .")}
    assert found <= set(grown)
