"""Masked-language-model training: domain- or task-adaptive pre-training, or a new encoder."""

from tunelab.tasks import Task, register
from tunelab.tasks.mlm.outputs import write_outputs
from tunelab.tasks.mlm.predict import label_texts

TASK = register(
    Task(
        name="mlm",
        module="tunelab.tasks.mlm.module.MaskedLMModule",
        architectures=("ForMaskedLM",),
        write_outputs=write_outputs,
        label_texts=label_texts,
        headline=("test/perplexity", "test/accuracy"),
    )
)
