"""Zero-shot classification: no training, texts matched to descriptions of the labels."""

from tunelab.tasks import Task, register
from tunelab.tasks.classification.outputs import write_outputs
from tunelab.tasks.classification.predict import predict_file

TASK = register(
    Task(
        name="zero_shot",
        module="tunelab.tasks.zero_shot.module.ZeroShotModule",
        architectures=(),
        write_outputs=write_outputs,
        predict=predict_file,
        headline=("test/acc", "test/f1_macro"),
    )
)
