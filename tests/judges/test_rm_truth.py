"""The reward model against the truth: accuracy, AUC and their intervals on hand-made cases, and pseudo-labels
checked by the verifiers."""

import json

import pytest

from lsrif_trl.judges.rm_truth import accuracy, pseudo_label_truth, roc_auc, score_against_truth, with_interval


def test_accuracy_thresholds_at_one_half():
    assert accuracy([0.9, 0.5, 0.49, 0.1], [True, True, True, False]) == 0.75
    assert accuracy([], []) is None


@pytest.mark.parametrize(
    ("scores", "labels", "auc"),
    [
        ([0.9, 0.8, 0.2, 0.1], [True, True, False, False], 1.0),  # every positive above every negative
        ([0.1, 0.2, 0.8, 0.9], [True, True, False, False], 0.0),
        ([0.5, 0.5, 0.5, 0.5], [True, False, True, False], 0.5),  # ties count half
        ([0.9, 0.3, 0.6, 0.1], [True, True, False, False], 0.75),  # 3 of the 4 (pos, neg) pairs ordered
        ([0.7, 0.4, 0.4, 0.1], [True, True, False, False], 0.875),  # (0.4, 0.4) is a tie: 3.5 of 4
    ],
)
def test_auc_is_the_share_of_positive_negative_pairs_in_order(scores, labels, auc):
    assert roc_auc(scores, labels) == pytest.approx(auc)


def test_auc_needs_both_classes():
    assert roc_auc([0.2, 0.9], [True, True]) is None
    assert with_interval(roc_auc, [0.2, 0.9], [True, True]) == {"mean": None, "ci95": None, "n": 2}


def test_the_interval_holds_the_point_and_a_perfect_model_has_a_degenerate_one():
    scores = [0.9, 0.2, 0.7, 0.4, 0.6, 0.3] * 5
    labels = [True, False, True, True, False, False] * 5
    stat = with_interval(accuracy, scores, labels)
    assert stat["ci95"][0] <= stat["mean"] <= stat["ci95"][1] and stat["n"] == 30
    assert with_interval(roc_auc, [0.9, 0.1] * 10, [True, False] * 10)["ci95"] == [1.0, 1.0]


def test_scores_against_truth_are_split_per_constraint():
    out = score_against_truth([0.9, 0.1, 0.2, 0.8], [True, False, True, False], ["a", "a", "b", "b"])
    assert out["accuracy"]["mean"] == 0.5 and out["positive_share"] == 0.5
    assert out["by_constraint"]["a"]["auc"]["mean"] == 1.0 and out["by_constraint"]["b"]["auc"]["mean"] == 0.0


def pair(chosen, rejected, kwargs=None, constraint="keywords:existence"):
    row = {"chosen": [{"role": "assistant", "content": chosen}], "rejected": rejected, "constraint_id": constraint}
    if kwargs is not None:
        row["constraint_kwargs"] = json.dumps(kwargs)
    return row


def test_pseudo_labels_are_checked_by_the_verifier_of_their_constraint():
    sun = {"keywords": ["sun"]}
    rows = [
        pair("the sun is up", "it rains", sun),  # ordered: chosen passes, rejected fails
        pair("it rains", "it snows", sun),  # tied: both fail (the chosen label is wrong)
        pair("it rains", "the sun is up", sun),  # reversed: both labels wrong
        pair("all lowercase", "Not Lower", {}, "change_case:english_lowercase"),  # ordered
        pair("warm words", "cold words"),  # a truly soft constraint: nothing to check it against
    ]
    out = pseudo_label_truth(rows)
    assert out["pairs"] == 4 and out["unverifiable"] == 1
    assert out["chosen_satisfies"] == 0.5 and out["rejected_fails"] == 0.75
    assert out["label_accuracy"] == pytest.approx(5 / 8)
    assert (out["ordered"], out["tied"], out["reversed"]) == (0.5, 0.25, 0.25)
    keyword = out["by_constraint"]["keywords:existence"]
    assert keyword["pairs"] == 3 and keyword["label_accuracy"] == pytest.approx(3 / 6)


def test_no_verifiable_pairs_give_counts_only_and_a_broken_row_is_named():
    assert pseudo_label_truth([pair("a", "b")]) == {"pairs": 0, "unverifiable": 1, "by_constraint": {}}
    broken = pair("a", "b") | {"constraint_kwargs": "{not json"}
    with pytest.raises(ValueError, match="pair row 0"):
        pseudo_label_truth([broken])
