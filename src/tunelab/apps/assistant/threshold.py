"""The confidence below which an assistant says "unsure": chosen on dev for a target precision."""

from __future__ import annotations

import numpy as np


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
