"""How an NER model's entities agree with the gold ones, sentence by sentence: the counts the
bootstrap (`tunelab.trust.bootstrap`) resamples, from a run or from its predictions file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tunelab.data.conll import read_conll
from tunelab.errors import TunelabError
from tunelab.tasks.ner.spans import tags_to_spans
from tunelab.trust.bootstrap import ItemCounts, f1


def entities(tags: list[str]) -> set[tuple[str, int, int]]:
    return {(span.type, span.start, span.end) for span in tags_to_spans(tags)}


def item_counts(gold: list[list[str]], pred: list[list[str]]) -> ItemCounts:
    """Per sentence: entities right, predicted and gold (conlleval's reading of the tags).
    Scores: micro precision, recall and F1."""
    counts = np.zeros((len(gold), 3))
    for row, (g, p) in enumerate(zip(gold, pred, strict=True)):
        gold_entities, pred_entities = entities(g), entities(p)
        counts[row] = len(gold_entities & pred_entities), len(pred_entities), len(gold_entities)

    def scores(sums: np.ndarray) -> dict[str, np.ndarray]:
        hits, predicted, golden = sums[:, 0], sums[:, 1], sums[:, 2]
        zero = np.zeros_like(hits)
        return {
            "precision": np.divide(hits, predicted, out=zero.copy(), where=predicted > 0),
            "recall": np.divide(hits, golden, out=zero.copy(), where=golden > 0),
            "f1": f1(hits, predicted, golden),
        }

    return ItemCounts(counts, scores)


def decisions(module, prefix: str) -> tuple[list[list[str]], list[list[str]]]:
    """Gold and predicted tags of each sentence the module's last `prefix` scoring covered."""
    predictions = module.evaluation(prefix).predictions
    done = sorted(predictions)
    return [module.references[prefix][i] for i in done], [predictions[i] for i in done]


def read_predictions(run_dir: Path, split: str) -> tuple[list, list]:
    """Gold and predicted tags from a run's predictions/<split>.conll (`word gold pred`)."""
    path = run_dir / "predictions" / f"{split}.conll"
    if not path.is_file():
        raise TunelabError(f"{path}: no such predictions file (an NER run writes one)")
    gold, pred = read_conll(str(path), tag_column=-2), read_conll(str(path), tag_column=-1)
    return [s.tags for s in gold], [s.tags for s in pred]
