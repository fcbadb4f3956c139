"""tunelab-serve, started for real on a loopback port: answers as the Predictor does, batches
concurrent requests, refuses bad requests with 4xx JSON and keeps answering, stops cleanly."""

import json
import signal
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import post_json, served
from tunelab.inference.predictor import Predictor

TEXTS = ["anna flew to paris .", "bob works at acme .", "", "carl met dora in rome and oslo ."]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def ner_service(trained_run, tmp_path_factory):
    run_dir, _, _ = trained_run
    with served(run_dir / "model", tmp_path_factory.mktemp("serve"), "max_wait_ms=50") as found:
        yield found


def test_ner_service_answers_as_the_predictor_and_describes_the_model(ner_service, trained_run):
    url, _ = ner_service
    expected = Predictor(str(trained_run[0] / "model")).predict(TEXTS)
    assert any(record["entities"] for record in expected)  # a test that can see entities
    status, answer = post_json(f"{url}/v1/predict", {"texts": TEXTS})
    assert status == 200
    assert answer["predictions"] == expected
    info = get_json(f"{url}/v1/model")
    assert info["task"] == "ner" and "B-LOC" in info["labels"] and info["pairs"] is False
    recorded = json.loads((trained_run[0] / "model" / "tunelab.json").read_text())["data"]
    assert info["reading"]["max_length"] == recorded["max_length"]
    assert "/v1/predict" in get_json(f"{url}/openapi.json")["paths"]


def test_concurrent_requests_are_batched_and_each_gets_its_own_answer(ner_service, trained_run):
    url, _ = ner_service
    texts = [
        f"{name} flew to {place} ."
        for name in ("anna", "bob", "carl", "dora")
        for place in ("paris", "rome", "oslo", "lima")
    ]
    expected = Predictor(str(trained_run[0] / "model")).predict(texts)
    before = get_json(f"{url}/health")["batches"]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda t: post_json(f"{url}/v1/predict", {"texts": [t]}), texts))
    assert [a[1]["predictions"][0] for a in answers] == expected
    assert get_json(f"{url}/health")["batches"] - before < len(texts)  # some ran together


BAD = {
    "empty list": ({"texts": []}, 422, "empty"),
    "no texts": ({}, 422, "texts"),
    "both": ({"texts": ["a"], "pairs": [["a", "b"]]}, 422, "not both"),
    "pairs to a single-text model": ({"pairs": [["a", "b"]]}, 422, "texts"),
    "texts not a list": ({"texts": "anna"}, 422, "texts"),
    "a number as text": ({"texts": ["a", 3]}, 422, "texts.1"),
    "unknown field": ({"texts": ["a"], "lang": "en"}, 422, "lang"),
    "not an object": ([1, 2], 422, "JSON object"),
    "malformed JSON": (b'{"texts": ["a"', 422, "not valid JSON"),
    "invalid UTF-8": (b'{"texts": ["\xff\xfe"]}', 400, "UTF-8"),
    "100,000 characters": ({"texts": ["a" * 100_000]}, 413, "max_chars"),
    "10,000 texts": ({"texts": ["ab"] * 10_000}, 413, "max_texts"),
    "10 MB body": (b"x" * 10_000_000, 413, "max_body_bytes"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_request_gets_a_4xx_json_error_and_the_service_lives_on(ner_service, case):
    url, process = ner_service
    body, status, words = BAD[case]
    got, answer = post_json(f"{url}/v1/predict", body)
    assert (got, words in answer["error"]) == (status, True), answer
    assert post_json(f"{url}/v1/predict", {"texts": ["anna flew to paris ."]})[0] == 200
    assert process.poll() is None


def test_sigterm_lets_the_request_in_flight_finish(trained_run, tmp_path):
    texts = [f"anna flew to paris with bob number {i} ." for i in range(1000)]
    with served(trained_run[0] / "model", tmp_path, "batch_size=8") as (url, process):
        result = {}
        client = threading.Thread(
            target=lambda: result.update(answer=post_json(f"{url}/v1/predict", {"texts": texts}))
        )
        client.start()
        while get_json(f"{url}/health")["in_flight"] == 0:
            assert not result  # the request must still be in flight when the signal comes
        process.send_signal(signal.SIGTERM)
        client.join(60)
        # uvicorn finishes the request, then re-raises the signal: the usual exit for SIGTERM
        assert process.wait(60) in (0, -signal.SIGTERM)
    status, answer = result["answer"]
    assert status == 200 and len(answer["predictions"]) == len(texts)


def test_classification_service_returns_the_label_and_every_probability(classified_run, tmp_path):
    run_dir, _ = classified_run
    texts = ["anna flew to paris .", "bob works at acme ."]
    expected = Predictor(str(run_dir / "model")).predict(texts)
    with served(run_dir / "model", tmp_path) as (url, _):
        status, answer = post_json(f"{url}/v1/predict", {"texts": texts})
        info = get_json(f"{url}/v1/model")
    assert status == 200 and answer["predictions"] == expected
    record = answer["predictions"][0]
    assert set(record["probabilities"]) == set(info["labels"]) == {"travel", "work"}
    assert record["label"] == max(record["probabilities"], key=record["probabilities"].get)


def test_packed_prediction_finds_the_entities_of_one_text_a_row(trained_run):
    model_dir = str(trained_run[0] / "model")
    texts = TEXTS + [f"{name} met {other} in paris ." for name in ("anna", "bob") for other in "xy"]

    def spans(records):
        return [[(e["start"], e["end"], e["type"]) for e in r["entities"]] for r in records]

    packed = Predictor(model_dir, precision="32-true", pack=True)
    rows = Predictor(model_dir, precision="32-true", pack=False)
    assert packed.settings["pack"] and not rows.settings["pack"]
    assert spans(packed.predict(texts)) == spans(rows.predict(texts))
    assert packed.module._position_offset == 0  # BERT packs: the packed path really ran
