"""LSR-Eval: a fixed held-out build, and scoring per structure type, depth and family under lsrm / flat / all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from lsrif_trl.data.seeds import seed_split
from lsrif_trl.eval import lsr
from lsrif_trl.structure import leaves

NO_COMMA = {"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}, "kind": "hard"}
LOWERCASE = {"type": "constraint", "id": "change_case:english_lowercase", "kwargs": {}, "kind": "hard"}
SEQUENCE = lsr.LSRExample(
    id="seq",
    prompt="Write about rivers.",
    structure=json.dumps({"type": "sequential", "children": [NO_COMMA, LOWERCASE]}),
    structure_type="sequential",
    depth=1,
    seed_task="task-a",
)
CONDITIONAL = lsr.LSRExample(
    id="cond",
    prompt="Summarise the passage.",
    structure=json.dumps(
        {
            "type": "conditional",
            "condition": "the passage names a year",
            "active": "else",
            "then": NO_COMMA,
            "else": LOWERCASE,
        }
    ),  # fmt: skip
    structure_type="conditional",
    depth=1,
    seed_task="task-b",
)


# lowercase English with commas: passes the lowercase rule, fails the no-comma rule
COMMAS = "the rivers, the lakes and the seas are calm in the summer"


def scores_of(example: lsr.LSRExample, response: str) -> dict:
    return lsr.score_lsr([example], {example.prompt: response})[0].scores


def test_sequential_failure_discounts_later_steps_under_lsrm_only() -> None:
    # no_comma fails, lowercase passes: lsrm = mean(0, 1 * gamma) with gamma 0.5
    assert scores_of(SEQUENCE, COMMAS) == {"lsrm": 0.25, "flat": 0.5, "all": 0.0}


def test_conditional_scores_only_its_active_branch_except_under_flat() -> None:
    result = lsr.score_lsr([CONDITIONAL], {CONDITIONAL.prompt: COMMAS})[0]
    assert result.scores == {"lsrm": 1.0, "flat": 0.5, "all": 1.0}
    assert [(leaf.id, leaf.active, leaf.score) for leaf in result.leaves] == [
        ("punctuation:no_comma", False, 0.0),
        ("change_case:english_lowercase", True, 1.0),
    ]


def test_a_response_is_scored_whole_as_the_answer_split_off_at_generation() -> None:
    answer = "the rivers and the lakes are calm in the summer"
    assert scores_of(SEQUENCE, answer)["all"] == 1.0
    # Reasoning is split off when the answer is generated (the run's answer policy), never guessed at scoring:
    # a bare closing tag in a response is answer text like any other.
    assert scores_of(SEQUENCE, "Plan: commas, CAPITALS.</think>" + answer)["all"] == 0.0


def test_an_empty_answer_satisfies_nothing() -> None:
    assert scores_of(SEQUENCE, "   ") == {"lsrm": 0.0, "flat": 0.0, "all": 0.0}


def test_missing_responses_are_an_error_unless_allowed() -> None:
    with pytest.raises(ValueError, match="1 of 2 LSR-Eval prompts have no response"):
        lsr.score_lsr([SEQUENCE, CONDITIONAL], {SEQUENCE.prompt: "ok"})
    results = lsr.score_lsr([SEQUENCE, CONDITIONAL], {SEQUENCE.prompt: "ok"}, allow_missing=True)
    assert results[1].scores == {"lsrm": 0.0, "flat": 0.0, "all": 0.0}


def test_summary_slices_by_type_depth_and_family_with_counts() -> None:
    results = lsr.score_lsr([SEQUENCE, CONDITIONAL], {SEQUENCE.prompt: COMMAS, CONDITIONAL.prompt: COMMAS})
    metrics = lsr.summarize(results)
    assert metrics["all prompts/n"] == 2 and metrics["all prompts/lsrm"] == pytest.approx((0.25 + 1.0) / 2)
    assert metrics["sequential/lsrm"] == 0.25 and metrics["conditional/all"] == 1.0
    assert metrics["nested/n"] == 0 and metrics["nested/lsrm"] is None
    assert metrics["depth 1/n"] == 2 and metrics["depth 2/n"] == 0
    # the conditional's comma rule is inactive, so only the sequence counts for the punctuation family
    assert metrics["family ifeval:punctuation/n"] == 1
    assert metrics["family ifeval:punctuation/leaves"] == 0.0
    assert metrics["family ifeval:change_case/leaves"] == 1.0
    assert metrics["all prompts/leaves"] == pytest.approx(2 / 3)  # active leaves: 0, 1 (sequence), 1 (branch)


def test_responses_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "responses.jsonl"
    path.write_text(json.dumps({"prompt": SEQUENCE.prompt, "response": "x"}) + "\n{broken\n")
    with pytest.raises(ValueError, match="line 2: not valid JSON"):
        lsr.load_responses(path, {SEQUENCE.prompt})
    path.write_text(json.dumps({"prompt": "not in the benchmark", "response": "x"}) + "\n")
    with pytest.raises(ValueError, match="line 1: prompt is not in LSR-Eval v1"):
        lsr.load_responses(path, {SEQUENCE.prompt})
    path.write_text(json.dumps({"prompt": SEQUENCE.prompt, "response": None}) + "\n")
    with pytest.raises(ValueError, match="line 1: field 'response' must be a string"):
        lsr.load_responses(path, {SEQUENCE.prompt})


@pytest.fixture(scope="module")
def benchmark() -> list[lsr.LSRExample]:
    return lsr.build_lsr_eval()


def test_build_fills_every_cell_quota_with_unique_prompts(benchmark) -> None:
    assert Counter(lsr.cell_of(e.structure_type, e.depth) for e in benchmark) == lsr.CELL_QUOTAS
    assert len({e.prompt for e in benchmark}) == len(benchmark) == sum(lsr.CELL_QUOTAS.values())
    assert {e.depth for e in benchmark} == set(lsr.DEPTHS)
    assert {e.structure_type for e in benchmark} == {"parallel", "sequential", "conditional", "nested"}


def test_build_is_the_same_set_every_time(benchmark) -> None:
    assert lsr.fingerprint(lsr.build_lsr_eval()) == lsr.fingerprint(benchmark)


def test_build_does_not_depend_on_the_process_or_its_hash_seed(benchmark) -> None:
    code = "from lsrif_trl.eval import lsr; print(lsr.fingerprint(lsr.build_lsr_eval()))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    printed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert printed.strip() == lsr.fingerprint(benchmark)


def test_prompts_come_only_from_held_out_seed_tasks(benchmark) -> None:
    assert {seed_split(e.seed_task) for e in benchmark} == {"eval"}


def test_default_build_uses_only_the_official_ifeval_families(benchmark) -> None:
    families = {leaf.constraint.family for e in benchmark for leaf in leaves(e.tree)}
    assert all(family.startswith("ifeval:") for family in families)


def test_family_selection_builds_from_those_families_only() -> None:
    chosen = ["ifeval:detectable_format", "ifeval:keywords", "ifeval:length_constraints", "ifeval:punctuation"]
    examples = lsr.build_lsr_eval(chosen)
    assert {leaf.constraint.family for e in examples for leaf in leaves(e.tree)} <= set(chosen)
    assert lsr.fingerprint(examples) != lsr.fingerprint(lsr.build_lsr_eval())


def test_any_prefix_of_the_benchmark_is_balanced_across_cells(benchmark) -> None:
    first = Counter(lsr.cell_of(e.structure_type, e.depth) for e in benchmark[:50])
    assert first == {cell: 10 for cell in lsr.CELL_QUOTAS}


def test_the_default_build_is_the_pinned_v1_benchmark(benchmark) -> None:
    # Failing here means the builder, a constraint's rendering or the seed tasks changed LSR-Eval: if that is
    # meant, bump lsr.VERSION and pin the new fingerprint; otherwise revert the change.
    assert lsr.VERSION == "1"
    assert lsr.fingerprint(benchmark) == lsr.LSR_EVAL_V1_FINGERPRINT == lsr.PINNED_FINGERPRINTS["1"]
    assert lsr.drift(benchmark) is None


def test_a_build_that_drifted_from_the_pinned_set_warns_naming_both_fingerprints(benchmark, monkeypatch) -> None:
    monkeypatch.setitem(lsr.PINNED_FINGERPRINTS, lsr.VERSION, "0000000000000000")
    with pytest.warns(lsr.LSREvalDriftWarning, match=f"{lsr.fingerprint(benchmark)}, but v1 is pinned as 0{{16}}"):
        lsr.build_lsr_eval()
    assert "bump VERSION" in lsr.drift(benchmark)


def test_lsr_prompts_command_warns_when_the_built_set_is_not_the_pinned_one(monkeypatch, tmp_path) -> None:
    from lsrif_trl import cli

    monkeypatch.setitem(lsr.PINNED_FINGERPRINTS, lsr.VERSION, "0000000000000000")
    with pytest.warns(lsr.LSREvalDriftWarning, match="scores are not comparable"):
        assert cli.main(["eval", "lsr-prompts", "--output", str(tmp_path / "prompts.jsonl")]) == 0


def test_an_explicit_family_selection_is_not_checked_against_the_pin(recwarn) -> None:
    lsr.build_lsr_eval(
        ["ifeval:detectable_format", "ifeval:keywords", "ifeval:length_constraints", "ifeval:punctuation"]
    )
    assert not [w for w in recwarn if issubclass(w.category, lsr.LSREvalDriftWarning)]
