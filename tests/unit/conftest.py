import pytest


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_bert):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_bert)
