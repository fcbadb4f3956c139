"""Child runs of the commands made of runs (`tunelab-continual`, `tunelab-curve`): each an
ordinary `tunelab-train` or `tunelab-eval` run in its own folder, in a process of its own (fresh
memory each), read back when finished, resumed when interrupted.

The child processes are forked from a server that has imported tunelab's training and evaluation
code once (multiprocessing's forkserver): a fresh `python -m tunelab` spends seconds importing
torch, Lightning and transformers before it starts, every child run again. The server itself
never computes anything, so its children start as clean as a new interpreter.

A finished folder is read back only when it was made with the same settings: its recorded
overrides (`.hydra/overrides.yaml`) must equal the ones asked for now, or a second run with other
data, epochs or encoder would silently report the first run's scores.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import multiprocessing
import multiprocessing.reduction
import os
import re
import subprocess
import sys
import time
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tunelab import untrusted
from tunelab.errors import TunelabError, run_failed

log = logging.getLogger("tunelab")
NOT_SETTINGS = ("hydra.", "ckpt_path=")  # where a run is written, and a resume
# what the server imports once: the modules of the commands child runs use
PRELOADED = ["tunelab.training.train", "tunelab.inference.eval"]


def hydra_value(value: Any) -> str:
    """A value in Hydra's override grammar (lists and mappings nested; odd strings quoted)."""
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}:{hydra_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    text = str(value)
    if re.fullmatch(r"[\w./-]+", text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def override_key(override: str) -> str:
    """The key an override sets or removes: `a.b` of `a.b=1`, `+a.b=1`, `++a.b=1` and `~a.b`."""
    return override.lstrip("+~").split("=", 1)[0]


def overrides_of(settings: Mapping[str, Any]) -> list[str]:
    """Command-line overrides for structured settings (`{"data.k_shot": 8, "data.step": {...}}`):
    how a command made of runs sets its child runs' values, never by hand-built strings. A key
    may carry Hydra's prefix (`++model.teacher`)."""
    return [f"{key}={hydra_value(value)}" for key, value in settings.items()]


def settings_of(overrides: list[str]) -> list[str]:
    """The overrides that make a run what it is, in a comparable order; a path to an existing
    file or folder as its real path (a first step linked from another method's folder is the
    same model)."""
    kept = []
    for override in overrides:
        if override.lstrip("+~").startswith(NOT_SETTINGS):
            continue
        key, equals, value = override.partition("=")
        if equals and value.startswith(("/", ".")) and os.path.exists(value):
            override = f"{key}={os.path.realpath(value)}"
        kept.append(override)
    return sorted(kept)


def recorded_overrides(run_dir: Path) -> list[str] | None:
    """The overrides a finished run was made with (None: no readable record)."""
    try:
        found = untrusted.read_yaml(run_dir / ".hydra" / "overrides.yaml")
    except TunelabError:
        return None
    return [str(o) for o in found] if isinstance(found, list) else None


def check_same_settings(
    run_dir: Path, overrides: list[str], what: str, same: Callable[[list[str]], list] | None
) -> None:
    """Stop with one line when `run_dir` holds a finished run made with other settings.

    `same`: how two lists of overrides are compared (default: `settings_of`); a first step
    shared by several methods ignores what cannot change it.
    """
    compare = same or settings_of
    done = recorded_overrides(run_dir)
    if done is None:
        raise TunelabError(
            f"{what}: {run_dir} holds metrics.json but no readable .hydra/overrides.yaml, so "
            "its settings are unknown; remove the folder or choose another output folder"
        )
    if compare(done) != compare(overrides):
        now, then = set(settings_of(overrides)), set(settings_of(done))
        raise TunelabError(
            f"{what}: {run_dir} holds a finished run with other settings "
            f"(now {', '.join(sorted(now - then)) or 'without'}; then "
            f"{', '.join(sorted(then - now)) or 'without'}); remove it or choose another output "
            "folder"
        )


def run_once(
    command: str,
    overrides: list[str],
    run_dir: Path,
    what: str,
    same: Callable[[list[str]], list] | None = None,
) -> dict:
    """The metrics of `tunelab-COMMAND OVERRIDES` run into `run_dir`, read back instead when
    `run_dir` already holds them from the same settings; an interrupted training run goes on
    from its last checkpoint. `wall_seconds`: how long the run took (None if unknown)."""
    metrics_file = run_dir / "metrics.json"
    if metrics_file.is_file():
        check_same_settings(run_dir, overrides, what, same)
    else:
        log.info("%s -> %s", what, run_dir)
        overrides = list(overrides)
        if (run_dir / "checkpoints" / "last.ckpt").is_file():
            log.info("%s: resuming from its last checkpoint", what)
            overrides.append("ckpt_path=last")
        start = time.perf_counter()
        code = run_command([command, *overrides, f"hydra.run.dir={run_dir}"])
        if code != 0:
            raise run_failed(what, code, run_dir)
        (run_dir / "wall_seconds").write_text(f"{time.perf_counter() - start:.1f}\n")
    try:
        metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise TunelabError(f"{metrics_file}: not readable metrics ({err})") from None
    if not isinstance(metrics, dict):
        raise TunelabError(f"{metrics_file}: not a JSON object of metrics")
    wall = run_dir / "wall_seconds"
    try:
        metrics["wall_seconds"] = float(wall.read_text()) if wall.is_file() else None
    except ValueError:
        metrics["wall_seconds"] = None
    return metrics


def run_command(argv: list[str]) -> int:
    """The exit code of `python -m tunelab ARGV`, run in a process forked from the server, with
    this process's environment, folder and standard output and error as they are now (as a
    subprocess would have them). Where there is no forkserver (Windows), a plain subprocess."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return subprocess.run([sys.executable, "-m", "tunelab", *argv], check=False).returncode
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOADED)  # read when the server starts: the first call
    outputs = [multiprocessing.reduction.DupFd(fd) for fd in (1, 2)]  # fetched by the child
    child = context.Process(
        target=as_tunelab_command,
        args=(argv, dict(os.environ), os.getcwd(), outputs),
        name="tunelab",
    )
    child.start()
    child.join()
    return child.exitcode


def as_tunelab_command(
    argv: list[str], environment: dict[str, str], folder: str, outputs: list
) -> None:
    """In the child: become `python -m tunelab ARGV` and run it. `__main__` is replaced so that
    whatever starts processes of its own (Lightning's DDP launcher) starts `python -m tunelab
    ARGV` too, not the script that called the parent."""
    for fd, sent in zip((1, 2), outputs, strict=True):
        received = sent.detach()
        os.dup2(received, fd)
        os.close(received)
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(folder)
    spec = importlib.util.find_spec("tunelab.__main__")
    main = types.ModuleType("__main__")
    main.__spec__, main.__file__ = importlib.util.find_spec("tunelab"), spec.origin
    sys.modules["__main__"] = main
    sys.argv = [spec.origin, *argv]
    from tunelab.cli import main as tunelab_main

    tunelab_main()
