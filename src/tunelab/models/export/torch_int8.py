"""PyTorch's own int8 (`backend=torch_int8`): every Linear layer's weight in int8 with one scale
per output channel, its input quantized on the fly (dynamic quantization), the rest in fp32.
Unlike the ONNX graph it keeps tunelab's packed rows for NER.

A model runs so only once `tunelab-export quantize=int8` has put it through the quality gate on
its test split; the verdict is kept in RUN/model/torch_int8.json, which predict, eval and serve
read before they quantize.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from tunelab.errors import TunelabError

BACKENDS = ("torch", "torch_int8", "onnx")  # what tunelab-eval, -predict and -serve run a model on
RECORD = "torch_int8.json"  # the gate's verdict, in RUN/model


def quantize_linear_int8(model: torch.nn.Module) -> int:
    """Quantize `model`'s Linear layers in place (weights shared with an embedding, a tied MLM
    decoder, stay as they are); returns the number of layers quantized."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    shared = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
    chosen = {
        name: per_channel_dynamic_qconfig
        for name, layer in model.named_modules()
        if isinstance(layer, torch.nn.Linear) and id(layer.weight) not in shared
    }
    model.float()
    with warnings.catch_warnings():
        # torch.ao's quantized tensors are deprecated in favour of torchao; torch is pinned, and
        # the gate checks every quantized model on real data before it is used
        warnings.filterwarnings("ignore", message=".*quantize_per_(tensor|channel).*deprecated")
        quantize_dynamic(model, chosen, dtype=torch.qint8, inplace=True)
    return len(chosen)


def save_verdict(model_dir: str | Path, verdict: dict) -> Path:
    path = Path(model_dir) / RECORD
    path.write_text(json.dumps(verdict, indent=2) + "\n")
    return path


def check_accepted(model_dir: str | Path) -> None:
    """One line unless the quality gate accepted this model's PyTorch int8 form."""
    path = Path(model_dir) / RECORD
    redo = f"tunelab-export model_dir={model_dir} quantize=int8"
    if not path.is_file():
        raise TunelabError(f"backend=torch_int8: {path} does not exist; check it first: {redo}")
    try:
        verdict = json.loads(path.read_text())
        accepted, failed = verdict["accepted"], verdict.get("failed", [])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise TunelabError(f"backend=torch_int8: {path} is unreadable ({err}); {redo}") from None
    if accepted is not True:
        raise TunelabError(
            f"backend=torch_int8: the quality gate turned this model down "
            f"({'; '.join(map(str, failed)) or 'see ' + str(path)}); serve it with backend=torch"
        )
