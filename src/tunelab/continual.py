"""`tunelab-continual`: class-incremental NER, one entity type learnt a step (ExtendNER's protocol,
Monaikul et al., 2021), each step an ordinary `tunelab-train` run started from the previous
step's model (its labels grown, `tunelab.models.labels`), tested after each step on the full test
split with every type seen so far. Writes continual.json, continual.md and continual.png: the
step x type F1 matrix, average incremental F1, final F1 and forgetting."""

from __future__ import annotations

import json
import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from tunelab.config import CONFIG_DIR, build, exit_on_user_error
from tunelab.errors import TunelabError
from tunelab.models.labels import trained_labels
from tunelab.rundir import markdown_table
from tunelab.tasks.ner.incremental import check_types

log = logging.getLogger("tunelab")
METHODS = {"finetune", "replay", "distill", "replay+distill", "joint"}


def step_overrides(cfg: DictConfig, index: int, previous: Path | None) -> list[str]:
    """What step `index` adds to the user's own `tunelab-train` overrides."""
    order = list(cfg.continual.order)
    seen = "[" + ",".join(order[: index + 1]) + "]"
    extra = [f"data.types={seen}"]
    if cfg.continual.method == "joint":  # all the data of the types seen so far, from the base
        return extra
    method = str(cfg.continual.method)
    replay = cfg.continual.replay if "replay" in method else 0
    share = f"{{order:[{','.join(order)}],index:{index},replay:{replay},seed:{cfg.seed}}}"
    extra.append(f"data.step={share}")
    if previous is not None:
        extra.append(f"model.model_name_or_path={previous / 'model'}")
        if "distill" in method:  # the previous step's model teaches the old types
            extra.append(f"model.teacher={previous / 'model'}")
    return extra


def user_overrides(cfg: DictConfig) -> list[str]:
    """The command line's overrides, less the continual run's own keys."""
    if HydraConfig.initialized():
        given = HydraConfig.get().overrides.task
    else:  # a config composed in Python with its hydra node
        given = cfg.hydra.overrides.task if "hydra" in cfg else []
    return [o for o in given if not o.lstrip("+~").startswith(("continual.", "hydra."))]


def check_order(cfg: DictConfig) -> None:
    """One line for an order that cannot be learnt: an unknown method, a repeated type, a type
    the training split lacks, a type the starting model already knows."""
    order = list(cfg.continual.order)
    if cfg.continual.method not in METHODS:
        raise TunelabError(
            f"continual.method={cfg.continual.method}: one of {', '.join(sorted(METHODS))}"
        )
    if "TokenClassification" not in str(cfg.data.get("_target_", "")):
        raise TunelabError("tunelab-continual learns entity types: give NER data (data=conll2003)")
    for index, kind in enumerate(order):
        if order.index(kind) != index:
            raise TunelabError(
                f"continual step {index} ({kind}): {kind} is learnt at step "
                f"{order.index(kind)} already: no new label"
            )
    sentences = build(cfg.data).sentences("train")
    for index, kind in enumerate(order):
        try:
            check_types([kind], sentences, "continual.order")
        except TunelabError as err:
            raise TunelabError(f"continual step {index} ({kind}): {err}") from None
    known = trained_labels(cfg.model.model_name_or_path) or []
    for index, kind in enumerate(order):
        if f"B-{kind}" in known:
            raise TunelabError(
                f"continual step {index} ({kind}): {cfg.model.model_name_or_path} already "
                f"labels {kind}: no new label"
            )


def run_step(cfg: DictConfig, index: int, previous: Path | None, out: Path) -> dict:
    """One step's metrics, training it first unless its run directory holds them."""
    kind = cfg.continual.order[index]
    run_dir = out / f"step{index}-{kind}"
    metrics_file = run_dir / "metrics.json"
    if not metrics_file.is_file():
        log.info("continual step %d (%s) -> %s", index, kind, run_dir)
        overrides = [*user_overrides(cfg), *step_overrides(cfg, index, previous)]
        command = [sys.executable, "-m", "tunelab.train", *overrides, f"hydra.run.dir={run_dir}"]
        start = time.perf_counter()
        if subprocess.run(command, check=False).returncode != 0:
            raise TunelabError(f"continual step {index} ({kind}) failed: see {run_dir}")
        (run_dir / "wall_seconds").write_text(f"{time.perf_counter() - start:.1f}\n")
    metrics = json.loads(metrics_file.read_text())
    wall = run_dir / "wall_seconds"
    metrics["wall_seconds"] = float(wall.read_text()) if wall.is_file() else None
    return metrics


def report(order: list[str], steps: list[dict]) -> dict:
    """The step x type F1 matrix (None before a type is learnt), average incremental F1 (mean
    over steps of the micro F1 on the types seen), final F1, and forgetting per type (its best
    score before the last step minus its final score)."""
    matrix = [
        [metrics.get(f"test/f1_{kind}") if k <= i else None for k, kind in enumerate(order)]
        for i, metrics in enumerate(steps)
    ]
    final = matrix[-1]
    forgetting = {
        kind: max(row[k] for row in matrix[:-1] if row[k] is not None) - final[k]
        for k, kind in enumerate(order[:-1])
        if len(steps) == len(order)
    }
    return {
        "order": order,
        "matrix": matrix,
        "micro_f1": [metrics["test/f1"] for metrics in steps],
        "average_incremental_f1": statistics.fmean(m["test/f1"] for m in steps),
        "final_f1": steps[-1]["test/f1"],
        "forgetting": forgetting,
        "mean_forgetting": statistics.fmean(forgetting.values()) if forgetting else 0.0,
        "wall_seconds": [m["wall_seconds"] for m in steps],
    }


def plot(result: dict, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    order, matrix = result["order"], result["matrix"]
    figure, axes = plt.subplots(figsize=(6, 4))
    steps = range(1, len(matrix) + 1)
    for k, kind in enumerate(order):
        axes.plot(steps, [row[k] for row in matrix], marker="o", label=kind)
    axes.plot(steps, result["micro_f1"], marker="s", color="black", label="micro (seen)")
    axes.set_xticks(list(steps), [f"+{kind}" for kind in order[: len(matrix)]])
    axes.set_xlabel("step (type learnt)")
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
        [f"{i} (+{order[i]})", *("" if v is None else f"{v:.4f}" for v in row), f"{micro:.4f}"]
        for i, (row, micro) in enumerate(zip(result["matrix"], result["micro_f1"], strict=True))
    ]
    table = markdown_table(["step", *order, "micro F1 (seen)"], rows)
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
    check_order(cfg)
    out = Path(cfg.continual.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    order, steps, previous = list(cfg.continual.order), [], None
    for index in range(len(order)):
        steps.append(run_step(cfg, index, previous, out))
        previous = out / f"step{index}-{order[index]}"
    result = report(order, steps)
    print(write_report(result, f"{cfg.continual.method}, seed {cfg.seed}", out))
    print(f"continual: {out}")
    return result


@hydra.main(config_path=CONFIG_DIR, config_name="continual", version_base="1.3")
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    continual(cfg)


if __name__ == "__main__":
    main()
