"""`tunelab recommend`: a MovieLens text-pair model ranks each user's held-out movie among 99
the user never rated; HR@10 and NDCG@10 beside the popularity and co-occurrence baselines,
computed by the same code, in one report (metrics.json, report.txt, hit_rate.png)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from omegaconf import DictConfig
from tqdm.auto import tqdm

from tunelab import schema
from tunelab.apps.recommend.ranking import (
    cooccurrence_scores,
    hit_rate,
    ndcg,
    popularity_scores,
    target_ranks,
)
from tunelab.config import hydra_command
from tunelab.data import movielens
from tunelab.errors import TunelabError
from tunelab.inference.predictor import Predictor
from tunelab.training.plots import lines
from tunelab.training.rundir import write_metrics

log = logging.getLogger("tunelab")
CUTS = tuple(range(1, 21))  # HR@K drawn for these K


def model_scores(predictor: Predictor, cases, items: dict[str, str], users: int) -> np.ndarray:
    """[cases, candidates] the model's probability that the user likes each candidate."""
    liked = movielens.LABELS[0]
    if liked not in predictor.labels:
        raise TunelabError(f"the model's labels are {predictor.labels}: train it on data=movielens")
    rows = []
    for start in tqdm(range(0, len(cases), users), desc="rank", unit="users", unit_scale=users):
        chunk = cases[start : start + users]
        texts, pairs = [], []
        for case in chunk:
            history = movielens.history_text(list(case.likes[-movielens.HISTORY :]), items)
            texts += [history] * len(case.candidates)
            pairs += [items[item] for item in case.candidates]
        records = predictor.predict(texts, pairs)
        scores = np.array([r["probabilities"][liked] for r in records])
        rows.append(scores.reshape(len(chunk), -1))
    return np.concatenate(rows)


def recommend(cfg: DictConfig) -> dict[str, float]:
    schema.check(cfg)
    _, items = movielens.ratings()
    cases = movielens.ranking_cases()[: cfg.max_users]
    ids = sorted(items, key=int)
    histories = [case.likes for case in cases]
    shown = [case.likes[-movielens.HISTORY :] for case in cases]
    candidates = [case.candidates for case in cases]
    scores = {
        "model": model_scores(Predictor.from_config(cfg, None), cases, items, cfg.users_a_batch),
        "popularity": popularity_scores(histories, candidates, ids),
        "co-occurrence": cooccurrence_scores(histories, candidates, ids, shown),
    }
    ranks = {name: target_ranks(values) for name, values in scores.items()}
    metrics = {}
    for name, rank in ranks.items():
        metrics[f"{name}/hr@10"], metrics[f"{name}/ndcg@10"] = hit_rate(rank, 10), ndcg(rank, 10)
    run_dir = Path(cfg.paths.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_metrics(run_dir / "metrics.json", metrics)
    curves = {name: [hit_rate(rank, k) for k in CUTS] for name, rank in ranks.items()}
    title = f"Held-out movie in the first K of {len(candidates[0])} ({len(cases)} users)"
    lines(run_dir / "hit_rate.png", title, list(CUTS), curves, ("K", "HR@K"))
    report = "\n".join(
        [f"{'':<14}{'HR@10':>8}{'NDCG@10':>9}"]
        + [f"{n:<14}{metrics[f'{n}/hr@10']:>8.4f}{metrics[f'{n}/ndcg@10']:>9.4f}" for n in ranks]
    )
    (run_dir / "report.txt").write_text(report + "\n")
    print(report)
    log.info("run directory: %s", run_dir)
    return metrics


main = hydra_command("recommend", recommend)


if __name__ == "__main__":
    main()
