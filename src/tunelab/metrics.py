"""Entity-level NER scores with seqeval, in its default (conlleval) mode and in strict IOB2 mode."""

from __future__ import annotations

from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.scheme import IOB2


def ner_scores(gold: list[list[str]], pred: list[list[str]]) -> dict[str, float]:
    """Micro precision/recall/F1 in both modes, and F1 per entity type (default mode).

    Keys: `precision`, `recall`, `f1`, `precision_strict`, `recall_strict`, `f1_strict`,
    `f1_<TYPE>`.
    """
    strict = {"mode": "strict", "scheme": IOB2}
    scores = {
        "precision": precision_score(gold, pred, zero_division=0),
        "recall": recall_score(gold, pred, zero_division=0),
        "f1": f1_score(gold, pred, zero_division=0),
        "precision_strict": precision_score(gold, pred, zero_division=0, **strict),
        "recall_strict": recall_score(gold, pred, zero_division=0, **strict),
        "f1_strict": f1_score(gold, pred, zero_division=0, **strict),
    }
    per_type = classification_report(gold, pred, output_dict=True, zero_division=0)
    for kind, row in per_type.items():
        if not kind.endswith(" avg"):
            scores[f"f1_{kind}"] = row["f1-score"]
    return {key: float(value) for key, value in scores.items()}


def ner_report(gold: list[list[str]], pred: list[list[str]]) -> str:
    """Per-type seqeval reports, default mode then strict IOB2 mode."""
    default = classification_report(gold, pred, digits=4, zero_division=0)
    strict = classification_report(
        gold, pred, digits=4, zero_division=0, mode="strict", scheme=IOB2
    )
    return f"seqeval, default mode (conlleval)\n{default}\nseqeval, strict IOB2 mode\n{strict}"
