"""Ranking with a tiny pair model: `tunelab recommend` on real MovieLens cases (a few users),
Predictor.rank and POST /v1/rank."""

import csv
import json
import random

import numpy as np
import pytest
from starlette.testclient import TestClient

from tests.conftest import PLACES, compose_train, tiny_train_overrides
from tunelab.apps.recommend.evaluate import recommend
from tunelab.apps.recommend.ranking import target_ranks
from tunelab.data import movielens
from tunelab.errors import TunelabError
from tunelab.inference.predictor import Predictor
from tunelab.serving.serve import build_app
from tunelab.training.train import train


def write_pairs(path, count, rng):
    """A liked place pairs with the place the text names, `other` with any other place."""
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["text", "item", "label"])
        for _ in range(count):
            place, other = rng.sample(PLACES, 2)
            liked = rng.random() < 0.5
            writer.writerow(
                [f"went to {place}", place if liked else other, "liked" if liked else "other"]
            )


@pytest.fixture(scope="module")
def pair_model(tiny_bert, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pairs")
    rng = random.Random(3)
    for split, count in (("train", 200), ("dev", 40), ("test", 40)):
        write_pairs(folder / f"{split}.csv", count, rng)
    run_dir = folder / "run"
    overrides = tiny_train_overrides(tiny_bert, folder, data="csv")
    overrides += ["data.text_pair_column=item", "trainer.max_epochs=3", "optimizer.lr=2e-3"]
    train(compose_train(run_dir, overrides))
    return run_dir / "model"


def test_recommend_ranks_every_case_and_the_baselines_in_one_report(pair_model, tmp_path):
    cfg = compose_train(tmp_path, [f"model_dir={pair_model}", "max_users=3"], "recommend")
    metrics = recommend(cfg)
    names = ("model", "popularity", "co-occurrence")
    assert set(metrics) == {f"{n}/{m}" for n in names for m in ("hr@10", "ndcg@10")}
    assert json.loads((tmp_path / "metrics.json").read_text()) == pytest.approx(metrics)
    assert (tmp_path / "hit_rate.png").is_file() and "co-occurrence" in (
        tmp_path / "report.txt"
    ).read_text()
    # the model's figure, recomputed from Predictor.rank for the three users
    _, items = movielens.ratings()
    predictor = Predictor(str(pair_model))
    ranks = []
    for case in movielens.ranking_cases()[:3]:
        history = movielens.history_text(list(case.likes[-movielens.HISTORY :]), items)
        texts = [items[i] for i in case.candidates]
        scores = {r["candidate"]: r["score"] for r in predictor.rank(history, texts, "liked")}
        ranks.append(target_ranks(np.array([[scores[t] for t in texts]]))[0])
    assert metrics["model/hr@10"] == pytest.approx(np.mean(np.array(ranks) <= 10))


def test_rank_orders_candidates_and_the_service_answers_the_same(pair_model, tmp_path):
    predictor = Predictor(str(pair_model))
    ranked = predictor.rank("went to paris", ["lima", "paris", "oslo"], "liked")
    assert sorted(r["candidate"] for r in ranked) == ["lima", "oslo", "paris"]
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)
    with pytest.raises(TunelabError, match="label='loved'; the model's labels are liked, other"):
        predictor.rank("went to paris", ["lima"], "loved")
    app, _ = build_app(compose_train(tmp_path, [f"model_dir={pair_model}"], config_name="serve"))
    body = {"text": "went to paris", "candidates": ["lima", "paris", "oslo"], "label": "liked"}
    with TestClient(app) as client:
        served = client.post("/v1/rank", json=body).json()
        bad = client.post("/v1/rank", json={**body, "label": "loved"})
    assert [r["candidate"] for r in served["ranking"]] == [r["candidate"] for r in ranked]
    assert bad.status_code == 422 and "loved" in bad.json()["error"]
