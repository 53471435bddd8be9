"""A benchmark's input rows: each named by its file and line or its Hub dataset and row; a clear error otherwise."""

import datasets
import pytest

from lsrif_trl.eval.inputs import input_rows


class InputError(ValueError):
    pass


def test_file_rows_are_named_by_file_and_line(tmp_path):
    path = tmp_path / "input.jsonl"
    path.write_text('{"prompt": "a"}\n\n{"prompt": "b"}\n')
    rows = input_rows(path, "owner/bench", InputError, "pass --input-data FILE")
    assert rows == [(f"{path} line 1", {"prompt": "a"}), (f"{path} line 3", {"prompt": "b"})]


def test_a_broken_or_empty_file_raises_the_benchmark_error_naming_it(tmp_path):
    path = tmp_path / "input.jsonl"
    path.write_text('{"prompt": "a"}\n{"prompt": \n')
    with pytest.raises(InputError, match=rf"{path} line 2"):
        input_rows(path, "owner/bench", InputError, "hint")
    path.write_text("")
    with pytest.raises(InputError, match="input.jsonl"):
        input_rows(path, "owner/bench", InputError, "hint")


def test_without_a_file_the_hub_dataset_is_read_with_its_configuration_and_split(monkeypatch):
    calls = []

    def fake_load_dataset(name, config, split):
        calls.append((name, config, split))
        return [{"question": "1 + 1?"}]

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    rows = input_rows(None, "owner/bench", InputError, "hint", config="main", split="test")
    assert rows == [("owner/bench row 0", {"question": "1 + 1?"})] and calls == [("owner/bench", "main", "test")]


def test_an_unreachable_or_empty_hub_dataset_is_the_benchmark_error_with_the_offline_hint(monkeypatch):
    def offline(name, config, split):
        raise ConnectionError("offline mode is enabled")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(InputError, match=r"could not load owner/bench from the Hub .*; pass --input-data FILE"):
        input_rows(None, "owner/bench", InputError, "pass --input-data FILE")
    monkeypatch.setattr(datasets, "load_dataset", lambda name, config, split: [])
    with pytest.raises(InputError, match="owner/bench: no rows found"):
        input_rows(None, "owner/bench", InputError, "hint")
