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

from tunelab import schema
from tunelab.config import CONFIG_DIR, exit_on_user_error
from tunelab.errors import TunelabError
from tunelab.predictor import Predictor

log = logging.getLogger("tunelab")


def predict(cfg: DictConfig) -> Path:
    """Label `cfg.input` into `cfg.output` with the model in `cfg.model_dir`."""
    schema.check(cfg)
    source, target = Path(cfg.input), Path(cfg.output)
    if not source.is_file():
        raise TunelabError(f"input file {source} does not exist")
    if target.is_dir():
        raise TunelabError(f"output={target} is a folder; name a file in it, e.g. out.jsonl")
    model = Predictor(
        cfg.model_dir,
        precision=cfg.precision,
        reading=cfg,
        task=cfg.get("task"),
        trust_remote_code=cfg.get("trust_remote_code", False),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    # The precision evaluation runs in (Lightning's `bf16-mixed` is this autocast), so that the
    # same text gets the same scores from both commands.
    with torch.autocast("cpu", torch.bfloat16, enabled=model.precision == "bf16-mixed"):
        count = model.task.predict(model.module, model.tokenizer, model.settings, cfg)
    print(f"wrote {count} record(s) to {target}")
    return target


@hydra.main(config_path=CONFIG_DIR, config_name="predict", version_base="1.3")
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    predict(cfg)


if __name__ == "__main__":
    main()
