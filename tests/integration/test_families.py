"""Every encoder family, each a tiny random model with a tokenizer learnt in the fixture:
NER with LoRA and classification train, evaluate, export, predict, serve and export to ONNX,
and words are aligned to sub-tokens as the family's tokenizer reads running text."""

from __future__ import annotations

import json
import shutil

import pytest
from starlette.testclient import TestClient
from transformers import AutoTokenizer

from tests.conftest import FILLER, ORGS, PEOPLE, PLACES, compose_train, tiny_train_overrides
from tests.families import FAMILIES, save_tiny
from tunelab.data.alignment import encode_sentences, words_as_in_text
from tunelab.inference.export import export
from tunelab.inference.predictor import Predictor
from tunelab.serving.serve import build_app
from tunelab.training.train import train

TEXTS = ["john went to new york today .", "mary works for acme in paris ."]
QUICK = ["trainer.max_epochs=2", "~callbacks.early_stopping", "trainer.precision=32-true"]


@pytest.fixture(scope="module", params=FAMILIES, ids=lambda family: family.name)
def family_model(request, tmp_path_factory):
    words = " ".join(PEOPLE + PLACES + ORGS + FILLER)
    texts = [words, *TEXTS, "Anna met Ivan in Oslo."] * 5
    folder = tmp_path_factory.mktemp(request.param.name)
    return request.param, save_tiny(request.param, folder, texts)


def served_answer(tmp_path, model_dir) -> dict:
    cfg = compose_train(tmp_path, [f"model_dir={model_dir}"], config_name="serve")
    app, _ = build_app(cfg)
    with TestClient(app) as client:
        return client.post("/v1/predict", json={"texts": TEXTS}).json()


def onnx_agreement(tmp_path, model_dir) -> float:
    copy = tmp_path / "onnx_model"
    shutil.copytree(model_dir, copy)
    report = export(compose_train(tmp_path, [f"model_dir={copy}"], config_name="export"))
    return report["model.onnx"]["label_agreement"]


def test_ner_with_lora_trains_predicts_serves_and_exports(family_model, conll_dir, tmp_path):
    family, folder = family_model
    overrides = tiny_train_overrides(folder, conll_dir) + QUICK + ["peft=lora"]
    metrics = train(compose_train(tmp_path, overrides))
    assert 0.0 <= metrics["test/f1"] <= 1.0
    model_dir = tmp_path / "model"
    found = Predictor(str(model_dir)).predict(TEXTS)
    assert [record["text"] for record in found] == TEXTS
    for record, text in zip(found, TEXTS, strict=True):
        for entity in record["entities"]:  # offsets fall on word boundaries of the text
            start, end = entity["start"], entity["end"]
            assert text[start:end] == entity["text"] and text[start:end].strip() == entity["text"]
    assert served_answer(tmp_path, model_dir)["predictions"] == found
    assert onnx_agreement(tmp_path, model_dir) == 1.0


def test_classification_trains_predicts_and_exports(family_model, table_dir, tmp_path):
    family, folder = family_model
    overrides = tiny_train_overrides(folder, table_dir, data="csv") + QUICK
    metrics = train(compose_train(tmp_path, overrides))
    assert 0.0 <= metrics["test/acc"] <= 1.0
    model_dir = tmp_path / "model"
    found = Predictor(str(model_dir)).predict(TEXTS)
    assert {record["label"] for record in found} <= {"travel", "work"}
    assert json.loads((model_dir / "tunelab.json").read_text())
    assert onnx_agreement(tmp_path, model_dir) == 1.0


def test_words_get_the_sub_tokens_they_get_in_running_text(family_model):
    family, folder = family_model
    tokenizer = words_as_in_text(AutoTokenizer.from_pretrained(folder))
    words = ["mary", "met", "anna", "in", "new", "york", "."]

    def by_word(encoding) -> list[list[int]]:
        ids, word_ids = encoding["input_ids"], encoding.word_ids()
        return [
            [i for i, w in zip(ids, word_ids, strict=True) if w == n] for n in range(len(words))
        ]

    split = tokenizer(words, is_split_into_words=True, add_special_tokens=False)
    text = tokenizer(" ".join(words), add_special_tokens=False)
    assert by_word(split)[1:] == by_word(text)[1:]  # the first may lack a prefix space in text
    [item] = encode_sentences(tokenizer, [words], [[0] * len(words)], 64, stride=16)
    firsts = [position for position, word in enumerate(item["word_index"]) if word >= 0]
    assert [item["word_index"][p] for p in firsts] == list(range(len(words)))
    assert all(item["labels"][p] == 0 for p in firsts)  # each word labelled on its first piece
