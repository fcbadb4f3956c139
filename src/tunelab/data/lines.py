"""Plain-text input and JSON-lines output of the prediction commands: one record per input line.

Lines end at `\n` alone (a CRLF's `\r` is dropped), so a lone carriage return, U+2028 or NUL stays
inside its line's text; a leading byte-order mark is not text.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import json
import logging
from collections.abc import Iterator
from pathlib import Path

from tunelab.data.output_file import OutputFile
from tunelab.errors import CorpusError

log = logging.getLogger(__name__)
# Characters JSON may leave unescaped that str.splitlines() and some readers take as line ends.
LINE_BREAKING = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


def open_binary(path: Path):
    """A file opened for reading bytes, decompressed as read when it ends in .gz or .bz2."""
    opener = {".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix.lower(), open)
    return opener(path, "rb")


def iter_lines(path: Path, errors: str = "strict") -> Iterator[str]:
    """`read_lines`, one line at a time: a file of any size is read in constant memory."""
    if errors not in ("strict", "replace"):
        raise CorpusError(str(path), None, f"errors={errors!r}; choose strict or replace")
    replaced = 0
    try:
        with open_binary(path) as handle:
            for number, line in enumerate(handle, start=1):
                if number == 1 and line.startswith(codecs.BOM_UTF8):
                    line = line[len(codecs.BOM_UTF8) :]
                line = line.removesuffix(b"\n")
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError as err:
                    if errors == "strict":
                        raise CorpusError(
                            str(path),
                            number,
                            f"not valid UTF-8 (byte {err.start + 1} of the line); fix the file, "
                            "or pass errors=replace to read such bytes as U+FFFD",
                        ) from None
                    text, replaced = line.decode("utf-8", errors="replace"), replaced + 1
                yield text.removesuffix("\r")
    except (OSError, EOFError) as err:  # a truncated or corrupt .gz/.bz2
        raise CorpusError(str(path), None, f"cannot decompress ({err})") from None
    if replaced:
        log.warning("%s: %d line(s) held invalid UTF-8, read with U+FFFD", path, replaced)


def read_lines(path: Path, errors: str = "strict") -> list[str]:
    """Lines of a UTF-8 text file (optionally .gz or .bz2) without line ends; the final newline
    adds no empty line.

    `errors="replace"` puts U+FFFD for undecodable bytes, and counts and logs the lines so read.

    Raises:
        CorpusError: invalid UTF-8 (with `errors="strict"`), naming the line.
    """
    return list(iter_lines(path, errors))


def json_line(record: dict) -> str:
    """One record as a JSON line that every reader takes as one line."""
    line = json.dumps(record, ensure_ascii=False)
    for character, escaped in LINE_BREAKING.items():
        line = line.replace(character, escaped)
    return line + "\n"


def write_jsonl(path: Path, records: list[dict]) -> None:
    """JSON lines into `path`, which appears only complete (`OutputFile`)."""
    with OutputFile(path, newline="\n") as out:
        out.writelines(json_line(record) for record in records)
