"""tunelab as a package: a wheel built from the checkout carries its configs and runs outside the
checkout (configs read from the installed package, outputs under the current folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import tiny_train_overrides
from tests.helpers import build_wheel

CHECKOUT = Path(__file__).resolve().parents[2]


def test_a_wheel_trains_outside_the_checkout(tmp_path, tiny_bert, conll_dir):
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(
        n.removeprefix("tunelab/conf/") for n in names if n.startswith("tunelab/conf/")
    )
    in_checkout = sorted(
        str(p.relative_to(CHECKOUT / "conf")) for p in (CHECKOUT / "conf").rglob("*.yaml")
    )
    assert shipped == in_checkout
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "tunelab = tunelab.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()

    # installed on its own (the libraries it runs on come from this environment)
    site = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    subprocess.run([*install, "--target", str(site), str(wheel)], check=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("TUNELAB_ROOT", None)
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import tunelab.config as c; print(c.__file__, c.CONFIG_DIR, c.project_root())",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert where == [
        str(site / "tunelab" / "config.py"),
        str(site / "tunelab" / "conf"),
        str(elsewhere),
    ]
    overrides = [*tiny_train_overrides(tiny_bert, conll_dir), "trainer.max_epochs=1"]
    done = subprocess.run(
        [sys.executable, "-m", "tunelab", "train", *overrides, "hydra.run.dir=outputs/run"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((elsewhere / "outputs" / "run" / "metrics.json").read_text())
    assert "test/f1" in metrics
