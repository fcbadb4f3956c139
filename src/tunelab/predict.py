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
from tunelab.data.batching import budget_batches, pad_batch
from tunelab.data.conll import read_conll
from tunelab.errors import TunelabError
from tunelab.loading import load_module
from tunelab.models import SequenceClassificationModule, TokenClassificationModule
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
    stride: int = 128,
    context: int = 0,
    documents: list[int] | None = None,
    max_tokens: int | None = 2048,
) -> list[tuple[list[str], list[float]]]:
    """Tags and each tag's probability for word-split sentences: the same windows, document
    context, merge rule and decoding as evaluation."""
    module.eval()
    dummy = [[0] * len(s) for s in sentences]
    items = encode_sentences(
        tokenizer, sentences, dummy, max_length, stride=stride, documents=documents, context=context
    )
    items.sort(key=lambda item: len(item["input_ids"]))
    pad_values = {"input_ids": tokenizer.pad_token_id, "word_index": -1}
    outputs = {}
    lengths = [len(item["input_ids"]) for item in items]
    for batch in budget_batches(lengths, batch_size, max_tokens):
        chunk = pad_batch([items[i] for i in batch], pad_values, ("sentence", "window"))
        outputs.update(module.window_scores(chunk))
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


@torch.inference_mode()
def classify(
    module: SequenceClassificationModule,
    tokenizer,
    texts: list[str],
    batch_size: int,
    max_length: int,
) -> list[dict]:
    """Label and per-label probabilities of each text (multi-label: the labels over threshold)."""
    module.eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    records: dict[int, dict] = {}
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        batch = tokenizer(
            [texts[i] for i in chunk],
            truncation=True,
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        )
        probs = module.probabilities(module.model(**module.model_inputs(batch)).logits.float())
        for i, row in zip(chunk, probs.tolist(), strict=True):
            record = {"text": texts[i]}
            named = dict(zip(module.labels, row, strict=True))
            if module.multi_label:
                record["labels"] = [name for name, p in named.items() if p >= module.threshold]
            else:
                record["label"] = max(named, key=named.get)
            record["probabilities"] = {name: round(p, 6) for name, p in named.items()}
            records[i] = record
    return [records[i] for i in range(len(texts))]


def read_lines(path: Path) -> list[str]:
    """Lines of a text file without line ends; the final newline adds no empty line."""
    texts = path.read_text(encoding="utf-8").split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    return [text.rstrip("\r") for text in texts]


def write_jsonl(path: Path, records: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def predict(cfg: DictConfig) -> Path:
    module, tokenizer_name = load_module(cfg.task, model_dir=cfg.model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_name)
    source, target = Path(cfg.input), Path(cfg.output)
    if not source.is_file():
        raise TunelabError(f"input file {source} does not exist")
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(module, SequenceClassificationModule):
        texts = read_lines(source)
        write_jsonl(target, classify(module, tokenizer, texts, cfg.batch_size, cfg.max_length))
        print(f"wrote {len(texts)} line(s) to {target}")
        return target
    if cfg.format == "conll":
        sentences = read_conll(source, with_tags=False)
        words = [s.words for s in sentences]
        documents = [s.doc for s in sentences]
        tagged = predict_tags(
            module,
            tokenizer,
            words,
            cfg.batch_size,
            cfg.max_length,
            cfg.stride,
            cfg.context,
            documents,
            cfg.max_tokens,
        )
        with target.open("w", encoding="utf-8") as out:
            for sentence, (tags, _) in zip(words, tagged, strict=True):
                out.writelines(f"{w} {t}\n" for w, t in zip(sentence, tags, strict=True))
                out.write("\n")
        return target
    if cfg.format != "text":
        raise TunelabError(f"format={cfg.format!r}; choose text or conll")
    texts = read_lines(source)
    split = [split_words(text) for text in texts]
    tagged = predict_tags(
        module,
        tokenizer,
        [w for w, _ in split],
        cfg.batch_size,
        cfg.max_length,
        cfg.stride,
        cfg.context,
        max_tokens=cfg.max_tokens,
    )
    records = [
        {"text": text, "entities": entities(text, offsets, tags, probs)}
        for text, (_, offsets), (tags, probs) in zip(texts, split, tagged, strict=True)
    ]
    write_jsonl(target, records)
    print(f"wrote {len(texts)} line(s) to {target}")
    return target


@hydra.main(config_path=CONFIG_DIR, config_name="predict", version_base="1.3")
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    predict(cfg)


if __name__ == "__main__":
    main()
