"""Load a trained model, its task and how it reads input, from a Lightning checkpoint or an
exported Hugging Face folder."""

from __future__ import annotations

import json
import logging
import pickle
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


def read_checkpoint(path: str | Path) -> dict:
    """A Lightning checkpoint's contents, tensors memory-mapped (not read), loaded with
    `weights_only=True`: a payload of other Python objects is refused, never run.

    Raises:
        TunelabError: one line naming the file, for a missing, empty, truncated, foreign or
            unsafe file.
    """
    path = Path(path)
    if not path.exists():
        raise TunelabError(f"checkpoint {path} does not exist")
    if not path.is_file():
        raise TunelabError(f"checkpoint {path} is a folder, not a checkpoint file")
    if path.stat().st_size == 0:
        raise TunelabError(f"checkpoint {path} is empty (0 bytes)")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError:
        raise TunelabError(
            f"checkpoint {path} holds Python objects beyond tensors and plain values: refused, "
            "loading it could run code"
        ) from None
    except Exception as err:  # noqa: BLE001 - any unreadable file gets the same one line
        raise TunelabError(
            f"checkpoint {path} is not a complete checkpoint (truncated or another format: "
            f"{type(err).__name__})"
        ) from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise TunelabError(f"checkpoint {path} is not a Lightning checkpoint (no state_dict)")
    return checkpoint


def checkpoint_task(ckpt_path: str, fallback: str | None) -> str | None:
    """The task a checkpoint records (its weights are mapped, not read)."""
    return read_checkpoint(ckpt_path).get("tunelab_task") or fallback


def load_module(
    ckpt_path: str | None = None,
    model_dir: str | None = None,
    task: str | None = None,
    trust_remote_code: bool = False,
) -> tuple[TaskModule, str, tasks.Task]:
    """The module, the name of its tokenizer and its task.

    Args:
        ckpt_path: a Lightning checkpoint (loaded with `weights_only=True`); or
        model_dir: a folder exported by tunelab-train (`RUN/model`).
        task: the task the user names: assumed for a checkpoint that records none (older runs),
            and the only task outside tunelab that a file may name.
        trust_remote_code: the user's own setting for this command; never taken from the file.
    """
    for key, value in (("ckpt_path", ckpt_path), ("model_dir", model_dir)):
        if value is not None and not str(value).strip():
            raise TunelabError(f"{key}= is empty: give a path, or leave {key} out")
    if (ckpt_path is None) == (model_dir is None):
        raise TunelabError("give exactly one of ckpt_path=... or model_dir=...")
    path = Path(ckpt_path or model_dir)
    if model_dir:
        if not path.exists():
            raise TunelabError(f"model_dir={path} does not exist")
        settings = exported_settings(model_dir)
        found = file_task(settings.get("task"), task, path / SETTINGS_FILE)
        module = found.module_class().from_exported(
            str(path), settings, trust_remote_code=trust_remote_code
        )
        tokenizer = str(path)
    else:
        found = file_task(checkpoint_task(str(path), task), task, path)
        module = found.module_class().load_from_checkpoint(
            str(path), map_location="cpu", weights_only=True, trust_remote_code=trust_remote_code
        )
        tokenizer = module.tokenizer_source
    datamodule = module.input_settings.get("datamodule")
    if datamodule and not tasks.owns(found, datamodule):
        raise TunelabError(
            f"{path} records data class {datamodule!r}, outside tunelab and its task's package: "
            "refused, building it would run code a file chose"
        )
    return module, tokenizer, found


def file_task(recorded: str | None, given: str | None, source: Path) -> tasks.Task:
    """The task a model file records; one outside tunelab only when the user named it too."""
    if not recorded:
        raise TunelabError(f"{source} records no task: set task=ner or task=classification")
    return tasks.get(recorded, named_by=None if recorded == given else str(source))
