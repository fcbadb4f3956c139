"""Callbacks that tests add to real runs with `+callbacks.NAME._target_=tests.helpers....`, a
served model for the service and browser tests, and a wheel of the checkout."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytorch_lightning as pl


class SignalAtStep(pl.Callback):
    """Sends this process `signal_name` once training reaches `step` optimizer steps."""

    def __init__(self, step: int, signal_name: str = "SIGKILL"):
        self.step, self.signal = step, getattr(signal, signal_name)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step == self.step:
            os.kill(os.getpid(), self.signal)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def served(model_dir, run_dir, *overrides: str, timeout: float = 120.0):
    """`tunelab-serve` on a free loopback port in its own process: yields (base URL, process);
    stopped with SIGTERM, as a service manager stops it."""
    port = free_port()
    command = [sys.executable, "-m", "tunelab", "serve", f"model_dir={model_dir}", f"port={port}"]
    command += [f"hydra.run.dir={run_dir}", "log_level=warning", *overrides]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            if process.poll() is not None:
                raise AssertionError(f"tunelab-serve exited: {process.stdout.read()}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("tunelab-serve did not answer /health") from None
                time.sleep(0.2)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def post_json(url: str, body, headers: dict | None = None) -> tuple[int, dict]:
    """Status and JSON answer of a POST; `body` bytes are sent as they are."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def build_wheel(tmp_path: Path) -> Path:
    """A wheel of the checkout, built from a copy of it (setuptools writes build/ and *.egg-info
    into the tree it builds) into `tmp_path/wheels`."""
    checkout = Path(__file__).resolve().parents[1]
    junk = shutil.ignore_patterns("__pycache__", "*.egg-info")
    source = tmp_path / "source"
    for name in ("src", "conf"):
        shutil.copytree(checkout / name, source / name, symlinks=True, ignore=junk)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(checkout / name, source / name)
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
    build += ["--no-build-isolation", "-w", str(wheels), str(source)]
    subprocess.run(build, check=True, timeout=300)
    (wheel,) = wheels.glob("tunelab-*.whl")
    return wheel
