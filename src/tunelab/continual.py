"""`tunelab-continual`: class-incremental learning, the labels (NER entity types, classes)
learnt a few at a step (for NER, ExtendNER's protocol, Monaikul et al., 2021). Each step is an
ordinary `tunelab-train` run started from the previous step's model (its labels grown,
`tunelab.models.labels`) and tested on the full test split with every label seen so far.
Writes continual.json, continual.md and continual.png: the step x label F1 matrix, average
incremental F1, final F1 and forgetting."""

from __future__ import annotations

import json
import logging
import re
import statistics
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from tunelab import schema
from tunelab.child_runs import recorded_overrides, run_once, settings_of
from tunelab.config import CONFIG_DIR, build, exit_on_user_error
from tunelab.data.incremental import check_present, step_order
from tunelab.errors import TunelabError
from tunelab.models.labels import trained_labels
from tunelab.rundir import markdown_table
from tunelab.tasks.ner.incremental import entity_types

log = logging.getLogger("tunelab")
METHODS = {"finetune", "replay", "distill", "replay+distill", "joint"}
# per task: the data key that reads only the labels seen so far, and the micro score tested
TASKS = {
    "TokenClassification": ("ner", "data.types", "test/f1"),
    "SequenceClassification": ("classification", "data.classes", "test/f1_micro"),
}


def task_of(cfg: DictConfig) -> tuple[str, str, str]:
    target = str(cfg.data.get("_target_", ""))
    for marker, found in TASKS.items():
        if marker in target:
            return found
    raise TunelabError(
        "tunelab-continual learns NER types or classes: give NER or classification data"
    )


def step_name(index: int, kinds: list[str]) -> str:
    return f"step{index}-{'+'.join(kinds)}"


def brackets(items: list) -> str:
    """A Hydra list override of names, or of lists of names."""
    return "[" + ",".join(brackets(i) if isinstance(i, list) else str(i) for i in items) + "]"


def step_overrides(cfg: DictConfig, index: int, previous: Path | None) -> list[str]:
    """What step `index` adds to the user's own `tunelab-train` overrides."""
    order = step_order(list(cfg.continual.order))
    seen = [kind for kinds in order[: index + 1] for kind in kinds]
    extra = [f"{task_of(cfg)[1]}={brackets(seen)}"]
    if cfg.continual.method == "joint":  # all the data of the labels seen so far, from the base
        return extra
    method = str(cfg.continual.method)
    replay = cfg.continual.replay if "replay" in method else 0
    share = f"{{order:{brackets(order)},index:{index},replay:{replay},seed:{cfg.seed}}}"
    extra.append(f"data.step={share}")
    return extra + start_from(method, previous)


def start_from(method: str, previous: Path | None) -> list[str]:
    """A later step starts from the previous step's model, which also teaches when distilling."""
    if previous is None or method == "joint":  # joint starts each step from the base model
        return []
    model = previous / "model"
    # `++`: the classification config has no teacher key
    teacher = [f"++model.teacher={model}"] if "distill" in method else []
    return [f"model.model_name_or_path={model}", *teacher]


def given_overrides(cfg: DictConfig) -> list[str]:
    """The command line's overrides, less Hydra's own."""
    if HydraConfig.initialized():
        given = HydraConfig.get().overrides.task
    else:  # a config composed in Python with its hydra node
        given = cfg.hydra.overrides.task if "hydra" in cfg else []
    return [o for o in given if not o.lstrip("+~").startswith("hydra.")]


def user_overrides(cfg: DictConfig) -> list[str]:
    """The command line's overrides, less the continual run's own keys."""
    return [o for o in given_overrides(cfg) if not o.lstrip("+~").startswith("continual.")]


def check_order(cfg: DictConfig) -> None:
    """One line, naming the step, for an order that cannot be learnt: an unknown method, a
    label learnt at an earlier step, a label the training split lacks, a label the starting
    model already has."""
    task = task_of(cfg)[0]
    method = str(cfg.continual.method)
    if method not in METHODS:
        raise TunelabError(f"continual.method={method}: one of {', '.join(sorted(METHODS))}")
    order = step_order(list(cfg.continual.order))
    if task == "classification" and len(order[0]) < 2:
        raise TunelabError(
            f"continual step 0 ({'+'.join(order[0])}): a classifier starts from two classes or "
            "more (e.g. continual.order=[[business,sports],tech])"
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
    datamodule = build(cfg.data)
    if task == "ner":
        present = entity_types(datamodule.sentences("train"))
    else:
        present = set(datamodule.labels)
    known = trained_labels(cfg.model.model_name_or_path) or []
    for index, kinds in enumerate(order):
        try:
            check_present([kinds], present, "continual.order")
        except TunelabError as err:
            raise TunelabError(f"continual step {index} ({'+'.join(kinds)}): {err}") from None
        for kind in kinds:
            if (f"B-{kind}" if task == "ner" else kind) in known:
                raise TunelabError(
                    f"continual step {index} ({'+'.join(kinds)}): "
                    f"{cfg.model.model_name_or_path} already labels {kind}: no new label"
                )


def run_step(cfg: DictConfig, index: int, previous: Path | None, out: Path) -> dict:
    """One step's metrics, training it first unless its run directory holds them."""
    kinds = step_order(list(cfg.continual.order))[index]
    overrides = [*user_overrides(cfg), *step_overrides(cfg, index, previous)]
    run_dir = out / step_name(index, kinds)
    by_class = task_of(cfg)[0] == "classification"
    if index == 0 and not run_dir.exists():
        link_same_first_step(run_dir, overrides, by_class)
    what = f"continual step {index} ({'+'.join(kinds)})"
    same = (lambda given: same_run(settings_of(given), by_class)) if index == 0 else None
    return run_once("train", overrides, run_dir, what, same)


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


def report(
    order: list[list[str]],
    steps: list[dict],
    micro: str,
    unseen: bool = False,
    seen_name: str = "micro F1 (seen)",
) -> dict:
    """The step x label F1 matrix (None before a label is learnt, unless `unseen`: scores
    before learning are kept), average incremental F1 (mean over steps of the score on the
    labels seen, `seen_name`), final F1, and forgetting per label (its best score from its own
    step to the one before the last, minus its final score)."""
    kinds = [kind for group in order for kind in group]
    learnt = {kind: i for i, group in enumerate(order) for kind in group}
    matrix = [
        [metrics.get(f"test/f1_{kind}") if unseen or learnt[kind] <= i else None for kind in kinds]
        for i, metrics in enumerate(steps)
    ]
    final = matrix[-1]
    forgetting = {}
    if len(steps) == len(order) > 1:
        for k, kind in enumerate(kinds):
            earlier = [
                row[k]
                for i, row in enumerate(matrix[:-1])
                if learnt[kind] <= i and row[k] is not None
            ]
            if earlier:
                forgetting[kind] = max(earlier) - final[k]
    return {
        "order": order,
        "labels": kinds,
        "matrix": matrix,
        "seen_name": seen_name,
        "micro_f1": [metrics[micro] for metrics in steps],
        "average_incremental_f1": statistics.fmean(m[micro] for m in steps),
        "final_f1": steps[-1][micro],
        "forgetting": forgetting,
        "mean_forgetting": statistics.fmean(forgetting.values()) if forgetting else 0.0,
        "wall_seconds": [m["wall_seconds"] for m in steps],
    }


def plot(result: dict, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    order, matrix = result["order"], result["matrix"]
    learnt = {kind: i for i, group in enumerate(order) for kind in group}
    figure, axes = plt.subplots(figsize=(6, 4))
    steps = list(range(1, len(matrix) + 1))
    for k, kind in enumerate(result["labels"]):
        scores, first = [row[k] for row in matrix], learnt[kind]
        line = axes.plot(steps[first:], scores[first:], marker="o", label=kind)[0]
        if any(v is not None for v in scores[:first]):  # before learning it: dotted, hollow
            axes.plot(
                steps[: first + 1],
                scores[: first + 1],
                ":",
                marker="o",
                markerfacecolor="none",
                color=line.get_color(),
            )
    axes.plot(steps, result["micro_f1"], marker="s", color="black", label=result["seen_name"])
    ticks = ["\n".join("+" + kind for kind in kinds) for kinds in order[: len(matrix)]]
    axes.set_xticks(steps, ticks)  # one label a line: long names would overlap
    axes.set_xlabel("step (labels learnt)")
    axes.set_ylabel("test F1")
    axes.set_ylim(0, 1)
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write_report(result: dict, title: str, out: Path) -> str:
    order = result["order"]
    rows = [
        [
            f"{i} (+{'+'.join(order[i])})",
            *("" if v is None else f"{v:.4f}" for v in row),
            f"{micro:.4f}",
        ]
        for i, (row, micro) in enumerate(zip(result["matrix"], result["micro_f1"], strict=True))
    ]
    table = markdown_table(["step", *result["labels"], result["seen_name"]], rows)
    summary = (
        f"average incremental F1 {result['average_incremental_f1']:.4f}, final F1 "
        f"{result['final_f1']:.4f}, mean forgetting {result['mean_forgetting']:.4f}"
    )
    (out / "continual.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "continual.md").write_text(f"# Continual learning: {title}\n\n{table}\n{summary}\n")
    plot(result, title, out / "continual.png")
    return f"{table}\n{summary}"


def continual(cfg: DictConfig) -> dict:
    """Run (or read) every step and write the report."""
    schema.check(cfg)
    if cfg.continual.get("steps"):  # one dataset a step
        from tunelab.continual_domains import domains

        return domains(cfg)
    check_order(cfg)
    out = Path(cfg.continual.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    order, steps, previous = step_order(list(cfg.continual.order)), [], None
    for index, kinds in enumerate(order):
        steps.append(run_step(cfg, index, previous, out))
        previous = out / step_name(index, kinds)
    result = report(order, steps, task_of(cfg)[2])
    print(write_report(result, f"{cfg.continual.method}, seed {cfg.seed}", out))
    print(f"continual: {out}")
    return result


@hydra.main(config_path=CONFIG_DIR, config_name="continual", version_base="1.3")
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    continual(cfg)


if __name__ == "__main__":
    main()
