"""The toy world: every structure type, depth 2, conditionals on what the passage shows whose branches conflict."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from lsrif_trl.data.builder import build_examples, shape_options
from lsrif_trl.data.compose import ComposeConfig, branch_slots, sample_shape
from lsrif_trl.data.seeds import PASSAGE_CONDITIONS, load_seed_tasks, passage_properties
from lsrif_trl.data.worlds import TOY, TOY_KEYWORDS, get_world
from lsrif_trl.structure import ConditionalNode, ConstraintNode, Node, children_of, leaves

CONDITION_NAMES = {text: name for name, text in PASSAGE_CONDITIONS.items()}


@pytest.fixture(scope="module")
def toy_examples():
    return build_examples(300, seed=5, world="toy")


def conditionals(node: Node):
    if isinstance(node, ConditionalNode):
        yield node
    for child in children_of(node):
        yield from conditionals(child)


def contradict(a: ConstraintNode, b: ConstraintNode) -> bool:
    """Whether no answer can satisfy both leaves (the world's kinds of conflicting pairs)."""
    ids = {a.id, b.id}
    if ids == {"change_case:english_lowercase", "change_case:english_capital"}:
        return True
    if ids == {"keywords:existence", "keywords:forbidden_words"}:
        required = a.kwargs.get("keywords", b.kwargs.get("keywords"))
        return required == a.kwargs.get("forbidden_words", b.kwargs.get("forbidden_words"))
    return a.id == b.id and a.id in ("startend:end_checker", "words:first_word") and a.kwargs != b.kwargs


def test_every_structure_type_occurs_and_trees_stay_within_depth_two_and_three_constraints(toy_examples):
    types = Counter(e.row["structure_type"] for e in toy_examples)
    assert set(types) == {"parallel", "sequential", "conditional", "nested"}
    assert {e.row["depth"] for e in toy_examples} == {1, 2}
    assert {e.row["n_constraints"] for e in toy_examples} == {2, 3}


def test_each_conditional_has_branches_that_no_answer_can_both_satisfy(toy_examples):
    found = 0
    for example in toy_examples:
        for node in conditionals(example.tree):
            found += 1
            assert any(contradict(a, b) for a in leaves(node.then) for b in leaves(node.else_)), example.row[
                "structure"
            ]
    assert found > 50


def test_conditions_are_what_the_passage_shows_and_the_active_branch_follows_it(toy_examples):
    tasks = {t.id: t for t in load_seed_tasks("toy")}
    seen = Counter()
    for example in toy_examples:
        task = tasks[example.row["source"].removeprefix("lsrif-builder:")]
        for node in conditionals(example.tree):
            name = CONDITION_NAMES[node.condition]
            assert name in TOY.conditions
            assert node.active == ("then" if passage_properties(task.passage)[name] else "else")
            seen[node.active] += 1
    assert min(seen.values()) > 0.3 * sum(seen.values())  # both branches are asked for


def test_leaves_come_from_the_worlds_constraints_with_its_small_vocabularies(toy_examples):
    allowed = set(TOY.constraint_ids) | {"keywords:forbidden_words"}  # forbidding a word only in a branch pair
    for example in toy_examples:
        for leaf in leaves(example.tree):
            assert leaf.id in allowed
            for word in leaf.kwargs.get("keywords", []) + leaf.kwargs.get("forbidden_words", []):
                assert word in TOY_KEYWORDS
    assert max(len(e.row["prompt"][0]["content"]) for e in toy_examples) < 900  # short prompts


def test_held_out_prompts_come_only_from_held_out_seed_tasks():
    train = {t.id for t in load_seed_tasks("toy", split="train", eval_fraction=TOY.eval_fraction)}
    held_out = build_examples(50, seed=9, world="toy", seed_split="eval")
    sources = {e.row["source"].removeprefix("lsrif-builder:") for e in held_out}
    assert sources and not sources & train


def test_a_world_builds_the_same_rows_for_the_same_seed():
    first, again = (build_examples(20, seed=3, world="toy") for _ in range(2))
    assert [e.row for e in first] == [e.row for e in again]


def test_shape_options_given_beat_the_worlds_which_beat_the_composers():
    assert shape_options("toy")["max_constraints"] == 3
    assert shape_options("toy", max_constraints=4)["max_constraints"] == 4
    assert shape_options(None)["max_constraints"] == ComposeConfig().max_constraints


def test_branch_slots_are_distinct_or_the_shape_is_refused():
    config = ComposeConfig(
        min_constraints=3, max_constraints=3, max_depth=2, structure_mix={"conditional": 1.0, "parallel": 1.0}
    )
    rng = random.Random(0)
    outcomes = Counter()
    for _ in range(200):
        shape = sample_shape(config, rng)
        slots = branch_slots(shape)
        outcomes[slots is None] += 1
        if slots is not None:
            flat = [slot for pair in slots for slot in pair]
            assert len(flat) == len(set(flat)) == 2 * shape.n_conditionals
    assert outcomes[False] and outcomes[True]  # a conditional directly under a conditional has no free slot


@pytest.mark.parametrize(
    ("options", "message"),
    [({"families": ["train"]}, "sets its own seed tasks"), ({"seed_source": "x.jsonl"}, "sets its own seed tasks")],
)
def test_a_world_refuses_options_it_sets_itself(options, message):
    with pytest.raises(ValueError, match=message):
        build_examples(2, world="toy", **options)


def test_an_unknown_world_is_named_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown world 'big'; known worlds: \['toy'\]"):
        get_world("big")
