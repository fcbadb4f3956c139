"""Zero-shot classification: no training, texts matched to descriptions of the labels."""
