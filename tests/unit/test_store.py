"""Items on disk: what goes in comes out, read by index, a broken folder is refused."""

import pickle

import numpy as np
import pytest

from tunelab.data.store import ItemStore, batched, column, lengths, write_store

ITEMS = [
    {"input_ids": [101, 7, 102], "label": 2, "offsets": [[0, 1], [1, 3], [0, 0]], "soft": [0.5]},
    {"input_ids": [101, 102], "label": 0, "offsets": [[0, 0], [0, 0]], "soft": [0.25, 1.0]},
    {"input_ids": [], "label": 70000, "offsets": [], "soft": []},
]


def test_items_come_back_as_they_went_in_whatever_the_chunks(tmp_path):
    store = write_store(tmp_path / "s", [ITEMS[:1], [], ITEMS[1:]], {"truncated": 3})
    assert list(write_store(tmp_path / "r", [ITEMS[::-1]])) == ITEMS[::-1]  # empty lists first
    assert len(store) == 3 and store.notes == {"truncated": 3}
    assert list(store) == ITEMS and store[-1] == ITEMS[-1] and store[1:] == ITEMS[1:]
    assert type(store[0]["label"]) is int and type(store[1]["soft"][0]) is float
    assert lengths(store).tolist() == [3, 2, 0] == lengths(ITEMS).tolist()
    assert column(store, "label") == [2, 0, 70000] == column(ITEMS, "label")
    assert column(store, "weight", 1) == [1, 1, 1] == column(ITEMS, "weight", 1)
    with pytest.raises(IndexError):
        store[3]
    again = pickle.loads(pickle.dumps(store))  # a loader worker reopens the files
    assert again._arrays is None and list(again) == ITEMS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r", "s"]  # written aside, renamed


def test_an_empty_store_has_no_items(tmp_path):
    store = write_store(tmp_path / "s", [])
    assert len(store) == 0 and list(store) == [] and lengths(store).tolist() == []
    assert column(store, "label") == []


def test_items_of_other_fields_are_refused_and_nothing_is_left(tmp_path):
    with pytest.raises(ValueError, match="lacks the field 'label'"):
        write_store(tmp_path / "s", [ITEMS[:1], [{"input_ids": [1]}]])
    with pytest.raises(ValueError, match="hold fields"):
        write_store(tmp_path / "t", [ITEMS[:1], [{**ITEMS[0], "extra": 1}]])
    with pytest.raises(ValueError, match="holds fractions"):
        write_store(tmp_path / "v", [[{"soft": []}], [{"soft": [0.5]}]])
    with pytest.raises(ValueError, match="beyond 32 bits"):
        write_store(tmp_path / "w", [[{"id": 1}], [{"id": 2**31}]])
    with pytest.raises(TypeError, match="holds str"):
        write_store(tmp_path / "u", [[{"text": "a"}]])
    assert list(tmp_path.iterdir()) == []


def test_a_cut_or_foreign_file_is_refused_when_opened(tmp_path):
    write_store(tmp_path / "s", [ITEMS])
    (tmp_path / "s" / "label.bin").write_bytes(np.zeros(2, np.int32).tobytes())
    with pytest.raises(ValueError, match="label.bin holds 8 bytes, not 12"):
        ItemStore(tmp_path / "s")
    (tmp_path / "s" / "items.json").write_text('{"format": 99}')
    with pytest.raises(ValueError, match="format 99"):
        ItemStore(tmp_path / "s")


def test_batched_cuts_any_iterable_in_order():
    assert list(batched(iter(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batched([], 3)) == []
