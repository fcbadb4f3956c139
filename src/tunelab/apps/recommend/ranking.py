"""Leave-last-out ranking: where each user's held-out item lands among its candidates, and the
two baselines every recommender is compared with."""

from __future__ import annotations

import numpy as np


def target_ranks(scores: np.ndarray) -> np.ndarray:
    """[cases] the 1-based rank of column 0 (the held-out item) in each row of `scores`; items
    scored the same as it share the places (its expected rank under a random order of ties)."""
    target = scores[:, :1]
    above = (scores[:, 1:] > target).sum(1)
    tied = (scores[:, 1:] == target).sum(1)
    return 1 + above + tied / 2


def hit_rate(ranks: np.ndarray, k: int) -> float:
    """Share of users whose held-out item is in the first k."""
    return float(np.mean(ranks <= k))


def ndcg(ranks: np.ndarray, k: int) -> float:
    """Normalised discounted cumulative gain at k with one relevant item: 1 / log2(rank + 1)
    where it is in the first k, else 0."""
    return float(np.mean(np.where(ranks <= k, 1 / np.log2(ranks + 1), 0.0)))


def likes_matrix(histories: list[tuple[str, ...]], items: list[str]) -> np.ndarray:
    """[users, items] 1 where a user liked the item (the targets are not in `histories`)."""
    column = {item: i for i, item in enumerate(items)}
    matrix = np.zeros((len(histories), len(items)), dtype=np.float32)
    for row, liked in enumerate(histories):
        matrix[row, [column[item] for item in liked]] = 1
    return matrix


def picked(scores: np.ndarray, candidates, items: list[str]) -> np.ndarray:
    """[cases, candidates] each case's candidates' scores, from `scores` by item ([items], the
    same for every case, or [cases, items])."""
    column = {item: i for i, item in enumerate(items)}
    rows = np.broadcast_to(scores, (len(candidates), len(items)))
    return np.array([[rows[u, column[c]] for c in row] for u, row in enumerate(candidates)])


def popularity_scores(histories, candidates, items: list[str]) -> np.ndarray:
    """Each candidate scored by how many users liked it."""
    return picked(likes_matrix(histories, items).sum(0), candidates, items)


def cooccurrence_scores(histories, candidates, items: list[str], shown) -> np.ndarray:
    """Each candidate scored by how often it was liked together with each of the user's `shown`
    likes (item-to-item co-occurrence, cosine-normalised so that popular items do not win
    everything), summed over those likes; counts come from every user's `histories`."""
    likes = likes_matrix(histories, items)
    counts = likes.sum(0)
    together = (likes.T @ likes) / np.sqrt(np.outer(counts, counts)).clip(min=1)
    np.fill_diagonal(together, 0)
    return picked(likes_matrix(shown, items) @ together, candidates, items)
