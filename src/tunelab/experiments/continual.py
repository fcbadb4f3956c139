"""`tunelab-continual`: class-incremental learning, the labels (NER entity types, classes)
learnt a few at a step (for NER, ExtendNER's protocol, Monaikul et al., 2021). Each step is an
ordinary `tunelab-train` run started from the previous step's model (its labels grown,
`tunelab.models.labels`) and tested on the full test split with every label seen so far.
Writes continual.json, continual.md and continual.png: the step x label F1 matrix, average
incremental F1, final F1 and forgetting."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from tunelab import schema
from tunelab.config import build, given_overrides, hydra_command
from tunelab.data.incremental import check_present, step_order
from tunelab.errors import TunelabError
from tunelab.experiments.child_runs import overrides_of, run_once, settings_of
from tunelab.experiments.continual_report import report, write_report
from tunelab.experiments.continual_steps import (
    link_same_first_step,
    same_run,
    start_from,
    step_name,
    task_of,
)
from tunelab.models.labels import trained_labels

METHODS = {"finetune", "replay", "distill", "replay+distill", "joint"}


def step_overrides(cfg: DictConfig, index: int, previous: Path | None) -> list[str]:
    """What step `index` adds to the user's own `tunelab-train` overrides."""
    order = step_order(list(cfg.continual.order))
    seen = [kind for kinds in order[: index + 1] for kind in kinds]
    extra = overrides_of({f"data.{task_of(cfg).subset_key}": seen})
    if cfg.continual.method == "joint":  # all the data of the labels seen so far, from the base
        return extra
    method = str(cfg.continual.method)
    replay = cfg.continual.replay if "replay" in method else 0
    share = {"order": order, "index": index, "replay": replay, "seed": cfg.seed}
    extra += overrides_of({"data.step": share})
    return extra + start_from(method, previous)


def user_overrides(cfg: DictConfig) -> list[str]:
    """The command line's overrides, less the continual run's own keys."""
    return [o for o in given_overrides(cfg) if not o.lstrip("+~").startswith("continual.")]


def check_order(cfg: DictConfig) -> None:
    """One line, naming the step, for an order that cannot be learnt: an unknown method, a
    label learnt at an earlier step, a label the training split lacks, a label the starting
    model already has."""
    hooks = task_of(cfg)
    method = str(cfg.continual.method)
    if method not in METHODS:
        raise TunelabError(f"continual.method={method}: one of {', '.join(sorted(METHODS))}")
    order = step_order(list(cfg.continual.order))
    if len(order[0]) < hooks.first_step:
        raise TunelabError(
            f"continual step 0 ({'+'.join(order[0])}): a first step learns {hooks.first_step} "
            "labels or more (e.g. continual.order=[[business,sports],tech])"
        )
    first: dict[str, int] = {}
    for index, kinds in enumerate(order):
        for kind in kinds:
            if kind in first:
                raise TunelabError(
                    f"continual step {index} ({'+'.join(kinds)}): {kind} is learnt at step "
                    f"{first[kind]} already: no new label"
                )
            first[kind] = index
    present = hooks.present(build(cfg.data))
    known = trained_labels(cfg.model.model_name_or_path) or []
    for index, kinds in enumerate(order):
        try:
            check_present([kinds], present, "continual.order")
        except TunelabError as err:
            raise TunelabError(f"continual step {index} ({'+'.join(kinds)}): {err}") from None
        for kind in kinds:
            if any(name in known for name in hooks.model_labels(kind)):
                raise TunelabError(
                    f"continual step {index} ({'+'.join(kinds)}): "
                    f"{cfg.model.model_name_or_path} already labels {kind}: no new label"
                )


def run_step(cfg: DictConfig, index: int, previous: Path | None, out: Path) -> dict:
    """One step's metrics, training it first unless its run directory holds them."""
    kinds = step_order(list(cfg.continual.order))[index]
    overrides = [*user_overrides(cfg), *step_overrides(cfg, index, previous)]
    run_dir = out / step_name(index, kinds)
    by_class = task_of(cfg).by_example
    if index == 0 and not run_dir.exists():
        link_same_first_step(run_dir, overrides, by_class)
    what = f"continual step {index} ({'+'.join(kinds)})"
    same = (lambda given: same_run(settings_of(given), by_class)) if index == 0 else None
    return run_once("train", overrides, run_dir, what, same)


def continual(cfg: DictConfig) -> dict:
    """Run (or read) every step and write the report."""
    schema.check(cfg)
    if cfg.continual.get("steps"):  # one dataset a step
        from tunelab.experiments.continual_domains import domains

        return domains(cfg)
    check_order(cfg)
    out = Path(cfg.continual.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    order, steps, previous = step_order(list(cfg.continual.order)), [], None
    for index, kinds in enumerate(order):
        steps.append(run_step(cfg, index, previous, out))
        previous = out / step_name(index, kinds)
    result = report(order, steps, task_of(cfg).micro_metric)
    print(write_report(result, f"{cfg.continual.method}, seed {cfg.seed}", out))
    print(f"continual: {out}")
    return result


main = hydra_command("continual", continual)


if __name__ == "__main__":
    main()
