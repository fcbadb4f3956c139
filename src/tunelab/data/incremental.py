"""Class-incremental learning data, shared by the tasks: an order of steps, each a list of the
labels (entity types, classes) learnt in it; every training example belongs to at most one step."""

from __future__ import annotations

import random
from collections.abc import Sequence

from tunelab.errors import TunelabError


def step_order(order, what: str = "continual.order") -> list[list[str]]:
    """Each step's labels: a name alone is a step of one (a number is a name too: Hydra reads
    `0` as one).

    Raises:
        TunelabError: an empty order, or a step that is not a name or a list of names.
    """
    if isinstance(order, str | bytes) or not isinstance(order, Sequence) or not order:
        raise TunelabError(f"{what}={order!r}: list the labels to learn, a step each")
    steps = []
    for index, step in enumerate(order):
        names = [step] if not isinstance(step, Sequence) or isinstance(step, str) else list(step)
        plain = all(isinstance(n, str | int) and not isinstance(n, bool) for n in names)
        if not names or not plain or any(not str(n).strip() for n in names):
            raise TunelabError(
                f"{what}[{index}]={step!r}: a step is a label name or a list of label names"
            )
        steps.append([str(n) for n in names])
    return steps


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
