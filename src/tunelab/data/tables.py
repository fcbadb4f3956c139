"""Readers for labelled text tables: CSV, TSV and JSON lines (optionally .gz / .bz2 compressed)."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tunelab.errors import CorpusError

FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl"}


@dataclass(slots=True)
class Example:
    """One labelled text. `row` is the 1-based line where the record starts in `path`."""

    text: str
    label: str
    text_pair: str | None = None
    path: str = "<memory>"
    row: int = 0


def _open_text(path: Path) -> io.TextIOBase:
    opener = {".bz2": bz2.open, ".gz": gzip.open}.get(path.suffix, open)
    # newline="" lets the csv module handle CRLF and newlines inside quoted fields.
    return opener(path, "rt", encoding="utf-8-sig", newline="")


def table_format(path: Path) -> str:
    suffixes = [s for s in path.suffixes if s not in (".bz2", ".gz")]
    kind = FORMATS.get(suffixes[-1].lower() if suffixes else "")
    if kind is None:
        raise CorpusError(str(path), None, f"unknown table format; use one of {', '.join(FORMATS)}")
    return kind


class DuplicateKey(ValueError):
    """A JSON object that names one key twice (json keeps the last without a word)."""


def unique_keys(pairs: list[tuple[str, object]]) -> dict:
    found = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(key)
        found[key] = value
    return found


def _cell(path: Path, row: int, column: str, value, text: bool) -> str:
    """A record's value as a string: JSON numbers and booleans are fine for labels; a text must
    be a string, and lists or objects are never silently turned into their repr."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if text or isinstance(value, list | dict):
        kind = {list: "a list", dict: "an object"}.get(type(value), type(value).__name__)
        hint = "" if text else "; write several labels as one string joined by label_separator"
        raise CorpusError(str(path), row, f"{column!r} holds {kind}, not a string{hint}")
    return str(value)


def records(name: str, kind: str, handle, bad=None):
    """(line number, record dict) pairs of a table read from `handle` (`kind`: csv, tsv,
    quoted-tsv or jsonl).

    A malformed record raises CorpusError naming `name` and its line; with `bad`, the error is
    passed to it instead and reading goes on (a broken header or CSV quoting still stops).
    """

    def problem(number: int, text: str) -> None:
        err = CorpusError(name, number, text)
        if bad is None:
            raise err
        bad(err)

    if kind == "jsonl":
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line, object_pairs_hook=unique_keys)
            except json.JSONDecodeError as err:
                problem(number, f"invalid JSON ({err.msg})")
            except DuplicateKey as err:
                problem(number, f"key {err.args[0]!r} appears twice")
            else:
                if isinstance(record, dict):
                    yield number, record
                else:
                    problem(number, "expected a JSON object per line")
        return
    # GLUE-style TSV files are not quoted: a leading " is part of the text ("quoted-tsv" for
    # those that are). strict: a quote never closed is an error, not a field that swallows the
    # rest of the file.
    options = {
        "tsv": {"delimiter": "\t", "quoting": csv.QUOTE_NONE},
        "quoted-tsv": {"delimiter": "\t", "strict": True},
    }.get(kind, {"strict": True})
    reader = csv.DictReader(handle, **options)
    header = reader.fieldnames or []
    repeated = [column for i, column in enumerate(header) if column in header[:i]]
    if repeated:
        columns = [str(i + 1) for i, column in enumerate(header) if column == repeated[0]]
        raise CorpusError(
            name, 1, f"column {repeated[0]!r} appears twice (columns {', '.join(columns)})"
        )
    start = 2
    rows = iter(reader)
    while True:
        try:
            record = next(rows)
        except StopIteration:
            return
        except csv.Error as err:
            unclosed = "unexpected end of data" in str(err)
            text = "a quote opened in this row is never closed" if unclosed else str(err)
            raise CorpusError(name, start, f"malformed CSV: {text}") from None
        if None in record:
            problem(start, "more fields than header columns")
        else:
            yield start, record
        start = reader.line_num + 1


def read_table(*args, **kwargs) -> list[Example]:
    """`iter_table`'s examples in a list; a table without rows is an error.

    Raises:
        CorpusError: unreadable file, a missing column (the message lists those present), an empty
            text or label, or a malformed record, naming the file and row.
    """
    examples = list(iter_table(*args, **kwargs))
    if not examples:
        raise CorpusError(
            str(args[0] if args else kwargs["path"]), None, "no rows found (empty file?)"
        )
    return examples


def iter_table(
    path: str | Path,
    text_column: str | list[str],
    label_column: str | None,
    text_pair_column: str | None = None,
    keep_labels: set[str] | None = None,
    skip_empty: bool = False,
) -> Iterator[Example]:
    """Labelled texts, a row at a time (a table of any size in constant memory); `text_column`
    may list alternatives (the first one present is used). `label_column=None` reads texts
    without labels (for prediction; `label` is then empty).

    `keep_labels` skips, before any check, the rows whose label is not in it; `skip_empty` skips
    rows whose text is empty (raw text for pre-training) instead of stopping at them. Errors as
    `read_table`'s; an empty table yields nothing.
    """
    path, name = Path(path), str(path)
    candidates = [text_column] if isinstance(text_column, str) else list(text_column)
    table_format(path)  # an unknown extension is named before the file is opened
    try:
        with _open_text(path) as handle:
            for row, record in records(str(path), table_format(path), handle):
                if keep_labels is not None and record.get(label_column) not in keep_labels:
                    continue
                text_key = next((c for c in candidates if c in record), None)
                wanted = [text_key or " or ".join(candidates)]
                wanted += [c for c in (label_column, text_pair_column) if c]
                missing = [c for c in wanted if c not in record]
                if missing:
                    raise CorpusError(
                        str(path),
                        row,
                        f"no column {', '.join(map(repr, missing))}; "
                        f"columns are {', '.join(map(str, record))}",
                    )
                texts = {text_key, text_pair_column}
                values = {c: _cell(path, row, c, record[c], c in texts) for c in wanted}
                if skip_empty and not values[text_key].strip():
                    continue
                for column, value in values.items():
                    if not value.strip():
                        raise CorpusError(str(path), row, f"empty {column!r}")
                pair = values[text_pair_column] if text_pair_column else None
                # one string for each label and for the file: a million rows share them
                label = sys.intern(values[label_column].strip()) if label_column else ""
                yield Example(values[text_key], label, pair, name, row)
    except UnicodeDecodeError:
        raise CorpusError(str(path), None, "not valid UTF-8") from None
    except OSError as err:
        raise CorpusError(str(path), None, f"cannot read file ({err.strerror or err})") from None
    except csv.Error as err:
        raise CorpusError(str(path), None, f"malformed CSV ({err})") from None
