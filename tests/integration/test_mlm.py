"""Masked-LM training end to end with the tiny model: raw text and a preset's text, the head a
checkpoint lacks, a model from scratch, the hand-over to fine-tuning, and bad input."""

import json
import math
import random
import shutil
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModelForMaskedLM, AutoTokenizer, pipeline

from tests.conftest import (
    FILLER,
    ORGS,
    PEOPLE,
    PLACES,
    compose_train,
    eval_config,
    tiny_train_overrides,
)
from tests.integration.test_bad_input import expect_error
from tunelab.config import build
from tunelab.inference.eval import evaluate
from tunelab.tasks.mlm.module import MaskedLMModule
from tunelab.training.train import train

WORDS = PEOPLE + PLACES + ORGS + FILLER


def mlm_overrides(tiny_bert, text_dir, *extra: str) -> list[str]:
    overrides = [o for o in tiny_train_overrides(tiny_bert, text_dir) if "running_length" not in o]
    overrides[0] = "data=text"
    return overrides + ["data.max_length=16", "trainer.precision=32-true", *extra]


@pytest.fixture(scope="module")
def text_dir(tmp_path_factory):
    """train.txt: 300 short lines (blank lines between some), no dev or test file."""
    rng = random.Random(3)
    lines = [" ".join(rng.choices(WORDS, k=rng.randint(3, 9))) for _ in range(300)]
    folder = tmp_path_factory.mktemp("text")
    (folder / "train.txt").write_text("\n\n".join(lines[:20]) + "\n" + "\n".join(lines[20:]))
    return folder


@pytest.fixture(scope="module")
def mlm_run(tmp_path_factory, tiny_bert, text_dir):
    run_dir = tmp_path_factory.mktemp("mlm-run")
    overrides = mlm_overrides(
        tiny_bert, text_dir, "trainer.max_epochs=4", "model.head_warmup_steps=3"
    )
    return run_dir, train(compose_train(run_dir, overrides))


def recomputed_test_scores(run_dir, overrides) -> dict:
    """Loss, perplexity and accuracy of the exported model on the test blocks, computed here
    with the plain Hugging Face model over every position."""
    cfg = compose_train(run_dir, overrides)
    datamodule = build(cfg.data, tokenizer=str(run_dir / "model"))
    model = AutoModelForMaskedLM.from_pretrained(run_dir / "model").eval()
    losses, correct = [], 0
    with torch.no_grad():
        for item in datamodule.encoded(datamodule.loader.test_split):
            masked = datamodule.collate([item])  # each test block is masked from its own seed
            logits = model(input_ids=masked["input_ids"]).logits[0]
            labels = masked["labels"][0]
            chosen = labels != -100
            losses += F.cross_entropy(logits[chosen], labels[chosen], reduction="none").tolist()
            correct += int((logits[chosen].argmax(-1) == labels[chosen]).sum())
    loss = sum(losses) / len(losses)
    return {
        "test/loss": loss,
        "test/perplexity": math.exp(loss),
        "test/accuracy": correct / len(losses),
        "test/masked_tokens": float(len(losses)),
    }


def test_text_preset_picks_the_mlm_task(tmp_path, text_dir):
    cfg = compose_train(tmp_path, ["data=text", f"data.dir={text_dir}"])
    assert cfg.task == "mlm" and cfg.monitor == "val/loss"
    assert cfg.callbacks.model_checkpoint.mode == "min"
    assert cfg.callbacks.early_stopping.mode == "min"
    assert compose_train(tmp_path, ["data=wnut17"]).callbacks.model_checkpoint.mode == "max"
    text = ["data=text", f"data.dir={text_dir}"]
    for data, direction in ((text, "minimize"), (["data=wnut17"], "maximize")):
        swept = compose_train(tmp_path, [*data, "hparams_search=optuna"], return_hydra_config=True)
        assert swept.hydra.sweeper.direction == direction


def test_metrics_are_the_exported_models_scores(mlm_run, tiny_bert, text_dir):
    run_dir, metrics = mlm_run
    saved = json.loads((run_dir / "metrics.json").read_text())
    expected = recomputed_test_scores(run_dir, mlm_overrides(tiny_bert, text_dir))
    for key, value in expected.items():
        assert saved[key] == pytest.approx(value, rel=1e-4), key
    assert saved["val/loss"] == pytest.approx(saved["test/loss"])  # no test file: test is dev
    assert "perplexity" in (run_dir / "report.txt").read_text()


def test_training_lowers_the_loss(mlm_run):
    run_dir, metrics = mlm_run
    # the tiny vocabulary has ~80 tokens: a model that learnt nothing scores about ln(80)
    assert metrics["test/loss"] < math.log(80) - 0.5


def test_exported_model_fills_masks(mlm_run):
    run_dir, _ = mlm_run
    fill = pipeline("fill-mask", model=str(run_dir / "model"))
    found = fill("john went to [MASK] .")
    assert len(found) == 5 and all(f["token_str"] for f in found)
    settings = json.loads((run_dir / "model" / "tunelab.json").read_text())
    assert settings["task"] == "mlm"


def test_eval_of_the_exported_model_repeats_the_test_scores(mlm_run, tmp_path):
    run_dir, metrics = mlm_run
    cfg = compose_train(
        tmp_path,
        [f"model_dir={run_dir / 'model'}", "trainer.accelerator=cpu", "trainer.precision=32-true"],
        config_name="eval",
        return_hydra_config=True,
    )
    scores = evaluate(cfg)
    assert scores["test/loss"] == pytest.approx(metrics["test/loss"], rel=1e-4)


def test_fine_tuning_starts_from_the_mlm_model(mlm_run, tmp_path, conll_dir, tiny_bert):
    run_dir, _ = mlm_run
    overrides = tiny_train_overrides(tiny_bert, conll_dir)
    overrides += [f"model.model_name_or_path={run_dir / 'model'}", "+trainer.fast_dev_run=true"]
    metrics = train(compose_train(tmp_path, overrides))
    assert "test/f1" in metrics


def test_head_warmup_trains_only_the_new_head(tiny_bert, text_dir, tmp_path):
    module = MaskedLMModule(str(tiny_bert), head_warmup_steps=2)
    assert module.new_parameters and all(n.startswith("cls.") for n in module.new_parameters)
    datamodule = build(compose_train(tmp_path, mlm_overrides(tiny_bert, text_dir)).data)
    batch = datamodule.train_collate(datamodule.encoded("train")[:4])

    def trained() -> set[str]:
        module.zero_grad(set_to_none=True)
        module.training_step(batch, 0).backward()
        module.on_after_backward()  # global step 0 (no trainer)
        return {n for n, p in module.model.named_parameters() if p.grad is not None}

    assert trained() == module.new_parameters
    module.hparams.head_warmup_steps = 0
    assert trained() == {n for n, _ in module.model.named_parameters()}


def test_masks_are_dynamic_but_repeatable(tiny_bert, text_dir, tmp_path):
    cfg = compose_train(tmp_path, mlm_overrides(tiny_bert, text_dir))
    datamodule = build(cfg.data)
    items = datamodule.encoded("train")[:8]
    first, again = datamodule.train_collate(items), datamodule.train_collate(items)
    assert torch.equal(first["labels"], again["labels"])  # same seed, epoch and block
    other = datamodule.train_collate(items[1:] + items[:1])
    assert not torch.equal(first["labels"], other["labels"])
    chosen = first["labels"] != -100
    assert 0.05 < chosen.float().mean() < 0.3  # about 15%
    special = torch.tensor(datamodule.tokenizer.all_special_ids)
    assert not torch.isin(first["labels"][chosen], special).any()
    # every label is the original token; [MASK] replaces most of the chosen ones
    originals = torch.tensor([item["input_ids"] for item in items])
    assert torch.equal(first["labels"][chosen], originals[chosen])
    mask_id = datamodule.tokenizer.mask_token_id
    assert (first["input_ids"][chosen] == mask_id).float().mean() > 0.5


def test_task_adaptive_text_from_a_preset(tmp_path, monkeypatch, tiny_bert, conll_dir):
    """data.from=wnut17 reads that preset's training sentences as text, labels dropped."""
    datasets = tmp_path / "datasets"
    shutil.copytree(conll_dir, datasets / "wnut17")
    monkeypatch.setenv("TUNELAB_DATASETS", str(datasets))
    cfg = compose_train(tmp_path, mlm_overrides(tiny_bert, conll_dir, "data.dir=null"))
    cfg.data["from"] = "wnut17"
    datamodule = build(cfg.data)
    first = (conll_dir / "train.txt").read_text().split("\n\n")[0].splitlines()
    assert datamodule.raw_texts("train")[0] == " ".join(line.split()[0] for line in first)
    assert len(datamodule.raw_texts("train")) == 120 and len(datamodule.raw_texts("dev")) == 30
    assert datamodule.encoded("train")


def test_from_scratch_learns_a_vocabulary(tmp_path, text_dir, tiny_bert):
    overrides = mlm_overrides(tiny_bert, text_dir, "model=bert_small_scratch")
    overrides = [o for o in overrides if not o.startswith("optimizer.lr=")]
    overrides += [
        "model.architecture.hidden_size=32",
        "model.architecture.num_hidden_layers=1",
        "model.architecture.num_attention_heads=2",
        "model.architecture.intermediate_size=64",
        "data.vocab_size=120",
        "+trainer.fast_dev_run=true",
    ]
    cfg = compose_train(tmp_path, overrides)
    assert cfg.optimizer.lr == 5e-4  # the preset's rate, not adamw.yaml's fine-tuning rate
    train(cfg)
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "model")
    assert "paris" in tokenizer.get_vocab() and len(tokenizer) <= 120
    model = AutoModelForMaskedLM.from_pretrained(tmp_path / "model")
    assert model.config.vocab_size == len(tokenizer) and model.config.hidden_size == 32


@pytest.mark.parametrize(
    "content, fragments",
    [
        (b"\n \n\n", ["train.txt", "holds no text"]),
        (b"john went\n", ["fewer than one block", "data.max_length=16"]),
        (b"fine line\nbad \xff\n" * 40, ["train.txt:2: not valid UTF-8"]),
    ],
)
def test_bad_text_stops_with_one_line(tmp_path, tiny_bert, content, fragments):
    folder = tmp_path / "text"
    folder.mkdir()
    (folder / "train.txt").write_bytes(content)
    (folder / "dev.txt").write_text("john went to paris with mary today .\n" * 5)
    cfg = compose_train(tmp_path, mlm_overrides(tiny_bert, folder))
    expect_error(lambda: train(cfg), *fragments)


def test_unknown_preset_is_named(tmp_path, tiny_bert, text_dir):
    cfg = compose_train(tmp_path, mlm_overrides(tiny_bert, text_dir, "data.dir=null"))
    cfg.data["from"] = "wnut71"
    expect_error(lambda: train(cfg), "data.from='wnut71' is not a data preset", "wnut17")


def mlm_command(tiny_bert, text_dir, run_dir, *extra: str) -> list[str]:
    overrides = [o for o in mlm_overrides(tiny_bert, text_dir) if o != "trainer.precision=32-true"]
    return [
        sys.executable,
        "-m",
        "tunelab",
        "train",
        *overrides,
        f"hydra.run.dir={run_dir}",
        *extra,
    ]


def run(command) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def test_ddp_scores_equal_one_process_evaluation(tmp_path, tiny_bert, text_dir):
    run_dir = tmp_path / "ddp"
    ddp = ["trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", "trainer.max_epochs=2"]
    result = run(mlm_command(tiny_bert, text_dir, run_dir, *ddp, "data.eval_batch_size=3"))
    assert result.returncode == 0, result.stderr[-3000:]
    saved = json.loads((run_dir / "metrics.json").read_text())
    single = evaluate(
        eval_config(
            tmp_path / "single",
            text_dir,
            f"ckpt_path={run_dir / 'checkpoints' / 'best.ckpt'}",
            data="text",
        )
    )
    keys = ["test/loss", "test/perplexity", "test/accuracy", "test/masked_tokens"]
    assert {k: saved[k] for k in keys} == {k: single[k] for k in keys}


def test_resumed_mlm_run_ends_like_the_uninterrupted_one(tmp_path, tiny_bert, text_dir):
    exact = ["trainer.deterministic=true", "trainer.precision=32-true", "trainer.max_epochs=2"]
    exact += ["~callbacks.early_stopping", "callbacks.last_checkpoint.every_n_train_steps=3"]
    original = tmp_path / "original"
    assert run(mlm_command(tiny_bert, text_dir, original, *exact)).returncode == 0
    stopped_dir = tmp_path / "stopped"
    killer = ["+callbacks.stop._target_=tests.helpers.SignalAtStep", "+callbacks.stop.step=5"]
    assert run(mlm_command(tiny_bert, text_dir, stopped_dir, *exact, *killer)).returncode != 0
    resumed = run(
        [sys.executable, "-m", "tunelab", "rerun", str(stopped_dir), "--resume", "~callbacks.stop"]
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads((stopped_dir / "metrics.json").read_text()) == json.loads(
        (original / "metrics.json").read_text()
    )


def test_whole_word_masking_chooses_every_piece_of_a_word(tmp_path, tiny_bert):
    folder = tmp_path / "words"
    folder.mkdir()
    rng = random.Random(5)
    words = ["going", "goes", "paris", "sofias", "."]
    lines = [" ".join(rng.choices(words, k=8)) for _ in range(80)]
    (folder / "train.txt").write_text("\n".join(lines) + "\n")
    cfg = compose_train(tmp_path, mlm_overrides(tiny_bert, folder, "data.whole_word_mask=true"))
    datamodule = build(cfg.data)
    assert datamodule.tokenizer.tokenize("going") == ["g", "##o", "##ing"]
    items = datamodule.encoded("train")[:16]
    chosen = (datamodule.train_collate(items)["labels"] != -100).tolist()
    pieces_seen = 0
    for item, row in zip(items, chosen, strict=True):
        words, previous_end = [], None
        for position, (start, end) in enumerate(item["offsets"]):
            if end == 0:  # [CLS], [SEP]
                previous_end = None
                continue
            if start != previous_end:
                words.append([])
            words[-1].append(position)
            previous_end = end
        for word in words:
            picked = {row[p] for p in word}
            assert len(picked) == 1, (word, [row[p] for p in word])  # all or none of a word
            pieces_seen += len(word) > 1 and picked == {True}
    assert pieces_seen > 0  # some multi-piece words were chosen whole
