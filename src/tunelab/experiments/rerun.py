"""Reproducible reruns: what each run records, and `tunelab-rerun RUN_DIR [--out DIR]`.

Every run writes `run_record.json` (seed, command, git commit, Python and package versions) and,
when the checkout has uncommitted changes, `git.diff`. `tunelab-rerun` trains again from the run's
saved composed config (`.hydra/config.yaml`) into a new directory, and warns first where the code
or the installed packages now differ from the record. A run folder may come from someone else: its
config builds only classes of tunelab and the libraries it runs on unless the user passes --trust,
and never turns on `trust_remote_code` by itself.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from tunelab import untrusted
from tunelab.config import project_root
from tunelab.errors import TunelabError
from tunelab.experiments.child_runs import override_key

RECORD = "run_record.json"
DIFF = "git.diff"


def git(*args: str) -> str | None:
    """Output of a git command in the tunelab checkout; None outside a checkout."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=project_root(),
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout


def packages() -> dict[str, str]:
    """Installed distributions and their versions."""
    found = {dist.metadata["Name"]: dist.version for dist in metadata.distributions()}
    return dict(sorted((k, v) for k, v in found.items() if k))


def current_state() -> dict:
    commit = git("rev-parse", "HEAD")
    return {
        "git_commit": commit.strip() if commit else None,
        "git_diff": git("diff", "HEAD") or "",
        "packages": packages(),
    }


def write_record(run_dir: Path, seed: int, precision: str) -> None:
    """Save what a rerun needs to check that it runs the same code on the same stack, and the
    precision the run resolved to (the default depends on the machine)."""
    state = current_state()
    record = {
        "seed": seed,
        "precision": precision,
        "command": sys.argv,
        "started": datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": state["git_commit"],
        "git_dirty": bool(state["git_diff"]),
        "packages": state["packages"],
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / RECORD).write_text(json.dumps(record, indent=2) + "\n")
    if state["git_diff"]:
        (run_dir / DIFF).write_text(state["git_diff"])


def differences(run_dir: Path) -> list[str]:
    """How the code and packages now differ from the run's record (empty when identical)."""
    record = untrusted.read_json(run_dir / RECORD)
    if not isinstance(record, dict):
        raise TunelabError(f"{run_dir / RECORD}: not a run record (a JSON object)")
    diff_file = run_dir / DIFF
    old_diff = diff_file.read_text() if diff_file.is_file() else ""
    now = current_state()
    found = []
    if now["git_commit"] != record.get("git_commit"):
        found.append(f"git commit is {now['git_commit']}, the run used {record.get('git_commit')}")
    if now["git_diff"] != old_diff:
        found.append("uncommitted changes differ from the run's (its diff is in git.diff)")
    old, new = record.get("packages") or {}, now["packages"]
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            found.append(
                f"package {name}: {old.get(name, 'absent')} then, {new.get(name, 'absent')} now"
            )
    if platform.python_version() != record.get("python"):
        found.append(f"Python {platform.python_version()} now, {record.get('python')} then")
    return found


def untrusted_entries(config: dict) -> list[str]:
    """`key: value` of every entry of a run's config that would build or import something
    tunelab's own configs do not (`untrusted.BUILT_BY_CONFIGS`, exact names at their places),
    pull in other files, or turn on remote code other than `model.trust_remote_code`."""
    found = ["defaults (a defaults list pulls in other files)"] if "defaults" in config else []
    found += untrusted.foreign_builds(config)
    found += [f"{path}: true" for path in remote_code_switches(config)]
    return found


def remote_code_switches(config: Any, where: str = "") -> list[str]:
    """Where a config sets `trust_remote_code: true`, other than `model.trust_remote_code`."""
    found = []
    items = config.items() if isinstance(config, dict) else enumerate(config)
    for key, value in items:
        path = f"{where}.{key}" if where else str(key)
        if isinstance(value, dict | list):
            found += remote_code_switches(value, path)
        elif key == "trust_remote_code" and value is True and path != "model.trust_remote_code":
            found.append(path)
    return found


def precision_overrides(record: dict, overrides: list[str]) -> list[str]:
    """The run's own precision, unless the user sets one: the default follows the machine
    (`tunelab.speed.precision`), and a rerun elsewhere must still compute the same way."""
    asked = any(override_key(o) == "trainer.precision" for o in overrides)
    recorded = record.get("precision")
    return [] if asked or not isinstance(recorded, str) else [f"trainer.precision={recorded}"]


def remote_code_overrides(config: dict, overrides: list[str]) -> list[str]:
    """`model.trust_remote_code=false` unless the user turns it on for this rerun: a run record
    never turns it on by itself."""
    asked = any(override_key(o) == "model.trust_remote_code" for o in overrides)
    if asked or not (config.get("model") or {}).get("trust_remote_code"):
        return []
    print(
        "tunelab: warning: the run had model.trust_remote_code=true; this rerun keeps it off "
        "unless you pass model.trust_remote_code=true",
        file=sys.stderr,
    )
    return ["model.trust_remote_code=false"]


def rerun_command(run_dir: Path, out_dir: Path, overrides: list[str]) -> list[str]:
    """Train from the run's saved composed config into `out_dir`."""
    return [
        sys.executable,
        "-m",
        "tunelab",
        "train",
        "--config-path",
        str((run_dir / ".hydra").resolve()),
        "--config-name",
        "config",
        f"hydra.run.dir={out_dir}",
        *overrides,
    ]


def main() -> None:
    try:
        rerun_main()
    except TunelabError as error:
        raise SystemExit(f"tunelab: error: {error}") from None


def rerun_main() -> None:
    parser = argparse.ArgumentParser(description="Run a past tunelab-train run again.")
    parser.add_argument("run_dir", type=Path, help="the run directory to repeat")
    parser.add_argument("--out", type=Path, help="new run directory (default: RUN_DIR-rerun-TIME)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted run in RUN_DIR from its newest checkpoint instead",
    )
    parser.add_argument(
        "--trust",
        action="store_true",
        help="build classes from outside tunelab and its libraries that the run's config names",
    )
    parser.add_argument("overrides", nargs="*", help="extra overrides, e.g. trainer.devices=2")
    args = parser.parse_intermixed_args()  # overrides may come before or after --out
    run_dir: Path = args.run_dir
    for needed in (run_dir / ".hydra" / "config.yaml", run_dir / RECORD):
        if not needed.is_file():
            raise SystemExit(
                f"tunelab: error: {needed} is missing: not a tunelab-train run directory"
            )
    config = untrusted.read_yaml(run_dir / ".hydra" / "config.yaml")
    if not isinstance(config, dict):
        raise TunelabError(f"{run_dir}/.hydra/config.yaml: not a config (a YAML mapping)")
    # a run of an older tunelab: its classes where they live now, as overrides
    moved = untrusted.moved_targets(config)
    config = OmegaConf.to_container(
        OmegaConf.merge(config, OmegaConf.from_dotlist([f"{k}={v}" for k, v in moved.items()]))
    )
    dropped = tuple(o[1:].split("=", 1)[0] for o in args.overrides if o.startswith("~"))
    foreign = [e for e in untrusted_entries(config) if not e.startswith(dropped or ("\0",))]
    if foreign and not args.trust:
        raise SystemExit(
            f"tunelab: error: {run_dir}/.hydra/config.yaml would run code from outside tunelab "
            f"and its libraries ({'; '.join(foreign)}); rerun with --trust if you trust it"
        )
    for line in differences(run_dir):
        print(f"tunelab: warning: {line}", file=sys.stderr)
    overrides = [f"{key}={target}" for key, target in moved.items()]
    record = untrusted.read_json(run_dir / RECORD)  # a JSON object: `differences` checked it
    overrides += [*args.overrides, *remote_code_overrides(config, args.overrides)]
    overrides += precision_overrides(record, args.overrides)
    if args.resume:
        out_dir, overrides = run_dir, [*overrides, "ckpt_path=last"]
    else:
        stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        out_dir = args.out or run_dir.with_name(f"{run_dir.name}-rerun-{stamp}")
    raise SystemExit(subprocess.call(rerun_command(run_dir, out_dir, overrides)))


if __name__ == "__main__":
    main()
