"""Prompt-based classification (PET / LM-BFF): a template with one mask, and label words whose
masked-LM scores are the class scores."""
