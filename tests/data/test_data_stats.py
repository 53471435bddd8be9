"""Dataset statistics count what the rows hold."""

import json

from datasets import Dataset

from lsrif_trl.data.builder import build_dataset
from lsrif_trl.data.stats import compute_stats, format_stats, write_stats
from lsrif_trl.structure import leaves, parse_structure


def test_counts_agree_with_the_rows(tmp_path):
    data = build_dataset(40, seed=2, max_depth=2, soft_share=0.25)
    stats = compute_stats(data)
    total_leaves = sum(len(leaves(parse_structure(s))) for s in data["structure"])
    assert stats["rows"] == 40
    assert sum(stats["structure_type"].values()) == 40
    assert stats["n_constraints"] == {
        str(k): data["n_constraints"].count(k) for k in sorted(set(data["n_constraints"]))
    }
    assert sum(stats["family_leaf_counts"].values()) == sum(stats["leaf_kind"].values()) == total_leaves
    assert stats["leaf_kind"]["soft"] > 0 and stats["family_leaf_counts"]["soft"] == stats["leaf_kind"]["soft"]
    assert "unregistered" not in stats["family_leaf_counts"]
    assert "rows: 40" in format_stats(stats)
    json_path, png_path = write_stats(stats, tmp_path)
    assert json.loads(json_path.read_text()) == json.loads(json.dumps(stats))
    assert png_path.stat().st_size > 10_000


def test_rows_whose_tree_does_not_parse_are_counted_and_left_out():
    good = json.dumps({"type": "parallel", "children": [{"type": "constraint", "id": "punctuation:no_comma"}]})
    data = Dataset.from_dict({"prompt": ["a", "b"], "structure": [good, "{not json"]})
    stats = compute_stats(data)
    assert stats["rows_without_a_valid_tree"] == 1
    assert stats["constraint_leaf_counts"] == {"punctuation:no_comma": 1}
    assert "rows left out (no valid tree" in format_stats(stats)
