"""Calibration, abstaining and bootstrap error bars, on hand-made numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from tunelab.tasks.classification.agreement import item_counts as label_counts
from tunelab.tasks.ner.agreement import item_counts as entity_counts
from tunelab.trust import abstain, bootstrap
from tunelab.trust.calibration import brier, fit_temperature, reliability_bins


def test_reliability_bins_and_ece():
    confidences = [0.95, 0.95, 0.55, 0.55, 0.55, 0.55]
    correct = [True, True, True, False, False, True]
    centres, accuracies, counts, ece = reliability_bins(confidences, correct)
    assert centres == pytest.approx([0.55, 0.95]) and counts == [4, 2]
    assert accuracies == [0.5, 1.0]
    assert ece == pytest.approx(4 / 6 * 0.05 + 2 / 6 * 0.05)
    assert reliability_bins([1.0], [True])[2] == [1]  # confidence 1 falls in the last bin
    assert brier([1.0, 0.5], [True, False]) == pytest.approx((0 + 0.25) / 2)


def test_temperature_recovers_the_one_that_made_the_data():
    """Decisions whose true confidence is sigmoid(z) but reported as sigmoid(3 z): the fitted
    temperature brings them back (about 3)."""
    rng = np.random.default_rng(0)
    z = rng.normal(1.0, 1.0, 20_000)
    right = rng.random(len(z)) < 1 / (1 + np.exp(-z))

    def events(t):
        return 1 / (1 + np.exp(-3 * z / t)), right

    assert fit_temperature(events) == pytest.approx(3.0, rel=0.05)


def test_bootstrap_interval_of_accuracy_is_the_binomial_one():
    """A resample of n texts with k right draws Binomial(n, k/n) right ones: the percentile
    interval of accuracy is that distribution's 2.5% and 97.5% quantiles (divided by n)."""
    n, k = 40, 30
    gold = [frozenset(["a"])] * n
    pred = [frozenset(["a"])] * k + [frozenset(["b"])] * (n - k)
    found = bootstrap.intervals(label_counts(gold, pred), "test", resamples=20_000)
    low, high = binom.ppf([0.025, 0.975], n, k / n) / n
    assert found["test/acc_ci95_low"] == pytest.approx(low, abs=1 / n + 1e-9)
    assert found["test/acc_ci95_high"] == pytest.approx(high, abs=1 / n + 1e-9)
    assert found["test/acc_ci95_low"] < k / n < found["test/acc_ci95_high"]


def test_counts_give_the_scores_of_the_split():
    gold = [frozenset(["a"]), frozenset(["b"]), frozenset(["b"]), frozenset(["c"])]
    pred = [frozenset(["a"]), frozenset(["b"]), frozenset(["a"]), frozenset(["a"])]
    point = label_counts(gold, pred).point()
    # a: 1 hit, 3 predicted, 1 gold -> 0.5; b: 1, 1, 2 -> 2/3; c: 0, 0, 1 -> 0
    assert point == pytest.approx({"acc": 0.5, "f1_macro": (0.5 + 2 / 3 + 0) / 3})
    tags = [["B-PER", "I-PER", "O"], ["B-LOC", "O", "B-ORG"]]
    guess = [["B-PER", "I-PER", "O"], ["B-LOC", "O", "O"]]
    point = entity_counts(tags, guess).point()
    assert point == pytest.approx({"precision": 1.0, "recall": 2 / 3, "f1": 0.8})


def test_paired_difference_says_better_worse_or_no_clear_difference():
    gold = [frozenset(["a"])] * 200
    strong = label_counts(gold, [frozenset(["a"])] * 190 + [frozenset(["b"])] * 10)
    weak = label_counts(gold, [frozenset(["a"])] * 120 + [frozenset(["b"])] * 80)
    assert bootstrap.paired_difference(strong, weak, "acc").verdict == "better"
    assert bootstrap.paired_difference(weak, strong, "acc").verdict == "worse"
    # the same mistakes on different texts, as two seeds might make: no clear difference
    other = label_counts(gold, [frozenset(["b"])] * 10 + [frozenset(["a"])] * 190)
    same = bootstrap.paired_difference(strong, other, "acc")
    assert same.verdict == "no clear difference" and same.difference == 0
    assert same.low < 0 < same.high


def test_abstain_marks_texts_and_entities_below_the_threshold(tmp_path):
    records = [
        {"text": "x", "label": "a", "probabilities": {"a": 0.9, "b": 0.1}},
        {"text": "y", "label": "b", "probabilities": {"a": 0.4, "b": 0.6}},
        {"text": "z", "entities": [{"score": 0.5}, {"score": 0.95}]},
    ]
    abstain.mark_unsure(records, 0.7)
    assert [records[0]["unsure"], records[1]["unsure"]] == [False, True]
    assert [e["unsure"] for e in records[2]["entities"]] == [True, False]
    assert abstain.load(str(tmp_path)) is None
    abstain.save(str(tmp_path), {"threshold": 0.7})
    assert abstain.load(str(tmp_path)) == 0.7
    (tmp_path / abstain.FILE).write_text('{"threshold": "high"}')
    with pytest.raises(Exception, match="is not a number"):
        abstain.load(str(tmp_path))
    assert math.isclose(
        abstain.answered_scores(np.array([0.9, 0.6]), np.array([1, 0]), 0.7)["answered"], 0.5
    )


def test_threshold_for_coverage_answers_at_least_that_share():
    confidence = np.array([0.9, 0.8, 0.8, 0.6, 0.3])
    assert abstain.threshold_for_coverage(confidence, 0.4) == 0.8  # 3 of 5 answered (a tie)
    assert abstain.threshold_for_coverage(confidence, 0.2) == 0.9
    assert abstain.threshold_for_coverage(confidence, 1.0) == 0.3
