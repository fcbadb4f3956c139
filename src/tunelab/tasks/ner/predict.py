"""NER prediction: word-split text in, tags or entities with character offsets out."""

from __future__ import annotations

import torch

from tunelab.data import alignment
from tunelab.data.batching import sorted_batches
from tunelab.data.conll import read_conll
from tunelab.data.output_file import OutputFile
from tunelab.data.reading import MAX_LENGTH, STRIDE
from tunelab.data.words import split_words
from tunelab.errors import TunelabError
from tunelab.tasks import FileJob
from tunelab.tasks.ner.module import TokenClassificationModule
from tunelab.tasks.ner.spans import tags_to_spans


@torch.inference_mode()
def predict_tags(
    module: TokenClassificationModule,
    tokenizer,
    sentences: list[list[str]],
    batch_size: int = 64,
    max_length: int = MAX_LENGTH,
    stride: int = STRIDE,
    context: int = 0,
    documents: list[int] | None = None,
    max_tokens: int | None = 2048,
    by_sentence: bool = False,
    pack: bool = False,
) -> list[tuple[list[str], dict[int, float]]]:
    """Tags and each scored word's (calibrated) tag probability for word-split sentences: the
    same encoding, windows, document context, batching, merge rule and decoding as evaluation.
    `pack`: several windows to a row (`sorted_batches`), where the model gives the same scores
    so (checked once)."""
    module.eval()
    dummy = [[0] * len(s) for s in sentences]
    items = alignment.encode_sentences(
        tokenizer,
        sentences,
        dummy,
        max_length,
        stride=stride,
        documents=documents,
        context=context,
        by_sentence=by_sentence,
    )
    pad_values = {"input_ids": tokenizer.pad_token_id, "word_index": -1}
    outputs = {}
    keep = ("sentence", "window")
    for batch in sorted_batches(items, pad_values, keep, batch_size, max_tokens, pack):
        outputs.update(module.window_scores(batch))
    merged = module.sentence_scores(outputs)
    decoded = module.decode_many([(*merged[i], len(s)) for i, s in enumerate(sentences)])
    scored = [(*merged[index], tags) for index, tags in enumerate(decoded)]
    return list(zip(decoded, module.word_probabilities(scored), strict=True))


def entities(text: str, offsets, tags: list[str], probs: dict[int, float]) -> list[dict]:
    """Entity dicts (text, type, start, end, score = the entity's confidence: the product of
    its words' calibrated tag probabilities)."""
    found = []
    for span in tags_to_spans(tags):
        start, end = offsets[span.start][0], offsets[span.end - 1][1]
        score = TokenClassificationModule.entity_confidence(span, probs)
        found.append(
            {
                "text": text[start:end],
                "type": span.type,
                "start": start,
                "end": end,
                "score": round(score, 4),
            }
        )
    return found


def reading(settings: dict, batch_size: int, max_tokens: int | None) -> dict:
    """`predict_tags` arguments: how the model reads input, and how big a batch is."""
    return {
        "batch_size": batch_size,
        "max_length": settings["max_length"],
        "stride": settings["stride"],
        "context": settings.get("context", 0),
        "by_sentence": settings.get("by_sentence", False),
        "max_tokens": max_tokens,
        "pack": bool(settings.get("pack", False)),
    }


def label_texts(
    module,
    tokenizer,
    settings: dict,
    texts: list[str],
    pairs: list[str] | None = None,
    batch_size: int = 64,
    max_tokens: int | None = 2048,
) -> list[dict]:
    """Each text with its entities (type, character offsets, score)."""
    if pairs is not None:
        raise TunelabError("an NER model labels single texts, not text pairs")
    split = [split_words(text) for text in texts]
    tagged = predict_tags(
        module, tokenizer, [w for w, _ in split], **reading(settings, batch_size, max_tokens)
    )
    return [
        {"text": text, "entities": entities(text, offsets, tags, probs)}
        for text, (_, offsets), (tags, probs) in zip(texts, split, tagged, strict=True)
    ]


def predict_file(module, tokenizer, settings: dict, job: FileJob) -> int:
    """`tunelab-predict format=conll` for NER: CoNLL words in (one a line, a blank line between
    sentences, `-DOCSTART-` documents for `context`), `word tag` lines out."""
    if job.format != "conll":
        raise TunelabError(f"format={job.format!r}; choose text or conll")
    sentences = read_conll(job.input, with_tags=False)
    words = [s.words for s in sentences]
    documents = [s.doc for s in sentences]
    tagged = predict_tags(
        module,
        tokenizer,
        words,
        documents=documents,
        **reading(settings, job.batch_size, job.max_tokens),
    )
    with OutputFile(job.output, newline="\n") as out:
        for sentence, (tags, _) in zip(words, tagged, strict=True):
            out.writelines(f"{w} {t}\n" for w, t in zip(sentence, tags, strict=True))
            out.write("\n")
    return len(words)
