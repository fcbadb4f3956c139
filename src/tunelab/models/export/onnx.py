"""ONNX: a fine-tuned model's encoder and head written as an ONNX graph (torch.onnx), optionally
quantized to int8 (onnxruntime's dynamic quantization), and run on ONNX Runtime in the place of
the PyTorch model, so that every task's prediction and evaluation code runs unchanged on it.

What stays in PyTorch: whatever a task does after the logits (e.g. NER's CRF decoding).
"""

from __future__ import annotations

import inspect
import logging
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from transformers import PreTrainedModel

from tunelab.errors import TunelabError

log = logging.getLogger("tunelab")
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
FOLDER = "onnx"  # under RUN/model
FP32, INT8 = "model.onnx", "model.int8.onnx"
REJECTED = "model.int8.rejected.onnx"  # an int8 graph the quality gate turned down


class _Logits(torch.nn.Module):
    """The model with its logits as the graph's one output."""

    def __init__(self, model: PreTrainedModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        return self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits


def export_onnx(module, tokenizer, directory: Path, opset: int = 17) -> Path:
    """Write `directory/model.onnx` (fp32), with batch size and length free."""
    model = module.model
    if not isinstance(model, PreTrainedModel):
        raise TunelabError(
            f"format=onnx: the model is a {type(model).__name__} (not a plain Hugging Face model, "
            "e.g. an unmerged prompt adapter or a sentence encoder); ONNX export covers "
            "models with a token or text classification head"
        )
    model = model.float().eval()
    accepted = inspect.signature(model.forward).parameters
    sample = tokenizer(["A short text .", "A second , longer text to pad ."], padding=True)
    names = [n for n in INPUTS if n in sample and n in accepted]
    inputs = {n: torch.tensor(sample[n]) for n in names}
    with torch.no_grad():
        logits = model(**inputs).logits
    axes = {n: {0: "batch", 1: "length"} for n in names}
    axes["logits"] = {0: "batch", 1: "length"} if logits.dim() == 3 else {0: "batch"}
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / FP32
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer's notes on Python values and negative indices: the graph is checked against
        # the PyTorch model on the test split (tunelab-export check=true) instead.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="Exporting aten::index operator")
        torch.onnx.export(
            _Logits(model).eval(),  # the exporter puts back the wrapper's mode on everything
            (),
            str(target),
            kwargs=inputs,
            input_names=names,
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=opset,
            dynamo=False,
        )
    return target


def quantize_int8(source: Path) -> Path:
    """`model.int8.onnx` beside `source`: weights of matrix products in int8, activations
    quantized on the fly (onnxruntime's dynamic quantization, for CPUs)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = source.with_name(INT8)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)  # onnxruntime logs a line per tensor on the root logger
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)
    return target


GRAPH_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxModel(torch.nn.Module):
    """An ONNX Runtime session that takes the Hugging Face model's place: called with the same
    keyword inputs, it returns an object whose `.logits` is a float32 tensor."""

    def __init__(self, path: Path, config) -> None:
        super().__init__()
        import onnxruntime as ort

        if not Path(path).is_file():
            raise TunelabError(
                f"{path} does not exist; write it first with: tunelab-export "
                f"model_dir={Path(path).parent.parent} (add quantize=int8 for {INT8})"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        rewrite = f"write it again with: tunelab-export model_dir={Path(path).parent.parent}"
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # noqa: BLE001 - onnxruntime raises its own classes per problem
            reason = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
            raise TunelabError(
                f"{path} is not a readable ONNX graph ({reason}); {rewrite}"
            ) from None
        self.names = [i.name for i in self.session.get_inputs()]
        outputs = [o.name for o in self.session.get_outputs()]
        unknown = [
            n for n in self.names if n not in ("input_ids", "attention_mask", "token_type_ids")
        ]
        if "logits" not in outputs or unknown:
            raise TunelabError(
                f"{path} takes {', '.join(self.names)} and gives {', '.join(outputs)}; tunelab "
                f"feeds {', '.join(GRAPH_INPUTS)} and reads logits: {rewrite}"
            )
        self.config, self.path = config, Path(path)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        given = {"input_ids": input_ids, "attention_mask": attention_mask}
        given["token_type_ids"] = token_type_ids
        feed = {}
        for name in self.names:
            value = given.get(name)
            if value is None:  # a mask of ones, segment ids of zeros: the model's own defaults
                value = torch.full_like(input_ids, int(name == "attention_mask"))
            feed[name] = value.detach().cpu().numpy().astype(np.int64)
        (logits,) = self.session.run(["logits"], feed)
        return SimpleNamespace(logits=torch.from_numpy(logits))


def onnx_path(model_dir: str | Path, file: str | None) -> Path:
    return Path(model_dir) / FOLDER / (file or FP32)


def run_on_onnx(module, model_dir: str | Path, file: str | None = None) -> Path:
    """Put the ONNX graph `RUN/model/onnx/<file>` in the place of `module.model`."""
    path = onnx_path(model_dir, file)
    module.run_on(OnnxModel(path, module.model.config))
    log.info("backend=onnx: %s on ONNX Runtime", path)
    return path
