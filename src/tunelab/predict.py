"""`tunelab-predict`: label raw text with an exported model, read the way it was trained.

NER writes entities with character offsets (JSON lines) or `word tag` lines; classification writes
each text's label and probabilities. How the model reads input (windows, context, long-text
strategy, columns) comes from its `tunelab.json`; a setting given here wins and is logged.
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig
from transformers import AutoTokenizer

from tunelab import schema
from tunelab.config import CONFIG_DIR, exit_on_user_error
from tunelab.data.registry import from_pretrained
from tunelab.errors import TunelabError
from tunelab.loading import load_module

log = logging.getLogger("tunelab")
READING = ("max_length", "stride", "context", "long_text")  # predict.yaml keys that override


def reading_settings(recorded: dict, cfg: DictConfig) -> dict:
    """The model's recorded data settings with this command's non-null `READING` keys on top."""
    settings = dict(recorded)
    settings.setdefault("max_length", 512)
    settings.setdefault("stride", 128)
    for key in READING:
        value = cfg.get(key)
        if value is not None and value != settings.get(key):
            log.info("%s=%s (the model reads with %s)", key, value, settings.get(key, "-"))
            settings[key] = value
    return settings


def predict(cfg: DictConfig) -> Path:
    """Label `cfg.input` into `cfg.output` with the model in `cfg.model_dir`."""
    schema.check(cfg)
    source, target = Path(cfg.input), Path(cfg.output)
    if not source.is_file():
        raise TunelabError(f"input file {source} does not exist")
    if target.is_dir():
        raise TunelabError(f"output={target} is a folder; name a file in it, e.g. out.jsonl")
    module, tokenizer_name, task = load_module(
        model_dir=cfg.model_dir,
        task=cfg.get("task"),
        trust_remote_code=cfg.get("trust_remote_code", False),
    )
    tokenizer = from_pretrained(AutoTokenizer, tokenizer_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    settings = reading_settings(module.input_settings, cfg)
    # The precision evaluation runs in (Lightning's `bf16-mixed` is this autocast), so that the
    # same text gets the same scores from both commands.
    with torch.autocast("cpu", torch.bfloat16, enabled=cfg.precision == "bf16-mixed"):
        count = task.predict(module, tokenizer, settings, cfg)
    print(f"wrote {count} record(s) to {target}")
    return target


@hydra.main(config_path=CONFIG_DIR, config_name="predict", version_base="1.3")
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    predict(cfg)


if __name__ == "__main__":
    main()
