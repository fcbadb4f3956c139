"""Which words made a model decide: Integrated Gradients (captum) over the input embeddings.

Each word's attribution to the log-probability of a decision the model made (classification: the
label it gave the text; NER: each entity it found, the sum of its words' tag log-probabilities),
integrated along the straight path from a baseline where every sub-token but the special ones is
the padding token. A word's attribution is the sum over its sub-tokens and the embedding. The
attributions add up to F(text) - F(baseline) up to the integral's error: each explanation
reports that difference and the gap, |sum - difference| / |difference| (`completeness_gap`).
Each task says what a decision is and how its sub-tokens map to words (its `explain.py`).
"""

from __future__ import annotations

import html

import torch
from captum.attr import LayerIntegratedGradients

from tunelab.errors import TunelabError

STEPS = (
    50  # points on the path (captum's Gauss-Legendre rule): gaps of about 1% on tunelab's models
)


def input_embeddings(module) -> torch.nn.Embedding:
    """The sub-token embedding table the model reads its input through."""
    for name, layer in module.model.named_modules():
        if isinstance(layer, torch.nn.Embedding) and name.endswith("word_embeddings"):
            return layer
    getter = getattr(module.model, "get_input_embeddings", None)
    if getter is not None:
        return getter()
    raise TunelabError(f"{type(module.model).__name__} has no input embeddings to explain through")


def attributions(module, tokenizer, inputs: dict, logits_of, target, steps: int = STEPS) -> tuple:
    """([sub-tokens] attributions, F(input) - F(baseline), completeness gap) of F =
    `target(logits_of(batch))` -> [batch], for one input row (`inputs`: [1, length] tensors)."""
    ids = inputs["input_ids"]
    special = torch.tensor(
        tokenizer.get_special_tokens_mask(ids[0].tolist(), already_has_special_tokens=True),
        dtype=torch.bool,
    )[None]
    baseline = torch.where(special, ids, torch.full_like(ids, tokenizer.pad_token_id))
    others = {key: value for key, value in inputs.items() if key != "input_ids"}

    def forward(input_ids: torch.Tensor) -> torch.Tensor:
        rows = {key: value.expand(len(input_ids), -1) for key, value in others.items()}
        return target(logits_of({"input_ids": input_ids, **rows}).float())

    module.eval()
    with torch.enable_grad():
        explainer = LayerIntegratedGradients(forward, input_embeddings(module))
        attributed, delta = explainer.attribute(
            ids,
            baselines=baseline,
            n_steps=steps,
            internal_batch_size=steps,
            return_convergence_delta=True,
        )
    with torch.no_grad():
        difference = float(forward(ids)[0] - forward(baseline)[0])
    gap = abs(float(delta[0])) / max(abs(difference), 1e-12)
    return attributed.sum(-1)[0].detach().float(), difference, gap


def word_scores(words, offsets, token_words: list[int | None], token_scores) -> list[dict]:
    """Each word with the sum of its sub-tokens' attributions (words cut off by truncation: 0)."""
    sums = [0.0] * len(words)
    for word, score in zip(token_words, token_scores.tolist(), strict=True):
        if word is not None:
            sums[word] += score
    return [
        {"word": w, "start": s, "end": e, "attribution": round(a, 6)}
        for w, (s, e), a in zip(words, offsets, sums, strict=True)
    ]


def shaded(words: list[dict], text: str) -> str:
    """The text with each word's background green (for the decision) or red (against), as
    strong as its attribution against the text's largest."""
    largest = max((abs(w["attribution"]) for w in words), default=0) or 1
    pieces, at = [], 0
    for word in words:
        pieces.append(html.escape(text[at : word["start"]]))
        share = word["attribution"] / largest
        colour = f"rgba(0,150,0,{share:.2f})" if share >= 0 else f"rgba(200,0,0,{-share:.2f})"
        title = f"{word['attribution']:+.4f}"
        pieces.append(
            f'<span style="background:{colour}" title="{title}">{html.escape(word["word"])}</span>'
        )
        at = word["end"]
    pieces.append(html.escape(text[at:]))
    return "".join(pieces)


def render_html(explanations: list[dict]) -> str:
    """One page: each text (NER: each entity) with its words shaded by attribution."""
    rows = []
    for record in explanations:
        if "entities" in record:
            for entity in record["entities"]:
                head = f"{html.escape(entity['type'])} <b>{html.escape(entity['text'])}</b>"
                rows.append((head, entity, record["text"]))
        else:
            head = f"{html.escape(record['label'])} ({record['probability']:.3f})"
            rows.append((head, record, record["text"]))
    body = "".join(
        f"<p>{head} <small>gap {item['completeness_gap']:.3f}</small><br>"
        f"{shaded(item['words'], text)}</p>"
        for head, item, text in rows
    )
    style = "body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.8}"
    return (
        f"<!doctype html><meta charset=utf-8><title>tunelab explanations</title>"
        f"<style>{style}</style><h1>Which words decided</h1>"
        "<p>Green: the word pushed towards the decision; red: against it "
        "(Integrated Gradients; hover a word for its attribution).</p>"
        f"{body}"
    )
