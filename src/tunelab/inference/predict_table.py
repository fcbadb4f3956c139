"""`tunelab-predict` on a table: every input column kept, the prediction's columns added.

Rows stream through in chunks (the Predictor sorts and batches each chunk), so a table of any
size runs in bounded memory; a bad row stops the run naming its line, or is skipped and counted.
"""

from __future__ import annotations

import logging
import sys

from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from tunelab.data.table_stream import STDIO, TableReader, TableWriter, stream_format
from tunelab.errors import CorpusError, TunelabError
from tunelab.inference.predictor import Predictor

log = logging.getLogger("tunelab")
CHUNK_ROWS = 512  # rows per Predictor call: enough to sort into full batches
RENAMED = {"label": "pred", "labels": "pred", "probabilities": "prob"}
TEXT_KEYS = ("text", "text_pair")
JSON_KINDS = {
    bool: "true/false",
    int: "a number",
    float: "a number",
    list: "a list",
    dict: "an object",
}


def prediction_columns(record: dict) -> dict:
    """A Predictor record as flat columns: `pred` (label, or the list of labels), one
    `prob_<label>` per label, and the task's other fields (e.g. `entities`) as they are."""
    columns = {}
    for key, value in record.items():
        if key in TEXT_KEYS:
            continue
        name = RENAMED.get(key, key)
        if isinstance(value, dict):
            columns.update({f"{name}_{inner}": v for inner, v in value.items()})
        else:
            columns[name] = value
    return columns


class Columns:
    """Which input columns hold the texts, and the checks each row must pass."""

    def __init__(self, cfg, settings: dict, out_kind: str) -> None:
        given = cfg.get("text_column") or settings.get("text_column") or "text"
        self.text = [given] if isinstance(given, str) else list(given)
        self.pair = cfg.get("text_pair_column") or settings.get("text_pair_column")
        self.name = "<stdin>" if cfg.input == STDIO else cfg.input
        self.out_kind = out_kind
        self.first_row: list[str] | None = None  # a CSV/TSV output's input columns

    def text_key(self, record: dict) -> str | None:
        return next((c for c in self.text if c in record), None)

    def problem(self, number: int, record: dict) -> str | None:
        """Why a row cannot be labelled, or None; the first row must have the text columns."""
        if self.first_row is None:
            self.check_first(number, record)
        for key in (self.text_key(record), self.pair):
            if key is None:
                continue
            value = record[key] if key in record else None
            if not isinstance(value, str):
                return f"{key!r} holds {JSON_KINDS.get(type(value), 'no value')}, not a text"
            if not value.strip():
                return f"{key!r} is empty: no text to label"
        if self.out_kind == "tsv":
            for key, value in record.items():
                if isinstance(value, str) and any(c in value for c in "\t\n\r"):
                    return f"{key!r} holds a tab or line break; TSV cannot carry it (write .csv)"
        if self.first_row is None:
            self.first_row = list(record)
        if self.out_kind != "jsonl":  # a table's header is the first row's keys
            extra = [key for key in record if key not in self.first_row]
            if extra:
                return f"key(s) {', '.join(map(repr, extra))} not in the first row's columns"
        return None

    def check_first(self, number: int, record: dict) -> None:
        """Column names are the user's settings, not the data's fault: stop at once."""
        missing = [] if self.text_key(record) else [" or ".join(self.text)]
        missing += [self.pair] if self.pair and self.pair not in record else []
        if missing:
            raise CorpusError(
                self.name,
                number,
                f"no column {', '.join(map(repr, missing))}; columns are "
                f"{', '.join(map(str, record))} (set text_column=)",
            )


def predict_table(model: Predictor, cfg, kind: str) -> int:
    """Label the table `cfg.input` into `cfg.output`; returns the number of rows written."""
    if cfg.output == STDIO:
        out_kind = kind
    else:
        out_kind = stream_format(cfg.output, None) or "jsonl"
    columns = Columns(cfg, model.settings, out_kind)
    reader = TableReader(cfg.input, kind, cfg.get("skip_bad_rows", False), columns.problem)
    try:
        written = label_rows(
            model,
            reader,
            columns,
            TableWriter(cfg.output, out_kind, cfg.get("escape_formulas", True)),
        )
    finally:
        reader.close()
    if reader.bad_rows:
        log.warning("%s: skipped %d bad row(s) (skip_bad_rows=true)", reader.name, reader.bad_rows)
    return written


def label_rows(model: Predictor, reader: TableReader, columns: Columns, writer: TableWriter) -> int:
    """Stream the reader's rows through the model into the writer, which keeps nothing of a
    run that stops part-way."""
    written = 0
    bar = tqdm(total=reader.size, unit="B", unit_scale=True, desc="predict", file=sys.stderr)
    try:
        with logging_redirect_tqdm():
            for chunk in reader.chunks(CHUNK_ROWS):
                rows = [record for _, record in chunk]
                texts = [record[columns.text_key(record)] for record in rows]
                pairs = [record[columns.pair] for record in rows] if columns.pair else None
                added = [prediction_columns(r) for r in model.predict(texts, pairs)]
                if not written:
                    check_no_clash(reader.name, rows[0], added[0])
                writer.write([{**r, **a} for r, a in zip(rows, added, strict=True)])
                written += len(rows)
                bar.set_postfix(rows=written, refresh=False)
                bar.update(reader.bytes_read - bar.n)
        writer.finish()
    except BaseException:
        writer.abandon()
        raise
    finally:
        bar.close()
    return written


def check_no_clash(name: str, row: dict, added: dict) -> None:
    clash = sorted(set(added) & set(row))
    if clash:
        raise TunelabError(
            f"{name}: input column(s) {', '.join(map(repr, clash))} would be overwritten by the "
            "prediction; rename them"
        )
