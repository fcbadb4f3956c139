"""What a finished run keeps of its checkpoints (callbacks.keep_checkpoints)."""

from __future__ import annotations

import pytest
import torch

from tunelab.errors import TunelabError
from tunelab.training.resume import keep_checkpoints


def checkpoints(folder):
    folder.mkdir()
    for name in ("best", "last"):
        state = {"state_dict": {"w": torch.ones(3)}, "optimizer_states": [{"m": torch.ones(3)}]}
        torch.save({**state, "lr_schedulers": [{}], "name": name}, folder / f"{name}.ckpt")
    return folder


@pytest.mark.parametrize(
    "keep, left",
    [
        ("best", ["best.ckpt"]),
        ("last", ["last.ckpt"]),
        ("both", ["best.ckpt", "last.ckpt"]),
        ("none", []),
    ],
)
def test_keep(tmp_path, keep, left):
    folder = checkpoints(tmp_path / "checkpoints")
    keep_checkpoints(folder, keep)
    assert sorted(p.name for p in folder.iterdir()) == left
    for name in left:
        state = torch.load(folder / name, weights_only=True)
        assert state["name"] == name.removesuffix(".ckpt")
        assert torch.equal(state["state_dict"]["w"], torch.ones(3))
        assert ("optimizer_states" in state) == (keep != "best")


def test_a_bad_value_is_one_line(tmp_path):
    with pytest.raises(TunelabError, match="keep_checkpoints='all'; choose one of best, both"):
        keep_checkpoints(checkpoints(tmp_path / "c"), "all")
