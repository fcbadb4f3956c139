"""tunelab installed as its users install it: a wheel of the checkout, `pip install`ed into a new
virtual environment outside the checkout, trains the default model on the packaged default
corpus with `tunelab train`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import build_wheel

pytestmark = pytest.mark.slow
LOCK = Path(__file__).resolve().parents[2] / "requirements.lock"


def test_a_wheel_installed_with_pip_trains_the_default_job(tmp_path):
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    # the lock as constraints: the stack the suite tested, not whatever is newest today
    install = [str(venv / "bin" / "pip"), "install", "--quiet", str(wheel), "-c", str(LOCK)]
    subprocess.run(install, check=True, timeout=1800)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TUNELAB_ROOT")}
    short = [
        "+trainer.max_steps=20",
        "+trainer.limit_val_batches=4",
        "+trainer.limit_test_batches=4",
    ]
    done = subprocess.run(
        [str(venv / "bin" / "tunelab"), "train", *short, "hydra.run.dir=outputs/run"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((elsewhere / "outputs" / "run" / "metrics.json").read_text())
    assert "test/f1" in metrics and (elsewhere / "outputs" / "run" / "model").is_dir()
