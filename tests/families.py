"""Tiny random encoders of every family tunelab supports, each with a tokenizer learnt here on
the synthetic corpus' words in its family's kind (WordPiece, byte-level BPE, Unigram), saved as
a user's folder would be (`save_pretrained`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

# [CLS]-style and <s>-style special tokens, in the order their ids are given
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
MPNET_SPECIALS = ["<s>", "<pad>", "</s>", "[UNK]", "<mask>"]
ALBERT_SPECIALS = ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
DEBERTA_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
SIZE = {"hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64}


@dataclass(frozen=True)
class Family:
    name: str  # the config's model_type
    tokenizer_kind: str  # wordpiece | bpe | unigram
    specials: list[str]
    tokenizer_class: str  # transformers' class for the family's tokenizer ("": a generic one)
    config: dict  # beyond SIZE and the vocabulary size


TWO = {"num_hidden_layers": 2}
FAMILIES = [
    Family("bert", "wordpiece", BERT_SPECIALS, "BertTokenizer", TWO),
    Family(
        "distilbert",
        "wordpiece",
        BERT_SPECIALS,
        "DistilBertTokenizer",
        {"n_layers": 2, "dim": 32, "hidden_dim": 64},
    ),
    Family(
        "electra", "wordpiece", BERT_SPECIALS, "ElectraTokenizer", {**TWO, "embedding_size": 16}
    ),
    Family("mpnet", "wordpiece", MPNET_SPECIALS, "MPNetTokenizer", TWO),
    Family("roberta", "bpe", ROBERTA_SPECIALS, "RobertaTokenizer", TWO),
    Family("modernbert", "bpe", ROBERTA_SPECIALS, "", TWO),  # ships a generic fast tokenizer
    Family("xlm-roberta", "unigram", ROBERTA_SPECIALS, "XLMRobertaTokenizer", TWO),
    Family("deberta-v2", "unigram", DEBERTA_SPECIALS, "DebertaV2Tokenizer", TWO),
    Family("albert", "unigram", ALBERT_SPECIALS, "AlbertTokenizer", {**TWO, "embedding_size": 16}),
]


def learnt(kind: str, specials: list[str], texts: list[str]) -> dict:
    """The vocabulary (and merges) of a `kind` tokenizer learnt on `texts`, as the family's
    tokenizer class takes them."""
    unk = next(token for token in specials if "unk" in token.lower())
    if kind == "wordpiece":
        tokenizer = Tokenizer(models.WordPiece(unk_token=unk))
        tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        trainer = trainers.WordPieceTrainer(vocab_size=200, special_tokens=specials)
    elif kind == "bpe":
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        alphabet = pre_tokenizers.ByteLevel.alphabet()
        trainer = trainers.BpeTrainer(
            vocab_size=400, special_tokens=specials, initial_alphabet=alphabet
        )
    else:
        tokenizer = Tokenizer(models.Unigram())
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
        trainer = trainers.UnigramTrainer(vocab_size=150, special_tokens=specials, unk_token=unk)
    tokenizer.train_from_iterator(texts, trainer)
    model = json.loads(tokenizer.to_str())["model"]
    if kind == "unigram":
        return {"vocab": [tuple(piece) for piece in model["vocab"]]}
    if kind == "bpe":
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
        return {"vocab": model["vocab"], "merges": merges}
    return {"vocab": model["vocab"]}


def tokenizer_for(family: Family, texts: list[str]):
    import transformers

    learned = learnt(family.tokenizer_kind, family.specials, texts)
    if family.tokenizer_class:
        return getattr(transformers, family.tokenizer_class)(**learned)
    # byte-level BPE behind transformers' generic fast tokenizer, <s>-style specials
    backend = transformers.RobertaTokenizer(**learned).backend_tokenizer
    names = ["bos", "pad", "eos", "unk", "mask"]
    specials = {f"{name}_token": token for name, token in zip(names, family.specials, strict=True)}
    specials |= {"cls_token": family.specials[0], "sep_token": family.specials[2]}
    return transformers.PreTrainedTokenizerFast(tokenizer_object=backend, **specials)


def save_tiny(family: Family, folder: Path, texts: list[str]) -> Path:
    """A random 2-layer `family` encoder (hidden 32) and its learnt tokenizer in `folder`."""
    from transformers import AutoConfig, AutoModel

    tokenizer = tokenizer_for(family, texts)
    tokenizer.model_max_length = 512
    ids = {
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.cls_token_id,
        "eos_token_id": tokenizer.sep_token_id,
    }
    if family.name == "modernbert":
        ids |= {"cls_token_id": tokenizer.cls_token_id, "sep_token_id": tokenizer.sep_token_id}
    sizes = dict(SIZE)
    if family.name == "distilbert":
        sizes = {"n_heads": 2}
    positions = 514 if family.tokenizer_kind != "wordpiece" or family.name == "mpnet" else 512
    config = AutoConfig.for_model(
        family.name,
        vocab_size=len(tokenizer),
        max_position_embeddings=positions,
        **sizes,
        **family.config,
        **ids,
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        AutoModel.from_config(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
