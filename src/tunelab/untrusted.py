"""Files are data: what a model folder, a checkpoint or a run folder may hold, checked before
anything is built from it.

A file someone else wrote (a colleague's run, a shared drive, a download) holds settings, never
code. Hydra builds every nested `_target_` node it is handed and OmegaConf resolves `${...}`
strings, so settings read from a file are refused unless they are plain values all the way down;
the classes tunelab itself builds from a file come from the exact tables below, never a prefix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tunelab.data.settings import config_target
from tunelab.errors import TunelabError

# Keys that make Hydra build or call something, wherever they sit in a tree.
BUILD_KEYS = frozenset({"_target_", "_partial_", "_args_", "_recursive_", "_convert_"})
PLAIN = (str, int, float, bool, type(None))

# The DataModules a model file may name (`data.datamodule` in tunelab.json and checkpoints).
DATAMODULES = (
    "tunelab.tasks.ner.datamodule.TokenClassificationDataModule",
    "tunelab.tasks.classification.datamodule.SequenceClassificationDataModule",
    "tunelab.tasks.mlm.datamodule.TextDataModule",
)
# Recorded beside the reading settings, but not DataModule arguments.
RECORDS = ("datamodule", "train_lengths")


def plain(value: Any, source: str, where: str = "") -> Any:
    """`value` itself when it is a tree of plain values (strings, numbers, booleans, null, lists
    and string-keyed mappings of them) with no key that makes Hydra build something and no
    `${...}` interpolation; else one line naming the file and the key.

    Raises:
        TunelabError: naming `source`, the dotted key and why it is refused.
    """
    at = where or "the top level"
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if not isinstance(key, str):
                raise TunelabError(f"{source}: {path} is not a text key: refused, settings only")
            if key in BUILD_KEYS:
                raise TunelabError(
                    f"{source}: {path}={str(item)[:80]!r} would build or call code: refused, "
                    "a file holds settings, never code"
                )
            plain(item, source, path)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            plain(item, source, f"{where}[{index}]")
    elif isinstance(value, str):
        if "${" in value:
            raise TunelabError(
                f"{source}: {at} holds an interpolation ({value[:80]!r}): refused, "
                "a file holds settings, never expressions"
            )
    elif not isinstance(value, PLAIN):
        raise TunelabError(f"{source}: {at} holds a {type(value).__name__}: refused, settings only")
    return value


def reading_settings(data: dict | None, source: str, own_task: bool = True) -> dict:
    """How a model reads text, as a model file records it (`tunelab.json`'s `data`, a
    checkpoint's `input_settings`): plain values, a DataModule of `DATAMODULES` (or, for a task
    the user named, of that task's package), keys that DataModule takes, values in range.

    Args:
        data: the recorded settings (None or empty: none recorded).
        source: the file, for the messages.
        own_task: the model's task is one of tunelab's; otherwise the DataModule was vetted by
            the caller (a task the user named on the command line).
    """
    from tunelab import schema

    if not data:
        return {}
    if not isinstance(data, dict):
        raise TunelabError(f"{source}: data is a {type(data).__name__}, not a mapping of settings")
    plain(data, source, "data")
    name = data.get("datamodule")
    if not name:
        return dict(data)
    if own_task and name not in DATAMODULES:
        raise TunelabError(
            f"{source} records data class {name!r}, outside tunelab's DataModules: refused, "
            "building it would run code a file chose"
        )
    if own_task:
        known = datamodule_settings(name)
        for key in data:
            if key not in known and key not in RECORDS:
                raise TunelabError(
                    f"{source}: data.{key} is not a setting of {name.rpartition('.')[2]}"
                )
    for setting in schema.SETTINGS:
        key = setting.key.removeprefix("data.")
        if setting.key.startswith("data.") and key in data and not setting.fits(data[key]):
            raise TunelabError(
                f"{source}: data.{key}={data[key]!r} is not allowed: use {setting.allowed()}"
            )
    return dict(data)


def datamodule_settings(class_path: str) -> set[str]:
    """The flat settings one of `DATAMODULES` takes (`TaskDataModule.setting_names`)."""
    import importlib

    module_path, _, name = class_path.rpartition(".")
    return getattr(importlib.import_module(module_path), name).setting_names()


# Every class or function tunelab's own configs build, by where it sits in a composed config
# (`*`: any entry name; `[]`: any list item). A run folder's config may build these and nothing
# else without `tunelab-rerun --trust`. tests/integration/test_files_are_data.py keeps it equal
# to conf/.
TASK_MODULES = (
    "tunelab.tasks.ner.module.TokenClassificationModule",
    "tunelab.tasks.classification.module.SequenceClassificationModule",
    "tunelab.tasks.mlm.module.MaskedLMModule",
    "tunelab.tasks.classification.methods.setfit.module.SetFitModule",
    "tunelab.tasks.classification.methods.prompt.module.PromptModule",
    "tunelab.tasks.classification.methods.zero_shot.setup.zero_shot_module",
)
BUILT_BY_CONFIGS: dict[str, tuple[str, ...]] = {
    "data": tuple(config_target(name) for name in DATAMODULES),
    "model": TASK_MODULES,
    "optimizer": ("torch.optim.AdamW",),
    "scheduler": ("tunelab.models.optim.warmup_schedule",),
    "trainer": ("pytorch_lightning.Trainer",),
    "trainer.strategy": (
        "pytorch_lightning.strategies.FSDPStrategy",
        "pytorch_lightning.strategies.DeepSpeedStrategy",
    ),
    "callbacks.*": (
        "pytorch_lightning.callbacks.ModelCheckpoint",
        "pytorch_lightning.callbacks.EarlyStopping",
        "pytorch_lightning.callbacks.LearningRateMonitor",
        "pytorch_lightning.callbacks.RichProgressBar",
        "tunelab.training.callbacks.ScoreLog",
        "tunelab.training.callbacks.StopCheckpoint",
        "tunelab.training.callbacks.Resumable",
    ),
    "logger.*": (
        "tunelab.training.resume.HistoryCSVLogger",
        "pytorch_lightning.loggers.TensorBoardLogger",
        "pytorch_lightning.loggers.MLFlowLogger",
        "pytorch_lightning.loggers.WandbLogger",
    ),
}
# Targets that run folders of older tunelab versions name, and what builds the same thing now
# (`tunelab-rerun` of such a folder builds these instead).
_DATA = "tunelab.tasks.{}.datamodule.{}"
_METHODS = "tunelab.tasks.classification.methods"
MOVED = {
    "tunelab.resume.StopCheckpoint": "tunelab.training.callbacks.StopCheckpoint",
    "tunelab.resume.Resumable": "tunelab.training.callbacks.Resumable",
    "tunelab.score_log.ScoreLog": "tunelab.training.callbacks.ScoreLog",
    "tunelab.resume.HistoryCSVLogger": "tunelab.training.resume.HistoryCSVLogger",
    "tunelab.tasks.setfit.module.SetFitModule": f"{_METHODS}.setfit.module.SetFitModule",
    "tunelab.tasks.prompt.module.PromptModule": f"{_METHODS}.prompt.module.PromptModule",
    **{name: config_target(name) for name in DATAMODULES},  # now built from flat keys
}


def moved_targets(config: Any, where: str = "") -> dict[str, str]:
    """`{dotted key of a _target_: what builds it now}` for every target of `config` that an
    older tunelab named (`MOVED`)."""
    found = {}
    if isinstance(config, dict):
        target = config.get("_target_")
        if isinstance(target, str) and target in MOVED:
            found[f"{where}._target_" if where else "_target_"] = MOVED[target]
        for key, value in config.items():
            if isinstance(value, dict | list):
                found.update(moved_targets(value, f"{where}.{key}" if where else str(key)))
    elif isinstance(config, list):
        for index, value in enumerate(config):
            found.update(moved_targets(value, f"{where}[{index}]"))
    return found


def config_place(path: str) -> str:
    """Where a node sits, as `BUILT_BY_CONFIGS` names places: `callbacks.early_stopping` ->
    `callbacks.*`, `a.b[0]` -> `a.b[]`."""
    import re

    place = re.sub(r"\[\d+\]", "[]", path)
    head, _, rest = place.partition(".")
    if head in ("callbacks", "logger") and rest:
        name, _, tail = rest.partition(".")
        name = name.split("[", 1)[0]
        place = f"{head}.*" + rest[len(name) :]
    return place


def foreign_builds(config: Any, where: str = "") -> list[str]:
    """`key: value` of every node of a composed config that would build or import something
    other than `BUILT_BY_CONFIGS` says for its place, or use a Hydra key tunelab's configs
    never set (`_args_`, `_recursive_`, ...)."""
    found = []
    if isinstance(config, dict):
        target = config.get("_target_")
        if target is not None and target not in BUILT_BY_CONFIGS.get(config_place(where), ()):
            found.append(f"{where or 'the top level'}._target_: {target}")
        for key in sorted(BUILD_KEYS & set(config) - {"_target_", "_partial_"}, key=str):
            found.append(f"{where}.{key}: {config[key]}".lstrip("."))
        items = config.items()
    elif isinstance(config, list):
        items = enumerate(config)
    else:
        return found
    for key, value in items:
        if key == "_target_":
            continue
        if isinstance(key, int):
            path = f"{where}[{key}]"
        else:
            path = f"{where}.{key}" if where else str(key)
        found += foreign_builds(value, path)
    return found


MAX_FILE_BYTES = 20_000_000  # a run folder's config or metrics: far larger is not one of ours


class _NoAliases(yaml.SafeLoader):
    """Safe YAML without anchors and aliases: a few lines of aliases can expand to gigabytes
    (the "billion laughs"), and no config tunelab writes uses them."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                problem="holds a YAML alias (*name): refused", problem_mark=event.start_mark
            )
        return super().compose_node(parent, index)


def read_yaml(path: Path) -> Any:
    """A YAML file someone else may have written, as plain values, or one line naming the file
    and line."""
    text = read_text(path)
    try:
        return yaml.load(text, Loader=_NoAliases)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark else None
        where = f"{path}:{line}" if line else str(path)
        raise TunelabError(f"{where}: not valid YAML ({err.problem})") from None
    except yaml.YAMLError as err:
        raise TunelabError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None


def read_json(path: Path) -> Any:
    """A JSON file someone else may have written, or one line naming the file and line."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise TunelabError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
    except RecursionError:
        raise TunelabError(f"{path}: JSON nested too deeply") from None


def read_text(path: Path) -> str:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise TunelabError(f"{path}: over {MAX_FILE_BYTES:,} bytes, not a run's record")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TunelabError(f"{path}: not UTF-8 text") from None
    except OSError as err:
        raise TunelabError(f"{path}: cannot read it ({err.strerror})") from None
