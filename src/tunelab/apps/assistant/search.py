"""`tunelab search`: the past questions nearest each new one, from an assistant's index."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import DictConfig

from tunelab import schema
from tunelab.config import hydra_command
from tunelab.data.lines import read_lines, write_jsonl
from tunelab.data.output_file import check_not_input
from tunelab.errors import TunelabError
from tunelab.inference.predictor import Predictor


def search(cfg: DictConfig) -> list[dict]:
    schema.check(cfg)
    if (cfg.query is None) == (cfg.input is None):
        raise TunelabError('give query="a question" or input=FILE (one question a line)')
    if cfg.output is not None:
        check_not_input(cfg.output, cfg.input)
    texts = [str(cfg.query)] if cfg.query is not None else read_lines(Path(cfg.input))
    predictor = Predictor.from_config(cfg, max_chars=None)
    found = predictor.search(texts, cfg.k)
    records = [{"text": t, "similar": f} for t, f in zip(texts, found, strict=True)]
    if cfg.output is None:
        for record in records:
            print(json.dumps(record, ensure_ascii=False))
    else:
        write_jsonl(Path(cfg.output), records)
        print(f"wrote {len(records)} record(s) to {cfg.output}")
    return records


main = hydra_command("search", search)


if __name__ == "__main__":
    main()
