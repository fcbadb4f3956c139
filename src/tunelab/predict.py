"""`tunelab-predict`: label raw text with a trained NER model; JSON lines with character offsets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig
from transformers import AutoTokenizer

from tunelab.config import CONFIG_DIR, exit_on_user_error
from tunelab.data.alignment import encode_sentences
from tunelab.data.batching import pad_batch
from tunelab.data.conll import read_conll
from tunelab.errors import TunelabError
from tunelab.loading import load_module
from tunelab.models.token_classification import TokenClassificationModule
from tunelab.spans import tags_to_spans

# Words as the CoNLL corpora cut them: runs of letters/digits (with inner ' or -), or one symbol.
WORD = re.compile(r"\w+(?:['’-]\w+)*|[^\w\s]")


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
    max_length: int = 512,
) -> list[tuple[list[str], list[float]]]:
    """Tags and each tag's probability for word-split sentences (same decoding as evaluation)."""
    module.eval()
    items = encode_sentences(tokenizer, sentences, [[0] * len(s) for s in sentences], max_length)
    items.sort(key=lambda item: len(item["input_ids"]))
    results: dict[int, tuple[list[str], list[float]]] = {}
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        batch = pad_batch(
            chunk, {"input_ids": tokenizer.pad_token_id, "word_index": -1}, ("sentence",)
        )
        for index, log_probs in module.word_log_probs(batch).items():
            tags = module.decode_tags(log_probs, len(sentences[index]))
            ids = [module.label2id[tag] for tag in tags[: len(log_probs)]]
            probs = log_probs.exp()[torch.arange(len(ids)), ids].tolist()
            results[index] = tags, probs + [0.0] * (len(tags) - len(probs))
    return [results[i] for i in range(len(sentences))]


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


def predict(cfg: DictConfig) -> Path:
    module, tokenizer_name = load_module(cfg.task, model_dir=cfg.model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_name)
    source, target = Path(cfg.input), Path(cfg.output)
    if not source.is_file():
        raise TunelabError(f"input file {source} does not exist")
    target.parent.mkdir(parents=True, exist_ok=True)
    if cfg.format == "conll":
        sentences = read_conll(source, with_tags=False)
        words = [s.words for s in sentences]
        tagged = predict_tags(module, tokenizer, words, cfg.batch_size, cfg.max_length)
        with target.open("w", encoding="utf-8") as out:
            for sentence, (tags, _) in zip(words, tagged, strict=True):
                out.writelines(f"{w} {t}\n" for w, t in zip(sentence, tags, strict=True))
                out.write("\n")
        return target
    if cfg.format != "text":
        raise TunelabError(f"format={cfg.format!r}; choose text or conll")
    texts = source.read_text(encoding="utf-8").split("\n")
    if texts and texts[-1] == "":
        texts.pop()  # the file's final newline ends the last text, it does not add one
    split = [split_words(text.rstrip("\r")) for text in texts]
    tagged = predict_tags(module, tokenizer, [w for w, _ in split], cfg.batch_size, cfg.max_length)
    with target.open("w", encoding="utf-8") as out:
        for text, (_, offsets), (tags, probs) in zip(texts, split, tagged, strict=True):
            record = {"text": text.rstrip("\r"), "entities": entities(text, offsets, tags, probs)}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(texts)} line(s) to {target}")
    return target


@hydra.main(config_path=CONFIG_DIR, config_name="predict", version_base="1.3")
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    predict(cfg)


if __name__ == "__main__":
    main()
