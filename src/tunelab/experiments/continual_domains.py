"""`tunelab-continual continual.steps=[sst2,rotten_tomatoes]`: one dataset a step (a data
preset, a folder, or a preset with data keys of its own), each step an ordinary `tunelab-train`
run from the previous step's model. Domain-incremental when the datasets share their labels
(sentiment on SST-2, then on film reviews), class-incremental when a dataset brings new ones
(`tunelab.models.labels` grows the head). After each step the model is tested on every step's
test split; the report is continual.py's, with the datasets as its columns."""

from __future__ import annotations

import json
import random
import statistics
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from tunelab.config import build, composed_train_config, data_presets, given_overrides
from tunelab.errors import TunelabError
from tunelab.experiments.child_runs import override_key, overrides_of, run_once, settings_of
from tunelab.experiments.continual_report import report, write_report
from tunelab.experiments.continual_steps import link_same_first_step, same_run, start_from, task_of
from tunelab.tasks import Incremental

METHODS = ("finetune", "replay", "distill", "replay+distill", "joint")
# the eval command's own config groups: only these of the user's overrides apply to the tests
EVAL_KEYS = ("trainer.", "data.", "paths.")


def step_data(step, index: int) -> tuple[str, list[str]]:
    """A step's name and the overrides that read its data: a preset, a folder (`data=csv`), or
    {data: PRESET_OR_FOLDER, KEY: VALUE, ...} with more `data.KEY` settings."""
    step = OmegaConf.to_container(step) if OmegaConf.is_config(step) else step
    settings = dict(step) if isinstance(step, dict) else {"data": step}
    source = str(settings.pop("data", ""))
    if source in data_presets():
        name, overrides = source, overrides_of({"data": source})
    elif source and Path(source).is_dir():
        folder = Path(source).resolve()
        name, overrides = folder.name, overrides_of({"data": "csv", "data.dir": str(folder)})
    else:
        raise TunelabError(
            f"continual step {index} ({source or step}): neither a data preset "
            f"({', '.join(data_presets())}) nor a folder"
        )
    overrides += overrides_of({f"data.{key}": value for key, value in settings.items()})
    return name, overrides


def steps_of(cfg: DictConfig) -> list[tuple[str, list[str]]]:
    """Each step's name and data overrides, checked: two steps or more, distinct names, a
    method that works across datasets."""
    steps = [step_data(step, i) for i, step in enumerate(cfg.continual.steps)]
    if len(steps) < 2:
        raise TunelabError("continual.steps lists one dataset: give two or more")
    names = [name for name, _ in steps]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise TunelabError(
                f"continual step {index} ({name}): {name} is step {names.index(name)} too"
            )
    method = str(cfg.continual.method)
    if method not in METHODS:
        raise TunelabError(
            f"continual.method={method}: with continual.steps, one of {', '.join(METHODS)}"
        )
    return steps


def with_step(given: list[str], step: list[str]) -> list[str]:
    """The user's overrides, less the continual keys and those the step sets, then the step's."""
    mine = {override_key(o) for o in step}
    kept = [
        o
        for o in given
        if override_key(o) not in mine and not override_key(o).startswith("continual.")
    ]
    return kept + list(step)


def memory(cfg: DictConfig, steps: list[tuple[str, list[str]]], index: int, out: Path) -> Path:
    """A table of earlier steps' training texts for step `index`: all of them (joint), or
    `continual.replay` drawn at random from the seed (replay, replay+distill)."""
    examples = []
    for _, overrides in steps[:index]:
        datamodule = build(composed_train_config(with_step(given_overrides(cfg), overrides)).data)
        examples += datamodule.examples("train")
    if "replay" in cfg.continual.method:
        rng = random.Random(f"replay:{cfg.seed}:{index}")
        examples = rng.sample(examples, min(int(cfg.continual.replay), len(examples)))
    path = out / "memory" / f"step{index}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for e in examples:
            row = {"text": e.text, "label": e.label}
            row |= {"text_pair": e.text_pair} if e.text_pair else {}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def train_step(cfg, steps, index: int, previous: Path | None, out: Path, hooks: Incremental):
    """Step `index`'s run directory and metrics, trained from the previous step's model (from
    the base model for joint, with every earlier dataset's texts)."""
    name, overrides = steps[index]
    overrides = with_step(given_overrides(cfg), overrides)
    overrides += start_from(str(cfg.continual.method), previous)
    run_dir = out / f"step{index}-{name}"
    if index == 0 and not run_dir.exists():  # joint's too: the first dataset, from the base
        link_same_first_step(run_dir, overrides)
    finished = (run_dir / "metrics.json").is_file()  # read back: no memory to build
    if index and cfg.continual.method != "finetune" and not finished:
        if not hooks.replay_across_datasets:
            raise TunelabError(
                f"continual step {index} ({name}): {cfg.continual.method} across datasets "
                "is built for classification; use continual.method=finetune"
            )
        if cfg.continual.method != "distill":
            overrides.append(f"data.extra_train={memory(cfg, steps, index, out)}")
    what = f"continual step {index} ({name})"
    return run_dir, run_once("train", overrides, run_dir, what, same_settings(index))


def same_settings(index: int):
    """How a finished step's overrides are compared with this run's: without the memory file
    (made from the other settings and the seed); a first step as `same_run` links it."""

    def compare(overrides: list[str]) -> list[str]:
        kept = settings_of([o for o in overrides if not o.startswith("data.extra_train=")])
        return same_run(kept) if index == 0 else kept

    return compare


def test_everywhere(cfg, steps, index: int, run_dir: Path, own: dict, micro: str) -> dict:
    """Step `index`'s model scored on every step's test split (its own from its run)."""
    scores = {"wall_seconds": own["wall_seconds"]}
    evaluated = [o for o in given_overrides(cfg) if o.lstrip("+~").startswith(EVAL_KEYS)]
    for other, (name, overrides) in enumerate(steps):
        if other == index:
            scores[f"test/f1_{name}"] = own[micro]
            continue
        command = [f"model_dir={run_dir / 'model'}", *with_step(evaluated, overrides)]
        what = f"continual step {index}: testing on {name}"
        scores[f"test/f1_{name}"] = run_once("eval", command, run_dir / f"test-{name}", what)[micro]
    seen = [scores[f"test/f1_{name}"] for name, _ in steps[: index + 1]]
    scores["seen"] = statistics.fmean(seen)
    return scores


def domains(cfg: DictConfig) -> dict:
    """Run (or read) every step and its tests, and write the report."""
    steps = steps_of(cfg)
    first = composed_train_config(with_step(given_overrides(cfg), steps[0][1]))
    hooks = task_of(first)
    micro = hooks.micro_metric
    names = [name for name, _ in steps]
    if "continual.output_dir" in {o.split("=")[0] for o in given_overrides(cfg)}:
        out = Path(cfg.continual.output_dir)
    else:
        method = f"{cfg.continual.method}-seed{cfg.seed}"
        out = Path(cfg.paths.log_dir) / "continual" / "+".join(names) / method
    out.mkdir(parents=True, exist_ok=True)
    scores, previous = [], None
    for index in range(len(steps)):
        previous, own = train_step(cfg, steps, index, previous, out, hooks)
        scores.append(test_everywhere(cfg, steps, index, previous, own, micro))
    result = report(
        [[name] for name in names], scores, "seen", unseen=True, seen_name="mean (domains seen)"
    )
    print(write_report(result, f"{cfg.continual.method}, seed {cfg.seed}", out))
    print(f"continual: {out}")
    return result
