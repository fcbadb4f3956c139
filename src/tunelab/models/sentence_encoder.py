"""Sentence-transformers encoders: what tunelab reads of their folders."""

from __future__ import annotations

import json
from pathlib import Path

from tunelab.data.registry import resolve_model


def encoder_max_length(name_or_path: str) -> int | None:
    """The longest input a sentence-transformers encoder embeds (`max_seq_length` in its
    `sentence_bert_config.json`); None for a plain encoder."""
    config = Path(resolve_model(name_or_path)) / "sentence_bert_config.json"
    if not config.is_file():
        return None
    return json.loads(config.read_text()).get("max_seq_length")
