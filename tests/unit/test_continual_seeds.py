"""scripts/continual_seeds.py: finished continual runs as mean ± sd over their seeds."""

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "continual_seeds.py"
spec = importlib.util.spec_from_file_location("continual_seeds", SCRIPT)
continual_seeds = importlib.util.module_from_spec(spec)
spec.loader.exec_module(continual_seeds)


def write_run(parent: Path, name: str, micro: list[float], steps: int = 2) -> None:
    folder = parent / name
    folder.mkdir(parents=True)
    report = {
        "order": [[str(i)] for i in range(steps)],
        "micro_f1": micro,
        "average_incremental_f1": sum(micro) / len(micro),
        "final_f1": micro[-1],
        "mean_forgetting": 0.1,
    }
    (folder / "continual.json").write_text(json.dumps(report))


def test_each_method_is_averaged_over_its_finished_seeds(tmp_path, capsys):
    write_run(tmp_path, "replay+distill-seed42", [0.9, 0.8])
    write_run(tmp_path, "replay+distill-seed43", [0.9, 0.6])
    write_run(tmp_path, "finetune-seed42", [0.9, 0.3])
    write_run(tmp_path, "finetune-seed43", [0.9], steps=2)  # stopped after its first step
    (tmp_path / "notes").mkdir()
    assert continual_seeds.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # finals 0.8 and 0.6: mean 70.00, sample sd 14.14
    assert "| `replay+distill` | 42, 43 | 80.00 ± 7.07 | 70.00 ± 14.14 | 10.00 ± 0.00 |" in out
    assert "| `finetune` | 42 | 60.00 | 30.00 | 10.00 |" in out
    assert "not finished, left out: finetune-seed43" in out


def test_a_folder_without_runs_says_so(tmp_path, capsys):
    assert continual_seeds.main([str(tmp_path)]) == 1
    assert "no finished METHOD-seedS/continual.json" in capsys.readouterr().err
    assert continual_seeds.main([str(tmp_path / "missing")]) == 2
