"""The dataset builder: reproducible to the byte, conditional labels true to the passage, rows on contract."""

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from lsrif_trl.data import builder
from lsrif_trl.data.builder import FEATURES, build_dataset
from lsrif_trl.data.curriculum import decompose
from lsrif_trl.data.loading import validate_rows
from lsrif_trl.data.seeds import PASSAGE_CONDITIONS, load_seed_tasks, passage_properties, seed_split
from lsrif_trl.structure import leaves, parse_structure, to_json

CONDITION_NAMES = {text: name for name, text in PASSAGE_CONDITIONS.items()}
OPTIONS = {"max_depth": 2, "soft_share": 0.2}


def _digest(dataset) -> str:
    text = json.dumps(dataset.to_list(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _conditionals(node: dict):
    if node["type"] == "conditional":
        yield node
    for child in node.get("children", []) + [node[b] for b in ("then", "else") if node.get(b)]:
        yield from _conditionals(child)


def test_same_seed_gives_the_same_bytes_and_another_seed_differs(tmp_path):
    paths = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        build_dataset(60, seed=seed, **OPTIONS).save_to_disk(str(tmp_path / name))
        paths.append(tmp_path / name / "data-00000-of-00001.arrow")
    first, again, other = (p.read_bytes() for p in paths)
    assert first == again
    assert first != other


def test_a_build_does_not_depend_on_the_process_or_its_hash_seed():
    code = (
        "import hashlib, json; from lsrif_trl.data.builder import build_dataset; "
        "ds = build_dataset(40, seed=1, max_depth=2, soft_share=0.2); "
        "print(hashlib.sha256(json.dumps(ds.to_list(), sort_keys=True, ensure_ascii=False).encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == _digest(build_dataset(40, seed=1, **OPTIONS))


def test_worker_processes_build_the_same_rows(monkeypatch):
    monkeypatch.setattr(builder, "PARALLEL_THRESHOLD", 0)
    assert _digest(build_dataset(30, seed=2, num_proc=2)) == _digest(build_dataset(30, seed=2, num_proc=1))


def test_conditional_labels_match_the_passage_and_both_branches_occur():
    passages = {task.id: task.passage for task in load_seed_tasks("builtin", split="all")}
    data = build_dataset(200, seed=5, max_depth=2, structure_mix={"conditional": 1.0}, min_constraints=2)
    root_active = Counter()
    for row in data:
        tree = json.loads(row["structure"])
        props = passage_properties(passages[row["source"].removeprefix("lsrif-builder:")])
        nodes = list(_conditionals(tree))
        assert nodes and tree["type"] == "conditional"
        root_active[tree["active"]] += 1
        for node in nodes:
            assert node["active"] == ("then" if props[CONDITION_NAMES[node["condition"]]] else "else"), row["id"]
    assert min(root_active.values()) > 0.35 * len(data), root_active


def test_rows_follow_the_contract():
    data = build_dataset(120, seed=6, max_depth=3, soft_share=0.3)
    assert data.features == FEATURES
    validate_rows(data)
    for row in data:
        assert row["prompt"][0]["role"] == "user" and len(row["prompt"]) == 1
        assert row["level"] == row["n_constraints"] == len(leaves(parse_structure(row["structure"])))
        assert 2 <= row["n_constraints"] <= 8 and 1 <= row["depth"] <= 3
        assert row["source"].startswith("lsrif-builder:")
    assert len(set(data["id"])) == len(data)


def test_families_restrict_the_hard_constraints():
    data = build_dataset(40, seed=7, families=["train:count"], max_constraints=4)
    assert {f for families in data["families"] for f in families} == {"train:count"}


def test_curriculum_emits_every_level_of_each_instruction():
    plain = build_dataset(12, seed=8, **OPTIONS)
    staged = build_dataset(12, seed=8, curriculum=True, **OPTIONS)
    assert len(staged) == sum(plain["n_constraints"])
    for row in plain:
        levels = [r for r in staged if r["id"].startswith(row["id"] + "-L")]
        assert [r["level"] for r in levels] == list(range(1, row["n_constraints"] + 1))
        expected = [to_json(t) for t in decompose(parse_structure(row["structure"]))]
        assert [r["structure"] for r in levels] == expected


def test_eval_seed_split_uses_only_held_out_tasks():
    data = build_dataset(40, seed=9, seed_split="eval")
    assert {seed_split(source.removeprefix("lsrif-builder:")) for source in data["source"]} == {"eval"}


def test_impossible_requests_fail_before_building():
    with pytest.raises(ValueError, match="num_examples"):
        build_dataset(0)
    with pytest.raises(ValueError, match="compatible"):
        build_dataset(
            5, families=["train:repeat"], min_constraints=3, max_constraints=3, structure_mix={"parallel": 1}
        )


def test_built_prompts_never_exceed_a_sane_size():
    data = build_dataset(100, seed=10, max_depth=3)
    assert max(len(p[0]["content"]) for p in data["prompt"]) < 6000


def test_every_row_records_where_its_connectors_constraints_verbs_and_task_are():
    from lsrif_trl.data.render import ACTION_VERBS, SPAN_CATEGORIES

    for row in build_dataset(60, seed=4, **OPTIONS).to_list():
        text, spans = row["prompt"][-1]["content"], json.loads(row["spans"])
        assert set(spans) <= set(SPAN_CATEGORIES) and {"constraint", "task"} <= set(spans)
        assert all(0 <= start < end <= len(text) for ranges in spans.values() for start, end in ranges)
        assert all(text[start:end].capitalize() in ACTION_VERBS for start, end in spans.get("verb", []))


def test_every_builtin_seed_task_opens_with_an_action_verb():
    from lsrif_trl.data.render import ACTION_VERBS

    assert {task.task.split(" ", 1)[0] for task in load_seed_tasks("builtin", split="all")} <= ACTION_VERBS
