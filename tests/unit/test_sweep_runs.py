"""Reading a multirun folder's jobs for the sweep summary."""

import json

import yaml

from tunelab.experiments.sweep import read_runs


def write_job(folder, name, lr):
    job = folder / name / ".hydra"
    job.mkdir(parents=True)
    (job / "overrides.yaml").write_text(yaml.safe_dump([f"optimizer.lr={lr}"]))
    (job / "config.yaml").write_text(yaml.safe_dump({"monitor": "val/f1", "task": "ner"}))
    (folder / name / "metrics.json").write_text(json.dumps({"val/f1": lr}))


def test_jobs_in_number_order_then_other_folders_by_name(tmp_path):
    # a folder a user renamed or copied in beside Hydra's numbered jobs must not break sorting
    for name, lr in (("10", 1), ("2", 2), ("best", 3), ("0", 4), ("a-copy", 5)):
        write_job(tmp_path, name, lr)
    assert [run["job"] for run in read_runs(tmp_path)] == ["0", "2", "10", "a-copy", "best"]
