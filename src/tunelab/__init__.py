"""tunelab: fine-tune pretrained encoders for NER and text classification."""

__version__ = "0.1.0"
