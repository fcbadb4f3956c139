"""Error bars by the bootstrap: resample a test split's items (texts, sentences) with replacement,
score each resample, and read the 2.5th and 97.5th percentiles; paired, for two runs scored on
the same items, the interval of their difference.

A task reduces each item to a few counts whose sums give its scores (`ItemCounts`: a text's
right/wrong and per-label hits, a sentence's entity hits): a resample is then a weighted sum,
so 1,000 resamples take a matrix product rather than 1,000 scorings. Written here because
scikit-learn and torchmetrics resample by rescoring, seconds per resample on NER.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

RESAMPLES, SEED, LEVEL = 1000, 0, 0.95
CHUNK = 100  # resamples weighed at once: bounds memory on long splits


@dataclass
class ItemCounts:
    """counts: [items, k] per-item counts; scores: `[resamples, k] sums -> {name: [resamples]}`,
    the task's headline scores from summed counts."""

    counts: np.ndarray
    scores: Callable[[np.ndarray], dict[str, np.ndarray]]

    def point(self) -> dict[str, float]:
        """The scores of the split itself."""
        return {k: float(v[0]) for k, v in self.scores(self.counts.sum(0)[None]).items()}


def resampled_sums(counts: list[np.ndarray], resamples: int, seed: int):
    """For each chunk of resamples: the summed counts of each array in `counts` (all over the
    same items) under the same resampled items."""
    items = len(counts[0])
    rng = np.random.default_rng(seed)
    uniform = np.full(items, 1.0 / items)
    for start in range(0, resamples, CHUNK):
        weights = rng.multinomial(items, uniform, size=min(CHUNK, resamples - start))
        yield [weights @ c for c in counts]


def distribution(counts: ItemCounts, resamples: int = RESAMPLES, seed: int = SEED):
    """{score name: [resamples] values}."""
    parts: dict[str, list[np.ndarray]] = {}
    for (sums,) in resampled_sums([counts.counts], resamples, seed):
        for name, values in counts.scores(sums).items():
            parts.setdefault(name, []).append(values)
    return {name: np.concatenate(values) for name, values in parts.items()}


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def intervals(
    counts: ItemCounts, prefix: str, resamples: int = RESAMPLES, seed: int = SEED
) -> dict[str, float]:
    """metrics.json keys `<prefix>/<score>_ci95_low` and `_ci95_high` for each headline score."""
    if not len(counts.counts):
        return {}
    found = {}
    for name, values in distribution(counts, resamples, seed).items():
        low, high = percentile_interval(values)
        found[f"{prefix}/{name}_ci95_low"], found[f"{prefix}/{name}_ci95_high"] = low, high
    return found


@dataclass
class Difference:
    """Run A's score minus run B's on the same items, with its paired bootstrap interval."""

    metric: str
    a: float
    b: float
    low: float
    high: float

    @property
    def difference(self) -> float:
        return self.a - self.b

    @property
    def verdict(self) -> str:
        """`better` / `worse` (A against B) when the interval leaves out 0."""
        if self.low > 0:
            return "better"
        if self.high < 0:
            return "worse"
        return "no clear difference"


def paired_difference(
    a: ItemCounts, b: ItemCounts, metric: str, resamples: int = RESAMPLES, seed: int = SEED
) -> Difference:
    """A's `metric` minus B's, resampling the same items for both."""
    values = []
    for sums_a, sums_b in resampled_sums([a.counts, b.counts], resamples, seed):
        values.append(a.scores(sums_a)[metric] - b.scores(sums_b)[metric])
    low, high = percentile_interval(np.concatenate(values))
    return Difference(metric, a.point()[metric], b.point()[metric], low, high)


def f1(hits: np.ndarray, predicted: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """2 hits / (predicted + gold), 0 where both are 0."""
    total = predicted + gold
    return np.divide(2 * hits, total, out=np.zeros_like(total, dtype=float), where=total > 0)


def error_bars(task, module, prefix: str = "test") -> dict[str, float]:
    """The 95% intervals of the task's scores on the module's last `prefix` scoring (none for
    a task without `agreement`)."""
    if task.agreement is None or not module.evaluation(prefix).predictions:
        return {}
    gold, pred = task.agreement.decisions(module, prefix)
    return intervals(task.agreement.item_counts(gold, pred), prefix)
