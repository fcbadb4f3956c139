"""Temperature scaling: one number fitted on dev that makes a model's confidence mean what it says.

A task module reduces its outputs to decisions (a text's label, an entity) with a confidence that
depends on a temperature T (`decision_events(prefix, T)`: the probabilities are softmax(logits /
T)); the decisions themselves never change with T, so scores stay the same. T is fitted on the
dev split by the likelihood of those decisions being right, then used for every probability the
model reports (predictions, serving, the API).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar

from tunelab.training import plots

log = logging.getLogger(__name__)
BINS = 10
LOWEST, HIGHEST = 0.05, 20.0  # the temperatures searched: far past any fitted in practice


def reliability_bins(confidence, correct, bins: int = BINS) -> tuple[list, list, list, float]:
    """(bin centres, accuracy per bin, decisions per bin, expected calibration error) over
    equal-width confidence bins, empty bins left out. ECE: the gap between a bin's accuracy
    and its mean confidence, weighted by its share of the decisions."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    centres, accuracies, counts, ece = [], [], [], 0.0
    for b in range(bins):
        inside = index == b
        if inside.any():
            accuracy = float(correct[inside].mean())
            ece += abs(accuracy - confidence[inside].mean()) * inside.sum() / len(confidence)
            centres.append((b + 0.5) / bins)
            accuracies.append(accuracy)
            counts.append(int(inside.sum()))
    return centres, accuracies, counts, float(ece)


def brier(confidence, correct) -> float:
    """Mean squared gap between each decision's confidence and whether it was right."""
    gap = np.asarray(confidence, float) - np.asarray(correct, float)
    return float(np.mean(gap**2)) if len(gap) else 0.0


def decision_nll(confidence, correct) -> float:
    """Mean negative log-likelihood of the decisions being right or wrong, as confident as said."""
    p = np.clip(np.asarray(confidence, float), 1e-12, 1 - 1e-12)
    right = np.asarray(correct, bool)
    return float(-np.mean(np.where(right, np.log(p), np.log1p(-p)))) if len(p) else 0.0


def fit_temperature(events) -> float:
    """The temperature that best explains dev's decisions: `events(T) -> (confidence, correct)`."""
    result = minimize_scalar(
        lambda log_t: decision_nll(*events(math.exp(log_t))),
        bounds=(math.log(LOWEST), math.log(HIGHEST)),
        method="bounded",
        options={"xatol": 1e-4},
    )
    return float(math.exp(result.x))


def calibration_scores(module, prefix: str) -> dict[str, float]:
    """`<prefix>/ece`, `<prefix>/brier` and the mean confidence of the module's last scoring of
    `prefix`, at its temperature; none for a model whose confidence is not calibrated. ECE is at
    least |mean confidence - share right|: a split harder than dev keeps that much."""
    if module.uncalibrated_reason() or not module.evaluation(prefix).outputs:
        return {}
    events = module.decision_events(prefix, module.temperature)
    return {
        f"{prefix}/ece": reliability_bins(*events)[3],
        f"{prefix}/brier": brier(*events),
        # against the share of decisions right (accuracy; NER: precision), what ECE can't go under
        f"{prefix}/mean_confidence": float(np.mean(events[0])) if len(events[0]) else 0.0,
    }


def calibrate(module, run_dir: Path | None) -> dict[str, float]:
    """Fit the module's temperature on its last `val` scoring and apply it; the test split's
    expected calibration error and Brier score before and after (metrics.json keys), and
    reliability.png (before and after) in `run_dir`. A module that cannot be calibrated
    (`uncalibrated_reason()`, e.g. multi-label) keeps temperature 1 and says why once."""
    why = module.uncalibrated_reason()
    if why:
        log.info("calibration: none (%s)", why)
        return {}
    if not module.evaluation("val").outputs or not module.evaluation("test").outputs:
        return {}
    temperature = fit_temperature(lambda t: module.decision_events("val", t))
    before = module.decision_events("test", 1.0)
    module.set_temperature(temperature)
    after = module.decision_events("test", temperature)
    metrics = {
        "model/temperature": temperature,
        "test/ece_before": reliability_bins(*before)[3],
        "test/brier_before": brier(*before),
        **calibration_scores(module, "test"),
    }
    log.info(
        "calibration: temperature %.3f fitted on dev; test ECE %.4f -> %.4f, Brier %.4f -> %.4f",
        temperature,
        metrics["test/ece_before"],
        metrics["test/ece"],
        metrics["test/brier_before"],
        metrics["test/brier"],
    )
    if run_dir is not None and len(before[0]):
        named = {"before": before, f"after (T = {temperature:.2f})": after}
        series = {name: reliability_bins(*events) for name, events in named.items()}
        picture = plots.reliability(run_dir / plots.FOLDER / "reliability.png", series)
        (run_dir / "reliability.png").write_bytes(picture.read_bytes())
    return metrics
