"""`tunelab-export`: an exported model (RUN/model) as an ONNX graph, optionally int8, checked.

    tunelab-export model_dir=RUN/model [quantize=int8]

writes RUN/model/onnx/model.onnx (and model.int8.onnx), then runs the model's own test split
through PyTorch (fp32) and through each graph on ONNX Runtime, and reports the largest logit
difference and the share of labels that agree (RUN/model/onnx/check.json). `tunelab-eval`,
`tunelab-predict` and `tunelab-serve` run a graph with `backend=onnx [onnx_model=model.int8.onnx]`.

The int8 graph passes a quality gate first: scored and timed on the split against the fp32
graph, it is kept only when its main score is within `gate.max_drop` of fp32's and it runs at
least `gate.min_speedup` times as fast; otherwise the command says which check failed and keeps
the fp32 graph alone (the int8 one renamed model.int8.rejected.onnx, for a look). The same
gate judges PyTorch's own int8 (`backend=torch_int8`: int8 Linear layers, packed rows kept)
against the fp32 PyTorch model, and saves its verdict as RUN/model/torch_int8.json.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from pathlib import Path

import torch
from omegaconf import DictConfig
from tqdm.auto import tqdm
from transformers import AutoTokenizer

from tunelab import schema, tasks
from tunelab.config import build, hydra_command
from tunelab.data.registry import from_pretrained
from tunelab.errors import TunelabError
from tunelab.inference.eval import data_config
from tunelab.inference.loading import load_module
from tunelab.models.export.onnx import FOLDER, REJECTED, OnnxModel, export_onnx, quantize_int8
from tunelab.models.export.torch_int8 import quantize_linear_int8, save_verdict

log = logging.getLogger("tunelab")


def compare(reference, graph, batches, model_inputs) -> dict:
    """Largest absolute logit difference and share of agreeing labels (argmax) between two
    models over the real tokens (or texts) of `batches`."""
    largest, agree, total = 0.0, 0, 0
    for batch in tqdm(batches, desc=graph.path.name, leave=False):
        inputs = model_inputs(batch)
        with torch.inference_mode():
            expected = reference(**inputs).logits.float()
        found = graph(**inputs).logits
        if expected.dim() == 3:  # token scores: padding positions are not labels
            real = inputs["attention_mask"].bool()
            expected, found = expected[real], found[real]
        largest = max(largest, (expected - found).abs().max().item())
        agree += (expected.argmax(-1) == found.argmax(-1)).sum().item()
        total += expected.shape[0]
    return {"max_abs_logit_diff": largest, "label_agreement": agree / total, "labels": total}


def scored_and_timed(cfg: DictConfig, module, datamodule, model, precision: str) -> dict:
    """The task's main test score of `module` running on `model` (in the place of its own) at
    `precision`, and the seconds its test pass took."""
    metric = tasks.get(module.task).headline[0]
    original = module.model
    module.run_on(model)
    trainer = build(
        cfg.trainer, logger=False, callbacks=[], enable_progress_bar=False, precision=precision
    )
    try:
        start = time.perf_counter()
        trainer.test(module, datamodule=datamodule, verbose=False)
        seconds = time.perf_counter() - start
    finally:
        module.model = original
    return {"metric": metric, "score": module.evaluation("test").scores[metric], "seconds": seconds}


def gate(cfg: DictConfig, name: str, fp32: dict, int8: dict) -> dict:
    """The quality gate's verdict on an int8 model (`int8`) scored and timed against its fp32
    form (`fp32`): accepted when it loses at most `gate.max_drop` of the main score and runs at
    least `gate.min_speedup` times as fast."""
    drop, speedup = fp32["score"] - int8["score"], fp32["seconds"] / int8["seconds"]
    failed = []
    if drop > cfg.gate.max_drop:
        failed.append(
            f"{int8['metric']} {int8['score']:.4f} is {drop:.4f} below fp32's "
            f"{fp32['score']:.4f} (gate.max_drop={cfg.gate.max_drop})"
        )
    if speedup < cfg.gate.min_speedup:
        failed.append(
            f"it ran {speedup:.2f}x as fast as fp32 ({int8['seconds']:.1f} s against "
            f"{fp32['seconds']:.1f} s; gate.min_speedup={cfg.gate.min_speedup})"
        )
    if failed:
        print(f"{name} rejected: {'; '.join(failed)}")
    else:
        print(
            f"{name} accepted: {int8['metric']} {int8['score']:.4f} against fp32's "
            f"{fp32['score']:.4f}, {speedup:.2f}x as fast on {cfg.split}"
        )
    return {"fp32": fp32, "int8": int8, "accepted": not failed, "failed": failed}


def onnx_gate(cfg: DictConfig, module, datamodule, files: list[Path]) -> dict:
    """Keep model.int8.onnx only where it passes against model.onnx (ONNX Runtime computes in
    fp32 whatever autocast says)."""
    config = module.model.config
    fp32, int8 = (
        scored_and_timed(cfg, module, datamodule, OnnxModel(path, config), "32-true")
        for path in files
    )
    verdict = gate(cfg, "int8 ONNX graph", fp32, int8)
    if not verdict["accepted"]:
        files[1].replace(files[1].with_name(REJECTED))
        print(f"keeping {files[0].name} alone ({REJECTED} set aside)")
    return verdict


def torch_gate(cfg: DictConfig, module, datamodule) -> dict:
    """PyTorch's own int8 (`backend=torch_int8`) against the fp32 PyTorch model, the verdict
    saved beside the model for predict, eval and serve."""
    fp32 = scored_and_timed(cfg, module, datamodule, module.model, "32-true")
    quantized = copy.deepcopy(module.model)
    quantize_linear_int8(quantized)
    int8 = scored_and_timed(cfg, module, datamodule, quantized, "32-true")
    verdict = gate(cfg, "PyTorch int8 (backend=torch_int8)", fp32, int8)
    save_verdict(cfg.model_dir, verdict)
    return verdict


def export(cfg: DictConfig) -> dict:
    schema.check(cfg)
    if cfg.format != "onnx":
        raise TunelabError(f"format={cfg.format!r}; tunelab-export writes format=onnx")
    if cfg.quantize not in (None, "int8"):
        raise TunelabError(f"quantize={cfg.quantize!r}; choose int8 or leave it unset")
    module, tokenizer_name, _ = load_module(model_dir=cfg.model_dir)
    module.eval()
    tokenizer = from_pretrained(AutoTokenizer, tokenizer_name)
    folder = Path(cfg.model_dir) / FOLDER
    files = [export_onnx(module, tokenizer, folder, cfg.opset)]
    if cfg.quantize == "int8":
        files.append(quantize_int8(files[0]))
    report = {"files": {f.name: f.stat().st_size for f in files}}
    if cfg.check:
        data = data_config(cfg, module.input_settings)
        if "pack" in data:
            data.pack = False
        datamodule = build(
            data, tokenizer=tokenizer_name, labels=module.labels, test_split=cfg.split
        )
        datamodule.setup("test")
        batches = list(datamodule.test_dataloader())
        for path in files:
            graph = OnnxModel(path, module.model.config)
            found = compare(module.model, graph, batches, module.model_inputs)
            report[path.name] = {"split": cfg.split, **found}
            print(
                f"{path.name}: {path.stat().st_size / 2**20:.0f} MiB; on {cfg.split} "
                f"({found['labels']} labels) largest logit difference "
                f"{found['max_abs_logit_diff']:.2g}, labels agree {found['label_agreement']:.4%}"
            )
        if cfg.quantize == "int8":
            module.set_references({"test": datamodule.references(cfg.split)})
            report["gate"] = onnx_gate(cfg, module, datamodule, files)
            # PyTorch keeps the model's packed rows (NER), as the Predictor serves it
            served = build(
                data_config(cfg, module.input_settings),
                tokenizer=tokenizer_name,
                labels=module.labels,
                test_split=cfg.split,
            )
            served.setup("test")
            report["torch_int8_gate"] = torch_gate(cfg, module, served)
    (folder / "check.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"wrote {', '.join(str(f) for f in files)}; tunelab-eval model_dir={cfg.model_dir} "
        "backend=onnx scores a graph"
    )
    return report


main = hydra_command("export", export)


if __name__ == "__main__":
    main()
