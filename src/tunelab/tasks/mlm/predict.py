"""Masked-LM prediction: the most likely fillers of each [MASK] of each input line."""

from __future__ import annotations

from transformers import pipeline

from tunelab.errors import TunelabError

TOP_K = 5


def fill_masks(module, tokenizer, texts: list[str], top_k: int = TOP_K) -> list[dict]:
    """Per text, per mask token in it, the `top_k` fillers and their probabilities
    (transformers' fill-mask pipeline on the module's model)."""
    module.eval()
    fill = pipeline("fill-mask", model=module.model, tokenizer=tokenizer, top_k=top_k)
    records = []
    for text in texts:
        masks = text.count(tokenizer.mask_token)
        found = fill(text) if masks else []
        per_mask = [found] if masks == 1 else found
        records.append(
            {
                "text": text,
                "masks": [
                    [{"token": f["token_str"], "score": round(f["score"], 6)} for f in fillers]
                    for fillers in per_mask
                ],
            }
        )
    return records


def label_texts(module, tokenizer, settings, texts, pairs=None, batch_size=64, max_tokens=None):
    """Each text with the fillers of its masks (`Task.label_texts`)."""
    if pairs is not None:
        raise TunelabError("a masked-LM model fills single texts, not text pairs")
    return fill_masks(module, tokenizer, texts)
