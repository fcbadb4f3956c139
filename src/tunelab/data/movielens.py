"""MovieLens-100k as text pairs, split leave-last-out.

Each user's ratings are read in time order; a rating of 4 or 5 is a like. The last like is the
test target, the one before it the dev target, and the likes before those are training targets.
A target's first text is the user's history (the last `history` likes before it, one
"Title (year): genres" each), its second the target item; negatives pair the same history with
items the user never rated. Ranking (`tunelab recommend`) puts each test target among 99 items the
user never rated (`ranking_cases`)."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from tunelab.data import registry
from tunelab.data.tables import Example

LIKED = 4  # a rating of at least this is a like
HISTORY, NEGATIVES, PER_USER = 5, 3, 10  # likes shown; unrated items a target; targets a user
CANDIDATES = 99  # unrated items ranked with each test target
LABELS = ("liked", "other")
SEED = 13  # fixed: the split and the sampled items are part of the corpus definition


@dataclass(frozen=True)
class User:
    likes: tuple[str, ...]  # item ids liked, in time order
    rated: frozenset[str]  # every item rated


@cache
def ratings() -> tuple[dict[str, User], dict[str, str]]:
    """Users (who liked at least three items) and each item's text."""
    items = {}
    path = registry.locate(registry.MOVIELENS_ITEMS)
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        item, title, year, genres = line.split("\t")
        items[item] = f"{title} ({year}): {genres}" if year else f"{title}: {genres}"
    events = defaultdict(list)
    path = registry.locate(registry.MOVIELENS_RATINGS)
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        user, item, rating, time = line.split("\t")
        events[user].append((float(time), int(item), float(rating)))
    users = {}
    for user, rows in events.items():
        rows.sort()
        likes = tuple(str(item) for _, item, rating in rows if rating >= LIKED)
        if len(likes) >= 3:
            users[user] = User(likes, frozenset(str(item) for _, item, _ in rows))
    return users, items


def history_text(likes: list[str], items: dict[str, str]) -> str:
    return "; ".join(items[item] for item in likes)


def unrated(user: User, items: dict[str, str], count: int, rng: random.Random) -> list[str]:
    """`count` distinct items the user never rated."""
    pool = sorted(set(items) - user.rated, key=int)
    return rng.sample(pool, count)


def targets(user: User, split: str, per_user: int) -> list[int]:
    """Positions in `user.likes` of the split's targets (each with a like before it)."""
    last = len(user.likes) - 1
    if split == "test":
        return [last]
    if split == "dev":
        return [last - 1]
    return list(range(max(1, last - 1 - per_user), last - 1))


def pair_examples(split: str) -> list[Example]:
    """Labelled text pairs of a split: each target `liked`, and NEGATIVES unrated items
    `other`, with the same history (the last HISTORY likes; at most PER_USER targets a user
    in training)."""
    users, items = ratings()
    examples = []
    for user_id in sorted(users, key=int):
        user = users[user_id]
        rng = random.Random(f"{SEED}-{split}-{user_id}")
        for position in targets(user, split, PER_USER):
            before = history_text(shown(user, position), items)
            chosen = [user.likes[position], *unrated(user, items, NEGATIVES, rng)]
            for rank, item in enumerate(chosen):
                label = LABELS[0] if rank == 0 else LABELS[1]
                examples.append(Example(before, label, items[item], f"<movielens user {user_id}>"))
    return examples


def shown(user: User, position: int) -> list[str]:
    """The likes a target's history shows: the last HISTORY before it."""
    return list(user.likes[max(0, position - HISTORY) : position])


@dataclass(frozen=True)
class RankingCase:
    user: str
    likes: tuple[str, ...]  # every like before the target, in time order
    candidates: tuple[str, ...]  # the target first, then CANDIDATES unrated items


def ranking_cases() -> list[RankingCase]:
    """Each user's test target with CANDIDATES items the user never rated."""
    users, items = ratings()
    cases = []
    for user_id in sorted(users, key=int):
        user = users[user_id]
        rng = random.Random(f"{SEED}-rank-{user_id}")
        last = len(user.likes) - 1
        others = unrated(user, items, CANDIDATES, rng)
        cases.append(RankingCase(user_id, user.likes[:last], (user.likes[last], *others)))
    return cases
