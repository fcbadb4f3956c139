"""Each epoch's validation scores in the run's log (train.log and the console)."""

from __future__ import annotations

import logging

import pytorch_lightning as pl

log = logging.getLogger("tunelab")


class ScoreLog(pl.Callback):
    """After each validation: the epoch's summary scores (the keys without a per-type or
    per-class suffix, e.g. val/f1, val/precision) and the best monitored value so far."""

    def __init__(self, monitor: str, mode: str = "max") -> None:
        self.monitor, self.mode, self.best = monitor, mode, None

    def on_validation_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        scores = getattr(module, "scores", {}).get("val") or {}
        if trainer.sanity_checking or not scores or trainer.state.fn != "fit":
            return
        shown = {k: v for k, v in scores.items() if "_" not in k.split("/", 1)[-1]}
        value = scores.get(self.monitor)
        if value is not None:
            better = max if self.mode == "max" else min
            self.best = value if self.best is None else better(self.best, value)
        text = ", ".join(f"{k} {float(v):.4f}" for k, v in shown.items())
        best = f" (best {self.monitor} {self.best:.4f})" if self.best is not None else ""
        log.info("epoch %d: %s%s", trainer.current_epoch, text, best)
