"""Evaluation and prediction read text and turn scores into labels with the same functions: a
change to the task's encoding or decoding shows in both (issue 46, part 3)."""

from __future__ import annotations

import pytest

from tests.conftest import compose_train
from tunelab.data import alignment
from tunelab.inference.eval import evaluate
from tunelab.inference.predictor import Predictor
from tunelab.tasks.classification import encoding
from tunelab.tasks.classification.module import SequenceClassificationModule
from tunelab.tasks.ner.module import TokenClassificationModule


def spy(monkeypatch, owner, name: str) -> list[str]:
    """Record each call of `owner.name` (by which path it came: eval or predict)."""
    calls: list[str] = []
    real = getattr(owner, name)

    def recorded(*args, **kwargs):
        calls.append(spy.phase)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, recorded)
    return calls


def eval_and_predict(tmp_path, model_dir, texts):
    spy.phase = "eval"
    # no token cache: the training run's cached items would spare evaluation the encoding
    no_cache = [f"model_dir={model_dir}", "data.cache_dir=null"]
    cfg = compose_train(tmp_path / "eval", no_cache, config_name="eval")
    evaluate(cfg)
    spy.phase = "predict"
    Predictor(str(model_dir)).predict(texts)


def test_classification_encodes_and_decodes_one_way(tmp_path, monkeypatch, classified_run):
    run_dir, _ = classified_run
    encoded = spy(monkeypatch, encoding, "encode_texts")
    decoded = spy(monkeypatch, SequenceClassificationModule, "example_logits")
    eval_and_predict(tmp_path, run_dir / "model", ["acme works with hooli ."])
    assert {"eval", "predict"} <= set(encoded) and {"eval", "predict"} <= set(decoded)


def test_ner_encodes_and_decodes_one_way(tmp_path, monkeypatch, trained_run):
    run_dir, _, _ = trained_run
    encoded = spy(monkeypatch, alignment, "encode_sentences")
    decoded = spy(monkeypatch, TokenClassificationModule, "decode_many")
    eval_and_predict(tmp_path, run_dir / "model", ["john went to paris ."])
    assert {"eval", "predict"} <= set(encoded) and {"eval", "predict"} <= set(decoded)


@pytest.mark.parametrize("phase", ["eval", "predict"])
def test_a_changed_encoding_changes_both(tmp_path, monkeypatch, classified_run, phase):
    """The spies above could pass with a copy that calls the original; here the encoding is
    replaced outright and each path fails with its error."""
    run_dir, _ = classified_run

    def broken(*args, **kwargs):
        raise RuntimeError("the one encoding")

    monkeypatch.setattr(encoding, "encode_texts", broken)
    with pytest.raises(RuntimeError, match="the one encoding"):
        if phase == "eval":
            eval_and_predict(tmp_path, run_dir / "model", [])
        else:
            Predictor(str(run_dir / "model")).predict(["acme works ."])
