"""`tunelab-eval`: score a checkpoint or exported model on one split, in its own run directory."""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
import pytorch_lightning as pl
from omegaconf import DictConfig

from tunelab.config import CONFIG_DIR, build, exit_on_user_error
from tunelab.loading import load_module
from tunelab.rundir import summary, write_run_outputs

log = logging.getLogger("tunelab")


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Test the model given by `ckpt_path` or `model_dir` on `split`; write the run directory."""
    module, tokenizer = load_module(cfg.model._target_, cfg.ckpt_path, cfg.model_dir)
    if cfg.get("decode"):  # NER: score the same model with another decoder
        module.set_decode(cfg.decode)
    datamodule = build(cfg.data, tokenizer=tokenizer, labels=module.labels, test_split=cfg.split)
    trainer: pl.Trainer = build(cfg.trainer, logger=False, callbacks=[])
    trainer.test(module, datamodule=datamodule)
    metrics = dict(module.scores["test"])
    stats = datamodule.split_stats(cfg.split)
    metrics.update({f"test/{key}": value for key, value in stats.items()})
    run_dir = Path(cfg.paths.output_dir)
    report = write_run_outputs(run_dir, module, datamodule, cfg.split, metrics)
    print(report)
    print(f"split {cfg.split}: {summary(metrics)}")
    print(f"run directory: {run_dir}")
    return metrics


@hydra.main(config_path=CONFIG_DIR, config_name="eval", version_base="1.3")
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    evaluate(cfg)


if __name__ == "__main__":
    main()
