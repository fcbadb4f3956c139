"""Reruns equal the original run, and resumed runs equal uninterrupted ones (CPU, deterministic)."""

import csv
import json
import subprocess
import sys

import pytest

from tests.conftest import tiny_train_overrides


def train_command(tiny_bert, conll_dir, run_dir, *extra):
    overrides = tiny_train_overrides(tiny_bert, conll_dir) + [
        "trainer.deterministic=true",
        "trainer.precision=32-true",
        "trainer.max_epochs=2",
        "~callbacks.early_stopping",
        "callbacks.last_checkpoint.every_n_train_steps=3",
        f"hydra.run.dir={run_dir}",
    ]
    return [sys.executable, "-m", "tunelab", "train", *overrides, *extra]


def run(command) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def metrics(run_dir) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


@pytest.fixture(scope="module")
def original(tmp_path_factory, tiny_bert, conll_dir):
    run_dir = tmp_path_factory.mktemp("original")
    result = run(train_command(tiny_bert, conll_dir, run_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


def csv_rows(run_dir) -> list[dict]:
    with (run_dir / "csv" / "metrics.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def rerun(*args) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "tunelab", "rerun", *map(str, args)])


def test_run_records_what_a_rerun_needs(original):
    record = json.loads((original / "run_record.json").read_text())
    assert record["seed"] == 42
    assert record["precision"] == "32-true"
    assert record["packages"]["torch"].startswith("2.")
    assert record["git_commit"] is None or len(record["git_commit"]) == 40
    assert (original / "git.diff").is_file() == record["git_dirty"]


def test_rerun_reproduces_metrics_exactly(tmp_path, original):
    result = rerun(original, "--out", tmp_path / "again")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "tunelab: warning" not in result.stderr
    assert metrics(tmp_path / "again") == metrics(original)


def test_a_run_of_an_older_tunelab_reruns_with_its_classes_where_they_live_now(tmp_path, original):
    """A run folder written before the package was regrouped (issue 46) names
    `tunelab.resume.*`, `tunelab.score_log.*` and the DataModule class itself: the rerun builds
    what replaced them, without --trust, and reproduces the metrics."""
    from tunelab.untrusted import MOVED

    older = tmp_path / "older"
    subprocess.run(["cp", "-r", str(original), str(older)], check=True)
    config = older / ".hydra" / "config.yaml"
    text = config.read_text()
    for old, new in sorted(MOVED.items(), key=lambda item: -len(item[1])):
        text = text.replace(f"_target_: {new}\n", f"_target_: {old}\n")
    assert "tunelab.resume.StopCheckpoint" in text and "from_config" not in text
    config.write_text(text)
    result = rerun(older, "--out", tmp_path / "again")
    assert result.returncode == 0, result.stderr[-3000:]
    assert metrics(tmp_path / "again") == metrics(original)


def test_rerun_warns_where_code_or_packages_differ(tmp_path, original):
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(original), str(copy)], check=True)
    record = json.loads((copy / "run_record.json").read_text())
    record["git_commit"] = "0" * 40
    record["packages"]["torch"] = "0.0.1"
    (copy / "run_record.json").write_text(json.dumps(record))
    result = rerun(copy, "--out", tmp_path / "again", "trainer.max_epochs=1", "debug=fdr")
    assert "the run used " + "0" * 40 in result.stderr
    assert "package torch: 0.0.1 then" in result.stderr


def test_rerun_of_a_sent_folder_builds_nothing_from_outside_without_trust(tmp_path, original):
    copy = tmp_path / "sent"
    subprocess.run(["cp", "-r", str(original), str(copy)], check=True)
    secret, marker = tmp_path / "secret", tmp_path / "copied"
    secret.write_text("x")
    config = (copy / ".hydra" / "config.yaml").read_text()
    planted = (
        f"  copy:\n    _target_: shutil.copyfile\n    src: {secret}\n    dst: {marker}\n"
        "  loader:\n    _target_: torch.hub.load\n"
    )
    (copy / ".hydra" / "config.yaml").write_text(
        config.replace("callbacks:\n", "callbacks:\n" + planted)
    )
    result = rerun(copy, "--out", tmp_path / "again")
    assert result.returncode != 0
    assert "callbacks.copy._target_: shutil.copyfile" in result.stderr
    assert "callbacks.loader._target_: torch.hub.load" in result.stderr
    assert "rerun with --trust" in result.stderr and "Traceback" not in result.stderr
    assert not marker.exists() and not (tmp_path / "again").exists()


def test_rerun_keeps_remote_code_off_unless_asked(original):
    from tunelab.experiments.rerun import remote_code_overrides, untrusted_entries

    config = {"model": {"trust_remote_code": True}, "data": {"trust_remote_code": True}}
    assert untrusted_entries(config) == ["data.trust_remote_code: true"]
    assert remote_code_overrides(config, []) == ["model.trust_remote_code=false"]
    assert remote_code_overrides(config, ["model.trust_remote_code=true"]) == []


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
def test_resumed_run_ends_like_the_uninterrupted_one(
    tmp_path, tiny_bert, conll_dir, original, signal_name
):
    run_dir = tmp_path / "interrupted"
    killer = [
        "+callbacks.stop._target_=tests.helpers.SignalAtStep",
        "+callbacks.stop.step=5",  # mid-epoch: 8 batches per epoch
        f"+callbacks.stop.signal_name={signal_name}",
    ]
    stopped = run(train_command(tiny_bert, conll_dir, run_dir, *killer))
    assert stopped.returncode != 0
    assert not (run_dir / "metrics.json").exists()
    if signal_name == "SIGTERM":
        assert (run_dir / "checkpoints" / "on_exception.ckpt").is_file()
    else:
        assert (run_dir / "checkpoints" / "last.ckpt").is_file()  # step 3
    resumed = rerun(run_dir, "--resume", "~callbacks.stop")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert metrics(run_dir) == metrics(original)
    # the log keeps the rows from before the stop: the whole history, as if never stopped
    assert csv_rows(run_dir) == csv_rows(original)
