"""Zero-shot classification: no training, texts matched to descriptions of the labels."""

from tunelab.tasks.classification import classifier_task

TASK = classifier_task("zero_shot", "tunelab.tasks.zero_shot.module.ZeroShotModule")
