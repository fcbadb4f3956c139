"""User-facing errors: entry points print these as one line, without a traceback."""

from __future__ import annotations


class TunelabError(Exception):
    """A problem with the user's input or set-up, explained in one line."""


class CorpusError(TunelabError):
    """Bad corpus content; the message names the file and line."""

    def __init__(self, path: str, line: int | None, problem: str):
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path, self.line, self.problem = path, line, problem
