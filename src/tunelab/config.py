"""Hydra glue: where the configs live, a resolver for the project root, instantiation helpers."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from collections.abc import Callable
from functools import wraps
from importlib.resources import files
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict

from tunelab import quiet
from tunelab.errors import TunelabError
from tunelab.speed.precision import default_precision


def project_root() -> Path:
    """Where `outputs/` is written and `../shared/datasets` looked for: `$TUNELAB_ROOT`, else the
    checkout tunelab runs from (a source or editable install), else the current folder (tunelab
    installed from a wheel)."""
    if os.environ.get("TUNELAB_ROOT"):
        return Path(os.environ["TUNELAB_ROOT"]).resolve()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "src" / "tunelab").is_dir():
        return checkout
    return Path.cwd()


# The configs ship inside the package (in a checkout, src/tunelab/conf links to conf/).
CONFIG_DIR = str(files("tunelab").joinpath("conf"))


def is_rank_zero() -> bool:
    """True unless this is another rank of a distributed run. Lightning's DDP launcher, torchrun
    and SLURM set these variables before the process starts, so this works before Lightning does."""
    ranks = ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID")
    return all(os.environ.get(name, "0") == "0" for name in ranks)


def device_count(devices) -> int:
    """How many devices `trainer.devices` asks for, for a SLURM job's tasks and GPUs: a number, a
    list of device ids ("0,1" too), or one for auto and -1 (give the number for several)."""
    if isinstance(devices, (list, tuple, ListConfig)):
        return len(devices)
    text = str(devices).strip()
    if "," in text:
        return len([d for d in text.split(",") if d.strip()])
    return int(text) if text.isdigit() and int(text) > 0 else 1


def rank_zero_file(path: str) -> str:
    """`path` in the process of global rank 0, else the null device (Hydra's log file)."""
    return path if is_rank_zero() else os.devnull


def sqlite_url(path: str) -> str:
    """An SQLite URL for `path`, its folder created (SQLite makes the file, not the folder)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


# asked at each resolution, not at import: a child run forked from a server that imported
# tunelab earlier has the environment and folder of the run that started it (child_runs.py)
OmegaConf.register_new_resolver("tunelab_root", lambda: str(project_root()), replace=True)
OmegaConf.register_new_resolver("tunelab_sqlite", sqlite_url, replace=True)
OmegaConf.register_new_resolver("tunelab_rank_zero_file", rank_zero_file, replace=True)
# Hydra's .hydra folder: written by rank 0 alone (None: not at all)
OmegaConf.register_new_resolver(
    "tunelab_rank_zero_subdir", lambda name: name if is_rank_zero() else None, replace=True
)
quiet.install()


def run_name(output_dir: str) -> str:
    """A run's name for trackers: its directory's last two parts (e.g. runs/2026-12-03_14-27-02)."""
    return "/".join(Path(output_dir).parts[-2:])


OmegaConf.register_new_resolver("tunelab_run_name", run_name, replace=True)
OmegaConf.register_new_resolver("tunelab_precision", default_precision, replace=True)
OmegaConf.register_new_resolver("tunelab_device_count", device_count, replace=True)
# Optuna's direction from the task's monitor_mode (max | min)
OmegaConf.register_new_resolver(
    "tunelab_direction", lambda mode: {"min": "minimize"}.get(mode, "maximize"), replace=True
)

log = logging.getLogger("tunelab")


def build(node: DictConfig, **runtime: Any) -> Any:
    """Instantiate one `_target_` node, passing values known only at run time (e.g. labels)."""
    try:
        return instantiate(node, _convert_="all", **runtime)
    except InstantiationException as err:
        # Hydra wraps errors raised in constructors; surface ours as the one-line message.
        if isinstance(err.__cause__, TunelabError):
            raise err.__cause__ from None
        raise


def build_taking(node: DictConfig, where: str, **offered: Any) -> Any:
    """`build(node, **offered)` with only what the target takes: an offered value it does not
    take is left out (what the data knows, for a module that needs less), and a key of `node` it
    does not take is one line naming `where` it is set (dropped quietly when null), so that no
    setting is accepted and then ignored."""
    from hydra.utils import get_method

    parameters = taken_keywords(get_method(node._target_))
    if parameters is None:
        return build(node, **offered)
    node = node.copy()
    with open_dict(node):
        for key in [k for k in node if k != "_target_" and k not in parameters]:
            if node[key] is not None:
                name = node._target_.rpartition(".")[2]
                raise TunelabError(f"{where}.{key} is not a setting of {name}: leave it out")
            del node[key]
    return build(node, **{k: v for k, v in offered.items() if k in parameters})


def taken_keywords(target: Callable) -> set[str] | None:
    """The keyword arguments `target` takes (None: any). A class whose constructor passes
    `**kwargs` on to its base's takes that base's too (a method extending a task's module)."""
    import inspect

    chain = [c for c in target.__mro__ if "__init__" in vars(c)] if isinstance(target, type) else []
    names: set[str] = set()
    for function in [c.__init__ for c in chain] or [target]:
        parameters = inspect.signature(function).parameters.values()
        names |= {p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            return names - {"self"}
    return None


def build_all(section: DictConfig | None) -> list[Any]:
    """Instantiate each `_target_` entry of a mapping (callbacks, loggers); null entries are off,
    and plain values (e.g. `callbacks.keep_checkpoints`) are settings, not objects."""
    if not section:
        return []
    return [build(node) for node in section.values() if isinstance(node, DictConfig)]


def given_overrides(cfg: DictConfig) -> list[str]:
    """The command line's overrides as given, less Hydra's own: the one reader of them (in a
    running command, or in a config composed in Python with its hydra node)."""
    if HydraConfig.initialized():
        given = HydraConfig.get().overrides.task
    else:  # a config composed in Python with its hydra node
        given = cfg.hydra.overrides.task if "hydra" in cfg else []
    return [o for o in given if not o.lstrip("+~").startswith("hydra.")]


def data_keys_given(cfg: DictConfig) -> set[str]:
    """The `data.*` keys the command line sets (`data.max_length=64` -> `max_length`)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(given_overrides(cfg))
    names = [override.key_or_group for override in parsed]
    return {name.split(".", 1)[1] for name in names if name.startswith("data.")}


def exit_on_user_error(function: Callable) -> Callable:
    """Turn a TunelabError into a one-line message and exit status 2 instead of a traceback; a
    run directory in which the command wrote nothing but Hydra's files is removed."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except TunelabError as err:
            print(f"tunelab: error: {err}", file=sys.stderr)
            if HydraConfig.initialized():
                discard_unused_run_dir(Path(HydraConfig.get().runtime.output_dir))
            sys.exit(2)

    return wrapper


def hydra_command(config_name: str, run: Callable[[DictConfig], Any]) -> Callable[[], Any]:
    """The `main()` of a command: `run` on the config composed from `conf/<config_name>.yaml`
    and the command line (Hydra reads sys.argv), a user error as one line."""
    import hydra

    return hydra.main(config_path=CONFIG_DIR, config_name=config_name, version_base="1.3")(
        exit_on_user_error(run)
    )


STARTED = time.time()


def discard_unused_run_dir(run_dir: Path) -> None:
    """Remove a run directory that holds only what Hydra wrote since this process started (its
    config record and log): a command stopped by a bad value leaves nothing behind."""
    if not run_dir.is_dir() or not is_rank_zero():
        return
    entries = list(run_dir.iterdir())
    # what is written before any work: Hydra's config record and the job's log, and the run
    # record (rerun.py's RECORD and DIFF)
    records = (".hydra", "run_record.json", "git.diff")
    hydra_only = all(e.name in records or e.suffix == ".log" for e in entries)
    fresh = all(e.stat().st_mtime >= STARTED - 1 for e in entries)
    if hydra_only and fresh:
        shutil.rmtree(run_dir, ignore_errors=True)


def composed_train_config(overrides: list[str]) -> DictConfig:
    """The config that `tunelab-train OVERRIDES...` composes, from inside a command or not."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        return compose(config_name="train", overrides=overrides)
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name="train", overrides=overrides)


def data_presets() -> list[str]:
    return sorted(p.stem for p in (Path(CONFIG_DIR) / "data").glob("*.yaml"))


def preset_datamodule(name: str, refused: type | None = None, why: str = "") -> Any:
    """The DataModule that `tunelab-train data=NAME` builds (its interpolations, such as the
    datasets folder, resolved against the rest of that config): how one data source reads
    another preset's text without reading a config itself.

    Raises:
        TunelabError: no data preset of that name (listing those that exist), or one that
            builds the DataModule class `refused` (the message ends with `why`).
    """
    if name not in data_presets():
        raise TunelabError(
            f"data.from={name!r} is not a data preset; presets: {', '.join(data_presets())}"
        )
    data = composed_train_config([f"data={name}"]).data
    own = f"{refused.__module__}.{refused.__qualname__}." if refused else None
    if own and str(data._target_).startswith(own):
        raise TunelabError(f"data.from={name!r} {why}")
    return build(data)
