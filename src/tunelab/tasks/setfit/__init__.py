"""Contrastive few-shot classification (SetFit): a sentence encoder tuned on pairs of the
K-shot texts, then a logistic-regression head on its embeddings."""

from tunelab.tasks import Task, register
from tunelab.tasks.classification.outputs import write_outputs
from tunelab.tasks.classification.predict import predict_file

TASK = register(
    Task(
        name="setfit",
        module="tunelab.tasks.setfit.module.SetFitModule",
        architectures=(),
        write_outputs=write_outputs,
        predict=predict_file,
        headline=("test/acc", "test/f1_macro"),
    )
)
