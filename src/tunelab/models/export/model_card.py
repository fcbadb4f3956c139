"""The model card (`RUN/model/README.md`) of an exported model: what it was trained on and how,
its test scores, what it is for and how to load it. Hugging Face's card layout: YAML metadata, then
text."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

SETTINGS = (
    "seed",
    "data.max_length",
    "data.batch_size",
    "optimizer.lr",
    "trainer.max_epochs",
    "trainer.precision",
    "model.peft.method",
)


def data_name(cfg: DictConfig) -> str:
    """The corpus a run read: its packaged corpus, its folder, or its data class."""
    data = cfg.data
    return str(data.get("corpus") or data.get("dir") or data.get("_target_", "?")).split("/")[-1]


def model_card(
    cfg: DictConfig, task: str, pipeline: str | None, labels: list[str], metrics: dict
) -> str:
    """The card's text; `pipeline`: the Hugging Face pipeline the model serves, if any."""
    base = OmegaConf.select(cfg, "model.model_name_or_path") or "?"
    scores = "\n".join(
        f"| `{key}` | {value:.4f} |"
        for key, value in sorted(metrics.items())
        if key.startswith("test/") and isinstance(value, float)
    )
    settings = "\n".join(
        f"| `{key}` | `{OmegaConf.select(cfg, key)}` |"
        for key in SETTINGS
        if OmegaConf.select(cfg, key) is not None
    )
    meta = {"library_name": "transformers", "tags": ["tunelab", task]}
    if pipeline:
        meta["pipeline_tag"] = pipeline
    if "/" in str(base) and not Path(str(base)).exists():
        meta["base_model"] = str(base)
    front = "\n".join(f"{key}: {json.dumps(value)}" for key, value in meta.items())
    shown = ", ".join(labels[:40]) + (f", ... ({len(labels)} in all)" if len(labels) > 40 else "")
    return f"""---
{front}
---

# {task} model fine-tuned with tunelab

Fine-tuned from `{base}` on `{data_name(cfg)}` for {task}. Labels: {shown or "none"}.

## Intended use

Labelling text like the training data ({data_name(cfg)}): the same language, domain and label
set. Scores on other kinds of text are not known; measure them first (`tunelab-eval model_dir=...
data=...`). The model reads text as recorded in `tunelab.json` (length, windows, columns).

## Test scores

| metric | value |
|---|---|
{scores or "| (none) | |"}

## Settings

| key | value |
|---|---|
{settings}

The run's whole config is its `.hydra/config.yaml`; `tunelab-rerun RUN_DIR` trains it again.

## Use

```bash
tunelab predict model_dir=THIS_FOLDER input=texts.txt output=labels.jsonl
tunelab serve model_dir=THIS_FOLDER
```

```python
import tunelab
tunelab.load("THIS_FOLDER").predict(["Some text."])
```
"""


def write_model_card(directory: Path, cfg: DictConfig, task, labels, metrics) -> None:
    """`task`: a `tunelab.tasks.Task` (its name and pipeline)."""
    card = model_card(cfg, task.name, task.pipeline, list(labels), metrics)
    (Path(directory) / "README.md").write_text(card)
