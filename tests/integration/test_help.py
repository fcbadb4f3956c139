"""Every command answers --help with its own usage and options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# command -> (module, an option its help must name)
COMMANDS = {
    "tunelab-train": ("tunelab.training.train", "callbacks.keep_checkpoints"),
    "tunelab-eval": ("tunelab.inference.eval", "model_dir"),
    "tunelab-predict": ("tunelab.inference.predict", "skip_bad_rows"),
    "tunelab-serve": ("tunelab.serving.serve", "max_batch"),
    "tunelab-export": ("tunelab.inference.export", "quantize=int8"),
    "tunelab-continual": ("tunelab.experiments.continual", "continual.method"),
    "tunelab-curve": ("tunelab.experiments.curve", "seeds="),
    "tunelab-compare": ("tunelab.experiments.compare", "--out"),
    "tunelab-sweep-summary": ("tunelab.experiments.sweep", "multirun_dir"),
    "tunelab-explain": ("tunelab.inference.explain", "steps=50"),
    "tunelab-distill": ("tunelab.experiments.distill", "layers="),
}


def test_every_command_has_its_own_help():
    """Each `tunelab-NAME` script (what the README runs) answers --help with its own options;
    `python -m tunelab.<package>.<module> --help` gives the same text (checked for train
    below), through the same `config.hydra_command`."""
    scripts = Path(sys.executable).parent
    running = {
        name: subprocess.Popen([str(scripts / name), "--help"], stdout=subprocess.PIPE, text=True)
        for name in COMMANDS
    }
    for name, process in running.items():
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0, name
        usage = name if name != "tunelab-sweep-summary" else "sweep"
        assert usage in out and COMMANDS[name][1] in out, (name, out[:500])


def help_of(*command: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from tunelab.cli import main; main()", *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_one_command_lists_its_subcommands():
    from tunelab.cli import COMMANDS as SUBCOMMANDS

    out = help_of("--help")
    assert out.startswith("usage: tunelab COMMAND")
    for name, command in SUBCOMMANDS.items():
        assert f"  {name}" in out and command.summary in out


def test_each_subcommand_prints_its_commands_help_without_importing_it():
    """`tunelab NAME --help` names the command's options (for train: the very text of
    `python -m tunelab.training.train --help`), and the command's module (torch, Lightning) is
    not imported for it."""
    for name, (module, option) in COMMANDS.items():
        sub = name.removeprefix("tunelab-")
        out = help_of(sub, "--help")
        assert option in out, (sub, out[:300])
        if sub == "train":  # the others' direct help is checked above
            direct = subprocess.run(
                [sys.executable, "-m", module, "--help"], capture_output=True, text=True
            )
            assert out == direct.stdout
    probe = (
        "import sys; from tunelab.cli import run\n"
        "try:\n    run('train', ['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'pytorch_lightning', 'transformers',"
        " 'tunelab.training.train') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout[-500:]


def test_an_unknown_subcommand_is_one_line():
    done = subprocess.run(
        [sys.executable, "-m", "tunelab", "fit"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("tunelab: error: no command 'fit'; commands: train,")
