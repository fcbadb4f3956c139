"""The run-directory contract: metrics.json, predictions/, report.txt, model/."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import torch

from tunelab.data.conll import Sentence
from tunelab.metrics import ner_report

log = logging.getLogger(__name__)


def summary(metrics: dict[str, float]) -> str:
    """One line with the headline test scores of either task."""
    if "test/f1_strict" in metrics:
        return f"test F1 {metrics['test/f1']:.4f} (strict {metrics['test/f1_strict']:.4f})"
    return f"test accuracy {metrics['test/acc']:.4f}, macro-F1 {metrics['test/f1_macro']:.4f}"


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


def write_confusion_matrix(run_dir: Path, matrix: torch.Tensor, labels: list[str]) -> None:
    """confusion_matrix.csv (rows gold, columns predicted) and a PNG heat map of it."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    with (run_dir / "confusion_matrix.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["gold \\ pred", *labels])
        for label, row in zip(labels, matrix.tolist(), strict=True):
            writer.writerow([label, *row])
    size = 1.5 + 0.6 * len(labels)
    figure, axes = plt.subplots(figsize=(size + 1, size))
    image = axes.imshow(matrix.numpy(), cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    for (i, j), value in zip(
        [(i, j) for i in range(len(labels)) for j in range(len(labels))],
        matrix.flatten().tolist(),
        strict=True,
    ):
        axes.text(j, i, str(value), ha="center", va="center", fontsize=8)
    figure.colorbar(image)
    figure.tight_layout()
    figure.savefig(run_dir / "confusion_matrix.png", dpi=100)
    plt.close(figure)


def write_classification_outputs(run_dir: Path, model, datamodule, split: str, metrics) -> str:
    """metrics.json, predictions/<split>.csv (text, gold, pred, prob), report.txt and, for
    single-label data, the confusion matrix."""
    from sklearn.metrics import classification_report

    run_dir.mkdir(parents=True, exist_ok=True)
    write_metrics(run_dir / "metrics.json", metrics)
    examples, targets, labels = datamodule.examples(split), datamodule.targets(split), model.labels
    separator = datamodule.hparams.label_separator
    (run_dir / "predictions").mkdir(exist_ok=True)
    gold_rows, pred_rows = [], []
    with (run_dir / "predictions" / f"{split}.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["text", "gold", "pred", "prob"])
        for index, probs in sorted(model.test_probs.items()):
            if model.multi_label:
                chosen = [i for i, p in enumerate(probs.tolist()) if p >= model.threshold]
                pred = separator.join(labels[i] for i in chosen)
                prob = min((float(probs[i]) for i in chosen), default=float(1 - probs.max()))
                pred_rows.append([int(i in chosen) for i in range(len(labels))])
                gold_rows.append([int(v) for v in targets[index]])
            else:
                best = int(probs.argmax())
                pred, prob = labels[best], float(probs[best])
                pred_rows.append(best)
                gold_rows.append(targets[index])
            writer.writerow([examples[index].text, examples[index].label, pred, f"{prob:.6f}"])
    report = classification_report(
        gold_rows,
        pred_rows,
        labels=list(range(len(labels))),
        target_names=labels,
        digits=4,
        zero_division=0,
    )
    (run_dir / "report.txt").write_text(report)
    if "test" in model.confusion:
        write_confusion_matrix(run_dir, model.confusion["test"], labels)
    return report


def write_run_outputs(run_dir: Path, model, datamodule, split: str, metrics) -> str:
    """The task's files in the run directory; returns the per-label report."""
    from tunelab.models import SequenceClassificationModule

    if isinstance(model, SequenceClassificationModule):
        return write_classification_outputs(run_dir, model, datamodule, split, metrics)
    return write_ner_outputs(
        run_dir, split, datamodule.sentences(split), model.test_predictions, metrics
    )


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A markdown table; cells are written with str() (format numbers before)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
