"""How a model reads text: the settings it is trained with, records in `tunelab.json`, and is
evaluated, predicted and served with. The defaults of the settings every task shares are
written here; the data presets repeat them for `--help` (a test keeps them equal)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

log = logging.getLogger("tunelab")

MAX_LENGTH = 512  # sub-tokens per sequence or window, special tokens included
STRIDE = 128  # sub-tokens shared by neighbouring windows
DEFAULTS = {"max_length": MAX_LENGTH, "stride": STRIDE}
# what a command or the API may set over the model's own way of reading
OVERRIDABLE = ("max_length", "stride", "context", "long_text", "pack")


def with_defaults(recorded: Mapping) -> dict:
    """A model's recorded reading settings, the shared defaults where an older model lacks one."""
    return {**DEFAULTS, **recorded}


def override(recorded: Mapping, given: Mapping, keys=None, prefix: str = "") -> dict:
    """A model's reading settings `recorded` with each non-null value of `given` on top (only
    `keys`, if given), every value that differs from the model's logged: what runs is never
    silently other than what was trained."""
    settings = dict(recorded)
    for key in given if keys is None else [k for k in keys if k in given]:
        value = given.get(key)
        if value is None:
            continue
        if key in recorded and recorded[key] != value:
            log.info("%s%s=%s (the model reads with %s)", prefix, key, value, recorded[key])
        settings[key] = value
    return settings
