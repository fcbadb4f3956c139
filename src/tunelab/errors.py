"""User-facing errors: entry points print these as one line, without a traceback."""

from __future__ import annotations

import signal


class TunelabError(Exception):
    """A problem with the user's input or set-up, explained in one line."""


class CorpusError(TunelabError):
    """Bad corpus content; the message names the file and line."""

    def __init__(self, path: str, line: int | None, problem: str):
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path, self.line, self.problem = path, line, problem


def run_failed(what: str, returncode: int, run_dir) -> TunelabError:
    """The error for a child `tunelab-train` run that exited with `returncode`: a run killed by
    a signal leaves no traceback in its log, so the signal is named here (SIGKILL on Linux is
    most often the kernel's out-of-memory killer)."""
    if returncode >= 0:
        return TunelabError(f"{what} failed (exit status {returncode}): see {run_dir}")
    name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else "a signal"
    hint = ", often the system running out of memory" if name == "SIGKILL" else ""
    return TunelabError(f"{what} was killed by {name}{hint}; rerun to resume: see {run_dir}")
