"""Tokenized splits kept on disk, so that sweeps and reruns tokenize each corpus once.

An entry is keyed by a hash of everything the encoding depends on: the tokenizer's full
definition, the encoding settings, the split's content (words and labels, or texts and targets)
and the source of the encoding code itself, so that a change to any of them misses the cache
instead of reusing stale items. Entries are JSON (items are plain lists, numbers and strings): a
file planted in a shared cache folder can at worst hold wrong items, never run code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

# Shared source files whose code decides what an encoded item holds (with the DataModule's own).
ENCODING_CODE = [Path(__file__).with_name(name) for name in ("alignment.py", "windows.py")]
PROTOCOL = 4  # fixed, so that equal inputs hash alike across Python versions


def tokenizer_fingerprint(tokenizer) -> bytes:
    """The tokenizer's whole definition: its serialized fast tokenizer, or its vocabulary."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    definition = backend.to_str() if backend is not None else sorted(tokenizer.get_vocab().items())
    special = sorted(tokenizer.special_tokens_map.items())
    return pickle.dumps((type(tokenizer).__name__, definition, special), protocol=PROTOCOL)


def cache_key(tokenizer, settings: dict, content, code: tuple[Path, ...] = ()) -> str:
    """Hash of what an encoding depends on; `code`: the task's own encoding source files."""
    digest = hashlib.sha256(tokenizer_fingerprint(tokenizer))
    for source in [*ENCODING_CODE, *code]:
        digest.update(source.read_bytes())
    described = sorted((name, repr(value)) for name, value in settings.items())
    digest.update(pickle.dumps((described, content), protocol=PROTOCOL))
    return digest.hexdigest()[:32]


def cached(directory: str | None, name: str, key: str, compute: Callable):
    """`compute()`'s result, read from `directory/<name>-<key>.json` when present, else computed
    and stored there (written to a temporary file and renamed, so that processes running side by
    side never read half a file). No directory: always computed."""
    if not directory:
        return compute()
    path = Path(directory) / f"{name}-{key}.json"
    if path.is_file():
        try:
            result = json.loads(path.read_bytes())
        except (ValueError, OSError) as err:
            log.warning("%s: unreadable cache entry %s (%s): encoding again", name, path, err)
        else:
            log.info("%s: tokenized items read from the cache (%s)", name, path)
            return result
    result = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(result, separators=(",", ":")))
    partial.replace(path)
    return result
