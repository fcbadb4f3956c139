"""LightningModules: one per task family, sharing optimizer and scheduler set-up."""

from tunelab.models.sequence_classification import SequenceClassificationModule
from tunelab.models.token_classification import TokenClassificationModule

__all__ = ["SequenceClassificationModule", "TokenClassificationModule"]
