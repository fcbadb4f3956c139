"""A toy task from its own folder, registered the way any task is: is a text long or short?

It exists to show (and test) that train, eval and predict consult only the task registry: none
of them names this task, yet it trains, evaluates and predicts through them. A task outside
tunelab is named by its package's import path (`task: tests.toy_task`).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import AutoModelForSequenceClassification

from tunelab.data.base import TaskDataModule
from tunelab.data.lines import read_lines
from tunelab.data.settings import Loader
from tunelab.models.base import Evaluation, TaskModule
from tunelab.tasks import FileJob, Task, register

NAME = "tests.toy_task"
LABELS = ["long", "short"]


def label_of(text: str) -> str:
    return "long" if len(text.split()) > 5 else "short"


class ToyDataModule(TaskDataModule):
    """`<split>.txt` in `dir`, one text a line; the label is the text's length class."""

    keep = ("label", "example")
    SETTINGS = {"loader": Loader}  # batching as every DataModule's; no K-shot samples
    DEFAULTS = {"batch_size": 8, "eval_batch_size": 8, "eval_max_tokens": None}

    def __init__(
        self,
        tokenizer: str,
        *,
        dir: str,
        loader: Loader,
        max_length: int = 32,
        labels: list[str] | None = None,
    ):
        super().__init__()
        self.keep_settings(locals())
        self.labels = LABELS

    def texts(self, split: str) -> list[str]:
        return read_lines(Path(self.hparams.dir) / f"{split}.txt")

    def references(self, split: str) -> list[int]:
        return [LABELS.index(label_of(text)) for text in self.texts(split)]

    def split_stats(self, split: str) -> dict[str, int]:
        return {}

    def encoded(self, split: str) -> list[dict]:
        ids = self.tokenizer(self.texts(split), truncation=True, max_length=self.hparams.max_length)
        return [
            {"input_ids": row, "label": label, "example": i}
            for i, (row, label) in enumerate(
                zip(ids["input_ids"], self.references(split), strict=True)
            )
        ]


class ToyModule(TaskModule):
    task = NAME

    def __init__(self, model_name_or_path, labels, optimizer=None, scheduler=None, **kwargs):
        super().__init__(model_name_or_path, labels, optimizer, scheduler, **kwargs)
        self.model = self.pretrained(AutoModelForSequenceClassification)
        self._outputs = {}

    def training_step(self, batch, batch_idx):
        logits = self.model(**self.model_inputs(batch)).logits
        return F.cross_entropy(logits.float(), batch["label"])

    def predict_ids(self, batch) -> list[int]:
        return self.model(**self.model_inputs(batch)).logits.argmax(-1).tolist()

    def validation_step(self, batch, batch_idx):
        self._outputs.update(zip(batch["example"].tolist(), self.predict_ids(batch), strict=True))

    test_step = validation_step

    def _score(self, prefix: str) -> None:
        references = self.references[prefix]
        right = sum(references[i] == pred for i, pred in self._outputs.items())
        accuracy = right / max(len(self._outputs), 1)
        self.log(f"{prefix}/acc", accuracy)
        self.evaluations[prefix] = Evaluation({f"{prefix}/acc": accuracy}, dict(self._outputs))
        self._outputs = {}

    def on_validation_epoch_end(self):
        self._score("val")

    def on_test_epoch_end(self):
        self._score("test")


def write_outputs(run_dir: Path, module, datamodule, split: str) -> str:
    texts = datamodule.texts(split)
    (run_dir / "predictions").mkdir(parents=True, exist_ok=True)
    rows = [
        f"{texts[i]}\t{LABELS[p]}\n"
        for i, p in sorted(module.evaluation("test").predictions.items())
    ]
    (run_dir / "predictions" / f"{split}.tsv").write_text("".join(rows))
    return f"{len(rows)} texts"


@torch.inference_mode()
def predict(module, tokenizer, settings: dict, job: FileJob) -> int:
    module.eval()
    texts = read_lines(job.input)
    batch = tokenizer(
        texts, truncation=True, max_length=settings["max_length"], padding=True, return_tensors="pt"
    )
    labels = [LABELS[p] for p in module.predict_ids(batch)]
    job.output.write_text("".join(f"{label}\n" for label in labels))
    return len(labels)


TASK = register(
    Task(
        name=NAME,
        module=f"{NAME}.ToyModule",
        architectures=(),
        write_outputs=write_outputs,
        predict=predict,
        headline=("test/acc",),
    )
)
