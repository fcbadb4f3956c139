"""The run-directory contract: metrics.json, predictions/, report.txt, model/."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from tunelab.data.conll import Sentence
from tunelab.metrics import ner_report

log = logging.getLogger(__name__)


def write_metrics(path: Path, metrics: dict[str, float]) -> None:
    """Flat `{"val/f1": ..., "test/f1": ...}`, keys sorted, as plain floats."""
    clean = {key: float(value) for key, value in sorted(metrics.items())}
    path.write_text(json.dumps(clean, indent=2) + "\n")


def write_conll_predictions(
    path: Path, sentences: list[Sentence], predictions: dict[int, list[str]]
) -> None:
    """`word gold pred` per line, a blank line between sentences, in input order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for index in sorted(predictions):
            sentence = sentences[index]
            for word, gold, pred in zip(
                sentence.words, sentence.tags, predictions[index], strict=True
            ):
                out.write(f"{word} {gold} {pred}\n")
            out.write("\n")


def write_ner_outputs(
    run_dir: Path,
    split: str,
    sentences: list[Sentence],
    predictions: dict[int, list[str]],
    metrics: dict[str, float],
) -> str:
    """Write metrics.json, predictions/<split>.conll and report.txt; return the report."""
    run_dir.mkdir(parents=True, exist_ok=True)
    if len(predictions) < len(sentences):
        log.warning(
            "%d of %d %s sentences were predicted (limited batches); files cover those only",
            len(predictions),
            len(sentences),
            split,
        )
    write_metrics(run_dir / "metrics.json", metrics)
    write_conll_predictions(run_dir / "predictions" / f"{split}.conll", sentences, predictions)
    order = sorted(predictions)
    report = ner_report([sentences[i].tags for i in order], [predictions[i] for i in order])
    (run_dir / "report.txt").write_text(report)
    return report
