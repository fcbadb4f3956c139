"""Named-entity recognition: token classification scored per word (seqeval entity F1)."""

from tunelab.tasks import Task, register
from tunelab.tasks.ner.outputs import score_file, write_outputs
from tunelab.tasks.ner.predict import label_texts, predict_file

TASK = register(
    Task(
        name="ner",
        module="tunelab.tasks.ner.module.TokenClassificationModule",
        architectures=("ForTokenClassification",),
        write_outputs=write_outputs,
        predict=predict_file,
        label_texts=label_texts,
        headline=("test/f1", "test/f1_strict"),
        score_file=score_file,
    )
)
