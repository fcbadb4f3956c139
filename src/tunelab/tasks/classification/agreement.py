"""How a classifier's decisions agree with the gold labels, item by item: the counts the
bootstrap (`tunelab.trust.bootstrap`) resamples, from a run or from its predictions file."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from tunelab.errors import TunelabError
from tunelab.trust.bootstrap import ItemCounts, f1


def item_counts(gold: list[frozenset[str]], pred: list[frozenset[str]]) -> ItemCounts:
    """Per text: 1, whether its label set is exactly right, and per label hit, predicted, gold.
    Scores: accuracy (exact match) and macro F1 over the labels seen in either column, as
    torchmetrics averages them (a label neither predicted nor gold in a resample is left out)."""
    labels = sorted(set().union(*gold, *pred))
    column = {label: i for i, label in enumerate(labels)}
    n, c = len(gold), len(labels)
    is_gold, is_pred = np.zeros((n, c)), np.zeros((n, c))
    for row, (g, p) in enumerate(zip(gold, pred, strict=True)):
        is_gold[row, [column[x] for x in g]] = 1
        is_pred[row, [column[x] for x in p]] = 1
    exact = np.array([[float(g == p)] for g, p in zip(gold, pred, strict=True)]).reshape(n, 1)
    counts = np.concatenate([np.ones((n, 1)), exact, is_gold * is_pred, is_pred, is_gold], 1)

    def scores(sums: np.ndarray) -> dict[str, np.ndarray]:
        hits, predicted, golden = (sums[:, 2 + i * c : 2 + (i + 1) * c] for i in range(3))
        present = (predicted + golden) > 0
        macro = (f1(hits, predicted, golden) * present).sum(1) / np.maximum(present.sum(1), 1)
        return {"acc": sums[:, 1] / sums[:, 0], "f1_macro": macro}

    return ItemCounts(counts, scores)


def decisions(module, prefix: str) -> tuple[list[frozenset[str]], list[frozenset[str]]]:
    """Gold and predicted label sets of each text the module's last `prefix` scoring covered."""
    evaluation, labels = module.evaluation(prefix), module.labels
    gold, pred = [], []
    for index, probs in sorted(evaluation.predictions.items()):
        target = module.references[prefix][index]
        if module.multi_label:
            gold.append(frozenset(labels[i] for i, v in enumerate(target) if v))
            pred.append(frozenset(labels[i] for i, p in enumerate(probs) if p >= module.threshold))
        else:
            gold.append(frozenset([labels[target]]))
            pred.append(frozenset([labels[int(probs.argmax())]]))
    return gold, pred


def read_predictions(run_dir: Path, split: str) -> tuple[list, list]:
    """Gold and predicted label sets from a run's predictions/<split>.csv."""
    path = run_dir / "predictions" / f"{split}.csv"
    if not path.is_file():
        raise TunelabError(f"{path}: no such predictions file (a classification run writes one)")
    config = run_dir / ".hydra" / "config.yaml"
    separator = None
    if config.is_file():
        data = OmegaConf.to_container(OmegaConf.load(config)).get("data") or {}
        if data.get("multi_label"):
            separator = data.get("label_separator")
    gold, pred = [], []
    with path.open(newline="", encoding="utf-8") as rows:
        for line, row in enumerate(csv.DictReader(rows), start=2):
            if "gold" not in row or "pred" not in row:
                raise TunelabError(f"{path}:{line}: no gold and pred columns")
            for value, into in ((row["gold"], gold), (row["pred"], pred)):
                names = value.split(separator) if separator else [value]
                into.append(frozenset(name for name in names if name))
    return gold, pred
