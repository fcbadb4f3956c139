"""Named-entity recognition: token classification scored per word (seqeval entity F1)."""

from tunelab.tasks import Agreement, Incremental, Task, register
from tunelab.tasks.ner import agreement, explain
from tunelab.tasks.ner.incremental import entity_types
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
        explain_texts=explain.explain_texts,
        distill=("model.distill_on=all",),
        agreement=Agreement(agreement.decisions, agreement.read_predictions, agreement.item_counts),
        headline=("test/f1", "test/f1_strict"),
        score_file=score_file,
        pipeline="token-classification",
        continual=Incremental(
            subset_key="types",
            micro_metric="test/f1",
            first_step=1,
            by_example=False,
            present=lambda datamodule: entity_types(datamodule.sentences("train")),
            model_labels=lambda kind: [f"B-{kind}", f"I-{kind}"],
            replay_across_datasets=False,
        ),
    )
)
