"""Load a trained model, its task and how it reads input, from a Lightning checkpoint or an
exported Hugging Face folder."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from tunelab import tasks
from tunelab.errors import TunelabError
from tunelab.models.base import SETTINGS_FILE, TaskModule

log = logging.getLogger(__name__)


def exported_settings(model_dir: str) -> dict:
    """`tunelab.json` of an exported model; for a model exported without one, its task from the
    config's architecture name."""
    folder = Path(model_dir)
    if not (folder / "config.json").is_file():
        raise TunelabError(f"{folder} holds no config.json: not an exported model folder")
    settings_file = folder / SETTINGS_FILE
    if settings_file.is_file():
        return json.loads(settings_file.read_text())
    architectures = json.loads((folder / "config.json").read_text()).get("architectures") or [""]
    log.info(
        "%s has no %s: task from its architecture, default reading settings", folder, SETTINGS_FILE
    )
    return {"task": tasks.of_architecture(architectures[0]).name}


def checkpoint_task(ckpt_path: str, fallback: str | None) -> str:
    """The task a checkpoint records (its weights are mapped, not read)."""
    try:
        checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file gets the same one line
        raise TunelabError(
            f"{ckpt_path}: not a readable checkpoint ({type(err).__name__})"
        ) from None
    task = checkpoint.get("tunelab_task") or fallback
    if not task:
        raise TunelabError(f"{ckpt_path} records no task: set task=ner or task=classification")
    return task


def load_module(
    ckpt_path: str | None = None, model_dir: str | None = None, task: str | None = None
) -> tuple[TaskModule, str, tasks.Task]:
    """The module, the name of its tokenizer and its task.

    Args:
        ckpt_path: a Lightning checkpoint (loaded with `weights_only=True`); or
        model_dir: a folder exported by tunelab-train (`RUN/model`).
        task: the task to assume for a checkpoint that records none (older runs).
    """
    if (ckpt_path is None) == (model_dir is None):
        raise TunelabError("give exactly one of ckpt_path=... or model_dir=...")
    path = Path(ckpt_path or model_dir)
    if not path.exists():
        raise TunelabError(f"{path} does not exist")
    if model_dir:
        settings = exported_settings(model_dir)
        found = tasks.get(settings["task"])
        module = found.module_class().from_exported(str(path), settings)
        return module, str(path), found
    found = tasks.get(checkpoint_task(str(path), task))
    module = found.module_class().load_from_checkpoint(
        str(path), map_location="cpu", weights_only=True
    )
    return module, module.hparams.model_name_or_path, found
