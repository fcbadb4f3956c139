"""Calibrated confidence, abstaining and error bars on tiny runs (tunelab.trust)."""

from __future__ import annotations

import csv
import json
import math
import shutil

import pytest

from tests.conftest import eval_config
from tunelab.errors import TunelabError
from tunelab.inference.eval import evaluate
from tunelab.inference.predictor import Predictor


def model_copy(run_dir, tmp_path, temperature=None):
    """The run's exported model in a folder of the test's own (eval may write abstain.json)."""
    target = tmp_path / "model"
    shutil.copytree(run_dir / "model", target)
    if temperature is not None:
        settings = json.loads((target / "tunelab.json").read_text())
        settings["temperature"] = temperature
        (target / "tunelab.json").write_text(json.dumps(settings))
    return target


def test_a_run_fits_and_records_its_temperature(classified_run):
    run_dir, metrics = classified_run
    temperature = metrics["model/temperature"]
    assert 0.05 <= temperature <= 20
    assert json.loads((run_dir / "model" / "tunelab.json").read_text())["temperature"] == (
        pytest.approx(temperature)
    )
    for key in ("test/ece", "test/ece_before", "test/brier", "test/brier_before"):
        assert 0 <= metrics[key] <= 1, key
    assert (run_dir / "reliability.png").stat().st_size > 0
    assert metrics["test/acc_ci95_low"] <= metrics["test/acc"] <= metrics["test/acc_ci95_high"]


def test_predictions_report_the_calibrated_probabilities(classified_run):
    """predict gives each test text the probability predictions/test.csv holds (both in the
    precision evaluation runs in)."""
    run_dir, metrics = classified_run
    assert abs(metrics["model/temperature"] - 1) > 0.01  # else this would not test much
    with (run_dir / "predictions" / "test.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))[:8]
    records = Predictor(str(run_dir / "model")).predict([r["text"] for r in rows])
    for row, record in zip(rows, records, strict=True):
        assert record["probabilities"][row["pred"]] == pytest.approx(float(row["prob"]), abs=1e-5)


def test_a_temperature_divides_the_logits(classified_run, tmp_path):
    run_dir, _ = classified_run
    texts = ["john went to paris .", "mary works for acme ."]
    plain = Predictor(str(model_copy(run_dir, tmp_path / "a", 1.0)), precision="32-true")
    warm = Predictor(str(model_copy(run_dir, tmp_path / "b", 2.0)), precision="32-true")
    for one, two in zip(plain.predict(texts), warm.predict(texts), strict=True):
        logs = {label: math.log(p) / 2 for label, p in one["probabilities"].items()}
        total = sum(math.exp(v) for v in logs.values())
        for label, value in logs.items():
            assert two["probabilities"][label] == pytest.approx(math.exp(value) / total, abs=1e-4)
        assert one["label"] == two["label"]


@pytest.mark.parametrize("temperature", [0, -1.5, "hot", None])
def test_a_bad_temperature_is_one_line(classified_run, tmp_path, temperature):
    model = model_copy(classified_run[0], tmp_path, temperature if temperature else 0)
    if temperature is None:
        settings = json.loads((model / "tunelab.json").read_text())
        settings["temperature"] = float("nan")
        (model / "tunelab.json").write_text(json.dumps(settings))
    with pytest.raises(TunelabError, match="tunelab.json: temperature .* not a positive number"):
        Predictor(str(model))


def test_eval_chooses_an_abstain_threshold_that_predict_applies(
    classified_run, table_dir, tmp_path
):
    run_dir, _ = classified_run
    model = model_copy(run_dir, tmp_path)
    cfg = eval_config(
        tmp_path, table_dir, f"model_dir={model}", "abstain.precision=0.9", data="csv"
    )
    metrics = evaluate(cfg)
    saved = json.loads((model / "abstain.json").read_text())
    assert saved["precision_target"] == 0.9 and saved["dev_precision"] >= 0.9
    assert metrics["abstain/threshold"] == pytest.approx(saved["threshold"])
    assert 0 <= metrics["test/answered"] <= 1
    records = Predictor(str(model), precision="32-true").predict(["john went to paris ."] * 2)
    for record in records:
        below = record["probabilities"][record["label"]] < saved["threshold"]
        assert record["unsure"] is below


def test_ner_entities_carry_their_calibrated_confidence(trained_run, tmp_path):
    run_dir, metrics, conll_dir = trained_run
    assert metrics["model/temperature"] > 0 and 0 <= metrics["test/ece"] <= 1
    assert metrics["test/f1_ci95_low"] <= metrics["test/f1"] <= metrics["test/f1_ci95_high"]
    model = model_copy(run_dir, tmp_path)
    cfg = eval_config(tmp_path, conll_dir, f"model_dir={model}", "abstain.precision=0.5")
    evaluate(cfg)
    threshold = json.loads((model / "abstain.json").read_text())["threshold"]
    records = Predictor(str(model), precision="32-true").predict(["John Smith lives in Paris ."])
    for entity in records[0]["entities"]:
        assert 0 < entity["score"] <= 1 and entity["unsure"] is (entity["score"] < threshold)


def test_abstain_needs_a_share(classified_run, table_dir, tmp_path):
    model = model_copy(classified_run[0], tmp_path)
    cfg = eval_config(
        tmp_path, table_dir, f"model_dir={model}", "abstain.precision=1.5", data="csv"
    )
    with pytest.raises(TunelabError, match=r"abstain.precision=1.5; give a share in \(0, 1\]"):
        evaluate(cfg)


@pytest.mark.parametrize("run", ["classified_run", "trained_run"])
def test_explanations_add_up_and_cover_every_word(run, request):
    """Each decision's word attributions sum to F(text) - F(baseline) within the reported gap,
    which is small in fp32; every word of the text is listed with its offsets."""
    from tunelab.data.words import split_words

    model_dir = request.getfixturevalue(run)[0] / "model"
    text = "anna flew to paris and bob works at acme ."
    (record,) = Predictor(str(model_dir), precision="32-true").explain([text])
    decisions = record.get("entities", [record])
    assert decisions, "the tiny model decides something"
    words, offsets = split_words(text)
    for decision in decisions:
        assert [(w["word"], (w["start"], w["end"])) for w in decision["words"]] == list(
            zip(words, offsets, strict=True)
        )
        total = sum(w["attribution"] for w in decision["words"])
        gap = abs(total - decision["difference"]) / abs(decision["difference"])
        # the record rounds each attribution and the difference to 6 decimals: for a decision
        # with a small margin that rounding alone moves the recomputed gap
        rounding = (len(decision["words"]) + 1) * 0.5e-6 / abs(decision["difference"])
        assert gap == pytest.approx(decision["completeness_gap"], abs=1e-3 + rounding)
        assert decision["completeness_gap"] < 0.05


def test_explain_command_writes_records_and_a_page(classified_run, tmp_path):
    from tests.conftest import compose_train
    from tunelab.inference.explain import explain

    source = tmp_path / "in.txt"
    source.write_text("anna flew to paris .\nbob works at acme .\n")
    output = tmp_path / "why.jsonl"
    overrides = [f"model_dir={classified_run[0] / 'model'}", f"input={source}", f"output={output}"]
    explain(compose_train(tmp_path, overrides, config_name="explain"))
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["text"] for r in records] == ["anna flew to paris .", "bob works at acme ."]
    page = (tmp_path / "why.html").read_text()
    assert page.count('<span style="background:') == sum(len(r["words"]) for r in records)


def test_serve_explains_on_request(classified_run, tmp_path):
    from tests.helpers import post_json, served

    with served(classified_run[0] / "model", tmp_path) as (url, _):
        status, plain = post_json(f"{url}/v1/predict", {"texts": ["anna flew to paris ."]})
        assert status == 200 and "explanation" not in plain["predictions"][0]
        body = {"texts": ["anna flew to paris ."], "explain": True}
        status, answer = post_json(f"{url}/v1/predict", body)
        assert status == 200
        record = answer["predictions"][0]
        assert record["explanation"]["label"] == record["label"]
        assert [w["word"] for w in record["explanation"]["words"]] == [
            "anna",
            "flew",
            "to",
            "paris",
            ".",
        ]
        status, refused = post_json(f"{url}/v1/predict", {"texts": ["a"] * 21, "explain": True})
        assert status == 413 and "at most 20 texts" in refused["error"]


def test_abstain_for_a_coverage_answers_that_share_of_dev(classified_run, table_dir, tmp_path):
    model = model_copy(classified_run[0], tmp_path)
    cfg = eval_config(tmp_path, table_dir, f"model_dir={model}", "abstain.coverage=0.5", data="csv")
    evaluate(cfg)
    saved = json.loads((model / "abstain.json").read_text())
    assert saved["coverage_target"] == 0.5 and saved["dev_answered"] >= 0.5
    both = eval_config(
        tmp_path,
        table_dir,
        f"model_dir={model}",
        "abstain.coverage=0.5",
        "abstain.precision=0.9",
        data="csv",
    )
    with pytest.raises(TunelabError, match="not both"):
        evaluate(both)


def test_predictions_beside_an_explanation_are_unchanged(classified_run):
    """An explanation hooks the embedding layer: predictions running in another thread at the
    same time (a service's batcher) must still get their own scores."""
    import threading

    predictor = Predictor(str(classified_run[0] / "model"), precision="32-true")
    texts = ["anna flew to paris .", "bob works at acme ."]
    expected = predictor.predict(texts)
    found, done = [], threading.Event()

    def predict_repeatedly():
        while not done.is_set():
            found.append(predictor.predict(texts))

    def explain_a_few():
        for _ in range(3):
            predictor.explain(texts, steps=20)
        done.set()

    workers = [threading.Thread(target=f, daemon=True) for f in (predict_repeatedly, explain_a_few)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)  # without the Predictor's lock the two can tangle for good
    assert not any(worker.is_alive() for worker in workers)
    assert done.is_set() and found and all(records == expected for records in found)
