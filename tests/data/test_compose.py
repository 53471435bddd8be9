"""Composition: sampled constraint sets never contradict themselves; the structure follows the mix and depth."""

import random
from collections import Counter

import pytest

from lsrif_trl.constraints.registry import get_constraint
from lsrif_trl.data.compose import (
    ComposeConfig,
    Condition,
    fill_shape,
    id_conflict,
    pair_conflict,
    parse_mix,
    sample_leaves,
    sample_shape,
    set_conflict,
)
from lsrif_trl.data.constraint_pool import ConstraintPool
from lsrif_trl.structure import ConstraintNode, depth, leaves, parse_structure, to_dict


def hard(constraint_id: str, **kwargs) -> ConstraintNode:
    return ConstraintNode(id=constraint_id, kind="hard", kwargs=kwargs)


@pytest.fixture(scope="module")
def pool() -> ConstraintPool:
    return ConstraintPool.from_families(None, soft_share=0.2)


def test_no_contradictory_pair_is_ever_sampled(pool):
    rng = random.Random(0)
    for _ in range(1500):
        chosen = sample_leaves(rng.randint(2, 8), pool, rng)
        ids = [leaf.id for leaf in chosen]
        assert len(set(ids)) == len(ids)
        for a in chosen:
            for b in chosen:
                if a is not b and a.kind == b.kind == "hard":
                    assert b.id not in get_constraint(a.id).conflicts_with, (a.id, b.id)
        assert set_conflict(chosen) is None


def test_sampled_kwargs_pass_each_constraint_schema(pool):
    rng = random.Random(1)
    for leaf in sample_leaves(8, pool, rng) + sample_leaves(8, pool, rng):
        if leaf.kind == "hard":
            assert get_constraint(leaf.id).validate(leaf.kwargs) == leaf.kwargs


@pytest.fixture
def undeclared(monkeypatch):
    """Forget the given constraints' `conflicts_with`, so a test sees the composer's own rules alone."""

    def forget(*ids: str) -> None:
        for constraint_id in ids:
            monkeypatch.setattr(get_constraint(constraint_id), "conflicts_with", frozenset())

    id_conflict.cache_clear()  # verdicts are cached per id pair
    yield forget
    id_conflict.cache_clear()


def test_two_letter_case_constraints_conflict(undeclared):
    undeclared("change_case:english_lowercase", "change_case:capital_word_frequency")
    frequency = hard("change_case:capital_word_frequency", capital_frequency=3, capital_relation="at least")
    assert pair_conflict(hard("change_case:english_lowercase"), frequency) == "two letter-case constraints"


def test_json_output_excludes_other_layout_constraints_but_not_keywords(undeclared):
    undeclared("detectable_format:json_format", "format:numbered_list", "words:last_word", "keywords:existence")
    json_leaf = hard("detectable_format:json_format")
    layout = "JSON output with another layout constraint"
    assert pair_conflict(json_leaf, hard("format:numbered_list", num_items=3)) == layout
    assert pair_conflict(hard("words:last_word", last_word="river"), json_leaf) == layout
    assert pair_conflict(json_leaf, hard("keywords:existence", keywords=["river"])) is None


def test_declared_conflicts_count_in_both_directions(undeclared, monkeypatch):
    monkeypatch.setattr(get_constraint("keywords:existence"), "conflicts_with", frozenset({"punctuation:no_comma"}))
    monkeypatch.setattr(get_constraint("punctuation:no_comma"), "conflicts_with", frozenset())
    a, b = hard("keywords:existence", keywords=["river"]), hard("punctuation:no_comma")
    assert pair_conflict(a, b) == pair_conflict(b, a) == "conflicts_with"


def test_word_limit_must_leave_room_for_required_length():
    limit = hard("length_constraints:number_words", num_words=60, relation="less than")
    assert set_conflict([limit, hard("length_constraints:number_paragraphs", num_paragraphs=5)]) is not None
    assert set_conflict([limit, hard("detectable_format:number_bullet_lists", num_bullets=3)]) is None
    roomy = hard("length_constraints:number_words", num_words=400, relation="less than")
    assert set_conflict([roomy, hard("length_constraints:number_paragraphs", num_paragraphs=5)]) is None


def test_word_budget_adds_up_what_every_other_constraint_needs():
    limit = hard("length_constraints:number_words", num_words=100, relation="less than")
    each_fits = [
        hard("detectable_format:number_bullet_lists", num_bullets=10),  # 30 words
        hard("length_constraints:number_sentences", num_sentences=10, relation="at least"),  # 50 words
    ]
    assert set_conflict([limit, each_fits[0]]) is None and set_conflict([limit, each_fits[1]]) is None
    assert set_conflict([limit, *each_fits]) is not None


def test_response_language_excludes_english_words_to_include(undeclared):
    undeclared("language:response_language", "words:first_word", "punctuation:no_exclamation")
    german = hard("language:response_language", language="de")
    assert pair_conflict(german, hard("words:first_word", first_word="river")) is not None
    assert pair_conflict(german, hard("punctuation:no_exclamation")) is None


def test_two_soft_texts_of_one_dimension_conflict():
    a = ConstraintNode(id="soft:tone", kind="soft", text="Use a warm, friendly tone throughout.")
    b = ConstraintNode(id="soft:tone", kind="soft", text="Keep the tone enthusiastic and upbeat.")
    assert pair_conflict(a, b) is not None


@pytest.mark.parametrize("mix", [{"parallel": 1.0}, {"parallel": 0.5, "sequential": 0.2, "conditional": 0.3}])
def test_root_kinds_follow_the_structure_mix(mix):
    config = ComposeConfig(structure_mix=mix)
    rng = random.Random(2)
    shapes = [sample_shape(config, rng) for _ in range(3000)]
    counts = Counter(_root_kind(s.tree) for s in shapes)
    for kind, share in config.structure_mix.items():
        assert abs(counts[kind] / len(shapes) - share) < 0.035, (kind, counts)


def _root_kind(tree) -> str:
    return getattr(tree, "kind", "conditional")


@pytest.mark.parametrize("max_depth", [1, 2, 3])
def test_depth_never_exceeds_max_depth_and_every_depth_occurs(max_depth):
    config = ComposeConfig(max_depth=max_depth)
    rng = random.Random(3)
    seen = Counter()
    for _ in range(600):
        shape = sample_shape(config, rng)
        conditions = [Condition(f"condition {i}", rng.random() < 0.5) for i in range(shape.n_conditionals)]
        leaf_nodes = [hard("punctuation:no_comma") for _ in range(shape.n_leaves)]
        tree = fill_shape(shape, leaf_nodes, conditions)
        assert 2 <= len(leaves(tree)) <= 8
        seen[depth(tree)] += 1
    assert set(seen) == set(range(1, max_depth + 1))


def test_filled_trees_parse_and_conditionals_store_the_input_truth():
    config = ComposeConfig(max_depth=3, structure_mix={"conditional": 1.0})
    rng = random.Random(4)
    pool = ConstraintPool.from_families(None)
    for _ in range(100):
        shape = sample_shape(config, rng)
        conditions = [Condition(f"c{i}", rng.random() < 0.5) for i in range(shape.n_conditionals)]
        tree = to_dict(fill_shape(shape, sample_leaves(shape.n_leaves, pool, rng), conditions))
        parse_structure(tree)
        assert tree["active"] == ("then" if conditions[0].holds else "else")


def test_constraint_counts_stay_in_the_configured_range():
    config = ComposeConfig(min_constraints=3, max_constraints=5, max_depth=2)
    rng = random.Random(5)
    counts = {sample_shape(config, rng).n_leaves for _ in range(500)}
    assert counts == {3, 4, 5}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_constraints": 5, "max_constraints": 3}, "min_constraints <= max_constraints"),
        ({"min_constraints": 3}, "set conditional=0"),
        ({"max_depth": 4, "max_constraints": 4}, r"needs d\+1 constraints"),
        ({"soft_share": 1.5}, "soft_share"),
    ],
)
def test_bad_configs_are_rejected_with_the_fix(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ComposeConfig(**kwargs)


def test_structure_mix_text_is_parsed_and_normalised():
    assert parse_mix("parallel=2,sequential=1,conditional=1") == {
        "parallel": 0.5,
        "sequential": 0.25,
        "conditional": 0.25,
    }
    assert parse_mix("sequential=1")["parallel"] == 0.0
    with pytest.raises(ValueError, match="unknown kind 'loop'"):
        parse_mix("loop=1")
    with pytest.raises(ValueError, match="KIND=WEIGHT"):
        parse_mix("parallel")


def test_unknown_family_is_rejected_naming_the_registered_ones():
    with pytest.raises(ValueError, match="unknown constraint family 'nope'"):
        ConstraintPool.from_families(("nope",))


def test_family_prefix_selects_every_family_under_it():
    pool = ConstraintPool.from_families(("ifeval",))
    assert pool.hard and all(get_constraint(i).family.startswith("ifeval:") for i in pool.hard)


def test_a_forbidden_word_cannot_be_required_elsewhere(undeclared):
    undeclared("keywords:forbidden_words", "keywords:frequency", "words:first_word")
    forbidden = hard("keywords:forbidden_words", forbidden_words=["mountain", "winter"])
    required = hard("keywords:frequency", keyword="mountain", frequency=2, relation="at least")
    assert pair_conflict(forbidden, required) == "a forbidden word that another constraint requires"
    assert pair_conflict(hard("words:first_word", first_word="river"), forbidden) is None


def test_a_forbidden_character_cannot_sit_in_a_required_phrase(undeclared):
    """Found by the experts: `Hope this helps!` as the end phrase with no exclamation marks has no answer."""
    undeclared("startend:end_checker", "punctuation:no_exclamation", "punctuation:no_comma")
    ending = hard("startend:end_checker", end_phrase="Hope this helps!")
    reason = "a forbidden character in a word or phrase another constraint requires"
    assert pair_conflict(hard("punctuation:no_exclamation"), ending) == reason
    assert pair_conflict(ending, hard("punctuation:no_exclamation")) == reason
    assert pair_conflict(hard("punctuation:no_comma"), ending) is None


def test_one_constraint_at_most_fixes_the_opening_and_one_the_closing(undeclared):
    undeclared("words:first_word", "detectable_format:title", "words:last_word", "detectable_content:postscript")
    assert pair_conflict(hard("words:first_word", first_word="river"), hard("detectable_format:title"))
    postscript = hard("detectable_content:postscript", postscript_marker="P.S.")
    assert pair_conflict(hard("words:last_word", last_word="river"), postscript)
    assert pair_conflict(hard("words:first_word", first_word="river"), postscript) is None
