"""Random states in every checkpoint, so that an interrupted run resumes exactly.

The training order needs no state (`tunelab.data.base.EpochShuffle`); a checkpoint on SIGTERM comes
from Lightning's `OnExceptionCheckpoint` (callbacks config)."""

from __future__ import annotations

import random

import numpy as np
import pytorch_lightning as pl
import torch


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
        state = checkpoint.get("tunelab_random_state")
        if state:
            random.setstate(state["python"])
            name, keys, pos, has_gauss, cached = state["numpy"]
            np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
            torch.set_rng_state(state["torch"])


def _plain(numpy_state: tuple) -> tuple:
    name, keys, pos, has_gauss, cached = numpy_state
    return name, keys.tolist(), int(pos), int(has_gauss), float(cached)
