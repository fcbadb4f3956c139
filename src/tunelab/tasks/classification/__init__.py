"""Text classification: one label (softmax) or a label set (sigmoid) per text or text pair."""

from tunelab.tasks import Task, register
from tunelab.tasks.classification.outputs import write_outputs
from tunelab.tasks.classification.predict import predict_file

TASK = register(
    Task(
        name="classification",
        module="tunelab.tasks.classification.module.SequenceClassificationModule",
        architectures=("ForSequenceClassification",),
        write_outputs=write_outputs,
        predict=predict_file,
        headline=("test/acc", "test/f1_macro"),
    )
)
