"""Classification's run-directory files: predictions/<split>.csv, the per-class report and the
confusion matrix."""

from __future__ import annotations

import csv
from pathlib import Path

import torch


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


def write_outputs(run_dir: Path, module, datamodule, split: str) -> str:
    """predictions/<split>.csv (text, gold, pred, prob), report.txt and, for single-label data,
    the confusion matrix; returns the report."""
    from sklearn.metrics import classification_report

    examples, targets, labels = datamodule.examples(split), datamodule.targets(split), module.labels
    separator = datamodule.hparams.label_separator
    (run_dir / "predictions").mkdir(parents=True, exist_ok=True)
    gold_rows, pred_rows = [], []
    with (run_dir / "predictions" / f"{split}.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["text", "gold", "pred", "prob"])
        for index, probs in sorted(module.test_probs.items()):
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
    if "test" in module.confusion:
        write_confusion_matrix(run_dir, module.confusion["test"], labels)
    return report
