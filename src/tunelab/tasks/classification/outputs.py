"""Classification's run-directory files: predictions/<split>.csv, the per-class report and the
confusion matrix."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import torch

from tunelab.training import plots


def write_confusion_matrix(run_dir: Path, matrix: torch.Tensor, labels: list[str]) -> None:
    """confusion_matrix.csv (rows gold, columns predicted) and a heat map of it
    (confusion_matrix.png, also in plots/)."""
    with (run_dir / "confusion_matrix.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["gold \\ pred", *labels])
        for label, row in zip(labels, matrix.tolist(), strict=True):
            writer.writerow([label, *row])
    picture = plots.heat_map(
        run_dir / plots.FOLDER / "confusion_matrix.png", matrix.tolist(), labels
    )
    shutil.copyfile(picture, run_dir / "confusion_matrix.png")


def write_outputs(run_dir: Path, module, datamodule, split: str) -> str:
    """predictions/<split>.csv (text, gold, pred, prob), report.txt and, for single-label data,
    the confusion matrix; returns the report."""
    from sklearn.metrics import classification_report

    examples, targets, labels = datamodule.examples(split), datamodule.targets(split), module.labels
    tested = module.evaluation("test")
    separator = datamodule.reading.label_separator
    (run_dir / "predictions").mkdir(parents=True, exist_ok=True)
    gold_rows, pred_rows = [], []
    with (run_dir / "predictions" / f"{split}.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["text", "gold", "pred", "prob"])
        for index, probs in sorted(tested.predictions.items()):
            if module.multi_label:
                chosen = [i for i, p in enumerate(probs.tolist()) if p >= module.threshold]
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
    if tested.confusion is not None:
        write_confusion_matrix(run_dir, tested.confusion, labels)
    return report
