"""What makes a classifier an assistant, saved in `MODEL/assistant/`: the answer to each intent,
the confidence below which it says "unsure", and the index of past questions it shows then."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tunelab.apps.assistant.index import QuestionIndex
from tunelab.data.tables import read_table
from tunelab.errors import CorpusError

FOLDER, SETTINGS = "assistant", "assistant.json"


def read_answers(path: str, labels: list[str]) -> dict[str, str]:
    """intent -> answer from a table (CSV, TSV or JSON lines) with `intent` and `answer`
    columns; an intent the model does not know, or one answered twice, stops with its row."""
    answers: dict[str, str] = {}
    for row in read_table(path, "answer", "intent"):
        if row.label not in labels:
            raise CorpusError(path, row.row, f"intent {row.label!r} is not one of the model's")
        if row.label in answers:
            raise CorpusError(path, row.row, f"intent {row.label!r} has a second answer")
        answers[row.label] = row.text
    return answers


@dataclass
class Assistant:
    answers: dict[str, str]
    threshold: float  # a top probability below this: "unsure"
    similar: int  # past questions shown when unsure
    index: QuestionIndex | None = None

    def save(self, model_dir: str, figures: dict) -> None:
        folder = Path(model_dir) / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        if self.index is not None:
            self.index.save(folder)
        settings = {"answers": self.answers, "threshold": self.threshold, "similar": self.similar}
        (folder / SETTINGS).write_text(json.dumps({**settings, "figures": figures}, indent=2))

    @classmethod
    def load(cls, model_dir: str) -> Assistant | None:
        """The model's assistant settings; None for a model that has none."""
        folder = Path(model_dir) / FOLDER
        if not (folder / SETTINGS).is_file():
            return None
        settings = json.loads((folder / SETTINGS).read_text())
        answers = {str(k): str(v) for k, v in settings["answers"].items()}
        threshold, similar = float(settings["threshold"]), int(settings["similar"])
        return cls(answers, threshold, similar, QuestionIndex.load(folder))

    def respond(self, records: list[dict], search) -> list[dict]:
        """Each prediction record with its answer, or with `unsure` and the nearest past
        questions (`search(texts, k)`) where its top probability is below the threshold."""
        unsure = [r for r in records if r["probabilities"][r["label"]] < self.threshold]
        texts = [r["text"] for r in unsure]
        similar = search(texts, self.similar) if texts and self.index else [[] for _ in texts]
        for record in records:
            record["probability"] = record["probabilities"][record["label"]]
            record["unsure"] = False
            record["answer"] = self.answers.get(record["label"])
        for record, found in zip(unsure, similar, strict=True):
            record.update(unsure=True, answer=None, similar=found)
        return records
