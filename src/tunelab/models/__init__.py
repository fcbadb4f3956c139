"""LightningModules: one per task family, sharing optimizer and scheduler set-up."""

from tunelab.models.token_classification import TokenClassificationModule

__all__ = ["TokenClassificationModule"]
