"""`tunelab-eval zero_shot=true data=...`: the data and the zero-shot module to test."""

from __future__ import annotations

import logging

from omegaconf import DictConfig, open_dict

from tunelab import tasks
from tunelab.config import build
from tunelab.errors import TunelabError
from tunelab.models.sentence_encoder import encoder_max_length
from tunelab.tasks.zero_shot.module import ZeroShotModule, label_descriptions
from tunelab.tasks.zero_shot.nli import NLIZeroShotModule, entailment_id

log = logging.getLogger("tunelab")
ENCODER = "sentence-transformers/all-MiniLM-L6-v2"  # the packaged MiniLM


def zero_shot_setup(cfg: DictConfig, given: set[str]):
    """`zero_shot=true`: the classification data named by `data=`, and a zero-shot module over
    its labels with `model_dir`: a sentence encoder (default: the packaged MiniLM), or an NLI
    model (one with an `entailment` label), whose label descriptions become hypotheses; `given`:
    the data keys set on the command line."""
    if not cfg.data.get("_target_") or "SequenceClassification" not in cfg.data._target_:
        raise TunelabError(
            "zero_shot=true needs classification data: data=sst2, data=bbc_news, ..."
        )
    if cfg.data.get("multi_label"):
        raise TunelabError(
            "zero_shot=true picks one label per text: multi-label data is not offered"
        )
    encoder = cfg.model_dir or ENCODER
    data = cfg.data.copy()
    with open_dict(data):
        data.tokenizer = encoder
        longest = encoder_max_length(encoder)
        if longest and data.max_length > longest and "max_length" not in given:
            # texts read as long as the encoder was trained to embed them
            data.max_length = longest
    datamodule = build(data, test_split=cfg.split)
    labels = datamodule.labels
    descriptions = label_descriptions(labels, list(cfg.templates), data.get("label_descriptions"))
    nli = entailment_id(encoder) is not None
    method = NLIZeroShotModule if nli else ZeroShotModule
    module = method(
        encoder,
        labels,
        descriptions,
        input_settings=datamodule.input_settings(),
        trust_remote_code=cfg.get("trust_remote_code", False),
    )
    log.info(
        "zero-shot by %s with %s",
        "entailment (NLI model)" if nli else "embedding similarity",
        encoder,
    )
    for label, texts in zip(labels, descriptions, strict=True):
        log.info("zero-shot %s: %s", label, " | ".join(texts))
    return module, datamodule, tasks.get("zero_shot")
