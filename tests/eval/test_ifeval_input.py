"""Reading IFEval's prompts: the Hub copy (None-padded kwargs) and a clear error when it cannot be loaded."""

import datasets
import pytest

from lsrif_trl.eval.ifeval import HUB_DATASET, IFEvalInputError, load_input_data, score_ifeval

HUB_ROWS = [
    {
        "key": 1000,
        "prompt": "Write a haiku without commas.",
        "instruction_id_list": ["punctuation:no_comma", "length_constraints:number_words"],
        "kwargs": [
            {"num_words": None, "relation": None, "keywords": None, "language": None},
            {"num_words": 20, "relation": "less than", "keywords": None, "language": None},
        ],
    }
]


def test_hub_rows_are_read_with_their_none_padding_dropped(monkeypatch):
    calls = []

    def fake_load_dataset(name, config, split):
        calls.append((name, config, split))
        return HUB_ROWS

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    [example] = load_input_data(None)
    assert calls == [(HUB_DATASET, None, "train")]
    assert example.kwargs == [{}, {"num_words": 20, "relation": "less than"}]
    report = score_ifeval([example], {example.prompt: "quiet pond\nfrog leaps in\nsplash"})
    assert report.metrics()["prompt_level_strict"] == 1.0


def test_an_unreachable_hub_is_an_error_that_names_the_offline_file(monkeypatch):
    def offline(name, config, split):
        raise ConnectionError("offline mode is enabled")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(IFEvalInputError, match=r"could not load google/IFEval.*--input-data .*input_data\.jsonl"):
        load_input_data(None)


def test_an_unknown_instruction_id_in_the_input_names_the_row_and_suggests_the_fix(tmp_path):
    path = tmp_path / "input.jsonl"
    path.write_text(
        '{"key": 7, "prompt": "p", "instruction_id_list": ["punctuation:no_commas"], "kwargs": [{}]}\n',
        encoding="utf-8",
    )
    with pytest.raises(IFEvalInputError, match=r"line 1: instruction 0: .*did you mean punctuation:no_comma"):
        load_input_data(path)
