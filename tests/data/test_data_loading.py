"""Loading and validation: every problem is reported with its row and field; good data loads from any format."""

import json

import pytest
from datasets import Dataset

from lsrif_trl.data.builder import build_dataset
from lsrif_trl.data.loading import (
    DatasetValidationError,
    load_training_dataset,
    row_errors,
    save_dataset,
    validate_rows,
)

GOOD_TREE = {
    "type": "parallel",
    "children": [
        {"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}, "kind": "hard"},
        {"type": "constraint", "id": "soft:tone", "text": "Use a calm tone.", "kind": "soft"},
    ],
}


def _row(**overrides):
    row = {
        "id": "r",
        "prompt": [{"role": "user", "content": "Write a haiku."}],
        "structure": json.dumps(GOOD_TREE),
        "structure_type": "parallel",
        "depth": 1,
        "level": 2,
        "n_constraints": 2,
        "source": "test",
        "families": ["ifeval:punctuation", "soft"],
    }
    return {**row, **overrides}


def _dataset(rows):
    return Dataset.from_list(rows)


def test_a_built_dataset_is_valid():
    validate_rows(build_dataset(30, seed=0, max_depth=3, soft_share=0.3))


def test_each_bad_row_is_named_with_its_field():
    bad_kwargs = dict(
        GOOD_TREE,
        children=[
            {
                "type": "constraint",
                "id": "length_constraints:number_words",
                "kwargs": {"num_words": "many", "relation": "at least"},
            }
        ],
    )
    rows = [
        _row(id="ok"),
        _row(id="role", prompt=[{"role": "bot", "content": "hi"}]),
        _row(id="unknown", structure=json.dumps({"type": "constraint", "id": "punctuation:no_coma"})),
        _row(id="kwargs", structure=json.dumps(bad_kwargs), n_constraints=1, level=1),
        _row(id="count", n_constraints=5),
        _row(id="json", structure="{not json"),
        _row(id="ok"),
    ]
    errors, total = row_errors(_dataset(rows))
    assert total == len(errors) == 6
    assert errors[0].startswith("row 1 (id role): prompt[0].role:")
    assert errors[1].startswith("row 2 (id unknown): structure: id:") and "punctuation:no_comma" in errors[1]
    assert errors[2].startswith("row 3 (id kwargs): structure: children[0].kwargs.num_words:")
    assert errors[3] == "row 4 (id count): n_constraints: says 5 but the structure gives 2"
    assert errors[4].startswith("row 5 (id json): structure: ") and "not valid JSON" in errors[4]
    assert errors[5] == "row 6 (id ok): id: 'ok' repeats row 0"
    with pytest.raises(DatasetValidationError, match="6 problem"):
        validate_rows(_dataset(rows))


def test_missing_columns_are_reported_before_any_row():
    errors, _ = row_errors(Dataset.from_dict({"text": ["hi"]}))
    assert errors == ["columns: no `prompt` column (found ['text'])"]


def test_flat_ifeval_rows_and_plain_string_prompts_are_accepted():
    data = Dataset.from_dict(
        {
            "prompt": ["Write a haiku without commas."],
            "instruction_id_list": [["punctuation:no_comma"]],
            "kwargs": [[{}]],
        }
    )
    validate_rows(data)


def test_a_conversation_must_end_with_the_user():
    rows = [_row(prompt=[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}])]
    errors, _ = row_errors(_dataset(rows))
    assert errors == ["row 0 (id r): prompt[1].role: the last message must be the user's turn, got 'assistant'"]


@pytest.mark.parametrize("fmt", ["disk", "parquet", "jsonl"])
def test_saved_data_loads_back_validated_in_every_format(tmp_path, fmt):
    data = build_dataset(20, seed=1, max_depth=2)
    path = save_dataset(data, tmp_path / "out", fmt)
    loaded = load_training_dataset(str(path))
    assert loaded.to_list() == data.to_list()


def test_loading_invalid_data_fails_naming_the_source(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(_row(structure_type="nested")) + "\n")
    with pytest.raises(DatasetValidationError, match=r"(?s)bad.jsonl: 1 problem.*structure_type: says 'nested'"):
        load_training_dataset(str(path))


def test_a_missing_local_path_is_not_mistaken_for_a_hub_id(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_training_dataset(str(tmp_path / "nowhere" / "data.parquet"))


def test_an_unreachable_hub_id_fails_with_the_fix():
    with pytest.raises(ValueError, match="could not load it as a Hub dataset.*HF_HUB_OFFLINE"):
        load_training_dataset("lsrif-tests/never-there")


def test_a_configuration_picks_that_configuration_of_a_dataset_folder(two_config_folder):
    hard = load_training_dataset(str(two_config_folder), config="hard")
    assert hard["prompt"] == ["hard task 0", "hard task 1", "hard task 2"]
    assert len(load_training_dataset(str(two_config_folder), config="easy")) == 2
    with pytest.raises(ValueError, match="medium"):
        load_training_dataset(str(two_config_folder), config="medium")


def test_a_configuration_is_refused_for_a_file_or_a_saved_folder_which_have_none(tmp_path):
    data = build_dataset(4, seed=1, max_depth=1)
    for fmt, what in (("disk", "save_to_disk folder"), ("jsonl", "file")):
        path = save_dataset(data, tmp_path / fmt, fmt)  # the folder, or the file in it
        with pytest.raises(
            ValueError, match=rf"dataset_config 'main' .* this {what} has none; drop dataset_config \(`--config`\)"
        ):
            load_training_dataset(str(path), config="main")


def test_a_hub_dataset_is_loaded_with_its_configuration(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "lsrif_trl.data.loading.load_dataset", lambda *a, **k: calls.append((a, k)) or Dataset.from_list([])
    )
    load_training_dataset("owner/name", split="test", validate=False, config="main")
    assert calls == [(("owner/name", "main"), {"split": "test"})]


def test_rows_that_could_hang_or_exhaust_the_reward_are_rejected_naming_row_field_and_limit():
    def leaf(cid, **kwargs):
        return {"type": "constraint", "id": cid, "kwargs": kwargs}

    deep = leaf("punctuation:no_comma")
    for _ in range(300):
        deep = {"type": "sequential", "children": [deep]}
    trees = [
        {"type": "parallel", "children": [leaf("keywords:existence", keywords=["(a|aa)*c"])]},
        {"type": "parallel", "children": [leaf("format:numbered_list", num_items=10**9)]},
        deep,
    ]
    rows = [_row(id=f"r{i}", structure=json.dumps(tree), n_constraints=1, level=1) for i, tree in enumerate(trees)]
    errors, _ = row_errors(_dataset(rows))
    assert errors[0].startswith("row 0 (id r0): structure: children[0].kwargs.keywords:")
    assert "regular-expression syntax" in errors[0]
    assert errors[1].startswith("row 1 (id r1): structure: children[0].kwargs.num_items:") and "<= 100" in errors[1]
    assert errors[2].startswith("row 2 (id r2): structure: children[0]") and "limit of 8" in errors[2]


def test_the_families_column_must_agree_with_the_tree():
    errors, _ = row_errors(_dataset([_row(families=["train:format"])]))
    assert errors == [
        "row 0 (id r): families: says ['train:format'] but the structure gives ['ifeval:punctuation', 'soft']"
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"empty file, no JSON lines"),
        (b"\n  \n", r"empty file, no JSON lines"),
        ('{"prompt": "caf\u00e9"}\n'.encode("latin-1"), r"line 1: not UTF-8 \(byte 0xe9 at column 16\)"),
        (b'{"prompt": "a"}\n{"prompt": "b"', r"line 2: not valid JSON .*the last line looks truncated"),
        (b'{"prompt": "a"}\n{"prompt" "b"}\n{"prompt": "c"}\n', r"line 2: not valid JSON"),
        (b'{"prompt": "a"}\n["b"]\n', r"line 2: expected a JSON object, got list"),
    ],
)
def test_a_corrupted_jsonl_file_fails_naming_the_file_and_line(tmp_path, content, message):
    path = tmp_path / "data.jsonl"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"{path}.*{message}"):
        load_training_dataset(str(path))


def test_jsonl_lines_that_do_not_form_one_table_name_the_file(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"prompt": "a", "x": 1}\n{"prompt": "b", "x": {"y": 2}}\n')
    with pytest.raises(ValueError, match=f"{path}: the lines do not form one table"):
        load_training_dataset(str(path))
