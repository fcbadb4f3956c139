"""What a resumed run keeps of the interrupted one (its logged rows), and what a finished run keeps
of its checkpoints. The random states and the checkpoint on SIGTERM are callbacks
(`tunelab.training.callbacks`); the training order needs no state
(`tunelab.data.base.EpochShuffle`)."""

from __future__ import annotations

import csv
from pathlib import Path

import torch
from pytorch_lightning.loggers import CSVLogger

from tunelab.errors import TunelabError


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
