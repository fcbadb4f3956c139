"""DDP on CPU (gloo) as the stand-in for several GPUs: one run directory, exact metrics, in the
default precision (bf16-mixed where this machine's bf16 products are measured faster)."""

import json
import shutil
import socket
import subprocess
import sys

import pytest

from tests.conftest import eval_config
from tunelab.inference.eval import evaluate


def train_overrides(run_dir, tiny_bert, data: str, data_dir) -> list[str]:
    return [
        "train",
        f"data={data}",
        f"data.dir={data_dir}",
        f"model.model_name_or_path={tiny_bert}",
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "trainer.max_epochs=2",
        "optimizer.lr=5e-3",
        "data.batch_size=8",
        "data.eval_batch_size=4",
        "~callbacks.progress_bar",
        f"hydra.run.dir={run_dir}",
    ]


def run_ddp(run_dir, tiny_bert, data: str, data_dir) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "tunelab",
        *train_overrides(run_dir, tiny_bert, data, data_dir),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def run_two_nodes(run_dir, tiny_bert, data: str, data_dir) -> list[subprocess.CompletedProcess]:
    """Two nodes of one process each on the loopback, each started by its own `torchrun`, as a
    cluster's two machines would be (here they share the run folder, as on a shared disk)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    overrides = train_overrides(run_dir, tiny_bert, data, data_dir)
    overrides = [o for o in overrides if not o.startswith("trainer.devices")]
    nodes = [
        subprocess.Popen(
            [
                *(
                    sys.executable,
                    "-m",
                    "torch.distributed.run",
                    "--nnodes=2",
                    "--nproc_per_node=1",
                ),
                *(f"--node_rank={rank}", "--master_addr=127.0.0.1", f"--master_port={port}"),
                *("-m", "tunelab", *overrides, "trainer.devices=1", "trainer.num_nodes=2"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    done = []
    for node in nodes:
        out, err = node.communicate(timeout=600)
        done.append(subprocess.CompletedProcess(node.args, node.returncode, out, err))
    return done


@pytest.fixture
def odd_data(tmp_path, conll_dir, table_dir):
    """Test splits with an odd number of items, so that the distributed sampler repeats one."""
    folders = {}
    for data, source, test_file in [("conll", conll_dir, "test.txt"), ("csv", table_dir, None)]:
        folder = tmp_path / f"{data}_data"
        shutil.copytree(source, folder)
        if test_file:  # 29 sentences
            blocks = (folder / test_file).read_text().strip().split("\n\n")[:29]
            (folder / test_file).write_text("\n\n".join(blocks) + "\n")
        else:  # 39 rows
            lines = (folder / "test.jsonl").read_text().splitlines()[:39]
            (folder / "test.jsonl").write_text("\n".join(lines) + "\n")
        folders[data] = folder
    return folders


@pytest.mark.parametrize(
    "data, metric, launch",
    [
        ("conll", "test/f1", "devices"),
        ("csv", "test/f1_macro", "devices"),
        ("conll", "test/f1", "nodes"),
    ],
)
def test_ddp_metrics_equal_one_process_evaluation(
    tmp_path, tiny_bert, odd_data, data, metric, launch
):
    """Two processes, from Lightning's launcher on one machine or from `torchrun` as two nodes."""
    run_dir = tmp_path / "run"
    if launch == "devices":
        results = [run_ddp(run_dir, tiny_bert, data, odd_data[data])]
    else:
        results = run_two_nodes(run_dir, tiny_bert, data, odd_data[data])
    for result in results:
        assert result.returncode == 0, result.stderr[-3000:]
    if launch == "nodes":  # each node one member of a world of two
        for rank, result in enumerate(results):
            assert f"GLOBAL_RANK: {rank}, MEMBER: {rank + 1}/2" in result.stdout + result.stderr
    # One run directory, written by rank 0 only.
    assert not list(run_dir.glob("*ddp_process*")), sorted(p.name for p in run_dir.iterdir())
    assert (run_dir / "train.log").is_file() and (run_dir / "model").is_dir()
    ddp = json.loads((run_dir / "metrics.json").read_text())

    single_dir = tmp_path / "single"
    single = evaluate(
        eval_config(
            single_dir,
            odd_data[data],
            # the exported model: it carries the temperature fitted after training
            f"model_dir={run_dir / 'model'}",
            data=data,
        )
    )
    test_keys = [k for k in single if k.startswith("test/")]
    assert metric in test_keys
    assert {k: ddp[k] for k in test_keys} == {k: single[k] for k in test_keys}
    # Predictions written once per item, in order, identical to the single process.
    name = "test.conll" if data == "conll" else "test.csv"
    assert (run_dir / "predictions" / name).read_text() == (
        single_dir / "predictions" / name
    ).read_text()


@pytest.mark.parametrize("ranks", [2, 3])
def test_each_rank_evaluates_whole_batches_of_the_one_process_list(tiny_bert, odd_data, ranks):
    """Under DDP Lightning deals the evaluation loader's dataset out with a DistributedSampler:
    each rank must get whole batches of exactly the list one process runs (same items, same
    padding), so that scores match in any precision."""
    from pytorch_lightning.utilities.data import _update_dataloader
    from torch.utils.data import DistributedSampler

    from tunelab.tasks.ner.datamodule import TokenClassificationDataModule

    datamodule = TokenClassificationDataModule.from_config(
        str(tiny_bert), dir=str(odd_data["conll"]), eval_batch_size=4, eval_max_tokens=64
    )
    single = [batch["input_ids"].tolist() for batch in datamodule.test_dataloader()]
    assert len(single) > ranks
    dealt = []
    for rank in range(ranks):
        loader = datamodule.test_dataloader()
        sampler = DistributedSampler(loader.dataset, ranks, rank, shuffle=False)
        dealt += [batch["input_ids"].tolist() for batch in _update_dataloader(loader, sampler)]
    assert all(batch in single for batch in dealt)
    assert all(batch in dealt for batch in single)
