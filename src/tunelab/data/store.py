"""Tokenized items on disk, one flat array a field, memory-mapped: a split of any size is read
lazily, a batch at a time, and never held as Python objects.

An item is a dict of numbers (`label`, `sentence`) and lists of numbers or of fixed-size lists
(`input_ids`, `offsets`). A store keeps each field as one array: a list field's values of all
items end to end plus an array of where each item's values start. The folder holds `items.json`
(the fields, their types, the count and the encoder's own notes) and one raw `.bin` file an
array, read with numpy's memory map and never unpickled: a file planted in a shared cache folder
can at worst hold wrong items, never run code.

numpy rather than Arrow (`datasets`): items are only ever read by index, a slice of a flat array
is the cheapest read there is, and the lists come back as the plain lists collation takes.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

FORMAT = 1
META = "items.json"
TEXTS_PER_CHUNK = 10_000  # tokenized at a time: memory bounded by the chunk, not the corpus


def _kind(values: list) -> tuple[bool, tuple[int, ...], str]:
    """(is a list, shape of one value, dtype) of a field, from its values in the first chunk."""
    value = values[0]
    if isinstance(value, list):
        first = next((v[0] for v in values if v), 0)
        inner = (len(first),) if isinstance(first, list) else ()
        sample = first[0] if inner else first
        return True, inner, "float64" if isinstance(sample, float) else "int32"
    if isinstance(value, (bool, int, np.integer)):
        return False, (), "int32"
    if isinstance(value, (float, np.floating)):
        return False, (), "float64"
    raise TypeError(f"an item field holds {type(value).__name__}; a store takes numbers and lists")


class StoreWriter:
    """Appends items, a chunk at a time, to a store being written in `folder`; `close()` ends it.
    Every item has the fields of the first one."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.fields: dict[str, dict] = {}
        self.files: dict[str, object] = {}
        self.count = 0
        self.filled: dict[str, int] = {}  # values written so far, per list field

    def _open(self, items: Sequence[dict]) -> None:
        for name in items[0]:
            ragged, inner, dtype = _kind([item.get(name) for item in items])
            self.fields[name] = {"list": ragged, "inner": list(inner), "dtype": dtype}
            self.files[name] = open(self.folder / f"{name}.bin", "wb")  # noqa: SIM115
            if ragged:
                self.files[name + ".offsets"] = open(self.folder / f"{name}.offsets.bin", "wb")  # noqa: SIM115
                self.files[name + ".offsets"].write(np.zeros(1, np.int64).tobytes())
                self.filled[name] = 0

    def add(self, items: Sequence[dict]) -> None:
        if not items:
            return
        if not self.fields:
            self._open(items)
        for name, field in self.fields.items():
            try:
                values = [item[name] for item in items]
            except KeyError:
                raise ValueError(f"an item lacks the field {name!r} of the first one") from None
            if field["list"]:
                sizes = np.fromiter((len(v) for v in values), np.int64, len(values))
                array = self._fitted(name, np.asarray([x for v in values for x in v]))
                array = array.reshape(-1, *field["inner"])
                ends = self.filled[name] + np.cumsum(sizes)
                self.filled[name] = int(ends[-1])
                self.files[name + ".offsets"].write(ends.astype(np.int64).tobytes())
            else:
                array = self._fitted(name, np.asarray(values))
            self.files[name].write(np.ascontiguousarray(array).tobytes())
        if len(items[0]) != len(self.fields):
            raise ValueError(f"items hold fields {sorted(items[0])}, not {sorted(self.fields)}")
        self.count += len(items)

    def _fitted(self, name: str, array: np.ndarray) -> np.ndarray:
        """`array` as the field's type (whole numbers as int32: token ids, labels and indices
        all fit, at half the bytes), refused where that would change a value."""
        dtype = self.fields[name]["dtype"]
        if array.size and array.dtype.kind == "f" and dtype == "int32":
            raise ValueError(f"the field {name!r} holds fractions, first seen as whole numbers")
        if array.size and dtype == "int32" and (array.min() < -(2**31) or array.max() >= 2**31):
            raise ValueError(f"the field {name!r} holds numbers beyond 32 bits")
        return array.astype(dtype)

    def close(self, notes: dict | None = None) -> None:
        for handle in self.files.values():
            handle.close()
        meta = {"format": FORMAT, "count": self.count, "fields": self.fields, "notes": notes or {}}
        (self.folder / META).write_text(json.dumps(meta))


class ItemStore(Sequence):
    """The items of a store folder, read by index (`store[i]` is the item's dict again)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        meta = json.loads((self.folder / META).read_text())
        if meta.get("format") != FORMAT:
            raise ValueError(f"{self.folder}: store format {meta.get('format')}, not {FORMAT}")
        self.count, self.fields, self.notes = meta["count"], meta["fields"], meta["notes"]
        self._arrays: dict[str, np.ndarray] | None = None
        for name, field in self.fields.items():  # a short or long file: a broken store
            values = self.count
            if field["list"]:
                self._check_size(name + ".offsets", "int64", [], self.count + 1)
                values = int(self._map(name + ".offsets", "int64", [])[-1])
            self._check_size(name, field["dtype"], field["inner"], values)

    def _check_size(self, name: str, dtype: str, inner: list[int], count: int) -> None:
        size = (self.folder / f"{name}.bin").stat().st_size
        expected = count * np.dtype(dtype).itemsize * int(np.prod(inner))
        if size != expected:
            raise ValueError(f"{name}.bin holds {size} bytes, not {expected}")

    def _map(self, name: str, dtype: str, inner: list[int]) -> np.ndarray:
        path = self.folder / f"{name}.bin"
        if path.stat().st_size == 0:
            return np.zeros((0, *inner), dtype)
        return np.memmap(path, dtype, "r").reshape(-1, *inner)

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        if self._arrays is None:  # opened on first use, and again in each loader worker
            arrays = {}
            for name, field in self.fields.items():
                arrays[name] = self._map(name, field["dtype"], field["inner"])
                if field["list"]:
                    arrays[name + ".offsets"] = self._map(name + ".offsets", "int64", [])
            self._arrays = arrays
        return self._arrays

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_arrays": None}

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.count))]
        if index < 0:
            index += self.count
        if not 0 <= index < self.count:
            raise IndexError(index)
        arrays, item = self.arrays, {}
        for name, field in self.fields.items():
            if field["list"]:
                start, stop = arrays[name + ".offsets"][index : index + 2]
                item[name] = arrays[name][start:stop].tolist()
            else:
                item[name] = arrays[name][index].item()
        return item

    def column(self, name: str) -> np.ndarray:
        """One number an item: a number field's values, or a list field's lengths."""
        if name not in self.fields:  # an empty store has no fields
            return np.zeros(0, np.int64)
        if self.fields[name]["list"]:
            return np.diff(self.arrays[name + ".offsets"])
        return np.asarray(self.arrays[name])


def lengths(items: Sequence[dict]) -> np.ndarray:
    """Sub-tokens an item (`input_ids`), for a store or a list of items alike."""
    if isinstance(items, ItemStore):
        return items.column("input_ids")
    return np.fromiter((len(item["input_ids"]) for item in items), np.int64, len(items))


def column(items: Sequence[dict], name: str, default=None) -> list:
    """A number field of every item (`default` where an item lacks it), as a list."""
    if isinstance(items, ItemStore):
        return items.column(name).tolist() if name in items.fields else [default] * len(items)
    return [item.get(name, default) for item in items]


def batched(values: Iterable, size: int) -> Iterator[list]:
    """Lists of `size` values in order (the last may be shorter): itertools.batched of 3.12."""
    iterator = iter(values)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def write_store(folder: Path, chunks: Iterable[Sequence[dict]], notes: dict | None = None):
    """The store of `chunks` of items, written beside `folder` and renamed into place, so that
    processes side by side never read half a store."""
    folder = Path(folder)
    partial = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(partial, ignore_errors=True)
    writer = StoreWriter(partial)
    try:
        for chunk in chunks:
            writer.add(chunk)
        writer.close(notes)
        if folder.exists():  # written meanwhile by another process: the same items
            shutil.rmtree(partial)
        else:
            partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return ItemStore(folder)
