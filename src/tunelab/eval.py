"""`tunelab-eval`: score a checkpoint or exported model on one split, in its own run directory."""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
import pytorch_lightning as pl
from omegaconf import DictConfig

from tunelab.config import CONFIG_DIR, build, exit_on_user_error
from tunelab.data.conll import read_conll
from tunelab.data.schemes import detect_scheme, to_iob2
from tunelab.loading import load_module
from tunelab.metrics import ner_report, ner_scores
from tunelab.rundir import summary, write_metrics, write_run_outputs

log = logging.getLogger("tunelab")


def score_predictions(path: str, scheme: str, run_dir: Path) -> dict[str, float]:
    """Score a `word gold pred` file (any system's output) as conlleval would, in both modes."""
    gold, pred = read_conll(path, tag_column=-2), read_conll(path, tag_column=-1)
    if scheme == "auto":
        scheme = detect_scheme(gold)
    repairs = {"gold": sum(to_iob2(s, scheme) for s in gold)}
    repairs["pred"] = sum(to_iob2(s, scheme) for s in pred)
    gold_tags, pred_tags = [s.tags for s in gold], [s.tags for s in pred]
    metrics = {f"test/{key}": value for key, value in ner_scores(gold_tags, pred_tags).items()}
    metrics.update({f"test/tags_repaired_{side}": count for side, count in repairs.items()})
    run_dir.mkdir(parents=True, exist_ok=True)
    write_metrics(run_dir / "metrics.json", metrics)
    report = ner_report(gold_tags, pred_tags)
    (run_dir / "report.txt").write_text(report)
    print(report)
    print(
        f"{path}: {summary(metrics)}; tags repaired: gold {repairs['gold']}, pred {repairs['pred']}"
    )
    return metrics


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Test the model given by `ckpt_path` or `model_dir` on `split`, or score an existing
    `predictions` file; write the run directory."""
    if cfg.get("predictions"):
        return score_predictions(
            cfg.predictions, cfg.data.get("scheme", "auto"), Path(cfg.paths.output_dir)
        )
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
