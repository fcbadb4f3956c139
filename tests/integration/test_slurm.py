"""A sweep submitted to SLURM, on a fake cluster of one machine (tests/fake_slurm): the job script
tunelab would submit, and the job's run as submitit starts it on a node."""

import csv
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import tiny_train_overrides

FAKE_SLURM = Path(__file__).resolve().parents[1] / "fake_slurm"


def test_a_slurm_sweep_submits_one_job_a_point_and_runs_it(tmp_path, tiny_bert, conll_dir):
    sweep = tmp_path / "sweep"
    env = {
        **os.environ,
        "PATH": f"{FAKE_SLURM}:{os.environ['PATH']}",
        "FAKE_SLURM_LOG": str(tmp_path),
    }
    command = [
        *(sys.executable, "-m", "tunelab", "train", "-m", "launcher=slurm"),
        *tiny_train_overrides(tiny_bert, conll_dir),
        "hydra.launcher.partition=cpu",
        "trainer.max_epochs=1",
        f"hydra.sweep.dir={sweep}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    script = (tmp_path / "job.sh").read_text()
    for line in [
        "#SBATCH --partition=cpu",
        "#SBATCH --nodes=1",
        "#SBATCH --ntasks-per-node=1",  # one task a device (trainer.devices=1)
        "#SBATCH --gpus-per-node=1",
        "#SBATCH --time=240",
        "#SBATCH --mem=64GB",
    ]:
        assert line in script.splitlines(), script
    assert f"{sys.executable} -u -m submitit.core._submit {sweep}/.submitit/%j" in script
    with (sweep / "summary.csv").open() as table:
        rows = list(csv.DictReader(table))
    assert [row["status"] for row in rows] == ["done"]
    assert (sweep / "0" / "metrics.json").is_file() and (sweep / "0" / "model").is_dir()
