"""Shared fixtures: a tiny random BERT saved to disk and a small synthetic CoNLL corpus."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict

from tunelab.config import CONFIG_DIR


@pytest.fixture(autouse=True, scope="session")
def private_token_cache(tmp_path_factory):
    """Tokenized splits go to a folder of this test session (subprocesses inherit it), never to
    the checkout's outputs/cache."""
    os.environ["TUNELAB_CACHE"] = str(tmp_path_factory.mktemp("token_cache"))


PEOPLE = ["john", "mary", "peter", "anna", "li", "omar", "sofia", "ivan"]
PLACES = ["paris", "berlin", "lagos", "lima", "tokyo", "oslo", "new", "york", "cairo"]
ORGS = ["acme", "globex", "initech", "umbrella", "hooli"]
FILLER = ["went", "to", "met", "with", "in", "the", "works", "for", "said", "today", "at", "."]


def _sentence(rng: random.Random) -> list[tuple[str, str]]:
    """A short sentence with 1-2 entities; multi-word places give I- tags."""
    out: list[tuple[str, str]] = [(w, "O") for w in rng.sample(FILLER, rng.randint(0, 2))]
    out.append((rng.choice(PEOPLE), "B-PER"))
    if rng.random() < 0.3:
        out.append((rng.choice(PEOPLE), "I-PER"))
    out += [(w, "O") for w in rng.sample(FILLER, 2)]
    if rng.random() < 0.5:
        out += [("new", "B-LOC"), ("york", "I-LOC")]
    else:
        out.append((rng.choice(ORGS), "B-ORG"))
    out.append((".", "O"))
    return out


def write_conll(path: Path, sentences: list[list[tuple[str, str]]], sep: str = " ") -> Path:
    path.write_text("".join("".join(f"{w}{sep}{t}\n" for w, t in s) + "\n" for s in sentences))
    return path


@pytest.fixture(scope="session")
def conll_dir(tmp_path_factory) -> Path:
    """train.txt (120 sentences), dev.txt (30), test.txt (30) in IOB2."""
    rng = random.Random(0)
    folder = tmp_path_factory.mktemp("conll")
    for name, count in [("train.txt", 120), ("dev.txt", 30), ("test.txt", 30)]:
        write_conll(folder / name, [_sentence(rng) for _ in range(count)])
    return folder


@pytest.fixture(scope="session")
def docs_dir(tmp_path_factory, conll_dir) -> Path:
    """conll_dir's splits as documents of four sentences each, marked by -DOCSTART- lines."""
    folder = tmp_path_factory.mktemp("docs")
    for name in ("train.txt", "dev.txt", "test.txt"):
        blocks = (conll_dir / name).read_text().strip().split("\n\n")
        text = "".join(
            ("-DOCSTART- O\n\n" if i % 4 == 0 else "") + block + "\n\n"
            for i, block in enumerate(blocks)
        )
        (folder / name).write_text(text)
    return folder


def _text(rng: random.Random) -> tuple[str, str]:
    """A sentence labelled `travel` when it names a place, `work` when it names a company."""
    travel = rng.random() < 0.5
    target = rng.choice(PLACES if travel else ORGS)
    words = [rng.choice(PEOPLE), *rng.sample(FILLER, 3), target, "."]
    return " ".join(words), "travel" if travel else "work"


@pytest.fixture(scope="session")
def table_dir(tmp_path_factory) -> Path:
    """train.csv (quoted, CRLF), dev.tsv, test.jsonl with `text` and `label` columns."""
    import csv
    import json

    rng = random.Random(1)
    folder = tmp_path_factory.mktemp("tables")
    with (folder / "train.csv").open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["id", "text", "label"])
        writer.writerows([i, *_text(rng)] for i in range(160))
    dev = [_text(rng) for _ in range(40)]
    (folder / "dev.tsv").write_text("text\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in dev))
    test = [dict(zip(["text", "label"], _text(rng), strict=True)) for _ in range(40)]
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test))
    return folder


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """A random 2-layer BERT (hidden 32) with a small WordPiece vocab, via save_pretrained."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = sorted(set(PEOPLE + PLACES + ORGS + FILLER))
    pieces = ["##s", "##ing", "##a", "##e", "##o"] + list("abcdefghijklmnopqrstuvwxyz0123456789")
    vocab = {token: i for i, token in enumerate(specials + words + pieces)}
    tokenizer = BertTokenizerFast(vocab=vocab, do_lower_case=True)
    assert tokenizer.convert_tokens_to_ids("paris") == vocab["paris"]  # not all [UNK]
    tokenizer.model_max_length = 512
    config = BertConfig(
        vocab_size=len(specials + words + pieces),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)  # the same weights every session, so test outcomes repeat
        BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def compose_train(
    tmp_path: Path,
    overrides: list[str] | None = None,
    config_name: str = "train",
    return_hydra_config: bool = False,
) -> DictConfig:
    """The real conf/<config_name>.yaml composed with overrides; output_dir set to tmp_path."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(
            config_name=config_name,
            overrides=overrides or [],
            return_hydra_config=return_hydra_config,
        )
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp_path)
    return cfg


def eval_config(tmp_path: Path, data_dir: Path, *overrides: str, data: str = "conll") -> DictConfig:
    """conf/eval.yaml on a synthetic data folder, on CPU."""
    base = [f"data={data}", f"data.dir={data_dir}", "trainer.accelerator=cpu", "trainer.devices=1"]
    return compose_train(
        tmp_path, base + list(overrides), config_name="eval", return_hydra_config=True
    )


def tiny_train_overrides(tiny_bert: Path, data_dir: Path, data: str = "conll") -> list[str]:
    """Overrides that train the tiny model on a synthetic corpus, quickly, on CPU."""
    return [
        f"data={data}",
        f"data.dir={data_dir}",
        f"model.model_name_or_path={tiny_bert}",
        "trainer.accelerator=cpu",
        "trainer.devices=1",
        "~callbacks.progress_bar",
        "optimizer.lr=5e-3",
        "data.batch_size=16",
        # short joined runs, so that evaluation windows (sized by the training items) stay short
        *(["data.running_length=48"] if data != "csv" else []),
    ]


@pytest.fixture
def tiny_overrides(tiny_bert, conll_dir) -> list[str]:
    return tiny_train_overrides(tiny_bert, conll_dir)


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, tiny_bert, conll_dir):
    """One full tiny training run: (run directory, metrics, corpus folder)."""
    from tunelab.training.train import train

    run_dir = tmp_path_factory.mktemp("run")
    overrides = tiny_train_overrides(tiny_bert, conll_dir)
    overrides += ["trainer.max_epochs=6", "~callbacks.early_stopping"]
    return run_dir, train(compose_train(run_dir, overrides)), conll_dir


@pytest.fixture(scope="session")
def classified_run(tmp_path_factory, tiny_bert, table_dir):
    """One full tiny classification run on `table_dir`: (run directory, metrics)."""
    from tunelab.training.train import train

    run_dir = tmp_path_factory.mktemp("cls-run")
    overrides = tiny_train_overrides(tiny_bert, table_dir, data="csv")
    overrides += ["trainer.max_epochs=10", "~callbacks.early_stopping", "model.class_weights=auto"]
    overrides += ["optimizer.lr=2e-3"]
    return run_dir, train(compose_train(run_dir, overrides))
