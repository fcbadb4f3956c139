"""Class-incremental learning data, shared by the tasks: an order of steps, each a list of the
labels (entity types, classes) learnt in it; every training example belongs to at most one step."""

from __future__ import annotations

import random

from tunelab.errors import TunelabError


def step_order(order: list) -> list[list[str]]:
    """Each step's labels: a name alone is a step of one."""
    return [[str(k)] if isinstance(k, str) else [str(x) for x in k] for k in order]


def step_share(steps: list[int | None], step: int, count: int, replay: int, seed: int) -> list[int]:
    """Indices of the examples of `step` (of `count`; each example's step in `steps`, None: of
    no step), then up to `replay` of the earlier steps' examples drawn at random (seeded): a
    replay memory."""
    if not 0 <= step < count:
        raise TunelabError(f"continual step {step} is outside the order's {count} steps")
    own = [i for i, k in enumerate(steps) if k == step]
    earlier = [i for i, k in enumerate(steps) if k is not None and k < step]
    rng = random.Random(f"replay:{seed}:{step}")
    return own + sorted(rng.sample(earlier, min(replay, len(earlier))))


def check_present(order: list[list[str]], present: set[str], what: str) -> None:
    """One line naming a label of the order that the training split lacks."""
    missing = [k for kinds in order for k in kinds if k not in present]
    if missing:
        raise TunelabError(
            f"{what} names {', '.join(missing)}, not a label of the training split "
            f"({', '.join(sorted(present))})"
        )
