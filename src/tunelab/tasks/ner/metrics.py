"""Entity-level NER scores with seqeval, in its default (conlleval) mode and in strict IOB2 mode."""

from __future__ import annotations

from seqeval.metrics import classification_report
from seqeval.scheme import IOB2


def ner_scores(gold: list[list[str]], pred: list[list[str]]) -> dict[str, float]:
    """Micro precision/recall/F1 in both modes, and F1 per entity type (default mode).

    Keys: `precision`, `recall`, `f1`, `precision_strict`, `recall_strict`, `f1_strict`,
    `f1_<TYPE>`. One seqeval report per mode holds all of them (its `micro avg` row is the micro
    score), so the entities are extracted twice, not seven times.
    """
    default = classification_report(gold, pred, output_dict=True, zero_division=0)
    strict = classification_report(
        gold, pred, output_dict=True, zero_division=0, mode="strict", scheme=IOB2
    )
    scores = {}
    for suffix, report in (("", default), ("_strict", strict)):
        micro = report.get("micro avg", {})
        scores[f"precision{suffix}"] = micro.get("precision", 0.0)
        scores[f"recall{suffix}"] = micro.get("recall", 0.0)
        scores[f"f1{suffix}"] = micro.get("f1-score", 0.0)
    for kind, row in default.items():
        if not kind.endswith(" avg"):
            scores[f"f1_{kind}"] = row["f1-score"]
    return {key: float(value) for key, value in scores.items()}


def ner_report(gold: list[list[str]], pred: list[list[str]]) -> str:
    """Per-type seqeval reports, default mode then strict IOB2 mode; one table when the two
    readings agree to the last digit (well-formed tags mostly), rather than the same table twice."""
    default = classification_report(gold, pred, digits=4, zero_division=0)
    strict = classification_report(
        gold, pred, digits=4, zero_division=0, mode="strict", scheme=IOB2
    )
    if default == strict:
        return f"seqeval, default mode (conlleval) and strict IOB2 mode agree\n{default}"
    return f"seqeval, default mode (conlleval)\n{default}\nseqeval, strict IOB2 mode\n{strict}"
