"""`lsrif score FILE.jsonl`: one JSON line out per line in, exit 2 on a bad line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lsrif_trl.cli import main

pytestmark = pytest.mark.usefixtures("test_constraints")

NO_COMMA = {"type": "constraint", "id": "test:no_comma", "kwargs": {}, "kind": "hard"}
MIN3 = {"type": "constraint", "id": "test:min_words", "kwargs": {"num_words": 3}, "kind": "hard"}
SEQ = {"type": "sequential", "children": [NO_COMMA, MIN3]}
COND = {"type": "conditional", "condition": "c", "active": "then", "then": MIN3, "else": NO_COMMA}


def write_jsonl(tmp_path, records):
    path = tmp_path / "in.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def score(capsys, path, *options):
    code = main(["score", str(path), *options])
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


def test_writes_one_result_per_line_in_order(tmp_path, capsys):
    path = write_jsonl(
        tmp_path,
        [
            {"structure": SEQ, "completion": "a, b c"},
            {"structure": json.dumps(SEQ), "completion": "a b c"},
            {"instruction_id_list": ["test:no_comma"], "kwargs": [{}], "completion": "a, b"},
        ],
    )
    code, out, err = score(capsys, path)
    assert (code, err) == (0, "")
    assert [r["reward"] for r in out] == [0.25, 1.0, 0.0]
    assert out[0]["structure_type"] == "sequential"
    assert [leaf["score"] for leaf in out[0]["leaves"]] == [0.0, 1.0]


def test_options_select_the_aggregation_gamma_and_seq_mode(tmp_path, capsys):
    path = write_jsonl(tmp_path, [{"structure": SEQ, "completion": "a, b c"}])
    assert score(capsys, path, "--gamma", "0")[1][0]["reward"] == 0.0
    assert score(capsys, path, "--seq-mode", "gate", "--gamma", "0.2")[1][0]["reward"] == pytest.approx(0.1)
    assert score(capsys, path, "--aggregation", "all")[1][0]["reward"] == 0.0
    assert score(capsys, path, "--aggregation", "raif")[1][0]["reward"] == 0.5


def test_reasoning_in_a_think_block_the_completion_opened_is_not_scored(tmp_path, capsys):
    path = write_jsonl(tmp_path, [{"structure": NO_COMMA, "completion": "<think>a, b, c</think>fine"}])
    assert score(capsys, path)[1][0]["reward"] == 1.0
    assert score(capsys, path, "--think-opened-by", "none")[1][0]["reward"] == 0.0  # instruct: all of it is scored


def test_junk_before_a_bare_closing_think_no_longer_ties_the_honest_answer(tmp_path, capsys):
    calm = {"type": "constraint", "kind": "hard", "kwargs": {}}
    tree = {
        "type": "parallel",
        "children": [
            {**calm, "id": "punctuation:no_comma"},
            {**calm, "id": "punctuation:no_exclamation"},
            {**calm, "id": "keywords:forbidden_words", "kwargs": {"forbidden_words": ["kitchen"]}},
        ],
    }
    honest = "A calm reply about the garden"
    hack = "Kitchen, kitchen, KITCHEN!!! ...\n</think>\n" + honest
    path = write_jsonl(tmp_path, [{"structure": tree, "completion": c} for c in (hack, honest)])
    for opened_by in ("none", "completion"):
        assert [r["reward"] for r in score(capsys, path, "--think-opened-by", opened_by)[1]] == [0.0, 1.0]
    # Only a template that opened the block makes the junk reasoning (and then a reply that never closes it has none).
    assert [r["reward"] for r in score(capsys, path, "--think-opened-by", "template")[1]] == [1.0, 0.0]


def test_a_template_opened_think_is_honoured_with_an_option(tmp_path, capsys):
    path = write_jsonl(tmp_path, [{"structure": NO_COMMA, "completion": "a, b, c</think>fine"}])
    assert score(capsys, path, "--think-opened-by", "template")[1][0]["reward"] == 1.0
    unclosed = write_jsonl(tmp_path, [{"structure": NO_COMMA, "completion": "thinking and never closing"}])
    assert score(capsys, unclosed)[1][0]["reward"] == 1.0
    assert score(capsys, unclosed, "--think-opened-by", "template")[1][0]["reward"] == 0.0
    assert score(capsys, unclosed, "--think-opened-by", "template", "--unclosed-think", "whole")[1][0]["reward"] == 1.0


def test_inactive_branch_leaves_are_listed_unscored_and_none_rewards_are_null(tmp_path, capsys):
    nothing = {"type": "conditional", "condition": "c", "active": "else", "then": NO_COMMA}
    path = write_jsonl(
        tmp_path, [{"structure": COND, "completion": "a, b c"}, {"structure": nothing, "completion": "x"}]
    )
    code, out, _ = score(capsys, path)
    assert [leaf["score"] for leaf in out[0]["leaves"]] == [1.0, None]
    assert out[1]["reward"] is None


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ("", "line 2: empty line"),
        ("[1, 2]", "line 2: expected a JSON object"),
        ({"completion": "x"}, "line 2: structure: no `structure` column"),
        ({"structure": SEQ}, "line 2: completion: expected a string"),
        ({"structure": SEQ, "completion": 7}, "line 2: completion: expected a string"),
        (
            {
                "structure": {"type": "parallel", "children": [{**MIN3, "kwargs": {"num_words": "3"}}]},
                "completion": "x",
            },
            "line 2: structure: children[0].kwargs.num_words: kwarg 'num_words': expected int",
        ),
        (
            {
                "structure": {"type": "constraint", "id": "soft:tone", "text": "Be formal.", "kind": "soft"},
                "completion": "x",
            },
            "line 2: structure: soft constraint 'soft:tone'",
        ),
    ],
)
def test_a_bad_line_exits_2_naming_the_line_and_field_before_printing_anything(tmp_path, capsys, bad_line, message):
    path = write_jsonl(
        tmp_path, [{"structure": SEQ, "completion": "a b c"}, bad_line, {"structure": SEQ, "completion": "x"}]
    )
    code, out, err = score(capsys, path)
    assert code == 2
    assert out == []
    assert message in err


def test_an_out_of_range_gamma_exits_2(tmp_path, capsys):
    path = write_jsonl(tmp_path, [{"structure": SEQ, "completion": "a b c"}])
    code, out, err = score(capsys, path, "--gamma", "1.5")
    assert (code, out) == (2, [])
    assert "gamma: expected a number in [0, 1]" in err


def test_a_missing_file_exits_2(tmp_path, capsys):
    code, _, err = score(capsys, tmp_path / "absent.jsonl")
    assert code == 2
    assert "absent.jsonl" in err


def test_the_console_script_scores_real_ifeval_constraints(tmp_path):
    tree = {
        "type": "parallel",
        "children": [
            {"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}, "kind": "hard"},
            {"type": "constraint", "id": "change_case:english_lowercase", "kwargs": {}, "kind": "hard"},
        ],
    }
    path = write_jsonl(
        tmp_path,
        [
            {"structure": tree, "completion": "all lower case and no commas here"},
            {"structure": tree, "completion": ""},
        ],
    )
    lsrif = Path(sys.executable).with_name("lsrif")
    result = subprocess.run([str(lsrif), "score", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["reward"] for line in result.stdout.splitlines()] == [1.0, 0.0]
