"""One reader of a dataset's trees: the column dispatcher, one parse per distinct tree, per-tree facts, errors."""

import json

import pytest

from lsrif_trl.constraints.registry import get_constraint
from lsrif_trl.structure import ParallelNode, StructureError
from lsrif_trl.trees import IFEVAL, STRUCTURE, batch_trees, read_tree, read_trees, row_tree, tree_source

NO_COMMA = {"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}}
WORDS = {
    "type": "constraint",
    "id": "length_constraints:number_words",
    "kwargs": {"num_words": 50, "relation": "less than"},
}
TONE = {"type": "constraint", "id": "soft:tone", "kind": "soft", "text": "Use a warm, friendly tone throughout."}
SEQ = json.dumps({"type": "sequential", "children": [NO_COMMA, {"type": "parallel", "children": [WORDS, TONE]}]})
FLAT = {"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}


def test_the_structure_column_wins_over_the_ifeval_columns_and_either_one_is_enough():
    assert tree_source({"structure": SEQ, **FLAT}).column == STRUCTURE
    assert tree_source({"structure": None, **FLAT}).column == IFEVAL
    assert tree_source({"structure": json.loads(SEQ)}) == tree_source({"structure": json.loads(SEQ)})
    with pytest.raises(StructureError, match="no `structure` column and no `instruction_id_list`"):
        tree_source({"prompt": "hi"})


def test_facts_of_a_tree_are_computed_once_with_its_type_depth_soft_ids_and_families():
    facts = row_tree({"structure": SEQ})
    assert (facts.type, facts.depth, facts.soft_ids) == ("nested", 2, ("soft:tone",))
    assert facts.families == ("ifeval:length_constraints", "ifeval:punctuation", "soft")
    assert [leaf.id for leaf in facts.leaves] == [
        "punctuation:no_comma",
        "length_constraints:number_words",
        "soft:tone",
    ]
    assert row_tree({"structure": SEQ}) is facts


def test_leaves_keep_the_constraint_their_id_resolved_to():
    leaf = row_tree({"structure": SEQ}).leaves[0]
    assert leaf.constraint is get_constraint("punctuation:no_comma")


def test_a_dataset_is_read_into_distinct_trees_a_row_index_and_row_errors():
    bad = json.dumps({"type": "parallel", "children": [{**WORDS, "kwargs": {}}]})
    before = read_tree.cache_info().misses
    trees = read_trees([{"structure": SEQ}, FLAT, {"structure": SEQ}, {"structure": bad}, FLAT])
    assert len(trees.trees) == 2 and trees.row_tree == (0, 1, 0, None, 1)
    assert read_tree.cache_info().misses - before <= 3  # the bad row is tried, SEQ and FLAT parsed at most once
    assert trees.errors[3].startswith("structure: children[0].kwargs.num_words: missing kwarg")
    assert isinstance(trees.facts(1).tree, ParallelNode)
    assert trees.first_soft_leaf() == (0, "soft:tone")
    assert read_trees([FLAT]).first_soft_leaf() is None


def test_flat_ifeval_errors_name_the_column_position():
    trees = read_trees([{"instruction_id_list": ["no_comma"], "kwargs": [{}]}])
    assert trees.errors[0].startswith("instruction_id_list[0]: unknown constraint id")


def test_a_reward_batch_names_the_item_whose_tree_does_not_parse():
    assert [t.type for t in batch_trees(2, {"structure": [SEQ, SEQ]})] == ["nested", "nested"]
    with pytest.raises(StructureError, match=r"batch item 1: structure: not valid JSON"):
        batch_trees(2, {"structure": [SEQ, "{"]})
    with pytest.raises(ValueError, match="structure: 1 values for 2 completions"):
        batch_trees(2, {"structure": [SEQ]})
