"""Tables streamed through `tunelab-predict`: rows read a chunk at a time from a file or stdin
(CSV, TSV, JSON lines; optionally .gz / .bz2), written back with columns added.

The csv and json modules parse; this file adds what they leave to the caller: row numbers for bad
rows, bad rows skipped and counted on request, and an output that appears only when complete.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import logging
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

from tunelab.data.lines import json_line
from tunelab.data.output_file import OutputFile
from tunelab.data.tables import FORMATS, records
from tunelab.errors import CorpusError, TunelabError

log = logging.getLogger("tunelab")
STDIO = "-"
SHOWN_BAD_ROWS = 10  # bad rows named one by one in the log; the rest are counted


def stream_format(path: str, given: str | None) -> str | None:
    """csv, tsv or jsonl: `given`, else the file's suffix; None for a plain text file."""
    if given:
        if given not in set(FORMATS.values()):
            raise TunelabError(f"table={given!r}; choose csv, tsv or jsonl")
        return given
    suffixes = [s.lower() for s in Path(path).suffixes if s.lower() not in (".bz2", ".gz")]
    return FORMATS.get(suffixes[-1]) if suffixes else None


class TableReader:
    """Rows of a table, in order, with their line numbers.

    Invalid UTF-8 is found row by row (decoded with surrogate escapes, then checked), so that a
    bad row can be named and skipped like any other.
    """

    def __init__(self, source: str, kind: str, skip_bad_rows: bool = False, check=None) -> None:
        """`check(line, record)` returns why a parsed row cannot be used, or None."""
        self.name = "<stdin>" if source == STDIO else source
        self.kind, self.skip_bad_rows, self.check = kind, skip_bad_rows, check
        self.bad_rows = 0
        if source == STDIO:
            self.raw, self.size = sys.stdin.buffer, None
        else:
            path = Path(source)
            if not path.is_file():
                raise TunelabError(f"input file {path} does not exist")
            self.raw, self.size = path.open("rb"), path.stat().st_size
        opener = {".gz": gzip.GzipFile, ".bz2": bz2.BZ2File}.get(Path(source).suffix.lower())
        binary = opener(fileobj=self.raw) if opener else self.raw
        self.handle = io.TextIOWrapper(
            binary, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )

    @property
    def bytes_read(self) -> int:
        return self.raw.tell() if self.size is not None else 0

    def bad(self, err: CorpusError) -> None:
        if not self.skip_bad_rows:
            raise CorpusError(err.path, err.line, f"{err.problem} (skip_bad_rows=true skips it)")
        self.bad_rows += 1
        if self.bad_rows <= SHOWN_BAD_ROWS:
            log.warning("skipped %s", err)

    def rows(self) -> Iterator[tuple[int, dict]]:
        try:
            for number, record in records(self.name, self.kind, self.handle, self.bad):
                problem = None
                if any(_undecodable(value) for value in (*record, *record.values())):
                    problem = "not valid UTF-8"
                elif self.check is not None:
                    problem = self.check(number, record)
                if problem:
                    self.bad(CorpusError(self.name, number, problem))
                else:
                    yield number, record
        except csv.Error as err:
            raise CorpusError(self.name, None, f"malformed CSV ({err})") from None
        except (OSError, EOFError, zlib.error) as err:  # a corrupt .gz or .bz2
            raise CorpusError(self.name, None, f"cannot decompress ({err})") from None

    def chunks(self, size: int) -> Iterator[list[tuple[int, dict]]]:
        chunk = []
        for row in self.rows():
            chunk.append(row)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def close(self) -> None:
        if self.raw is not sys.stdin.buffer:
            self.raw.close()


def _undecodable(value) -> bool:
    # surrogateescape maps each undecodable byte to one of U+DC80..U+DCFF
    return isinstance(value, str) and any("\udc80" <= c <= "\udcff" for c in value)


class TableWriter:
    """Rows out as CSV, TSV or JSON lines, to stdout or to a file that takes its name only when
    the table is complete (`OutputFile`: a stopped run leaves no half table, and no stray file).

    `escape_formulas`: a CSV/TSV cell that a spreadsheet would run as a formula (it starts with
    `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, as OWASP advises.
    """

    def __init__(self, target: str, kind: str, escape_formulas: bool = True) -> None:
        self.target, self.kind = target, kind
        self.escape = escape_formulas and kind != "jsonl"
        self.columns: list[str] | None = None
        self.file = None if target == STDIO else OutputFile(target)
        self.out = sys.stdout if self.file is None else self.file
        self.writer = None

    def write(self, rows: list[dict]) -> None:
        if self.kind == "jsonl":
            self.out.writelines(json_line(row) for row in rows)
            return
        if self.writer is None:
            self.columns = list(rows[0])
            # unquoted, as the TSV reader reads it; the rows were checked to hold no tab or break
            options = {"delimiter": "\t", "quoting": csv.QUOTE_NONE, "quotechar": None}
            options = options if self.kind == "tsv" else {}
            self.writer = csv.writer(self.out, lineterminator="\n", **options)
            self.writer.writerow([cell(c, self.escape) for c in self.columns])
        self.writer.writerows(
            [[cell(row.get(c), self.escape) for c in self.columns] for row in rows]
        )

    def finish(self) -> None:
        if self.file is None:
            self.out.flush()
        else:
            self.file.commit()

    def abandon(self) -> None:
        if self.file is not None:
            self.file.discard()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value, escape_formulas: bool = False) -> str:
    """A value as a CSV/TSV cell: strings as they are (a formula-like one escaped when asked),
    anything else as JSON."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return "'" + value if escape_formulas and value.startswith(FORMULA_STARTS) else value
