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
from pathlib import Path

from tunelab.data.output_file import OutputFile
from tunelab.errors import CorpusError

log = logging.getLogger(__name__)
# Characters JSON may leave unescaped that str.splitlines() and some readers take as line ends.
LINE_BREAKING = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


def read_bytes(path: Path) -> bytes:
    """A file's bytes, decompressed when it ends in .gz or .bz2."""
    opener = {".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix.lower())
    if opener is None:
        return path.read_bytes()
    try:
        with opener(path, "rb") as handle:
            return handle.read()
    except (OSError, EOFError) as err:
        raise CorpusError(str(path), None, f"cannot decompress ({err})") from None


def read_lines(path: Path, errors: str = "strict") -> list[str]:
    """Lines of a UTF-8 text file (optionally .gz or .bz2) without line ends; the final newline
    adds no empty line.

    `errors="replace"` puts U+FFFD for undecodable bytes, and counts and logs the lines so read.

    Raises:
        CorpusError: invalid UTF-8 (with `errors="strict"`), naming the line.
    """
    if errors not in ("strict", "replace"):
        raise CorpusError(str(path), None, f"errors={errors!r}; choose strict or replace")
    data = read_bytes(path)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    raw = data.split(b"\n")
    if raw and raw[-1] == b"":
        raw.pop()
    texts, replaced = [], 0
    for number, line in enumerate(raw, start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as err:
            if errors == "strict":
                raise CorpusError(
                    str(path),
                    number,
                    f"not valid UTF-8 (byte {err.start + 1} of the line); fix the file, or pass "
                    "errors=replace to read such bytes as U+FFFD",
                ) from None
            text, replaced = line.decode("utf-8", errors="replace"), replaced + 1
        texts.append(text.removesuffix("\r"))
    if replaced:
        log.warning("%s: %d line(s) held invalid UTF-8, read with U+FFFD", path, replaced)
    return texts


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
