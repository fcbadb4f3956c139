"""A training run's console holds what the user can act on, and train.log what happened: the
overrides, each epoch's validation scores, the test scores."""

from __future__ import annotations

import logging
import subprocess
import sys

from tests.conftest import tiny_train_overrides
from tunelab.quiet import ANSI, ExpectedLoadReport

NOISE = ["Tip:", "LOAD REPORT", "ckpt_path", "LeafSpec", "FLOPs", "Warning", "warn(", "Test metric"]


def test_a_run_prints_no_note_the_user_cannot_act_on(tmp_path, tiny_bert, conll_dir):
    run_dir = tmp_path / "run"
    overrides = tiny_train_overrides(tiny_bert, conll_dir)
    overrides += ["trainer.max_epochs=2", "trainer.log_every_n_steps=1", f"hydra.run.dir={run_dir}"]
    command = [sys.executable, "-m", "tunelab", "train", *overrides]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    console = result.stdout + result.stderr
    assert [word for word in NOISE if word in console] == [], console[-3000:]
    assert console.count("test scores: test/f1") == 1
    log = (run_dir / "train.log").read_text()
    assert "overrides: data=conll" in log
    assert "epoch 0: val/precision" in log and "epoch 1: val/precision" in log
    assert "new head, trained from scratch: classifier.bias, classifier.weight" in log
    assert "test scores: test/f1" in log


def test_a_run_on_a_real_terminal_prints_no_such_note(tmp_path, tiny_bert, conll_dir):
    """Under a pty, transformers and Lightning colour their notes; the filters still hold."""
    import os
    import pty

    overrides = [*tiny_train_overrides(tiny_bert, conll_dir), "trainer.max_epochs=1"]
    command = [sys.executable, "-m", "tunelab", "train", *overrides, f"hydra.run.dir={tmp_path}"]
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the pty closes when the run ends
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert process.wait(300) == 0, seen[-2000:]
    console = ANSI.sub("", seen.decode("utf-8", "replace"))
    assert "test scores: test/f1" in console
    assert [word for word in NOISE if word in console] == [], console[-3000:]


def report_record(rows: list[tuple[str, str]]) -> logging.LogRecord:
    body = "Key | Status | \n----+--------+-\n" + "".join(f"{k} | {s} | \n" for k, s in rows)
    message = "BertForTokenClassification LOAD REPORT from: x\n" + body
    return logging.LogRecord(
        "transformers.modeling_utils", logging.WARNING, "", 0, message, (), None
    )


def test_only_the_expected_load_report_is_dropped():
    keep = ExpectedLoadReport().filter
    expected = [("pooler.dense.weight", "UNEXPECTED"), ("classifier.weight", "MISSING")]
    assert keep(report_record(expected)) is False
    assert keep(report_record([*expected, ("bert.encoder.layer.0.output.dense.weight", "MISSING")]))
    assert keep(report_record([("classifier.weight", "MISMATCH")]))
    mlm = [("pooler.dense.bias", "UNEXPECTED"), ("cls.predictions.decoder.bias", "MISSING")]
    assert keep(report_record(mlm)) is False  # a new masked-LM head
    plain = logging.LogRecord("transformers", logging.WARNING, "", 0, "other", (), None)
    assert keep(plain)


def test_a_new_masked_lm_heads_ties_are_no_corrupt_checkpoint():
    from tunelab.quiet import NewHeadTies

    def record(source: str, target: str) -> logging.LogRecord:
        message = (
            "This checkpoint seem corrupted. The tied weights mapping for this model specifies to "
            f"tie {source} to {target}, but both are absent from the checkpoint, and we could not "
            "find another related tied weight for those keys"
        )
        return logging.LogRecord("transformers.modeling_utils", 30, "", 0, message, (), None)

    keep = NewHeadTies().filter
    assert keep(record("cls.predictions.bias", "cls.predictions.decoder.bias")) is False
    assert keep(record("bert.embeddings.word_embeddings.weight", "cls.predictions.decoder.weight"))
