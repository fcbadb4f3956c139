"""`tunelab assistant` on the tiny classifier: threshold, answers and index saved in the model,
then predict, search, the API and the service use them."""

import json
import shutil

import numpy as np
import pytest
from starlette.testclient import TestClient

import tunelab
from tests.conftest import compose_train
from tunelab.apps.assistant.answers import Assistant
from tunelab.apps.assistant.build import assistant
from tunelab.apps.assistant.search import search
from tunelab.data.tables import read_table
from tunelab.errors import TunelabError
from tunelab.inference.predictor import Predictor
from tunelab.serving.serve import build_app

ANSWERS = "intent,answer\ntravel,Have a good trip.\nwork,See you at the office.\n"


@pytest.fixture(scope="module")
def helper(classified_run, tmp_path_factory):
    """A copy of the tiny classifier made an assistant (precision 1.0: some texts unsure)."""
    folder = tmp_path_factory.mktemp("assistant")
    model_dir = folder / "model"
    shutil.copytree(classified_run[0] / "model", model_dir)
    (folder / "answers.csv").write_text(ANSWERS)
    given = [f"model_dir={model_dir}", f"answers={folder / 'answers.csv'}", "unsure.precision=1.0"]
    metrics = assistant(compose_train(folder / "run", given, config_name="assistant"))
    return model_dir, metrics


def test_the_threshold_makes_dev_answers_as_precise_as_asked(helper, table_dir):
    model_dir, metrics = helper
    plain = Predictor(str(model_dir))
    plain.assistant = None
    dev = read_table(table_dir / "dev.tsv", "text", "label")
    records = plain.predict([e.text for e in dev])
    top = np.array([r["probabilities"][r["label"]] for r in records])
    right = np.array([r["label"] == e.label for r, e in zip(records, dev, strict=True)])
    answered = top >= metrics["threshold"]
    assert right[answered].all() and metrics["dev/precision"] == 1.0
    assert (model_dir.parent / "run" / "confused_intents.png").is_file()
    assert metrics["dev/answered"] == pytest.approx(answered.mean())
    # the next lower confidence would answer a wrong text
    lower = top[~answered].max() if (~answered).any() else None
    assert lower is None or not right[top >= lower].all()


def test_predictions_carry_the_answer_or_say_unsure_with_similar_questions(
    helper, table_dir, tmp_path
):
    model_dir, metrics = helper
    dev = [e.text for e in read_table(table_dir / "dev.tsv", "text", "label")]
    # the tiny model is sure of every dev text: a copy with a threshold at their median
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    strict = Assistant.load(str(copy))
    strict.threshold = float(np.median([r["probability"] for r in tunelab.load(copy).predict(dev)]))
    strict.save(str(copy), metrics)
    records = Predictor(str(copy)).predict(dev)
    answers = {"travel": "Have a good trip.", "work": "See you at the office."}
    assert 0 < sum(r["unsure"] for r in records) < len(records)
    for record in records:
        assert record["unsure"] == (record["probability"] < strict.threshold)
        if record["unsure"]:
            assert record["answer"] is None and len(record["similar"]) == 5
        else:
            assert record["answer"] == answers[record["label"]] and "similar" not in record


def test_search_finds_a_training_question_itself_first(helper, table_dir, tmp_path):
    model_dir, metrics = helper
    train = read_table(table_dir / "train.csv", "text", "label")
    assert 0 <= metrics["test/search_recall@1"] <= metrics["test/search_recall@5"] <= 1
    found = tunelab.load(model_dir).search([train[3].text], k=2)[0]
    assert found[0]["text"] == train[3].text and found[0]["intent"] == train[3].label
    assert found[0]["score"] == pytest.approx(1.0, abs=1e-3)
    assert found[0]["score"] >= found[1]["score"]
    out = tmp_path / "similar.jsonl"
    search(
        compose_train(
            tmp_path,
            [f"model_dir={model_dir}", f"query={train[3].text}", f"output={out}", "k=3"],
            config_name="search",
        )
    )
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["text"] == train[3].text and len(record["similar"]) == 3


def test_the_service_answers_and_searches(helper, tmp_path):
    model_dir, _ = helper
    app, _ = build_app(compose_train(tmp_path, [f"model_dir={model_dir}"], config_name="serve"))
    with TestClient(app) as client:
        predicted = client.post("/v1/predict", json={"texts": ["anna flew to paris ."]}).json()
        found = client.post("/v1/search", json={"texts": ["anna flew to paris ."], "k": 2}).json()
        described = client.get("/v1/model").json()
        bad = client.post("/v1/search", json={"texts": ["x"], "k": 0})
    expected = Predictor(str(model_dir)).predict(["anna flew to paris ."])
    assert predicted["predictions"] == expected
    assert len(found["results"][0]["similar"]) == 2
    assert described["assistant"]["answers"] == 2 and described["assistant"]["questions"] == 160
    assert bad.status_code == 422


def test_a_model_without_an_index_says_how_to_build_one(classified_run):
    with pytest.raises(TunelabError, match="tunelab assistant model_dir=MODEL"):
        Predictor(str(classified_run[0] / "model")).search(["anna"])
