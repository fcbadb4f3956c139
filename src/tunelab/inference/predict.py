"""`tunelab-predict`: label raw text with an exported model, read the way it was trained.

NER writes entities with character offsets (JSON lines) or `word tag` lines; classification writes
each text's label and probabilities. A table (CSV, TSV, JSON lines, or `-` for stdin/stdout) keeps
its columns and gains the prediction's (predict_table.py). How the model reads input (windows,
context, long-text strategy, columns) comes from its `tunelab.json`; a setting given here wins.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import torch
from omegaconf import DictConfig

from tunelab import schema
from tunelab.config import hydra_command
from tunelab.data.lines import read_lines, write_jsonl
from tunelab.data.output_file import check_not_input, terminate_as_exit
from tunelab.data.table_stream import STDIO, stream_format
from tunelab.errors import TunelabError
from tunelab.inference.predict_table import predict_table
from tunelab.inference.predictor import Predictor
from tunelab.tasks import FileJob

log = logging.getLogger("tunelab")


def predict(cfg: DictConfig) -> Path:
    """Label `cfg.input` into `cfg.output` with the model in `cfg.model_dir`; SIGTERM stops it
    like Ctrl-C, leaving no output."""
    with terminate_as_exit():
        return label_file(cfg)


def label_file(cfg: DictConfig) -> Path:
    schema.check(cfg)
    source, target = Path(cfg.input), Path(cfg.output)
    table = stream_format(cfg.input, cfg.get("table"))
    if cfg.input == STDIO and table is None:
        raise TunelabError("input=- reads a table from stdin: give table=csv, tsv or jsonl")
    if cfg.input != STDIO and not source.is_file():
        raise TunelabError(f"input file {source} does not exist")
    if target.is_dir():
        raise TunelabError(f"output={target} is a folder; name a file in it, e.g. out.jsonl")
    if cfg.output != STDIO:
        check_not_input(cfg.output, None if cfg.input == STDIO else cfg.input)
    if cfg.output == STDIO:
        logs_to_stderr()
    model = Predictor.from_config(cfg, cfg.get("max_chars"))
    if table is not None:
        count = predict_table(model, cfg, table)
        print(f"wrote {count} row(s) to {target}", file=sys.stderr)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)  # for a task that writes it itself
    kind = str(cfg.get("format", "text"))
    errors = str(cfg.get("errors", "strict"))
    if kind == "text" and model.task.label_texts is not None:
        count = label_lines(model, source, target, errors)
    elif model.task.predict is not None:  # the task's own file format (NER: format=conll)
        job = FileJob(source, target, kind, errors, cfg.batch_size, cfg.max_tokens)
        # The precision evaluation runs in (Lightning's `bf16-mixed` is this autocast), so that
        # the same text gets the same scores from both commands.
        with torch.autocast("cpu", torch.bfloat16, enabled=model.precision == "bf16-mixed"):
            count = model.task.predict(model.module, model.tokenizer, model.settings, job)
    else:
        raise TunelabError(f"format={kind}: a {model.task.name} model reads text lines or tables")
    print(f"wrote {count} record(s) to {target}")
    return target


def label_lines(model: Predictor, source: Path, target: Path, errors: str) -> int:
    """One text a line in, one JSON record a line out (`format=text`), for every task."""
    pair_column = model.settings.get("text_pair_column")
    if pair_column:
        raise TunelabError(
            f"{source}: this model labels text pairs; give a table (.csv, .tsv or .jsonl) with "
            f"columns {model.settings.get('text_column', 'text')!r} and {pair_column!r}"
        )
    records = model.predict(read_lines(source, errors))
    write_jsonl(target, records)
    return len(records)


def logs_to_stderr() -> None:
    """With output=-, stdout carries the table alone: log lines move to stderr."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
            handler.setStream(sys.stderr)


main = hydra_command("predict", predict)


if __name__ == "__main__":
    main()
