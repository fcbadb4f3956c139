"""`tunelab-export`: an exported model (RUN/model) as an ONNX graph, optionally int8, checked.

    tunelab-export model_dir=RUN/model [quantize=int8]

writes RUN/model/onnx/model.onnx (and model.int8.onnx), then runs the model's own test split
through PyTorch (fp32) and through each graph on ONNX Runtime, and reports the largest logit
difference and the share of labels that agree (RUN/model/onnx/check.json). `tunelab-eval`,
`tunelab-predict` and `tunelab-serve` run a graph with `backend=onnx [onnx_model=model.int8.onnx]`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from omegaconf import DictConfig
from tqdm.auto import tqdm
from transformers import AutoTokenizer

from tunelab import schema
from tunelab.config import build, hydra_command
from tunelab.data.registry import from_pretrained
from tunelab.errors import TunelabError
from tunelab.inference.eval import data_config
from tunelab.inference.loading import load_module
from tunelab.models.export.onnx import FOLDER, OnnxModel, export_onnx, quantize_int8

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
    (folder / "check.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"wrote {', '.join(str(f) for f in files)}; tunelab-eval model_dir={cfg.model_dir} "
        "backend=onnx scores a graph"
    )
    return report


main = hydra_command("export", export)


if __name__ == "__main__":
    main()
