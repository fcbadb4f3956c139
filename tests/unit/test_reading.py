"""How a model reads text has one owner (`tunelab.data.reading`, each task's reading settings):
its defaults, and the one way a command's settings go over the model's own, each change logged.
The settings objects' defaults are what the data presets say."""

import dataclasses
import logging

import pytest
import yaml

from tunelab.config import CONFIG_DIR
from tunelab.data.reading import DEFAULTS, OVERRIDABLE, override, with_defaults


def test_the_presets_repeat_the_defaults():
    for preset in ("ner_base", "classification_base"):
        config = yaml.safe_load(open(f"{CONFIG_DIR}/data/{preset}.yaml"))
        assert {key: config[key] for key in DEFAULTS} == DEFAULTS, preset


def base_config(name: str) -> dict:
    """A task base preset's keys with the parts it includes (`parts/NAME@_here_`)."""
    config = yaml.safe_load(open(f"{CONFIG_DIR}/data/{name}.yaml"))
    merged = {}
    for entry in config.pop("defaults"):
        if isinstance(entry, str) and entry.startswith("parts/"):
            part = entry.removesuffix("@_here_")
            merged.update(yaml.safe_load(open(f"{CONFIG_DIR}/data/{part}.yaml")))
    return {**merged, **config}


@pytest.mark.parametrize(
    "base, datamodule",
    [
        ("ner_base", "tunelab.tasks.ner.datamodule.TokenClassificationDataModule"),
        (
            "classification_base",
            "tunelab.tasks.classification.datamodule.SequenceClassificationDataModule",
        ),
        ("text", "tunelab.tasks.mlm.datamodule.TextDataModule"),
    ],
)
def test_the_presets_say_each_settings_objects_defaults(base, datamodule):
    from hydra.utils import get_class

    cls = get_class(datamodule)
    config = base_config(base)
    for kind in cls.SETTINGS.values():
        for field in dataclasses.fields(kind):
            value = config[field.name]
            if isinstance(value, str) and "${" in value:  # the run's own (seed, cache folder)
                continue
            assert value == cls.DEFAULTS.get(field.name, field.default), (base, field.name)


def test_an_older_model_reads_with_the_defaults():
    assert with_defaults({"context": 2}) == {**DEFAULTS, "context": 2}
    assert with_defaults({"max_length": 64})["max_length"] == 64


def test_a_given_value_wins_and_is_logged(caplog):
    recorded = {"max_length": 64, "stride": 16, "long_text": "truncate"}
    with caplog.at_level(logging.INFO, logger="tunelab"):
        settings = override(recorded, {"max_length": 32, "stride": None, "scheme": "bio"})
    assert settings == {"max_length": 32, "stride": 16, "long_text": "truncate", "scheme": "bio"}
    assert "max_length=32 (the model reads with 64)" in caplog.text
    assert "stride" not in caplog.text
    assert recorded["max_length"] == 64  # the record itself is untouched


def test_only_the_keys_named_are_taken():
    settings = override({"max_length": 64}, {"max_length": 32, "dir": "x"}, OVERRIDABLE)
    assert settings == {"max_length": 32}


def test_the_same_value_is_not_an_override(caplog):
    with caplog.at_level(logging.INFO, logger="tunelab"):
        override({"max_length": 64}, {"max_length": 64}, prefix="data.")
    assert caplog.text == ""
