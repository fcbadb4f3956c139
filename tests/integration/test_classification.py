"""Text classification end to end with the tiny model on a synthetic CSV/TSV/JSONL folder."""

import csv
import json

import pytest
from transformers import pipeline

from tests.conftest import compose_train, eval_config, tiny_train_overrides
from tests.recompute import (
    CLASSIFICATION_COUNTS,
    assert_test_scores_recomputed,
    classification_scores_from_file,
)
from tunelab.inference.eval import evaluate
from tunelab.inference.predict import predict
from tunelab.training.train import train


@pytest.fixture(scope="module")
def classified(classified_run):
    return classified_run


def test_csv_preset_picks_classification(tmp_path, table_dir):
    cfg = compose_train(tmp_path, ["data=csv", f"data.dir={table_dir}"])
    assert cfg.model._target_ == "tunelab.tasks.classification.module.SequenceClassificationModule"
    assert cfg.monitor == "val/f1_macro"


def test_run_directory_contract(classified):
    run_dir, metrics = classified
    for name in [
        "metrics.json",
        "predictions/test.csv",
        "report.txt",
        "confusion_matrix.csv",
        "confusion_matrix.png",
        "model/model.safetensors",
        "checkpoints/best.ckpt",
        "plots/learning_curves.png",
        "plots/confusion_matrix.png",
        "plots/reliability.png",
    ]:
        assert (run_dir / name).is_file(), name
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert {"val/f1_macro", "test/acc", "test/f1_macro", "test/f1_travel"} <= set(saved)
    assert metrics["test/acc"] > 0.8  # the label follows one word: learnable in a few epochs


def test_predictions_csv_agrees_with_metrics(classified, table_dir):
    run_dir, metrics = classified
    with (run_dir / "predictions" / "test.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    gold = [json.loads(line) for line in (table_dir / "test.jsonl").read_text().splitlines()]
    assert [r["text"] for r in rows] == [g["text"] for g in gold]
    accuracy = sum(r["gold"] == r["pred"] for r in rows) / len(rows)
    assert accuracy == pytest.approx(metrics["test/acc"])
    assert all(0.5 <= float(r["prob"]) <= 1.0 for r in rows)
    matrix = list(csv.reader((run_dir / "confusion_matrix.csv").open()))
    assert sum(int(v) for row in matrix[1:] for v in row[1:]) == len(rows)


def test_every_test_score_is_recomputed_from_the_predictions_file(classified):
    run_dir, _ = classified
    saved = json.loads((run_dir / "metrics.json").read_text())
    labels = json.loads((run_dir / "model" / "config.json").read_text())["id2label"].values()
    recomputed = classification_scores_from_file(run_dir / "predictions" / "test.csv", labels)
    assert_test_scores_recomputed(saved, recomputed, CLASSIFICATION_COUNTS)


def test_exported_model_in_pipeline(classified):
    run_dir, _ = classified
    classifier = pipeline("text-classification", model=str(run_dir / "model"))
    assert classifier("john went to paris .")[0]["label"] in {"travel", "work"}


def test_predict_jsonl(tmp_path, classified):
    run_dir, _ = classified
    source = tmp_path / "in.txt"
    source.write_text("john went to paris .\nmary works for acme .\n")
    cfg = compose_train(
        tmp_path,
        [f"model_dir={run_dir / 'model'}", f"input={source}", f"output={tmp_path / 'o.jsonl'}"],
        config_name="predict",
    )
    predict(cfg)
    records = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [r["text"] for r in records] == ["john went to paris .", "mary works for acme ."]
    for record in records:
        assert set(record["probabilities"]) == {"travel", "work"}
        assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)


def test_eval_exported_model(tmp_path, classified, table_dir):
    run_dir, metrics = classified
    cfg = eval_config(tmp_path, table_dir, f"model_dir={run_dir / 'model'}", data="csv")
    assert evaluate(cfg)["test/acc"] == pytest.approx(metrics["test/acc"])


@pytest.mark.parametrize("long_text", ["windows", "head_tail"])
def test_long_text_modes_run(tmp_path, tiny_bert, table_dir, long_text):
    overrides = tiny_train_overrides(tiny_bert, table_dir, data="csv")
    overrides += ["debug=fdr", f"data.long_text={long_text}", "data.max_length=6", "data.stride=2"]
    metrics = train(compose_train(tmp_path, overrides))
    assert 0.0 <= metrics["test/acc"] <= 1.0


def test_multi_label(tmp_path, tiny_bert):
    rows = [
        ("john went to paris", "travel|person"),
        ("acme said today", "work"),
        ("mary works for hooli", "work|person"),
        ("new york", "travel"),
    ] * 8
    for name in ["train.csv", "dev.csv", "test.csv"]:
        (tmp_path / name).write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in rows))
    overrides = tiny_train_overrides(tiny_bert, tmp_path, data="csv")
    overrides += ["data.multi_label=true", "trainer.max_epochs=2"]
    metrics = train(compose_train(tmp_path / "run", overrides))
    assert {"test/f1_micro", "test/f1_macro", "test/f1_person"} <= set(metrics)
    predicted = list(csv.DictReader((tmp_path / "run/predictions/test.csv").open()))
    assert len(predicted) == len(rows)
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    labels = ["person", "travel", "work"]
    recomputed = classification_scores_from_file(tmp_path / "run/predictions/test.csv", labels, "|")
    assert_test_scores_recomputed(saved, recomputed, CLASSIFICATION_COUNTS)


def test_eval_on_a_preset_reads_its_columns_not_the_models(tmp_path):
    # a model trained on one table (column `text`, labels renamed) scored on SST-2's files
    from tests.conftest import compose_train
    from tunelab.inference.eval import data_config

    cfg = compose_train(tmp_path, ["data=sst2"], config_name="eval", return_hydra_config=True)
    recorded = {
        "datamodule": cfg.data["_target_"].removesuffix(".from_config"),  # the class
        "text_column": "text",
        "label_names": {"rotten": "negative", "fresh": "positive"},
        "max_length": 64,
    }
    data = data_config(cfg, recorded)
    assert list(data.text_column) == ["sentence", "content"]
    assert dict(data.label_names) == {0: "negative", 1: "positive"}
    assert data.max_length == 64  # how the model reads still comes from the model
