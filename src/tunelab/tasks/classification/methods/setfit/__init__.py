"""Contrastive few-shot classification (SetFit): a sentence encoder tuned on pairs of the
K-shot texts, then a logistic-regression head on its embeddings."""
