"""Callbacks that tests add to real runs with `+callbacks.NAME._target_=tests.helpers....`."""

import os
import signal

import pytorch_lightning as pl


class SignalAtStep(pl.Callback):
    """Sends this process `signal_name` once training reaches `step` optimizer steps."""

    def __init__(self, step: int, signal_name: str = "SIGKILL"):
        self.step, self.signal = step, getattr(signal, signal_name)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step == self.step:
            os.kill(os.getpid(), self.signal)
