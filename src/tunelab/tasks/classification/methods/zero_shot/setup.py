"""The zero-shot module for `method=zero_shot`, `method=nli` and `tunelab-eval zero_shot=true`."""

from __future__ import annotations

import logging

from tunelab.errors import TunelabError
from tunelab.tasks.classification.methods.zero_shot.module import (
    DEFAULT_TEMPLATES,
    ZeroShotModule,
)
from tunelab.tasks.classification.methods.zero_shot.module import (
    label_descriptions as label_descriptions_of,
)
from tunelab.tasks.classification.methods.zero_shot.nli import NLIZeroShotModule, entailment_id

log = logging.getLogger("tunelab")


def zero_shot_module(
    model_name_or_path: str,
    labels: list[str],
    label_descriptions: dict | None = None,
    templates: list[str] | tuple[str, ...] = DEFAULT_TEMPLATES,
    input_settings: dict | None = None,
    multi_label: bool = False,
    peft: dict | None = None,
    trust_remote_code: bool = False,
    nli: bool = False,
):
    """The zero-shot module over `labels` (`method=zero_shot`, `method=nli`, `tunelab-eval
    zero_shot=true`): entailment when the model is an NLI model (an `entailment` label), else
    embedding similarity with a sentence encoder. Each label is described by
    `label_descriptions` (the data's), else by `templates` filled with its name.

    Args:
        nli: the model must be an NLI model (`method=nli`).
        multi_label, peft: what the shared config says; zero-shot labels one class per text
            and trains nothing, so only `false` and `none` are taken.
    """
    if multi_label:
        raise TunelabError("zero-shot picks one label per text: multi-label data is not offered")
    if (peft or {}).get("method", "none") != "none":
        raise TunelabError("zero-shot trains nothing: leave peft=none")
    descriptions = label_descriptions_of(labels, list(templates), label_descriptions)
    entails = entailment_id(model_name_or_path) is not None
    if nli and not entails:
        raise TunelabError(
            f"method=nli: {model_name_or_path} has no entailment label in its config's "
            "label2id: not an NLI model (method=zero_shot takes a sentence encoder)"
        )
    kind = NLIZeroShotModule if entails else ZeroShotModule
    module = kind(
        model_name_or_path,
        labels,
        descriptions,
        input_settings=input_settings,
        trust_remote_code=trust_remote_code,
    )
    log.info(
        "zero-shot by %s with %s",
        "entailment (NLI model)" if entails else "embedding similarity",
        model_name_or_path,
    )
    for label, texts in zip(labels, descriptions, strict=True):
        log.info("zero-shot %s: %s", label, " | ".join(texts))
    return module
