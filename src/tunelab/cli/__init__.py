"""`tunelab COMMAND [ARGS]`: one command with subcommands (`tunelab train data=conll2003`).

The older `tunelab-COMMAND` scripts are aliases of the same entry points, and so is
`python -m tunelab COMMAND`. Help (`--help`, and Hydra's `--cfg`/`--info`) is answered before the
command's module is imported: those modules import torch, Lightning and transformers, which takes
seconds, while the help needs only the command's config, composed as the command composes it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    module: str  # imported only to run the command: `main()` reads sys.argv
    summary: str
    config: str | None = None  # a Hydra command's config name (conf/<config>.yaml)


COMMANDS = {
    "train": Command(
        "tunelab.training.train", "fine-tune, test the best checkpoint, export it", "train"
    ),
    "eval": Command(
        "tunelab.inference.eval", "score a checkpoint or an exported model on a split", "eval"
    ),
    "predict": Command(
        "tunelab.inference.predict", "label texts, CoNLL words or a table", "predict"
    ),
    "serve": Command(
        "tunelab.serving.serve", "an exported model behind an HTTP API and a page", "serve"
    ),
    "export": Command(
        "tunelab.inference.export", "write the ONNX graph (and int8) of a model", "export"
    ),
    "continual": Command(
        "tunelab.experiments.continual", "learn labels or datasets a step at a time", "continual"
    ),
    "curve": Command(
        "tunelab.experiments.curve", "a learning curve over K examples and seeds", "curve"
    ),
    "compare": Command("tunelab.experiments.compare", "runs side by side: scores and what differs"),
    "rerun": Command("tunelab.experiments.rerun", "run a past run again, or resume it"),
    "sweep-summary": Command(
        "tunelab.experiments.sweep", "the table and plot of a multirun folder"
    ),
    "assistant": Command(
        "tunelab.apps.assistant.build",
        "answers, an unsure threshold and a question index for an intent model",
        "assistant",
    ),
    "search": Command(
        "tunelab.apps.assistant.search", "past questions nearest a new one", "search"
    ),
    "recommend": Command(
        "tunelab.apps.recommend.evaluate",
        "rank held-out movies (MovieLens) against two baselines",
        "recommend",
    ),
    "monitor": Command(
        "tunelab.apps.monitor.run",
        "topic and sentiment of a stream of texts, with alerts on surges",
        "monitor",
    ),
    "explain": Command(
        "tunelab.inference.explain",
        "which words made a model decide, per text or entity",
        "explain",
    ),
    "distill": Command(
        "tunelab.experiments.distill", "a smaller student learns from a fine-tuned teacher"
    ),
}
# Hydra's flags that print and exit before the task runs
HELP_FLAGS = ("--help", "-h", "--hydra-help", "--cfg", "-c", "--info", "-i")


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {c.summary}" for name, c in COMMANDS.items()]
    return (
        "usage: tunelab COMMAND [ARGS ...]   (tunelab COMMAND --help for its settings)\n\n"
        "commands:\n" + "\n".join(lines) + "\n\nEach is also `tunelab-COMMAND` "
        "and `python -m tunelab COMMAND`. README: Quick start."
    )


def run(name: str, args: list[str]) -> None:
    """Run command `name` with `args`, as `tunelab-NAME ARGS...` would."""
    command = COMMANDS[name]
    sys.argv = [f"tunelab-{name}", *args]
    if command.config and any(arg.split("=", 1)[0] in HELP_FLAGS for arg in args):
        hydra_help(command.config)
        return
    # Lightning's DDP launcher starts the other ranks as `python -m <__main__'s module> ARGS`:
    # that must be the command's module, not `tunelab` (which would need the command name).
    sys.modules["__main__"].__spec__ = importlib.util.find_spec(command.module)
    importlib.import_module(command.module).main()


def hydra_help(config_name: str) -> None:
    """What Hydra prints for the help flags in sys.argv, from a stand-in task over the same
    config: Hydra answers these flags before calling the task, so it never runs."""
    import hydra

    from tunelab.config import CONFIG_DIR

    @hydra.main(config_path=CONFIG_DIR, config_name=config_name, version_base="1.3")
    def stand_in(_cfg) -> None:  # pragma: no cover - Hydra exits before calling it
        raise RuntimeError("help flags only")

    stand_in()


def main() -> None:
    """`tunelab COMMAND ARGS...`."""
    args = sys.argv[1:]
    if not args or args[0] in ("--help", "-h", "help"):
        print(usage())
        raise SystemExit(0 if args else 2)
    if args[0] == "--version":
        from tunelab import __version__

        print(f"tunelab {__version__}")
        return
    if args[0] not in COMMANDS:
        print(
            f"tunelab: error: no command {args[0]!r}; commands: {', '.join(COMMANDS)}",
            file=sys.stderr,
        )
        raise SystemExit(2)
    run(args[0], args[1:])


def alias(name: str):
    """The entry point of the `tunelab-NAME` script."""

    def entry() -> None:
        run(name, sys.argv[1:])

    entry.__name__ = f"tunelab_{name.replace('-', '_')}"
    return entry


(
    train,
    eval_,
    predict,
    serve,
    export,
    continual,
    curve,
    compare,
    rerun,
    sweep_summary,
    assistant,
    search,
    recommend,
    monitor,
    explain,
    distill,
) = (alias(name) for name in COMMANDS)
