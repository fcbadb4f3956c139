"""NER prediction: word-split text in, tags or entities with character offsets out."""

from __future__ import annotations

import re

import torch

from tunelab.data import alignment
from tunelab.data.alignment import CJK
from tunelab.data.batching import sorted_batches
from tunelab.data.conll import read_conll
from tunelab.data.output_file import OutputFile
from tunelab.data.reading import MAX_LENGTH, STRIDE
from tunelab.errors import TunelabError
from tunelab.tasks import FileJob
from tunelab.tasks.ner.module import TokenClassificationModule
from tunelab.tasks.ner.spans import tags_to_spans

LETTERS = rf"[^\W{CJK}]"  # \w without CJK characters
# Words as the corpora cut them: each CJK character; a run of letters/digits (with inner ' or -);
# any other symbol.
WORD = re.compile(rf"[{CJK}]|{LETTERS}+(?:['’-]{LETTERS}+)*|[^\w\s]")


def split_words(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Words of `text` and their [start, end) character offsets."""
    matches = list(WORD.finditer(text))
    return [m.group() for m in matches], [m.span() for m in matches]


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
) -> list[tuple[list[str], list[float]]]:
    """Tags and each tag's probability for word-split sentences: the same encoding, windows,
    document context, batching, merge rule and decoding as evaluation. `pack`: several windows
    to a row (`sorted_batches`), where the model gives the same scores so (checked once)."""
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
    results = []
    decoded = module.decode_many([(*merged[i], len(s)) for i, s in enumerate(sentences)])
    for index, (sentence, tags) in enumerate(zip(sentences, decoded, strict=True)):
        words, log_probs = merged[index]
        probs = [0.0] * len(sentence)
        chosen = torch.tensor([module.label2id[tags[word]] for word in words], dtype=torch.long)
        chosen_probs = log_probs.gather(1, chosen[:, None]).exp().flatten().tolist()
        for word, prob in zip(words, chosen_probs, strict=True):
            probs[word] = prob
        results.append((tags, probs))
    return results


def entities(text: str, offsets, tags: list[str], probs: list[float]) -> list[dict]:
    """Entity dicts (text, type, start, end, score = mean tag probability of its words)."""
    found = []
    for span in tags_to_spans(tags):
        start, end = offsets[span.start][0], offsets[span.end - 1][1]
        score = sum(probs[span.start : span.end]) / (span.end - span.start)
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
