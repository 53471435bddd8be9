"""One rule decides whether a name is a local path or a Hub id, for data and models alike."""

import pytest

from lsrif_trl.sources import is_local, looks_like_hub_id


@pytest.mark.parametrize("name", ["gpt2", "Qwen/Qwen2.5-7B-Instruct", "allenai/tulu-3-sft-mixture", "org/name.v2"])
def test_names_that_read_as_hub_ids(name):
    assert looks_like_hub_id(name) and not is_local(name)


@pytest.mark.parametrize(
    "name",
    ["./data/built", "/abs/path", "~/data", "a/b/c", "rows.jsonl", "owner/train.parquet", "has space", "org/"],
)
def test_names_that_read_as_paths(name):
    assert not looks_like_hub_id(name)


def test_a_name_inside_an_existing_folder_is_a_path(tmp_path, monkeypatch):
    (tmp_path / "outputs").mkdir()
    monkeypatch.chdir(tmp_path)
    assert not looks_like_hub_id("outputs/missing-model")  # a typo in a local path, not a Hub id
    assert looks_like_hub_id("someone/model")
    assert is_local("outputs")
