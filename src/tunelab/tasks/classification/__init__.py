"""Text classification: one label (softmax) or a label set (sigmoid) per text or text pair.
Besides fine-tuning a head, it is learnt by the methods in `methods/` (`method=setfit`,
`prompt`, `zero_shot`, `nli`)."""

from tunelab.tasks import Agreement, Incremental, Method, Task, register
from tunelab.tasks.classification import agreement, explain
from tunelab.tasks.classification.outputs import write_outputs
from tunelab.tasks.classification.predict import embed_texts, label_texts

METHODS = "tunelab.tasks.classification.methods"
TASK = register(
    Task(
        name="classification",
        module="tunelab.tasks.classification.module.SequenceClassificationModule",
        architectures=("ForSequenceClassification",),
        write_outputs=write_outputs,
        label_texts=label_texts,
        explain_texts=explain.explain_texts,
        distill=(),
        agreement=Agreement(agreement.decisions, agreement.read_predictions, agreement.item_counts),
        embed_texts=embed_texts,
        headline=("test/acc", "test/f1_macro"),
        # Classes learnt a step at a time: each text belongs to the step of its class.
        continual=Incremental(
            subset_key="classes",
            micro_metric="test/f1_micro",
            first_step=2,
            by_example=True,
            present=lambda datamodule: set(datamodule.labels),
            model_labels=lambda kind: [kind],
            replay_across_datasets=True,
        ),
        pipeline="text-classification",
        methods=(
            Method("setfit", f"{METHODS}.setfit.module.SetFitModule"),
            Method("prompt", f"{METHODS}.prompt.module.PromptModule"),
            Method(
                "zero_shot",
                f"{METHODS}.zero_shot.module.ZeroShotModule",
                build=f"{METHODS}.zero_shot.setup.zero_shot_module",
                # every part of a long text matched, its windows' scores averaged: nothing is
                # trained, so windows cost no training time (docs/results.md, BBC News)
                reading=(("long_text", "windows"),),
            ),
            Method(
                "nli",
                f"{METHODS}.zero_shot.nli.NLIZeroShotModule",
                build=f"{METHODS}.zero_shot.setup.zero_shot_module",
            ),
        ),
    )
)
