"""What every step of a continual run shares, whatever it adds (labels or a dataset): the task's
hooks, the start from the previous step's model, and a first step shared between methods."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from omegaconf import DictConfig

from tunelab import tasks
from tunelab.errors import TunelabError
from tunelab.experiments.child_runs import overrides_of, recorded_overrides
from tunelab.tasks import Incremental

log = logging.getLogger("tunelab")


def task_of(cfg: DictConfig) -> Incremental:
    """How the config's task learns labels a step at a time (its `tunelab.tasks.Task` hooks)."""
    hooks = tasks.get(str(cfg.get("task"))).continual
    if hooks is None:
        raise TunelabError(
            f"tunelab-continual learns NER types or classes; task {cfg.get('task')} has no "
            "labels to learn a step at a time: give NER or classification data"
        )
    return hooks


def step_name(index: int, kinds: list[str]) -> str:
    return f"step{index}-{'+'.join(kinds)}"


def start_from(method: str, previous: Path | None) -> list[str]:
    """A later step starts from the previous step's model, which also teaches when distilling."""
    if previous is None or method == "joint":  # joint starts each step from the base model
        return []
    model = str(previous / "model")
    # `++`: the classification config has no teacher key
    teacher = {"++model.teacher": model} if "distill" in method else {}
    return overrides_of({"model.model_name_or_path": model, **teacher})


def same_run(overrides: list[str], by_class: bool = False) -> list[str]:
    """Overrides less those that cannot change a first step: the replay budget (nothing
    earlier to replay), the distillation settings (no teacher yet) and Hydra's own. With
    `by_class`, the step's share too: a classifier's first share is the texts of its classes,
    which `data.classes` (joint's only cut) reads alike; NER's first share is a part of the
    sentences, whereas joint reads them all."""
    drop = ("hydra.", "model.distill_", *(("data.step=",) if by_class else ()))
    kept = [o for o in overrides if not o.lstrip("+~").startswith(drop)]
    return [re.sub(r"replay:\d+", "replay:0", o) if o.startswith("data.step=") else o for o in kept]


def link_same_first_step(run_dir: Path, overrides: list[str], by_class: bool = False) -> None:
    """A first step is the same run for several methods (no earlier step to replay or distil
    from): link another method's finished one, with the same seed and overrides, instead of
    training it again (`by_class`: see `same_run`)."""
    for other in sorted(run_dir.parent.parent.glob(f"*/{run_dir.name}")):
        if other.parent == run_dir.parent or not (other / "metrics.json").is_file():
            continue
        done = recorded_overrides(other)
        if done is not None and same_run(done, by_class) == same_run(overrides, by_class):
            run_dir.parent.mkdir(parents=True, exist_ok=True)
            run_dir.symlink_to(Path("..") / other.parent.name / other.name)
            log.info("continual step 0: the same run as %s, linked", other)
            return
