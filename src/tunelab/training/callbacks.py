"""tunelab's Lightning callbacks (conf/callbacks/default.yaml): each epoch's scores in the log, the
random states in every checkpoint (an interrupted run resumes exactly), a checkpoint when a run
is stopped."""

from __future__ import annotations

import logging
import random

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import OnExceptionCheckpoint
from pytorch_lightning.trainer.states import TrainerFn

from tunelab.training.resume import HistoryCSVLogger

log = logging.getLogger("tunelab")


class ScoreLog(pl.Callback):
    """After each validation: the epoch's summary scores (the keys without a per-type or
    per-class suffix, e.g. val/f1, val/precision) and the best monitored value so far."""

    def __init__(self, monitor: str, mode: str = "max") -> None:
        self.monitor, self.mode, self.best = monitor, mode, None

    def on_validation_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        evaluation = getattr(module, "evaluation", None)
        scores = evaluation("val").scores if evaluation else {}
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


class Resumable(pl.Callback):
    """Saves and restores the Python, NumPy and torch random states with each checkpoint, so that
    dropout after a resume matches the uninterrupted run."""

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        checkpoint["tunelab_random_state"] = {
            "python": random.getstate(),
            # plain lists and tuples: the checkpoint stays loadable with weights_only=True
            "numpy": _plain(np.random.get_state()),
            "torch": torch.get_rng_state(),
        }

    def on_load_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        if trainer.state.fn == TrainerFn.FITTING:  # a resume, not the scoring of a checkpoint
            for logger in trainer.loggers:
                if isinstance(logger, HistoryCSVLogger):
                    logger.keep_history(checkpoint.get("global_step", 0))
        state = checkpoint.get("tunelab_random_state")
        if state:
            random.setstate(state["python"])
            name, keys, pos, has_gauss, cached = state["numpy"]
            np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
            torch.set_rng_state(state["torch"])


def _plain(numpy_state: tuple) -> tuple:
    name, keys, pos, has_gauss, cached = numpy_state
    return name, keys.tolist(), int(pos), int(has_gauss), float(cached)


class StopCheckpoint(OnExceptionCheckpoint):
    """`checkpoints/on_exception.ckpt` when a run that has trained is stopped (SIGTERM, Ctrl-C)
    or fails. Nothing when it stops before its first optimizer step (a bad file or setting):
    there is nothing to resume, and the corrected command may start in the same folder."""

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if trainer.global_step > 0:
            super().on_exception(trainer, pl_module, exception)
