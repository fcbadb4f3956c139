"""`tunelab explain`: which words made a model decide, as JSON lines and a page of shaded text."""

from __future__ import annotations

import logging
import statistics
from pathlib import Path

from omegaconf import DictConfig
from rich.progress import track

from tunelab import schema
from tunelab.config import hydra_command
from tunelab.data.lines import read_lines, write_jsonl
from tunelab.data.output_file import check_not_input
from tunelab.errors import TunelabError
from tunelab.inference.predictor import Predictor
from tunelab.trust.explain import render_html

log = logging.getLogger("tunelab")


def gaps(records: list[dict]) -> list[float]:
    """Every explanation's completeness gap (a text's, or each of its entities')."""
    found = []
    for record in records:
        for item in record.get("entities", [record]):
            found.append(item["completeness_gap"])
    return found


def explain(cfg: DictConfig) -> list[dict]:
    schema.check(cfg)
    if (cfg.text is None) == (cfg.input is None):
        raise TunelabError('give text="a text" or input=FILE (one text a line)')
    output = Path(cfg.output)
    check_not_input(cfg.output, cfg.input)
    if output.suffix == ".html":
        raise TunelabError(f"output={output}: the JSON lines file (the page is written beside it)")
    texts = [str(cfg.text)] if cfg.text is not None else read_lines(Path(cfg.input))
    predictor = Predictor.from_config(cfg, max_chars=None)
    records = []
    for text in track(texts, description="explaining", disable=len(texts) < 2):
        records += predictor.explain([text], cfg.steps)
    write_jsonl(output, records)
    page = output.with_suffix(".html")
    page.write_text(render_html(records), encoding="utf-8")
    found = gaps(records)
    if found:
        log.info(
            "completeness gap |sum of attributions - (F(text) - F(baseline))| / |F(text) - "
            "F(baseline)|: median %.4f, largest %.4f over %d explanation(s)",
            statistics.median(found),
            max(found),
            len(found),
        )
    print(f"wrote {len(records)} record(s) to {output} and the page {page}")
    return records


main = hydra_command("explain", explain)


if __name__ == "__main__":
    main()
