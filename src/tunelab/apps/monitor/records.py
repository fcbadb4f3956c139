"""The monitor's input: records with a time and a text (and optionally a topic), one at a time,
from a CSV or JSON-lines file, a file that keeps growing (`follow`), or standard input (`-`).

A record without a time, with a time that cannot be read, or without text is skipped and
counted, and its line named (`Skipped`); nothing is dropped without a trace. Times are ISO 8601
(a time without a zone is UTC) or seconds since the Unix epoch.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
import time as clock
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from tunelab.data.lines import json_line
from tunelab.errors import TunelabError

log = logging.getLogger("tunelab")
FORMATS = ("csv", "jsonl")
SHOWN = 10  # skipped lines logged one by one per reason; all of them go to skipped.jsonl
IDLE = object()  # yielded while a followed file has no new line: time to label what is waiting


@dataclass(frozen=True)
class Record:
    time: datetime
    text: str
    topic: str | None
    where: str  # FILE:LINE


class Skipped:
    """Counts of skipped records per reason; each one is logged (the first SHOWN per reason)
    and written to `sink` as a JSON line naming FILE:LINE."""

    def __init__(self, sink: io.TextIOBase | None = None) -> None:
        self.counts: Counter = Counter()
        self.sink = sink

    def __call__(self, where: str, reason: str) -> None:
        self.counts[reason] += 1
        if self.counts[reason] <= SHOWN:
            log.warning("%s: skipped: %s", where, reason)
        elif self.counts[reason] == SHOWN + 1:
            log.warning("further records skipped for %r are counted, not shown", reason)
        if self.sink is not None:
            self.sink.write(json_line({"where": where, "reason": reason}))


def parse_time(value) -> datetime:
    """An ISO 8601 time or seconds since the epoch, as an aware UTC datetime.

    Raises:
        ValueError: neither.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a time")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), timezone.utc)
    text = str(value).strip()
    try:
        return datetime.fromtimestamp(float(text), timezone.utc)
    except ValueError:
        pass
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed


def stream_format(source: str, chosen: str | None) -> str:
    """`format=` when given, else from the file name (standard input: JSON lines)."""
    if chosen is None and source == "-":
        return "jsonl"
    if chosen is not None:
        if chosen not in FORMATS:
            raise TunelabError(f"format={chosen!r}; choose one of {', '.join(FORMATS)}")
        return chosen
    suffix = Path(source).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    raise TunelabError(f"input={source}: say format=csv or format=jsonl (the name does not tell)")


def lines(handle, follow: bool, poll_s: float, idle_stop_s: float | None) -> Iterator:
    """The handle's lines; with `follow`, waits for more at the end (yielding IDLE while
    waiting) until nothing new has come for `idle_stop_s` seconds (None: never stops). A last
    line without its newline is held back until it is complete."""
    pending, quiet_since = "", None
    while True:
        line = handle.readline()
        if line.endswith("\n") or (line and not follow):
            yield pending + line
            pending, quiet_since = "", None
            continue
        pending += line
        if not follow:
            if pending:
                yield pending
            return
        quiet_since = quiet_since or clock.monotonic()
        if idle_stop_s is not None and clock.monotonic() - quiet_since >= idle_stop_s:
            if pending:
                yield pending
            return
        yield IDLE
        clock.sleep(poll_s)


def read_stream(cfg, skipped: Skipped) -> Iterator:
    """Records (and IDLE markers) from `cfg.input` as the monitor config describes it."""
    source = str(cfg.input)
    kind = stream_format(source, cfg.format)
    if source == "-":
        handle, name = sys.stdin, "<stdin>"
    else:
        path = Path(source)
        if not path.is_file():
            raise TunelabError(f"input={source}: no such file")
        handle, name = path.open(encoding="utf-8-sig", newline=""), source
    columns = (cfg.columns.time, cfg.columns.text, cfg.columns.topic)
    try:
        raw = lines(handle, cfg.follow, cfg.poll_s, cfg.idle_stop_s)
        rows = csv_rows(raw, name) if kind == "csv" else json_rows(raw, name, skipped)
        for item in rows:
            if item is IDLE:
                yield IDLE
                continue
            where, row = item
            record = checked(row, where, columns, skipped)
            if record is not None:
                yield record
    finally:
        if handle is not sys.stdin:
            handle.close()


def json_rows(raw: Iterator, name: str, skipped: Skipped) -> Iterator:
    number = 0
    for line in raw:
        if line is IDLE:
            yield IDLE
            continue
        number += 1
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            skipped(f"{name}:{number}", f"not JSON ({err.msg})")
            continue
        if not isinstance(row, dict):
            skipped(f"{name}:{number}", "not a JSON object")
            continue
        yield f"{name}:{number}", row


def csv_rows(raw: Iterator, name: str) -> Iterator:
    """Rows of a CSV file with a header, as dicts, each named by its first line; a quoted cell
    may span lines (a row is complete when its quotes are balanced)."""
    header, buffer, first, number = None, "", 0, 0
    for line in raw:
        if line is IDLE:
            yield IDLE
            continue
        number += 1
        first = first if buffer else number
        buffer += line
        if buffer.count('"') % 2:
            continue
        row = next(csv.reader(io.StringIO(buffer)), [])
        buffer = ""
        if header is None:
            header = [cell.strip() for cell in row]
        elif row:
            yield f"{name}:{first}", dict(zip(header, row, strict=False))
    if buffer and header is not None:  # an unbalanced quote: read what is there
        yield (
            f"{name}:{first}",
            dict(zip(header, next(csv.reader(io.StringIO(buffer))), strict=False)),
        )


def checked(row: dict, where: str, columns: tuple, skipped: Skipped) -> Record | None:
    time_key, text_key, topic_key = columns
    value = row.get(time_key)
    if value is None or str(value).strip() == "":
        skipped(where, f"no time ({time_key})")
        return None
    try:
        when = parse_time(value)
    except (ValueError, OverflowError, OSError):
        skipped(where, f"bad time {str(value)[:40]!r}")
        return None
    text = row.get(text_key)
    if not isinstance(text, str) or not text.strip():
        skipped(where, f"no text ({text_key})")
        return None
    topic = None
    if topic_key is not None:
        topic = row.get(topic_key)
        if topic is None or str(topic).strip() == "":
            skipped(where, f"no topic ({topic_key})")
            return None
        topic = str(topic).strip()
    return Record(when, text, topic, where)
