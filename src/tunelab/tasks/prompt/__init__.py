"""Prompt-based classification (PET / LM-BFF): a template with one mask, and label words whose
masked-LM scores are the class scores."""

from tunelab.tasks import Task, register
from tunelab.tasks.classification.outputs import write_outputs
from tunelab.tasks.classification.predict import predict_file

TASK = register(
    Task(
        name="prompt",
        module="tunelab.tasks.prompt.module.PromptModule",
        architectures=(),
        write_outputs=write_outputs,
        predict=predict_file,
        headline=("test/acc", "test/f1_macro"),
    )
)
