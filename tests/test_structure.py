"""The logic tree (docs/structure.md): parsing with path-naming errors, IFEval rows, round trip, helpers."""

import json

import pytest

from lsrif_trl.structure import (
    MAX_TREE_DEPTH,
    MAX_TREE_LEAVES,
    ConditionalNode,
    ConstraintNode,
    ParallelNode,
    SequentialNode,
    StructureError,
    active_leaves,
    depth,
    leaves,
    parse_ifeval_row,
    parse_structure,
    render_line,
    structure_type,
    to_dict,
    to_json,
)

NO_COMMA = {"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}, "kind": "hard"}
LOWER = {"type": "constraint", "id": "change_case:english_lowercase", "kwargs": {}, "kind": "hard"}
WORDS = {
    "type": "constraint",
    "id": "length_constraints:number_words",
    "kwargs": {"num_words": 50, "relation": "less than"},
    "kind": "hard",
}
TONE = {"type": "constraint", "id": "soft:tone", "text": "Use a warm, friendly tone throughout.", "kind": "soft"}
NESTED = {
    "type": "sequential",
    "children": [
        NO_COMMA,
        {"type": "parallel", "children": [LOWER, TONE]},
        {"type": "conditional", "condition": "the text is a question", "active": "else", "then": WORDS, "else": LOWER},
    ],
}


def test_parses_every_node_kind_into_typed_nodes():
    tree = parse_structure(NESTED)
    assert isinstance(tree, SequentialNode)
    first, second, third = tree.children
    assert isinstance(first, ConstraintNode) and first.id == "punctuation:no_comma" and first.kind == "hard"
    assert isinstance(second, ParallelNode)
    assert second.children[1].kind == "soft" and second.children[1].text.startswith("Use a warm")
    assert isinstance(third, ConditionalNode) and third.active == "else" and third.active_branch is third.else_


def test_json_strings_and_dicts_parse_alike_and_round_trip():
    tree = parse_structure(json.dumps(NESTED))
    assert to_dict(tree) == NESTED
    assert to_json(parse_structure(to_json(tree))) == to_json(tree)


def test_kwargs_are_normalised_by_the_constraint_schema():
    leaf = parse_structure({**WORDS, "kwargs": {"num_words": 50.0, "relation": "less than"}})
    assert leaf.kwargs == {"num_words": 50, "relation": "less than"}
    assert isinstance(leaf.kwargs["num_words"], int)


def test_kind_defaults_to_hard():
    assert parse_structure({"type": "constraint", "id": "punctuation:no_comma"}).kind == "hard"


def bad(tree_with_error):
    return {
        "type": "parallel",
        "children": [
            NO_COMMA,
            NO_COMMA,
            {"type": "conditional", "condition": "c", "active": "then", "then": tree_with_error},
        ],
    }


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        (
            bad({**WORDS, "kwargs": {"num_words": "fifty", "relation": "less than"}}),
            "children[2].then.kwargs.num_words: kwarg 'num_words': expected int, got str 'fifty'",
        ),
        (bad({**WORDS, "kwargs": {"relation": "less than"}}), "children[2].then.kwargs.num_words: missing kwarg"),
        (bad({**NO_COMMA, "kwargs": {"extra": 1}}), "children[2].then.kwargs.extra: unknown kwarg 'extra'"),
        (
            bad(
                {
                    "type": "constraint",
                    "id": "length_constraints:nth_paragraph_first_word",
                    "kwargs": {"num_paragraphs": 2, "nth_paragraph": 3, "first_word": "so"},
                }
            ),
            "children[2].then.kwargs.nth_paragraph: kwarg 'nth_paragraph': expected a value <= num_paragraphs",
        ),
        (bad({**NO_COMMA, "id": "punctuation:no_comas"}), "children[2].then.id: unknown constraint id"),
        (bad({**TONE, "id": "soft:tones"}), "children[2].then.id: unknown soft constraint 'soft:tones'"),
        (bad({**TONE, "text": " "}), "children[2].then.text: a soft constraint needs the non-empty `text`"),
        (bad({**NO_COMMA, "kind": "fuzzy"}), "children[2].then.kind: expected 'hard' or 'soft'"),
        (bad({"type": "parallel", "children": []}), "children[2].then.children: expected a non-empty list"),
        (bad({"type": "sequence", "children": [NO_COMMA]}), "children[2].then.type: expected one of"),
        (bad([NO_COMMA]), "children[2].then: expected a node object"),
        (bad({**NO_COMMA, "weight": 2}), "children[2].then.weight: unknown field for a constraint node"),
        (
            {"type": "conditional", "condition": "c", "active": "both", "then": NO_COMMA},
            "active: expected 'then' or 'else'",
        ),
        (
            {"type": "conditional", "condition": "", "active": "then", "then": NO_COMMA},
            "condition: expected a non-empty",
        ),
        ({"type": "conditional", "condition": "c", "active": "else", "else": NO_COMMA}, "then: missing"),
        ("{not json", "structure: not valid JSON"),
    ],
)
def test_errors_name_the_path_inside_the_tree(tree, message):
    with pytest.raises(StructureError) as err:
        parse_structure(tree)
    assert message in str(err.value)


def test_flat_ifeval_errors_name_the_list_position():
    with pytest.raises(StructureError, match=r"row 4: kwargs\[1\]\.num_words: kwarg 'num_words': expected int"):
        parse_ifeval_row(["punctuation:no_comma", "length_constraints:number_words"], [{}, {"num_words": "x"}], row=4)
    with pytest.raises(StructureError, match=r"instruction_id_list\[0\]: unknown constraint id"):
        parse_ifeval_row(["no_comma"], [{}])
    with pytest.raises(StructureError, match="kwargs: expected a list of 2 dicts"):
        parse_ifeval_row(["punctuation:no_comma", "change_case:english_lowercase"], [{}])


def test_leaves_lists_both_branches_and_active_leaves_only_the_active_one():
    tree = parse_structure(NESTED)
    assert [leaf.id for leaf in leaves(tree)] == [
        "punctuation:no_comma",
        "change_case:english_lowercase",
        "soft:tone",
        "length_constraints:number_words",
        "change_case:english_lowercase",
    ]
    assert [leaf.id for leaf in active_leaves(tree)] == [
        "punctuation:no_comma",
        "change_case:english_lowercase",
        "soft:tone",
        "change_case:english_lowercase",
    ]


def test_depth_counts_composite_levels():
    assert depth(parse_structure(NO_COMMA)) == 0
    assert depth(parse_structure({"type": "parallel", "children": [NO_COMMA, LOWER]})) == 1
    assert depth(parse_structure(NESTED)) == 2


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        (NO_COMMA, "parallel"),
        ({"type": "parallel", "children": [NO_COMMA, {"type": "parallel", "children": [LOWER, WORDS]}]}, "parallel"),
        ({"type": "sequential", "children": [NO_COMMA, LOWER]}, "sequential"),
        ({"type": "parallel", "children": [{"type": "sequential", "children": [NO_COMMA, LOWER]}]}, "sequential"),
        ({"type": "conditional", "condition": "c", "active": "then", "then": NO_COMMA}, "conditional"),
        ({"type": "sequential", "children": [NO_COMMA, {"type": "parallel", "children": [LOWER, WORDS]}]}, "nested"),
        (NESTED, "nested"),
    ],
)
def test_structure_type_is_the_single_composite_kind_or_nested(tree, expected):
    assert structure_type(parse_structure(tree)) == expected


def test_render_line_is_one_readable_line():
    line = render_line(parse_structure(NESTED))
    assert "\n" not in line
    assert line == (
        "seq(punctuation:no_comma, par(change_case:english_lowercase, ~soft:tone), "
        "if[else] 'the text is a question' ? "
        'length_constraints:number_words{"num_words":50,"relation":"less than"} : change_case:english_lowercase)'
    )


def _nested(levels: int) -> dict:
    node = NO_COMMA
    for _ in range(levels):
        node = {"type": "parallel", "children": [node]}
    return node


def test_a_tree_deeper_than_the_limit_is_rejected_naming_the_path_and_the_limit():
    assert depth(parse_structure(_nested(MAX_TREE_DEPTH))) == MAX_TREE_DEPTH
    with pytest.raises(StructureError, match=rf"^row 2: children\[0\](\.children\[0\])*: .*limit of {MAX_TREE_DEPTH}"):
        parse_structure(json.dumps(_nested(300)), row=2)


def test_json_nested_beyond_the_decoder_is_a_structure_error_not_a_recursion_error():
    text = '{"type": "parallel", "children": [' * 100_000 + "]}" * 100_000
    with pytest.raises(StructureError, match="nested too deeply"):
        parse_structure(text)


def test_more_leaves_than_the_limit_are_rejected():
    wide = {"type": "parallel", "children": [{"type": "parallel", "children": [NO_COMMA] * 40}] * 2}
    with pytest.raises(StructureError, match=f"80 leaves, more than the limit of {MAX_TREE_LEAVES}"):
        parse_structure(wide)
    with pytest.raises(StructureError, match=f"limit of {MAX_TREE_LEAVES}"):
        parse_ifeval_row(["punctuation:no_comma"] * (MAX_TREE_LEAVES + 1), None)
