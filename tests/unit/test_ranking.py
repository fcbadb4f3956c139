"""Leave-last-out ranking metrics and baselines on cases small enough to compute by hand."""

import numpy as np
import pytest

from tunelab.apps.recommend.ranking import (
    cooccurrence_scores,
    hit_rate,
    ndcg,
    popularity_scores,
    target_ranks,
)


def test_ranks_put_ties_half_way_and_the_metrics_follow():
    scores = np.array(
        [
            [0.9, 0.1, 0.2, 0.3],  # first
            [0.5, 0.6, 0.7, 0.1],  # third
            [0.5, 0.5, 0.1, 0.1],  # tied with one: 1.5
        ]
    )
    ranks = target_ranks(scores)
    assert ranks.tolist() == [1.0, 3.0, 1.5]
    assert hit_rate(ranks, 1) == pytest.approx(1 / 3)
    assert hit_rate(ranks, 2) == pytest.approx(2 / 3)
    expected = (1 / np.log2(2) + 0 + 1 / np.log2(2.5)) / 3
    assert ndcg(ranks, 2) == pytest.approx(expected)


def test_popularity_counts_likes_and_cooccurrence_is_cosine_normalised():
    items = ["a", "b", "c", "d"]
    histories = [("a", "b"), ("a", "b", "c"), ("a", "c"), ("d",)]
    candidates = [("b", "c", "d")]
    assert popularity_scores(histories, candidates, items).tolist() == [[2, 2, 1]]
    # a user who liked "a": a-b together 2 times (a liked 3, b 2), a-c 2 (c 2), a-d never
    scores = cooccurrence_scores(histories, candidates, items, [("a",)])
    assert scores[0].tolist() == pytest.approx([2 / 6**0.5, 2 / 6**0.5, 0.0])
