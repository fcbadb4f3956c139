"""Random states in every checkpoint, so that an interrupted run resumes exactly.

The training order needs no state (`tunelab.data.base.EpochShuffle`); a checkpoint on SIGTERM comes
from `StopCheckpoint` (callbacks config)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import OnExceptionCheckpoint
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.trainer.states import TrainerFn

from tunelab.errors import TunelabError


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


class HistoryCSVLogger(CSVLogger):
    """Lightning's CSV logger, except that a resumed run keeps the rows logged before the step
    it resumes from (Lightning's writer deletes an existing metrics.csv when it opens the
    folder); rows from later steps are dropped, as the resumed run logs them again."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        path = Path(self.log_dir) / "metrics.csv"
        self._earlier: list[dict] = []
        if path.is_file():
            with path.open(newline="") as handle:
                self._earlier = list(csv.DictReader(handle))
        self._resume_step: int | None = None

    def keep_history(self, step: int) -> None:
        """Keep the earlier rows of steps before `step` (called once, when a fit resumes)."""
        if self._resume_step is None:
            self._resume_step = step
            if self._experiment is not None:
                self._write_history()

    @property
    def experiment(self):
        fresh = self._experiment is None
        experiment = super().experiment
        if fresh and self._experiment is not None and self._resume_step is not None:
            self._write_history()
        return experiment

    def _write_history(self) -> None:
        rows = [row for row in self._earlier if int(row.get("step") or 0) < self._resume_step]
        writer = self._experiment
        if not rows or not hasattr(writer, "metrics_file_path"):
            return
        writer.metrics_keys = sorted(set(writer.metrics_keys) | set(rows[0]))
        with open(writer.metrics_file_path, "w", newline="") as handle:
            out = csv.DictWriter(handle, fieldnames=writer.metrics_keys)
            out.writeheader()
            out.writerows(rows)


KEEP = ("best", "both", "last", "none")


def keep_checkpoints(folder: Path, keep: str) -> None:
    """What a finished run keeps of `folder` (`callbacks.keep_checkpoints`): `best` keeps
    best.ckpt without its optimizer and scheduler states (a third of the size: weights for
    tunelab-eval, nothing to resume), `last` keeps last.ckpt whole, `both` both, `none` neither."""
    if keep not in KEEP:
        raise TunelabError(f"callbacks.keep_checkpoints={keep!r}; choose one of {', '.join(KEEP)}")
    if keep == "both" or not folder.is_dir():
        return
    for name in ("best.ckpt", "last.ckpt"):
        path = folder / name
        if path.is_file() and keep != name.removesuffix(".ckpt"):
            path.unlink()
    best = folder / "best.ckpt"
    if keep == "best" and best.is_file():
        state = torch.load(best, map_location="cpu", weights_only=True, mmap=True)
        for key in ("optimizer_states", "lr_schedulers"):
            state.pop(key, None)
        slim = best.with_suffix(".tmp")
        torch.save(state, slim)
        slim.replace(best)
