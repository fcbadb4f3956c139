"""Abstaining: the confidence below which a model says "unsure", chosen on dev for a target
precision of the answered (`tunelab-eval ... abstain.precision=0.95`) or share answered
(`abstain.coverage=0.8`), saved beside the model as abstain.json
and applied by predict, serve and the Python API. The assistant picks its threshold the same way.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from tunelab.errors import TunelabError

FILE = "abstain.json"


def answered_scores(confidence: np.ndarray, correct: np.ndarray, threshold: float) -> dict:
    """Precision of the answered texts (confidence >= threshold) and the share answered."""
    answered = confidence >= threshold
    count = int(answered.sum())
    precision = float(correct[answered].mean()) if count else float("nan")
    return {"precision": precision, "answered": count / len(confidence), "count": count}


def threshold_for_precision(confidence: np.ndarray, correct: np.ndarray, target: float) -> float:
    """The lowest threshold whose answered texts are at least `target` precise (the most texts
    answered at that precision); texts of equal confidence are answered or not together.
    Above every confidence (nothing answered) when no threshold reaches the target."""
    order = np.argsort(-confidence, kind="stable")
    sorted_conf, hits = confidence[order], np.cumsum(correct[order])
    # a cut is only possible after the last of a run of equal confidences
    last_of_run = np.append(sorted_conf[1:] != sorted_conf[:-1], True)
    answered = np.arange(1, len(order) + 1)
    reaching = np.flatnonzero(last_of_run & (hits / answered >= target))
    if not len(reaching):
        return float(np.nextafter(confidence.max(), np.inf))
    return float(sorted_conf[reaching[-1]])


def threshold_for_coverage(confidence: np.ndarray, coverage: float) -> float:
    """The highest threshold that answers at least `coverage` of the texts (ties answered
    together, so a little more may be answered)."""
    ranked = np.sort(confidence)[::-1]
    return float(ranked[max(math.ceil(coverage * len(ranked)), 1) - 1])


def choose(module, precision: float | None = None, coverage: float | None = None) -> dict:
    """The threshold for `precision` of the answered (or for answering `coverage` of them) on
    the module's last dev (`val`) scoring, at its temperature, and what it gives there."""
    if (precision is None) == (coverage is None):
        raise TunelabError("abstain: give abstain.precision=P or abstain.coverage=C, not both")
    name, share = ("precision", precision) if precision is not None else ("coverage", coverage)
    if not 0 < share <= 1:
        raise TunelabError(f"abstain.{name}={share!r}; give a share in (0, 1]")
    why = module.uncalibrated_reason()
    if why:
        raise TunelabError(f"abstain: {why}")
    confidence, correct = module.decision_events("val", module.temperature)
    if not len(confidence):
        raise TunelabError("abstain: the dev split gave no decisions to choose a threshold on")
    if precision is not None:
        threshold = threshold_for_precision(confidence, correct, precision)
    else:
        threshold = threshold_for_coverage(confidence, coverage)
    dev = answered_scores(confidence, correct, threshold)
    return {
        "threshold": threshold,
        f"{name}_target": share,
        "dev_precision": dev["precision"],
        "dev_answered": dev["answered"],
    }


def test_scores(module, threshold: float, prefix: str = "test") -> dict[str, float]:
    """metrics.json keys: the precision of the answered decisions and the share answered."""
    scores = answered_scores(*module.decision_events(prefix, module.temperature), threshold)
    return {
        f"{prefix}/abstain_precision": scores["precision"],
        f"{prefix}/answered": scores["answered"],
    }


def save(model_dir: str, settings: dict) -> Path:
    path = Path(model_dir) / FILE
    path.write_text(json.dumps(settings, indent=2) + "\n")
    return path


def load(model_dir: str) -> float | None:
    """The saved threshold of a model; None where it has none."""
    path = Path(model_dir) / FILE
    if not path.is_file():
        return None
    try:
        threshold = json.loads(path.read_text())["threshold"]
    except (ValueError, KeyError, TypeError) as err:
        raise TunelabError(f"{path}: not an abstain file ({err})") from None
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or math.isnan(threshold)
    ):
        raise TunelabError(f"{path}: threshold {threshold!r} is not a number")
    return float(threshold)


def mark_unsure(records: list[dict], threshold: float) -> list[dict]:
    """`unsure: true` on each text (classification: its label's probability) or entity (NER: its
    score) below the threshold, `false` on the others."""
    for record in records:
        if "entities" in record:
            for entity in record["entities"]:
                entity["unsure"] = entity["score"] < threshold
        elif "label" in record:
            record["unsure"] = record["probabilities"][record["label"]] < threshold
    return records
