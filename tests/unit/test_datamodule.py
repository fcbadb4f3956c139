"""What every DataModule shares (tunelab.data.base), on a minimal subclass with fixed items."""

from types import SimpleNamespace

import pytest
import torch

from tunelab.data.base import LOADER_SETTINGS, EpochShuffle, TaskDataModule
from tunelab.data.settings import Loader, Sampling


class FixedData(TaskDataModule):
    """Items of `lengths` (and `weights`) for every split; no corpus."""

    keep = ("index",)
    DEFAULTS = {"batch_size": 2, "eval_batch_size": 3, "eval_max_tokens": 12}

    def __init__(self, tokenizer: str, *, loader: Loader, sampling: Sampling, max_length=16):
        super().__init__()
        self.keep_settings(locals())
        self.lengths, self.weights, self.asked = [3, 1, 4, 1, 5, 9, 2, 6], None, []

    def encoded(self, split):
        self.asked.append(split)
        # each split its own items: the test split one item shorter, dev one item more
        lengths = {"train": self.lengths, "dev": [*self.lengths, 7], "test": self.lengths[:-1]}
        items = [{"input_ids": [5] * n, "index": i} for i, n in enumerate(lengths[split])]
        for item, weight in zip(items, self.weights or [], strict=False):
            item["weight"] = weight
        return items


@pytest.fixture
def data(tiny_bert):
    return FixedData.from_config(str(tiny_bert))


def test_input_settings_record_the_class_and_how_text_is_read_not_how_it_is_batched(data):
    settings = data.input_settings()
    assert settings == {"datamodule": f"{__name__}.FixedData", "max_length": 16}
    assert not set(settings) & (LOADER_SETTINGS | {"tokenizer"})


@pytest.mark.parametrize(
    "stage, splits",
    [("fit", ["train", "dev"]), ("validate", ["dev"]), ("test", ["test"]), ("predict", [])],
)
def test_setup_encodes_the_splits_of_each_stage(data, stage, splits):
    data.setup(stage)
    assert data.asked == splits


def test_evaluation_batches_are_length_sorted_within_both_limits(data):
    batches = list(data.val_dataloader())
    lengths = [batch["attention_mask"].sum(1).tolist() for batch in batches]
    # sorted 1 1 2 | 3 4 (3 x 4 > 12) | 5 6 | 7 | 9
    assert lengths == [[1, 1, 2], [3, 4], [5, 6], [7], [9]]
    assert sorted(i for b in batches for i in b["index"].tolist()) == list(range(9))
    assert batches[0]["input_ids"].tolist() == [[5, 0], [5, 0], [5, 5]]  # [PAD] is 0
    test = [b["attention_mask"].sum(1).tolist() for b in data.test_dataloader()]
    assert test == [[1, 1, 2], [3, 4], [5], [9]]
    assert data.asked == ["dev", "test"]


def test_training_order_is_the_epoch_shuffle_of_the_seed(data):
    loader = data.train_dataloader()
    assert isinstance(loader.sampler, EpochShuffle) and loader.batch_size == 2
    order = [i for batch in loader for i in batch["index"].tolist()]
    assert order == list(EpochShuffle(8, 2, data.shuffle_seed, lambda: (0, 0)))
    assert order == [i for batch in data.train_dataloader() for i in batch["index"].tolist()]
    assert set(data.asked) == {"train"}


def fixed(tiny_bert, batch_size: int, weights=None, lengths=None) -> FixedData:
    data = FixedData.from_config(str(tiny_bert), batch_size=batch_size)
    data.weights = weights
    data.lengths = data.lengths if lengths is None else lengths
    return data


def test_joined_items_count_as_the_texts_they_hold(tiny_bert):
    assert fixed(tiny_bert, 4).train_batch_size() == 4
    joined = fixed(tiny_bert, 4, weights=[2] * 8)
    assert joined.train_batch_size() == 2  # 16 texts in 8 items: 2 items hold 4 texts
    assert fixed(tiny_bert, 1, weights=[3] * 8).train_batch_size() == 1
    assert fixed(tiny_bert, 4, lengths=[]).train_batch_size() == 1


def test_the_position_skips_only_a_single_process_restart(data):
    assert data._position() == (0, 0)
    progress = SimpleNamespace(current=SimpleNamespace(completed=5))
    loop = SimpleNamespace(restarting=True, epoch_loop=SimpleNamespace(batch_progress=progress))
    data.trainer = SimpleNamespace(fit_loop=loop, current_epoch=2, world_size=1)
    assert data._position() == (2, 5)
    data.trainer.world_size = 2
    assert data._position() == (2, 0)
    loop.restarting, data.trainer.world_size = False, 1
    assert data._position() == (2, 0)


def test_the_tokenizer_is_the_model_s_own_and_pads_with_its_id(data):
    assert data.tokenizer is data.tokenizer  # loaded once
    assert data.pad_values == {"input_ids": data.tokenizer.pad_token_id}
    batch = data.collate([{"input_ids": [1, 2], "index": 0}, {"input_ids": [3], "index": 1}])
    assert batch["input_ids"].tolist() == [[1, 2], [3, data.tokenizer.pad_token_id]]
    assert torch.equal(batch["index"], torch.tensor([0, 1]))


def test_a_task_must_say_what_it_scores_against(data):
    assert data.fit_arguments() == {}
    with pytest.raises(NotImplementedError):
        data.references("test")
    with pytest.raises(NotImplementedError):
        TaskDataModule.encoded(data, "train")


def test_the_training_order_of_a_seed_and_epoch_never_changes():
    """Pinned: reruns and resumes of runs made by earlier versions see the same order."""
    lengths = [5, 1, 4, 2, 8, 3, 7, 6]
    assert list(EpochShuffle(8, 2, 7, lambda: (3, 0))) == [6, 1, 5, 4, 3, 2, 0, 7]
    assert list(EpochShuffle(8, 2, 7, lambda: (3, 0), lengths)) == [6, 1, 5, 4, 3, 2, 0, 7]
    # pools of one batch: each batch sorted by length, batches shuffled
    assert list(EpochShuffle(8, 2, 7, lambda: (3, 0), lengths, 1)) == [1, 6, 0, 7, 3, 2, 5, 4]
    # a short last batch stays last
    assert list(EpochShuffle(7, 2, 7, lambda: (3, 0), lengths[:7], 4))[-1] == 4
    assert list(EpochShuffle(8, 2, 7, lambda: (4, 0))) != list(
        EpochShuffle(8, 2, 7, lambda: (3, 0))
    )
