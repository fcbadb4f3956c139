"""Text classification: one label (softmax) or a label set (sigmoid) per text or text pair."""

from tunelab.tasks import Task, register
from tunelab.tasks.classification.outputs import write_outputs
from tunelab.tasks.classification.predict import label_texts, predict_file


def classifier_task(name: str, module: str, architectures: tuple[str, ...] = ()) -> Task:
    """Register a task that is scored, written and predicts as a classifier (its module a
    `SequenceClassificationModule`): classification itself, zero-shot, SetFit, prompts."""
    return register(
        Task(
            name=name,
            module=module,
            architectures=architectures,
            write_outputs=write_outputs,
            predict=predict_file,
            label_texts=label_texts,
            headline=("test/acc", "test/f1_macro"),
        )
    )


TASK = classifier_task(
    "classification",
    "tunelab.tasks.classification.module.SequenceClassificationModule",
    ("ForSequenceClassification",),
)
