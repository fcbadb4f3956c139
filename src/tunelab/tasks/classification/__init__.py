"""Text classification: one label (softmax) or a label set (sigmoid) per text or text pair."""

from tunelab.tasks import Incremental, Task, register
from tunelab.tasks.classification.outputs import write_outputs
from tunelab.tasks.classification.predict import label_texts, predict_file

# Classes learnt a step at a time: each text belongs to the step of its class.
BY_CLASS = Incremental(
    subset_key="classes",
    micro_metric="test/f1_micro",
    first_step=2,
    by_example=True,
    present=lambda datamodule: set(datamodule.labels),
    model_labels=lambda kind: [kind],
    replay_across_datasets=True,
)


def classifier_task(
    name: str, module: str, architectures: tuple[str, ...] = (), pipeline: str | None = None
) -> Task:
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
            continual=BY_CLASS,
            pipeline=pipeline,
        )
    )


TASK = classifier_task(
    "classification",
    "tunelab.tasks.classification.module.SequenceClassificationModule",
    ("ForSequenceClassification",),
    "text-classification",
)
