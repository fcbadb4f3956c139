"""Tokenized splits kept on disk, so that sweeps and reruns tokenize each corpus once.

An entry is keyed by a hash of everything the encoding depends on: the tokenizer's full
definition, the encoding settings, the split's content (words and labels, or texts and targets)
and the source of the encoding code itself, so that a change to any of them misses the cache
instead of reusing stale items. Entries are stores of flat arrays (`tunelab.data.store`): a folder
planted in a shared cache can at worst hold wrong items, never run code.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from tunelab.data.store import META, ItemStore, write_store

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


def content_digest(rows: Iterable) -> str:
    """A hash of a split's content, a row at a time: the cache key's content for a split of any
    size, never copied whole."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(pickle.dumps(row, protocol=PROTOCOL))
    return digest.hexdigest()


def cached(directory: str | None, name: str, key: str, produce: Callable) -> ItemStore:
    """The items `produce(notes)` yields (in chunks: lists of item dicts; it may record counts in
    `notes`), as a store read from `directory/<name>-<key>/` when present, else written there
    first (`tunelab.data.store`). No directory: written to a temporary folder, removed when the
    process ends."""
    if not directory:
        folder = Path(tempfile.mkdtemp(prefix="tunelab-items-")) / name
        atexit.register(shutil.rmtree, folder.parent, True)
    else:
        folder = Path(directory) / f"{name}-{key}"
        if (folder / META).is_file():
            try:
                store = ItemStore(folder)
            except (ValueError, OSError) as err:
                log.warning("%s: unreadable cache entry %s (%s): encoding again", name, folder, err)
                shutil.rmtree(folder, ignore_errors=True)
            else:
                log.info("%s: tokenized items read from the cache (%s)", name, folder)
                return store
    notes: dict = {}
    return write_store(folder, produce(notes), notes)
