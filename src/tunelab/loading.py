"""Load a trained model from a Lightning checkpoint or an exported Hugging Face folder."""

from __future__ import annotations

import json
from pathlib import Path

from hydra.utils import get_class

from tunelab.errors import TunelabError
from tunelab.models.base import TaskModule


def task_of_exported(model_dir: str) -> str:
    """The task module for an exported model, from its config's architecture name."""
    config_path = Path(model_dir) / "config.json"
    if not config_path.is_file():
        raise TunelabError(f"{model_dir} holds no config.json: not an exported model folder")
    architectures = json.loads(config_path.read_text()).get("architectures") or [""]
    if architectures[0].endswith("ForSequenceClassification"):
        return "tunelab.models.SequenceClassificationModule"
    return "tunelab.models.TokenClassificationModule"


def load_module(
    target: str, ckpt_path: str | None = None, model_dir: str | None = None
) -> tuple[TaskModule, str]:
    """The module and the name of its tokenizer.

    Args:
        target: the task module's class path (from the data preset's task), or `auto` to read it
            from an exported model's config.
        ckpt_path: a Lightning checkpoint (loaded with `weights_only=True`); or
        model_dir: a folder exported by tunelab-train (`RUN/model`).
    """
    if (ckpt_path is None) == (model_dir is None):
        raise TunelabError("give exactly one of ckpt_path=... or model_dir=...")
    if target == "auto":
        target = (
            task_of_exported(model_dir) if model_dir else "tunelab.models.TokenClassificationModule"
        )
    cls: type[TaskModule] = get_class(target)
    path = Path(ckpt_path or model_dir)
    if not path.exists():
        raise TunelabError(f"{path} does not exist")
    if model_dir:
        if not (path / "config.json").is_file():
            raise TunelabError(f"{path} holds no config.json: not an exported model folder")
        module = cls.from_exported(str(path))
        return module, str(path)
    module = cls.load_from_checkpoint(str(path), map_location="cpu", weights_only=True)
    return module, module.hparams.model_name_or_path
