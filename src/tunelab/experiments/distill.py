"""`tunelab distill teacher=RUN/model data=PRESET [layers=N] [train overrides]` (or
`tunelab-distill`): a smaller student learns from a fine-tuned teacher.

The student starts as the teacher cut to `layers` of its layers (default: half), spread evenly
(`tunelab.models.student`), with the teacher's head; it trains as `tunelab train` does, on the
gold labels plus the teacher's softened outputs on every labelled sub-token or text
(`model.distill_temperature`, `model.distill_weight`), and is tested and exported like any
model, its `tunelab.json` naming its teacher (`distilled_from`). A NER teacher with a CRF
teaches through its marginals per word. Every other argument is a `tunelab train` override
(e.g. `trainer.max_epochs=10`, `data.unlabelled=texts.txt`: texts without labels, learnt from
the teacher alone).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from tunelab import tasks
from tunelab.errors import TunelabError

OWN = ("teacher", "layers")


def train_overrides(args: list[str]) -> list[str]:
    """The `tunelab train` overrides that distil as `args` ask."""
    own = {}
    rest = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and key in OWN:
            own[key] = value
        else:
            rest.append(arg)
    if "teacher" not in own:
        raise TunelabError("name the teacher: tunelab distill teacher=RUN/model data=PRESET")
    teacher = Path(own["teacher"])
    settings_file = teacher / "tunelab.json"
    if not settings_file.is_file():
        raise TunelabError(f"teacher={teacher}: no tunelab.json (a folder tunelab train exported)")
    try:
        settings = json.loads(settings_file.read_text())
        layers = json.loads((teacher / "config.json").read_text())["num_hidden_layers"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise TunelabError(f"teacher={teacher}: unreadable model files ({err})") from None
    if not any(arg.split("=", 1)[0] in ("data", "+data") for arg in rest):
        raise TunelabError(
            "name the teacher's data (the split the student learns from): e.g. data=conll2003"
        )
    keep = own.get("layers", str(max(int(layers) // 2, 1)))
    overrides = [
        f"model.model_name_or_path={teacher}",
        f"++model.teacher={teacher}",
        f"++model.keep_layers={keep}",
        "task_name=distill",
    ]
    task = tasks.get(str(settings.get("task")), named_by=str(settings_file))
    if task.distill is None:
        raise TunelabError(f"teacher={teacher}: a {task.name} model is not distilled")
    return overrides + list(task.distill) + rest


def main() -> None:
    if any(arg in ("--help", "-h") for arg in sys.argv[1:]):
        print(__doc__)
        return
    try:
        overrides = train_overrides(sys.argv[1:])
    except TunelabError as error:
        raise SystemExit(f"tunelab: error: {error}") from None
    from tunelab.training import train

    # from here it is `tunelab train` with these overrides, also for the ranks DDP starts
    sys.argv = ["tunelab-train", *overrides]
    sys.modules["__main__"].__spec__ = importlib.util.find_spec("tunelab.training.train")
    train.main()


if __name__ == "__main__":
    main()
