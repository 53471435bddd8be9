"""FollowBench: the 350 rule-scored English rows with the official checks, HSR / SSR / CSL as the paper defines
them, and the judge rows' official prompt and reply parsing against a scripted loopback judge."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from lsrif_trl import cli
from lsrif_trl.eval import followbench
from lsrif_trl.eval.followbench_rules import CUMULATIVE, rule_verdict

FOLLOWBENCH = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "followbench"
needs_data = pytest.mark.skipif(
    not (FOLLOWBENCH / "example_constraints.json").exists(), reason=f"{FOLLOWBENCH} is missing"
)

# A response meeting all five constraints of each summarisation row of the mixed file.
LEVEL_5 = {
    "cnn_dailymail": "Daniel Radcliffe plays Harry Potter. He is a rich young actor now. He has made many films.",
    "xsum": "The council is planning a clean-up operation after the floods.",
    "samsum": "Hannah will bring the stuff tomorrow.",
    "gigaword": "police arrest two men in city centre raid",
    "arxiv": "We show that sparse activations store facts in large neural networks.",
}
# The same responses, each breaking only the constraint added at the given level.
BROKEN = {
    "cnn_dailymail": {
        1: "Daniel Radcliffe plays Harry Potter. He is a rich young actor now.",
        2: "Daniel Radcliffe plays Harry Potter. He is a rich young actor now and he will be in many more big films "
        "soon. He has made many films.",
        3: "Daniel Radcliffe plays Harry Potter. He is a rich young man now. He has made many films.",
        4: "Daniel Radcliffe plays Harry Potter. He is a lavish young actor now. He has made many films.",
        5: "Daniel Radcliffe plays Harry Potter. He is a rich young actor now. He made many films.",
    },
    "xsum": {
        1: "The council is planning a clean-up operation. It starts soon.",
        2: "The council is planning a big clean-up operation after the floods hit the town and all the villages around it.",
        3: "The council is planning a clean-up operation in Newton Stewart.",
        4: "The council plans a clean-up operation after the floods.",
        5: "The council is planning a clean-up after the floods.",
    },
    "samsum": {
        1: "Hannah will bring the stuff. Tomorrow.",
        2: "Hannah will bring the stuff to Kim tomorrow because Tim asked her to do it last week.",
        3: "Hannah will bring the things tomorrow.",
        4: "Hannah will stop procrastinating and bring the stuff.",
        5: "Hannah will bring the stuff, tomorrow.",
    },
    "gigaword": {
        1: "police arrest two men in city raid",
        2: "police arrest two men in city-centre raid now",
        3: "Police arrest two men in city centre raid",
        4: "police arrest two bus men in city raid",
        5: "police arrest two men at city centre raid",
    },
    "arxiv": {
        1: "We show that sparse activations store facts. Networks are large.",
        2: "We show that sparse activations store facts in large neural networks and that editing them changes what "
        "the models say about people.",
        3: "Sparse activations store facts in large neural networks, we show.",
        4: "We show that sparse neurons store facts in large neural networks.",
        5: "We show that sparse activations store facts in large transformer networks.",
    },
}


def row(
    source: str, level: int, category: str = "mixed", example_id: int = 1, target: str = ""
) -> followbench.FollowBenchRow:
    return followbench.FollowBenchRow(category, example_id, level, source, f"instruction {level}", target, True, ())


@pytest.mark.parametrize("source", sorted(CUMULATIVE))
def test_summarisation_rules_add_one_constraint_per_level(source: str) -> None:
    assert all(rule_verdict(row(source, level), LEVEL_5[source]) for level in range(1, 6))
    for broken_at, response in BROKEN[source].items():
        verdicts = [rule_verdict(row(source, level), response) for level in range(1, 6)]
        assert verdicts == [level < broken_at for level in range(1, 6)], (broken_at, response)


@pytest.mark.parametrize(
    ("source", "target", "good", "bad"),
    [
        ("BBH_logical", "(B)", "Not (A) but (B)", "(B) then (C)"),
        ("BBH_time", "05/01/2021", "It was 04/30/2021, so 05/01/2021", "05/01/2021 or 05/02/2021"),
        ("gsm_8k", "$37", "She pays $37", "$37 then $40"),
        ("self_made_space", "left", "It is on the left.", "It is on the right."),
        ("E2E", "name[Aromi]", "name[Aromi]", "name[Aromi] "),
        ("CONLL2003", "['Britain', 'Bonn']", "Bonn", "bonn"),
        ("WIKIEVENTS", "<arg1> attacked <arg2>\n<arg3> died", "<arg3> died", "<arg3> died\nmore"),
    ],
)
def test_rules_that_compare_with_the_target(source: str, target: str, good: str, bad: str) -> None:
    assert rule_verdict(row(source, 1, "situation", target=target), good)
    assert not rule_verdict(row(source, 1, "situation", target=target), bad)


def test_the_example_template_wildcard_does_not_cross_a_line() -> None:
    example = row("koala", 1, "example", target="{instruction}\n{{'AI assistant': '{answer}'}}")
    assert rule_verdict(example, "{'AI assistant': 'Hi there'}")
    assert not rule_verdict(example, "{'AI assistant': 'Hi\nthere'}")
    assert not rule_verdict(example, "Sure! {'AI assistant': 'Hi there'}")


FORMAT_30 = "\n".join(
    f"**{n}.{word}:** Does innovation help {word.lower()} across every Australian state and territory each year?"
    for n, word in enumerate(["Growth", "Jobs", "Exports", "Health", "Skills"], start=1)
)
FORMAT_22 = "\n\n".join(
    "Wipe the wooden table with a soft dry cloth every single day so that dust and grit never scratch the "
    f"finish of the surface number {n} in your home"
    for n in ("one", "two", "three")
)


def gold_responses() -> dict[str, str]:
    """A reference answer per rule row: the target, an answer written for the rule, or the row's `answer`."""
    answers = {}
    for category in followbench.CATEGORIES:
        for raw in json.loads((FOLLOWBENCH / f"{category}_constraints.json").read_text(encoding="utf-8")):
            if raw["level"] < 1:
                continue
            source, target = raw["source"], raw["target"]
            if category == "example":
                answer = raw["answer"]
            elif category == "format":
                answer = FORMAT_22 if raw["example_id"] == 22 else FORMAT_30
            elif source in LEVEL_5:
                answer = LEVEL_5[source]
            elif source == "CONLL2003":
                answer = ast.literal_eval(target)[0]
            else:
                answer = target
            answers[raw["instruction"]] = answer
    return answers


def score_file(tmp_path: Path, name: str, responses: dict[str, str]) -> dict:
    rows = [r for r in followbench.load_rows(FOLLOWBENCH) if r.rule]
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps({"prompt": r.prompt, "response": responses[r.prompt]}) + "\n" for r in rows))
    argv = [
        "eval",
        "followbench",
        "--responses",
        str(path),
        "--input-data",
        str(FOLLOWBENCH),
        "--output-dir",
        str(tmp_path / name),
    ]
    assert cli.main(argv) == 0
    return json.loads((tmp_path / name / "metrics.json").read_text())


@needs_data
def test_reference_answers_pass_every_rule_row_the_official_checks_let_pass(tmp_path: Path) -> None:
    metrics = score_file(tmp_path, "gold", gold_responses())
    assert (metrics["num_prompts"], metrics["rule_rows"], metrics["judge_rows"]) == (350, 350, 0)
    # Failing by the official rules themselves: the five multi-line `billsum` answers (the wildcard stops at a
    # newline), and format example 22 at levels 4-5 (a "1." marker is a one-word sentence, never over 20 words).
    assert [metrics[f"level {level}/hsr"] for level in range(1, 6)] == [69 / 70] * 3 + [68 / 70] * 2
    assert metrics["hsr"] == metrics["ssr"] == pytest.approx((3 * 69 + 2 * 68) / 350)
    assert metrics["csl"] == pytest.approx((68 * 5 + 0 + 3) / 70) and metrics["csl_groups"] == 70
    assert metrics["example csl"] == pytest.approx(39 * 5 / 40)
    results = [json.loads(line) for line in (tmp_path / "gold" / "followbench_results.jsonl").read_text().splitlines()]
    failed = {r["id"] for r in results if r["hard"] == 0.0}
    assert failed == {f"example-4-{level}" for level in range(1, 6)} | {"format-22-4", "format-22-5"}


@needs_data
def test_empty_answers_meet_only_the_rows_whose_template_is_a_bare_wildcard(tmp_path: Path) -> None:
    metrics = score_file(tmp_path, "empty", dict.fromkeys(gold_responses(), ""))
    # Example 21's template is `{answer}` alone: any one-line answer, the empty one included, passes.
    assert metrics["hsr"] == metrics["ssr"] == pytest.approx(1 / 70)
    assert metrics["csl"] == pytest.approx(5 / 70)


@pytest.mark.parametrize(
    ("reply", "level", "verdict"),
    [
        ("The constraint is met.\n['YES']", 1, (1.0, 1.0)),
        ("NO", 1, (0.0, 0.0)),
        ("1) ...\n2) ...\n```\n['YES', 'NO', 'YES']\n```", 3, (0.0, 2 / 3)),
        ('["YES", "YES"]', 2, (1.0, 1.0)),
        ("['YES', 'PARTIAL', 'N/A', 'MAYBE']", 4, (0.0, 0.25)),
        ("['YES', 'NO']", 3, None),  # wrong length
        ("[YES, NO]", 2, None),  # not a list of strings
        ("['YES', 'SORT OF']", 2, None),
        ("['YES', __import__('os')]", 2, None),
        ("maybe", 1, None),
    ],
)
def test_judge_replies_are_parsed_as_the_official_parser_reads_them(reply: str, level: int, verdict) -> None:
    assert followbench.parse_verdicts(reply, level) == verdict


def test_the_judge_prompt_lists_every_level_of_the_evolution_path() -> None:
    steps = ("Write a poem.", "Write a poem about tea.", "Write a poem about tea in four lines.")
    judged = followbench.FollowBenchRow("style", 3, 2, "koala", steps[2], "", False, steps)
    text = followbench.judge_prompt(judged, "Tea, oh tea")
    assert text.startswith("Given an initial instruction, we add one style constraint per time and obtain the final "
                           "instruction with 2 additional constraints.\n\n#Initial Instruction#\nWrite a poem.\n\n")  # fmt: skip
    assert "#Initial Instruction + 2 constraints#\nWrite a poem about tea in four lines.\n\n" in text
    assert "#Answer of Initial Instruction + 2 constraints#\nTea, oh tea\n\n#System#\n" in text
    assert text.endswith("only output a Python LIST with 2 elements ('YES' or 'NO') indicating whether the answer "
                         "satisfies each constraint.")  # fmt: skip


@needs_data
def test_with_a_judge_all_820_rows_are_scored_and_the_judge_is_recorded(tmp_path: Path, serve) -> None:
    def reply(body: dict, number: int):
        prompt = body["messages"][0]["content"]
        level = int(re.search(r"with (\d) additional constraint", prompt).group(1))
        verdicts = ["YES"] * (level - 1) + ["NO"]  # every judged answer misses its last constraint only
        return 200, {"choices": [{"message": {"content": f"Reasons.\n{verdicts}"}, "finish_reason": "stop"}]}, {}, 0.0

    judge = serve(reply)
    rows = followbench.load_rows(FOLLOWBENCH)
    path = tmp_path / "responses.jsonl"
    path.write_text("".join(json.dumps({"prompt": r.prompt, "response": "An answer."}) + "\n" for r in rows))
    argv = ["eval", "followbench", "--responses", str(path), "--input-data", str(FOLLOWBENCH),
            "--output-dir", str(tmp_path / "out"), "--judge-base-url", judge.base_url, "--judge-model", "judge-m"]  # fmt: skip
    assert cli.main(argv) == 0
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert (metrics["num_prompts"], metrics["judge_rows"], metrics["judge_unparsed"]) == (820, 470, 0)
    assert len(judge.requests) == 470
    style = [json.loads(line) for line in (tmp_path / "out" / "followbench_results.jsonl").read_text().splitlines()]
    style = {r["level"]: r["soft"] for r in style if r["category"] == "style"}
    assert style == {level: (level - 1) / level for level in range(1, 6)}  # SSR arithmetic on scripted verdicts
    assert metrics["style hsr"] == 0.0 and metrics["style csl"] == 0.0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["details"]["judge"]["model"] == "judge-m" and results["details"]["judge"]["temperature"] == 0.0
    # A second run reuses every stored judge reply.
    assert cli.main(argv) == 0 and len(judge.requests) == 470
