"""Every command answers --help with its own usage and options."""

from __future__ import annotations

import subprocess
import sys

# command -> (module, an option its help must name)
COMMANDS = {
    "tunelab-train": ("tunelab.train", "callbacks.keep_checkpoints"),
    "tunelab-eval": ("tunelab.eval", "model_dir"),
    "tunelab-predict": ("tunelab.predict", "skip_bad_rows"),
    "tunelab-serve": ("tunelab.serve", "max_batch"),
    "tunelab-export": ("tunelab.export", "quantize=int8"),
    "tunelab-continual": ("tunelab.continual", "continual.method"),
    "tunelab-curve": ("tunelab.curve", "seeds="),
    "tunelab-compare": ("tunelab.compare", "--out"),
    "tunelab-sweep-summary": ("tunelab.sweep", "multirun_dir"),
}


def test_every_command_has_its_own_help():
    running = {
        name: subprocess.Popen(
            [sys.executable, "-m", module, "--help"], stdout=subprocess.PIPE, text=True
        )
        for name, (module, _) in COMMANDS.items()
    }
    for name, process in running.items():
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0, name
        usage = name if name != "tunelab-sweep-summary" else "sweep"
        assert usage in out and COMMANDS[name][1] in out, (name, out[:500])
