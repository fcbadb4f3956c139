"""A file the user asked a command to write: never over one of its inputs, complete or not there
at all, compressed when its name says so.

The rows go to a uniquely named hidden file beside the target (so an existing `OUT.partial` of
the user's is never touched), which takes the target's name only when the command finishes; an
error, Ctrl-C or SIGTERM (see `terminate_as_exit`) removes it.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tunelab.errors import TunelabError

# mtime=0: the same rows give the same bytes
COMPRESSORS = {
    ".gz": lambda raw: gzip.GzipFile(fileobj=raw, mode="wb", mtime=0),
    ".bz2": lambda raw: bz2.BZ2File(raw, mode="wb"),
}


def same_file(first: str | Path, second: str | Path) -> bool:
    """Whether two names point at one file (links and relative paths included)."""
    first, second = Path(first), Path(second)
    try:
        return first.exists() and second.exists() and os.path.samefile(first, second)
    except OSError:
        return first.resolve() == second.resolve()


def check_not_input(output: str | Path, *inputs: str | Path | None) -> None:
    """Stop before anything runs when `output` names one of the inputs.

    Raises:
        TunelabError: naming both.
    """
    for source in inputs:
        if source is not None and (same_file(output, source) or str(output) == str(source)):
            raise TunelabError(
                f"output={output} is the input file {source}: refused, writing it would destroy "
                "the input; name another file"
            )


class OutputFile:
    """A text handle on a hidden file beside `target`; `commit()` gives it the target's name,
    `discard()` removes it. Usable as a context manager (commit on success)."""

    def __init__(self, target: str | Path, newline: str | None = "") -> None:
        self.target = Path(target)
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(
                dir=self.target.parent, prefix=f".{self.target.name}.", suffix=".partial"
            )
        except OSError as err:
            raise TunelabError(f"output={target}: cannot write there ({err.strerror})") from None
        self.partial = Path(name)
        os.chmod(self.partial, 0o666 & ~current_umask())  # as a plainly created file
        self.raw = os.fdopen(handle, "wb")
        compressor = COMPRESSORS.get(self.target.suffix.lower())
        self.binary = compressor(self.raw) if compressor else None
        self.text = io.TextIOWrapper(
            self.binary or self.raw, encoding="utf-8", newline=newline, write_through=False
        )

    def write(self, text: str) -> int:
        return self.text.write(text)

    def writelines(self, lines) -> None:
        self.text.writelines(lines)

    def _close(self) -> None:
        for part in (self.text, self.binary, self.raw):
            if part is not None and not part.closed:
                part.close()

    def commit(self) -> None:
        self._close()
        os.replace(self.partial, self.target)

    def discard(self) -> None:
        try:
            self._close()
        finally:
            self.partial.unlink(missing_ok=True)

    def __enter__(self) -> OutputFile:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def terminate_as_exit() -> Iterator[None]:
    """SIGTERM raises SystemExit inside the block (exit status 143), so that `OutputFile` and
    other `finally` clean-ups run, as they do for Ctrl-C; outside the main thread, a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(number, frame) -> None:
        print("tunelab: stopped by SIGTERM; no output written", file=sys.stderr)
        raise SystemExit(128 + number)

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)
