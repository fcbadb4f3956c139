"""`tunelab-eval`: score a checkpoint or exported model on one split, in its own run directory.

The model's recorded data settings (`tunelab.json`, or the checkpoint's) say which corpus and how
to read it; `data=PRESET` picks other data read the same way, and any `data.KEY=VALUE` wins.
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf, open_dict

from tunelab import schema, tasks
from tunelab.config import CONFIG_DIR, build, exit_on_user_error
from tunelab.errors import TunelabError
from tunelab.loading import load_module
from tunelab.onnx_export import run_on_onnx
from tunelab.rundir import write_metrics, write_run_outputs

log = logging.getLogger("tunelab")
WHERE = ("corpus", "dir", "from_presets")  # which data, as opposed to how it is read
# how the files themselves are laid out: a preset's own, never the model's
LAYOUT = ("text_column", "label_column", "text_pair_column", "label_names")
RECORDS = ("datamodule", "train_lengths")  # in tunelab.json's data, but not DataModule arguments


def keys_on_command_line(cfg: DictConfig) -> set[str]:
    """The `data.*` keys set on the command line (or in the overrides of a config composed with
    `return_hydra_config=True`)."""
    if HydraConfig.initialized():
        overrides = list(HydraConfig.get().overrides.task)
    elif "hydra" in cfg:
        overrides = list(cfg.hydra.overrides.task)
    else:
        return set()
    parsed = OverridesParser.create().parse_overrides(overrides)
    names = [override.key_or_group for override in parsed]
    return {name.split(".", 1)[1] for name in names if name.startswith("data.")}


def data_config(cfg: DictConfig, recorded: dict) -> DictConfig:
    """The data config an evaluation builds. With `data=model` (the default): the model's
    recorded data and settings, under every key given. With a preset: that preset's data, read
    the model's way except for the keys given on the command line."""
    own = not cfg.data.get("_target_")
    if not recorded.get("datamodule"):
        if own:
            raise TunelabError(
                "the model records no data settings (exported before tunelab.json): name its "
                "data, e.g. data=conll2003"
            )
        return cfg.data
    reading = {k: v for k, v in recorded.items() if k not in RECORDS}
    if own:
        data = OmegaConf.create({"_target_": recorded["datamodule"], **reading})
        given = {key: value for key, value in cfg.data.items() if value is not None}
        if given.keys() & set(WHERE):  # other files: drop the model's corpus and folder
            for key in WHERE:
                if key in data:
                    data[key] = None
        for key, value in given.items():
            if key in recorded and recorded[key] != value:
                log.info("data.%s=%s (the model reads with %s)", key, value, recorded[key])
            data[key] = value
        return data
    data = cfg.data.copy()
    if data.get("_target_") != recorded["datamodule"]:
        return data
    given = keys_on_command_line(cfg)
    with open_dict(data):
        for key, value in reading.items():
            if key not in WHERE + LAYOUT and key in data and key not in given:
                data[key] = value
    return data


def score_file(cfg: DictConfig) -> dict[str, float]:
    """Score an existing predictions file of the config's task (`predictions=FILE`)."""
    task = tasks.get(cfg.task)
    if task.score_file is None:
        raise TunelabError(f"task {task.name} has no predictions-file format to score")
    run_dir = Path(cfg.paths.output_dir)
    metrics, report, note = task.score_file(
        cfg.predictions, cfg.data.get("scheme") or "auto", run_dir
    )
    write_metrics(run_dir / "metrics.json", metrics)
    print(report)
    print(f"{cfg.predictions}: {tasks.summary(task, metrics)}; {note}")
    return metrics


def on_backend(cfg: DictConfig, module, data: DictConfig) -> None:
    """backend=onnx: the exported graph scores the split, in fp32, on padded batches."""
    if cfg.backend != "onnx":
        raise TunelabError(f"backend={cfg.backend!r}; choose torch or onnx")
    if not cfg.get("model_dir"):
        raise TunelabError("backend=onnx evaluates an exported model: give model_dir=RUN/model")
    run_on_onnx(module, cfg.model_dir, cfg.get("onnx_model"))
    with open_dict(data), open_dict(cfg):
        if "pack" in data:
            data.pack = False
        cfg.trainer.precision = "32-true"


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Test the model given by `ckpt_path` or `model_dir` on `split` (or, with `zero_shot=true`,
    a sentence encoder against label descriptions), or score an existing `predictions` file;
    write the run directory."""
    schema.check(cfg)
    if cfg.get("predictions"):
        return score_file(cfg)
    if cfg.get("zero_shot"):
        from tunelab.tasks.zero_shot.setup import zero_shot_setup

        module, datamodule, task = zero_shot_setup(cfg, keys_on_command_line(cfg))
    else:
        module, tokenizer, task = load_module(
            cfg.ckpt_path, cfg.model_dir, cfg.get("task"), cfg.get("trust_remote_code", False)
        )
        if cfg.get("decode"):  # NER: score the same model with another decoder
            module.set_decode(cfg.decode)
        data = data_config(cfg, module.input_settings)
        if cfg.get("backend", "torch") != "torch":
            on_backend(cfg, module, data)
        datamodule = build(data, tokenizer=tokenizer, labels=module.labels, test_split=cfg.split)
    module.set_references({"test": datamodule.references(cfg.split)})
    trainer: pl.Trainer = build(cfg.trainer, logger=False, callbacks=[])
    trainer.test(module, datamodule=datamodule, verbose=False)  # scores logged once, below
    metrics = dict(module.scores["test"])
    stats = datamodule.split_stats(cfg.split)
    metrics.update({f"test/{key}": value for key, value in stats.items()})
    run_dir = Path(cfg.paths.output_dir)
    report = write_run_outputs(run_dir, task, module, datamodule, cfg.split, metrics)
    if cfg.get("zero_shot") and cfg.get("export"):
        module.export(str(run_dir / "model"))
    print(report)
    log.info("split %s: %s", cfg.split, tasks.summary(task, metrics))
    log.info("run directory: %s", run_dir)
    return metrics


@hydra.main(config_path=CONFIG_DIR, config_name="eval", version_base="1.3")
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    evaluate(cfg)


if __name__ == "__main__":
    main()
