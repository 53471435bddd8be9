"""A recipe's training rows: bad files stop it naming file and line, and Hub ids are never built locally."""

import pytest

from lsrif_trl.training.args import GRPOScriptArguments
from lsrif_trl.training.data import load_rows, prepare_dataset
from lsrif_trl.training.errors import RecipeError


def test_a_truncated_jsonl_stops_the_recipe_naming_the_file_and_line(tmp_path, no_model_loading):
    path = tmp_path / "train.jsonl"
    path.write_text(
        '{"prompt": "a", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}\n{"prompt": "b", "inst'
    )
    with pytest.raises(RecipeError, match=rf"{path} line 2: not valid JSON .*looks truncated"):
        prepare_dataset(GRPOScriptArguments(dataset_name=str(path)))


def test_a_hub_id_that_is_not_on_disk_is_loaded_from_the_hub_and_never_built_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = GRPOScriptArguments(dataset_name="lsrif-tests/never-there", build_dataset_rows=8)
    with pytest.raises(RecipeError, match=r"Hub dataset 'lsrif-tests/never-there' could not be loaded.*builds local"):
        load_rows(args)
    assert list(tmp_path.iterdir()) == []  # nothing was built under the Hub id's name


def test_a_missing_local_path_the_recipe_owns_is_built(tmp_path):
    args = GRPOScriptArguments(dataset_name=str(tmp_path / "built"), build_dataset_rows=3)
    assert len(load_rows(args)) == 3


def test_the_recipe_key_dataset_config_picks_the_configuration_it_trains_on(two_config_folder):
    args = GRPOScriptArguments(dataset_name=str(two_config_folder), dataset_config="hard")
    assert load_rows(args)["prompt"] == ["hard task 0", "hard task 1", "hard task 2"]


def test_dataset_config_for_a_folder_the_recipe_would_build_stops_before_building(tmp_path):
    args = GRPOScriptArguments(dataset_name=str(tmp_path / "built"), build_dataset_rows=3, dataset_config="hard")
    with pytest.raises(RecipeError, match="dataset_config: 'hard' with build_dataset_rows"):
        load_rows(args)
    assert not (tmp_path / "built").exists()
