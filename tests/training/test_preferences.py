"""The reward model's pairs are read like every recipe's rows: the recipe's dataset_config reaches the loader."""

import pytest

from lsrif_trl.training.args import RMScriptArguments
from lsrif_trl.training.errors import RecipeError
from lsrif_trl.training.preferences import load_preference_data


def test_each_split_of_the_pairs_is_loaded_with_the_recipe_dataset_config(monkeypatch):
    calls = []

    def unreachable(name, split, validate, config):
        calls.append((name, split, config))
        raise OSError("offline")

    monkeypatch.setattr("lsrif_trl.data.loading.load_training_dataset", unreachable)
    args = RMScriptArguments(dataset_name="owner/pairs", dataset_config="soft")
    with pytest.raises(RecipeError, match="'owner/pairs' split 'train' could not be loaded"):
        load_preference_data(args)
    assert calls == [("owner/pairs", "train", "soft")]
