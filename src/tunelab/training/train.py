"""`tunelab-train`: fit, test the best checkpoint, export it, write the run directory."""

from __future__ import annotations

import contextlib
import logging
import math
import signal
from pathlib import Path

import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
from pytorch_lightning.utilities.exceptions import SIGTERMException

from tunelab import quiet, schema, tasks
from tunelab.config import (
    build,
    build_all,
    build_taking,
    given_overrides,
    hydra_command,
    is_rank_zero,
)
from tunelab.errors import TunelabError
from tunelab.experiments.rerun import write_record
from tunelab.inference.loading import read_checkpoint
from tunelab.models.export.model_card import write_model_card
from tunelab.models.labels import merged_labels, trained_labels
from tunelab.models.peft_methods import parameter_counts
from tunelab.training import plots
from tunelab.training.resume import KEEP, keep_checkpoints
from tunelab.training.rundir import write_run_outputs
from tunelab.training.shards import wrap_layers
from tunelab.training.tracking import (
    check_loggers,
    finish,
    keeps_tracking_environment,
    log_pictures,
    prepare,
)
from tunelab.trust.bootstrap import error_bars
from tunelab.trust.calibration import calibrate

log = logging.getLogger("tunelab")


def refuse_stale_checkpoints(run_dir: Path, ckpt_path: str | None) -> None:
    """Stop before a fresh run lands in a directory that already holds checkpoints.

    With an OnExceptionCheckpoint callback, Lightning turns `fit(ckpt_path=None)` into
    `ckpt_path="last"`: a new run in an old directory would silently continue the old one, even
    with a different config. Resuming must be asked for (`ckpt_path=last`).
    """
    if ckpt_path is not None:
        return
    found = sorted((run_dir / "checkpoints").glob("*.ckpt"))
    if found:
        raise TunelabError(
            f"{run_dir} already holds checkpoints ({found[0].name}, ...): continue that run with "
            "ckpt_path=last (or tunelab-rerun RUN --resume), or start in a new directory"
        )


def check_resume_checkpoints(run_dir: Path, ckpt_path: str | None) -> None:
    """Read the checkpoint a resume may load before anything else: a broken one stops with one
    line naming it. `last` may pick any checkpoint of the run's folder (the newest)."""
    if ckpt_path is None:
        return
    if ckpt_path == "last":
        candidates = sorted((run_dir / "checkpoints").glob("*.ckpt"))
        if not candidates:
            log.warning("ckpt_path=last: %s holds no checkpoint; training from the start", run_dir)
    else:
        candidates = [Path(ckpt_path)]
    for candidate in candidates:
        read_checkpoint(candidate)


def build_data_and_model(cfg: DictConfig) -> tuple[pl.LightningDataModule, pl.LightningModule]:
    """The DataModule, and the module built with what only the data knows (labels, how text is
    read, the task's fit arguments) and handed what it scores against."""
    datamodule = build(cfg.data)
    old = trained_labels(cfg.model.model_name_or_path)
    if old and hasattr(datamodule, "use_labels") and old != datamodule.labels:
        # a fine-tuned model: its labels keep their ids, the data's new ones come after
        datamodule.use_labels(merged_labels(old, datamodule.labels, cfg.model.model_name_or_path))
    model = build_taking(
        cfg.model,
        "model",
        labels=datamodule.labels,
        optimizer=build(cfg.optimizer),
        scheduler=build(cfg.scheduler) if cfg.get("scheduler") else None,
        input_settings=datamodule.input_settings(),
        **datamodule.fit_arguments(),
    )
    split = datamodule.loader.test_split
    model.set_references(
        {"val": datamodule.references("dev"), "test": datamodule.references(split)}
    )
    return datamodule, model


def validation_within_max_steps(trainer: DictConfig, datamodule) -> dict:
    """Trainer arguments that make a run shorter than one epoch (`trainer.max_steps`) validate
    once, at its end: Lightning validates at epoch ends, so early stopping and the best
    checkpoint would wait for a metric that never comes."""
    steps = trainer.get("max_steps", -1)
    if datamodule.streams:
        if not steps or steps < 0:
            raise TunelabError(
                "data.streaming=true reads a stream whose length is not known before it is read: "
                "set trainer.max_steps=N (+trainer.max_steps=N)"
            )
        if trainer.get("val_check_interval", 1.0) == 1.0:  # a stream's epoch end is unknown
            batches = steps * (trainer.get("accumulate_grad_batches") or 1)
            return {"val_check_interval": batches, "check_val_every_n_epoch": None}
    if not steps or steps < 0 or trainer.get("val_check_interval", 1.0) != 1.0:
        return {}
    items, batch = len(datamodule.encoded("train")), datamodule.loader.batch_size
    per_epoch = math.ceil(items * datamodule.epoch_passes(items, batch) / batch)
    processes = [trainer.get(k) for k in ("devices", "num_nodes")]
    if all(isinstance(n, int) and n > 0 for n in processes):
        per_epoch = math.ceil(per_epoch / (processes[0] * processes[1]))
    batches = steps * (trainer.get("accumulate_grad_batches") or 1)
    if batches >= per_epoch:
        return {}
    log.info("trainer.max_steps=%d ends within the first epoch: validating at its end", steps)
    return {"val_check_interval": batches}


@keeps_tracking_environment
def train(cfg: DictConfig) -> dict[str, float]:
    """Run one experiment described by a composed `train.yaml`; return its final metrics."""
    schema.check(cfg)
    schema.check_model_positions(cfg)
    if HydraConfig.initialized():
        log.info("overrides: %s", " ".join(given_overrides(cfg)) or "(none)")
    check_loggers(cfg.get("logger"))
    keep = (cfg.get("callbacks") or {}).get("keep_checkpoints", "best")
    if keep not in KEEP:
        raise TunelabError(f"callbacks.keep_checkpoints={keep!r}; choose one of {', '.join(KEEP)}")
    pl.seed_everything(cfg.seed, workers=True, verbose=False)  # the seed is in the run record
    run_dir = Path(cfg.paths.output_dir)
    refuse_stale_checkpoints(run_dir, cfg.get("ckpt_path"))
    check_resume_checkpoints(run_dir, cfg.get("ckpt_path"))
    if is_rank_zero():
        write_record(run_dir, cfg.seed, str(cfg.trainer.precision))

    task = tasks.get(cfg.task)
    datamodule, model = build_data_and_model(cfg)
    split = datamodule.loader.test_split
    datamodule.setup("test")  # a bad test file stops the run now, not after training
    trainer: pl.Trainer = build(
        cfg.trainer,
        callbacks=build_all(cfg.get("callbacks")),
        logger=prepare(build_all(cfg.get("logger"))),
        **validation_within_max_steps(cfg.trainer, datamodule),
    )
    wrap_layers(trainer, model)
    log.info("labels: %s", " ".join(datamodule.labels))
    counts = parameter_counts(model)
    log.info(
        "model: %s, %.1f M parameters, %.1f M trained",
        type(model.model).__name__,
        counts["model/total_params"] / 1e6,
        counts["model/trainable_params"] / 1e6,
    )
    if model.trains:
        fit(cfg, trainer, model, datamodule, run_dir)
    else:
        log.info("method=%s learns nothing: testing it as it is", model.method)
    # Score the best checkpoint on dev and test (the last validation of fit may be a later,
    # worse epoch). Without a checkpoint (fast_dev_run) the weights in memory are scored.
    checkpoint = getattr(trainer.checkpoint_callback, "best_model_path", "") or None
    # verbose=False: the scores are logged once, below, and written to the run directory
    trainer.validate(model, datamodule=datamodule, ckpt_path=checkpoint, verbose=False)
    trainer.test(model, datamodule=datamodule, ckpt_path=checkpoint, verbose=False)
    metrics = {**model.evaluation("val").scores, **model.evaluation("test").scores}
    metrics.update(calibrate(model, run_dir if trainer.is_global_zero else None))
    metrics.update(error_bars(task, model, "test"))
    metrics.update({f"test/{key}": value for key, value in datamodule.split_stats(split).items()})
    metrics.update(parameter_counts(model))
    metrics.update(datamodule.sample_stats())

    if trainer.is_global_zero:
        report = write_run_outputs(run_dir, task, model, datamodule, split, metrics)
        model.export(str(run_dir / "model"), datamodule.tokenizer)
        write_model_card(run_dir / "model", cfg, task, datamodule.labels, metrics)
        if model.peft_method not in ("none", "head_only"):
            model.export_adapter(str(run_dir / "adapter"), datamodule.tokenizer)
        keep_checkpoints(run_dir / "checkpoints", keep)
        log_pictures(trainer.loggers, run_dir / plots.FOLDER)
        finish(trainer.loggers)
        print(report)
        log.info("test scores: %s", tasks.summary(task, metrics))
        log.info("run directory: %s", run_dir)
    return metrics


def fit(cfg: DictConfig, trainer: pl.Trainer, model, datamodule, run_dir: Path) -> None:
    fresh = cfg.get("ckpt_path") is None
    try:
        with quiet.fresh_fit() if fresh else contextlib.nullcontext():
            trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    except SIGTERMException:
        # Lightning ends a SIGTERM'd fit with a plain SystemExit (status 0): make it visible.
        log.warning("stopped by SIGTERM; continue with: tunelab-rerun %s --resume", run_dir)
        raise SystemExit(128 + signal.SIGTERM) from None
    if trainer.is_global_zero:  # before the best checkpoint's own validation adds a point
        plots.learning_curves(run_dir, cfg.monitor)


def monitored(cfg: DictConfig) -> float | None:
    """Train, and return the monitored value: what Hydra sweepers (Optuna) optimise."""
    return train(cfg).get(cfg.monitor)


main = hydra_command("train", monitored)


if __name__ == "__main__":
    main()
