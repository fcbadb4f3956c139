"""End-to-end runs of the real conf/train.yaml with the tiny model on the synthetic corpus."""

import json

import pytest
import torch
from transformers import AutoModelForTokenClassification, pipeline

from tests.conftest import compose_train
from tests.recompute import NER_COUNTS, assert_test_scores_recomputed, ner_scores_from_file
from tunelab.data.conll import read_conll
from tunelab.tasks.ner.metrics import ner_scores
from tunelab.training.train import train


def test_fast_dev_run(tmp_path, tiny_overrides):
    cfg = compose_train(tmp_path, tiny_overrides + ["debug=fdr"])
    metrics = train(cfg)
    assert 0.0 <= metrics["test/f1"] <= 1.0
    assert (tmp_path / "metrics.json").is_file()
    assert (tmp_path / "model" / "model.safetensors").is_file()


def test_run_directory_contract(trained_run):
    run_dir, metrics, _ = trained_run
    for name in [
        "metrics.json",
        "predictions/test.conll",
        "report.txt",
        "model/config.json",
        "model/model.safetensors",
        "model/tokenizer.json",
        "checkpoints/best.ckpt",
        "plots/learning_curves.png",
        "plots/per_type_f1.png",
        "plots/confused_tags.png",
    ]:
        assert (run_dir / name).is_file(), name
    # a finished run keeps best.ckpt, its weights without optimizer state (keep_checkpoints=best)
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["best.ckpt"]
    best = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)
    assert "state_dict" in best and "optimizer_states" not in best
    saved = json.loads((run_dir / "metrics.json").read_text())
    for key in ["val/f1", "test/f1", "test/f1_strict", "test/precision", "test/recall"]:
        assert key in saved
    assert saved["test/words_truncated"] == 0
    assert "PER" in (run_dir / "report.txt").read_text()


def test_the_export_carries_a_model_card(trained_run):
    run_dir, metrics, conll_dir = trained_run
    card = (run_dir / "model" / "README.md").read_text()
    assert card.startswith('---\nlibrary_name: "transformers"\n')
    assert 'pipeline_tag: "token-classification"' in card
    assert f"on `{conll_dir.name}` for ner. Labels: O, B-LOC" in card
    assert f"| `test/f1` | {metrics['test/f1']:.4f} |" in card
    assert "| `optimizer.lr` | `0.005` |" in card and "## Intended use" in card


def test_tiny_model_learns(trained_run):
    _, metrics, _ = trained_run
    assert metrics["test/f1"] > 0.5  # the synthetic corpus is easy; a broken loop stays near 0


def test_predictions_file_matches_input_and_metrics(trained_run):
    run_dir, metrics, conll_dir = trained_run
    gold = read_conll(conll_dir / "test.txt")
    rows = read_conll(run_dir / "predictions" / "test.conll")
    assert [s.words for s in rows] == [s.words for s in gold]  # one line per input word, in order
    lines = (run_dir / "predictions" / "test.conll").read_text().split("\n")
    triples = [line.split(" ") for line in lines if line]
    assert all(len(t) == 3 for t in triples)
    gold_tags = [s.tags for s in gold]
    by_sentence, i = [], 0
    for sentence in gold:
        by_sentence.append([t[2] for t in triples[i : i + len(sentence.words)]])
        i += len(sentence.words)
    recomputed = ner_scores(gold_tags, by_sentence)
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["test/f1"] == pytest.approx(recomputed["f1"], abs=1e-9)
    assert saved["test/f1_strict"] == pytest.approx(recomputed["f1_strict"], abs=1e-9)


def test_every_test_score_is_recomputed_from_the_predictions_file(trained_run):
    run_dir, _, _ = trained_run
    saved = json.loads((run_dir / "metrics.json").read_text())
    recomputed = ner_scores_from_file(run_dir / "predictions" / "test.conll")
    assert recomputed["precision"] != recomputed["recall"], "pick a run where they differ"
    assert_test_scores_recomputed(saved, recomputed, NER_COUNTS)


def test_exported_model_loads_in_pipeline(trained_run):
    run_dir, _, _ = trained_run
    model = AutoModelForTokenClassification.from_pretrained(run_dir / "model")
    assert set(model.config.id2label.values()) == {
        "O",
        "B-LOC",
        "I-LOC",
        "B-ORG",
        "I-ORG",
        "B-PER",
        "I-PER",
    }
    tagger = pipeline("token-classification", model=str(run_dir / "model"))
    assert isinstance(tagger("john went to paris ."), list)


def test_a_new_run_refuses_a_directory_with_checkpoints(trained_run, tiny_bert):
    from tests.conftest import tiny_train_overrides
    from tunelab.errors import TunelabError

    run_dir, _, conll_dir = trained_run
    before = (run_dir / "metrics.json").read_text()
    with pytest.raises(TunelabError, match="ckpt_path=last"):
        train(compose_train(run_dir, tiny_train_overrides(tiny_bert, conll_dir)))
    assert (run_dir / "metrics.json").read_text() == before
