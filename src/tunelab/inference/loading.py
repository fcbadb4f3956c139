"""Load a trained model, its task and how it reads input, from a Lightning checkpoint or an
exported Hugging Face folder."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import torch

from tunelab import tasks, untrusted
from tunelab.errors import TunelabError
from tunelab.models.base import SETTINGS_FILE, TaskModule

log = logging.getLogger(__name__)


def read_json(path: Path) -> dict:
    """A JSON object from a model folder, or one line naming the file and where it breaks."""
    value = untrusted.read_json(path)
    if not isinstance(value, dict):
        raise TunelabError(f"{path} holds a JSON {type(value).__name__}, not an object")
    return value


def exported_settings(model_dir: str) -> dict:
    """`tunelab.json` of an exported model, plain values only (`untrusted.plain`); for a model
    exported without one, its task from the config's architecture name."""
    folder = Path(model_dir)
    if not (folder / "config.json").is_file():
        raise TunelabError(f"{folder} holds no config.json: not an exported model folder")
    settings_file = folder / SETTINGS_FILE
    if settings_file.is_file():
        return untrusted.plain(read_json(settings_file), str(settings_file))
    architectures = read_json(folder / "config.json").get("architectures") or [""]
    log.info(
        "%s has no %s: task from its architecture, default reading settings", folder, SETTINGS_FILE
    )
    return {"task": tasks.of_architecture(str(architectures[0])).name}


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
    source = f"checkpoint {path}"
    untrusted.plain(checkpoint.get("hyper_parameters") or {}, source, "hyper_parameters")
    untrusted.plain(checkpoint.get("tunelab_task"), source, "tunelab_task")
    untrusted.plain(checkpoint.get("tunelab_method"), source, "tunelab_method")
    return checkpoint


def checkpoint_settings(
    ckpt_path: str, fallback: str | None
) -> tuple[str | None, str | None, dict]:
    """The task and method a checkpoint records and how its model reads input (its weights are
    mapped, not read)."""
    checkpoint = read_checkpoint(ckpt_path)
    hparams = checkpoint.get("hyper_parameters") or {}
    task = checkpoint.get("tunelab_task") or fallback
    method = recorded_method(task, checkpoint.get("tunelab_method"))
    return task, method, hparams.get("input_settings") or {}


def recorded_method(task: str | None, method: str | None) -> str | None:
    """The method a model file records; a file from before methods were apart from tasks names
    the method as its task (`task: setfit`)."""
    if method is None and task in tasks.RENAMED:
        return task
    return method


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
        source = path / SETTINGS_FILE
        found = file_task(settings.get("task"), task, source)
        method = found.method(recorded_method(settings.get("task"), settings.get("method")))
        check_reading(settings.get("data"), found, source)
        check_model_folder(path, found, method)
        module = method.module_class().from_exported(
            str(path), settings, trust_remote_code=trust_remote_code
        )
        tokenizer = str(path)
    else:
        recorded, method, reading = checkpoint_settings(str(path), task)
        found = file_task(recorded, task, path)
        check_reading(reading, found, f"checkpoint {path}")
        module = found.module_class(method).load_from_checkpoint(
            str(path), map_location="cpu", weights_only=True, trust_remote_code=trust_remote_code
        )
        tokenizer = module.tokenizer_source
    return module, tokenizer, found


def check_reading(data: dict | None, task: tasks.Task, source: Path | str) -> None:
    """The recorded reading settings are plain values a tunelab DataModule takes; a task the user
    named may record a DataModule of its own package."""
    own = task.name in tasks.BUILT_IN
    name = (data or {}).get("datamodule") if isinstance(data, dict) else None
    package = task.module.rpartition(".")[0].rpartition(".")[0] or task.module
    if not own and name and name not in untrusted.DATAMODULES and not name.startswith(package):
        raise TunelabError(
            f"{source} records data class {name!r}, outside tunelab and its task's package: "
            "refused, building it would run code a file chose"
        )
    untrusted.reading_settings(data, str(source), own_task=own)


TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "vocab.json",
    "spiece.model",
    "tokenizer.model",
    "sentencepiece.bpe.model",
)


def check_model_folder(folder: Path, task: tasks.Task, method: tasks.Method | None = None) -> None:
    """An exported folder is whole before it is used: its config readable, its architecture
    the task's, its labels numbered 0..n-1 and matching the head, its weights complete, a
    tokenizer present whose vocabulary fits the embeddings.

    Raises:
        TunelabError: one line naming the file and what is wrong.
    """
    from safetensors import SafetensorError, safe_open

    config_file = folder / "config.json"
    config = read_json(config_file)
    architecture = str((config.get("architectures") or [""])[0])
    expected = (method or task.method()).architectures
    if expected and architecture and not architecture.endswith(expected):
        raise TunelabError(
            f"{folder / SETTINGS_FILE} names task {task.name!r}, but {config_file} holds a "
            f"{architecture}: the two files come from different models"
        )
    id2label = config.get("id2label") or {}
    if sorted(map(str, id2label)) != sorted(str(i) for i in range(len(id2label))):
        raise TunelabError(f"{config_file}: id2label must number the labels 0..{len(id2label) - 1}")
    weights = folder / "model.safetensors"
    if weights.is_file():
        try:
            with safe_open(str(weights), "pt") as tensors:
                shapes = {k: tensors.get_slice(k).get_shape() for k in tensors.keys()}  # noqa: SIM118
        except (SafetensorError, OSError) as err:
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise TunelabError(f"{weights} is not a complete safetensors file ({reason})") from None
        head = [shape[0] for key, shape in shapes.items() if key.endswith("classifier.weight")]
        if expected and head and id2label and head[0] != len(id2label):
            raise TunelabError(
                f"{config_file} names {len(id2label)} labels but the head in {weights} has "
                f"{head[0]} outputs: the two files come from different models"
            )
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise TunelabError(
            f"{folder} holds no tokenizer ({' or '.join(TOKENIZER_FILES[:2])}): without it every "
            "word would read as unknown; copy the tokenizer files of the model it was trained from"
        )
    size = config.get("vocab_size")
    if isinstance(size, int) and (folder / "tokenizer.json").is_file():
        vocab = tokenizer_size(folder / "tokenizer.json")
        if not size // 2 <= vocab <= size:
            raise TunelabError(
                f"{folder / 'tokenizer.json'} has {vocab} tokens but the model's embeddings "
                f"{size}: the tokenizer belongs to another model"
            )


def tokenizer_size(path: Path) -> int:
    """How many tokens a `tokenizer.json` defines (one line when it cannot be read as one)."""
    content = untrusted.read_json(path)
    try:
        vocab = content["model"]["vocab"]
        added = {token["id"] for token in content.get("added_tokens") or []}
        ids = set(vocab.values()) if isinstance(vocab, dict) else set(range(len(vocab)))
    except (KeyError, TypeError, AttributeError):
        raise TunelabError(f"{path} is not a readable tokenizer.json") from None
    return len(ids | added)


def file_task(recorded: str | None, given: str | None, source: Path) -> tasks.Task:
    """The task a model file records; one outside tunelab only when the user named it too."""
    if not recorded:
        raise TunelabError(f"{source} records no task: set task=ner or task=classification")
    return tasks.get(recorded, named_by=None if recorded == given else str(source))
