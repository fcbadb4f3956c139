"""Prompt-based classification (PET / LM-BFF): a template with one mask, and label words whose
masked-LM scores are the class scores."""

from tunelab.tasks.classification import classifier_task

TASK = classifier_task("prompt", "tunelab.tasks.prompt.module.PromptModule")
