"""ComplexBench against a scripted loopback judge: the official prompts (extraction for rule questions, yes/no
evaluation for the rest), the official reply and extraction parsing, the rules, and DRFR with the dependency-aware
aggregation and the coherent test, on a small hand-written fixture in the official format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lsrif_trl import cli
from lsrif_trl.eval import complexbench
from lsrif_trl.eval.complexbench_prompts import EVALUATION_PROMPT, EXTRACTION_PROMPT, EXTRACTION_PROMPT_EACH
from lsrif_trl.eval.complexbench_rules import EXTRACTION_HEADING, extraction_targets, parse_rule


def question(tag: str, dims: list[str], rule: str | None = None, dep: list[int] | None = None,
             comps: list[str] | None = None) -> dict:  # fmt: skip
    return {"question": f"问题{tag}？[{tag}]", "question_en": f"Question {tag}? [{tag}]", "rule": rule,
            "constraint_dimensions": dims, "composition_types": comps or [], "dep": dep or []}  # fmt: skip


def row(main_id: int, instruction: str, category: str, comps: list[str], questions: list[dict],
        group: str | None = None) -> dict:  # fmt: skip
    return {"main_id": main_id, "group": group, "instruction": instruction, "instruction_en": f"EN {instruction}",
            "task_types": "Creative Writing", "constraint_dimensions": [], "composition_types": comps,
            "category": category, "scoring_questions": questions}  # fmt: skip


ROWS = [
    row(1, "写一首关于大海的短诗，不超过20个字，包含“海浪”一词，不要出现“冰”。", "And", ["And"], [
        question("A0", ["Topic"], comps=["And"]),
        question("A1", ["Length"], rule="model_length:[1,20]"),
        question("A2", ["Keywords"], rule="keyword:[海浪]", comps=["And"]),
        question("A3", ["Word Matching"], rule="model_forbidden_word_each:[冰]"),
    ]),
    row(2, "如果3大于5，写“甲”并以“完成”结尾；否则写“乙”。", "Selection_1", ["Selection"], [
        question("B0", ["Factuality"], comps=["Selection"]),
        question("B1", ["Helpfulness"], dep=[0]),
        question("B2", ["End with"], rule="model_endswith:完成", dep=[0]),
    ], group="g1"),
    row(3, "如果2小于4，写“丙”；否则写“丁”。", "Selection_1", ["Selection"], [
        question("C0", ["Factuality"], comps=["Selection"]),
        question("C1", ["Helpfulness"], dep=[0]),
    ], group="g1"),
    row(4, "先列出三种颜色，再用其中一种写一句话。", "Chain_2", ["Chain", "And"], [
        question("D0", ["Helpfulness"], comps=["Chain"]),
        question("D1", ["Language Style"]),
        question("D2", ["Sentiment"]),
        question("D3", ["Length"], rule="model_length:[1,100]"),
        question("D4", ["Template"], rule="model_mystery:[1]"),  # a rule the official code does not score
        question("D5", ["Consistency"], dep=[0], comps=["Chain"]),
        question("D6", ["Topic"], dep=[5]),  # depends on D5's own verdict (met), not on D5's dependency on D0
    ]),
]  # fmt: skip
ANSWERS = {1: "海浪轻拍岸，月光洒银沙。", 2: "甲。完成", 3: "丙", 4: "红、黄、蓝。天空是蓝的。"}
TARGET = "【解释】\n略。\n\n【模型回复中评分问题的评测对象】\n评分对象："
REPLIES = {
    "A0": "分析：是关于大海的诗。\n答案：是",
    "A1": TARGET + "all",
    "A2": TARGET + "all",
    "A3": TARGET + "None",  # nothing to check: a forbidden-word rule is met
    "B0": "分析：3不大于5，模型却写了“甲”。\n答案：否",
    "B1": "答案：是",
    "B2": TARGET + "甲。完成",
    "C0": "答案：是",
    "C1": "答案：是",
    "D0": "",  # an empty reply: unparsed, not met
    "D1": "是的，完全满足。",  # no answer line: met by the official fallback (lenient)
    "D2": "答案：是\n答案：否",  # two answers: unparsed, not met
    "D3": "无法确定",  # an extraction in none of the asked forms: not met (officially the raw reply is checked)
    "D4": "答案：是",
    "D5": "答案：是",
    "D6": "答案：是",
}
EXPECTED_MET = {
    "1": [True, True, True, True],
    "2": [False, False, False],  # B0 fails; B1 and B2 are met but depend on it
    "3": [True, True],
    "4": [False, True, False, False, True, False, True],
}


def chat_reply(text: str):
    return 200, {"choices": [{"message": {"content": text}, "finish_reason": "stop"}]}, {}, 0.0


def tag_of(body: dict) -> str:
    return re.findall(r"\[([A-Z]\d)\]", body["messages"][0]["content"])[-1]


def write_data(tmp_path: Path, rows: list[dict]) -> Path:
    data = tmp_path / "data_final.json"
    data.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return data


def run(tmp_path: Path, data: Path, answers: dict[str, str], judge_url: str, name: str = "complexbench",
        out: str = "out") -> dict:  # fmt: skip
    responses = tmp_path / f"{out}-responses.jsonl"
    responses.write_text("".join(json.dumps({"prompt": p, "response": f"<think>先想想</think>{a}"}, ensure_ascii=False)
                                 + "\n" for p, a in answers.items()), encoding="utf-8")  # fmt: skip
    argv = ["eval", name, "--responses", str(responses), "--input-data", str(data), "--output-dir",
            str(tmp_path / out), "--judge-base-url", judge_url, "--judge-model", "judge-m"]  # fmt: skip
    assert cli.main(argv) == 0
    return json.loads((tmp_path / out / "metrics.json").read_text())


@pytest.fixture
def judge(serve):
    return serve(lambda body, number: chat_reply(REPLIES[tag_of(body)]))


def test_drfr_is_aggregated_with_dependencies_as_the_official_scripts_do(tmp_path: Path, judge) -> None:
    answers = {r["instruction"]: ANSWERS[r["main_id"]] for r in ROWS}
    metrics = run(tmp_path, write_data(tmp_path, ROWS), answers, judge.base_url)
    rows = [json.loads(line) for line in (tmp_path / "out" / "complexbench_results.jsonl").read_text().splitlines()]
    assert {r["id"]: r["point_judges_rely"] for r in rows} == EXPECTED_MET
    assert rows[1]["point_judges"] == [False, True, True]
    assert rows[3]["how"] == ["unparsed", "lenient", "unparsed", "extraction-unparsed", "answer", "answer", "answer"]
    assert metrics["drfr"] == pytest.approx(9 / 16)
    assert metrics["lexical/drfr"] == 1.0 and metrics["structure/drfr"] == pytest.approx(2 / 4)
    assert metrics["semantic/drfr"] == pytest.approx(3 / 4) and metrics["utility/drfr"] == pytest.approx(2 / 6)
    assert (metrics["and/drfr"], metrics["selection/drfr"], metrics["chain/drfr"]) == (1.0, 0.5, 0.0)
    assert metrics["category/Selection_1/drfr"] == pytest.approx(2 / 5)
    assert metrics["category_family/Chain/drfr"] == pytest.approx(3 / 7)
    assert metrics["nesting/And_Chain/drfr"] == pytest.approx(3 / 7) and metrics["each/Length/drfr"] == 0.5
    # Group g1 has one Selection question: the single-selection coherent test. Row 2 fails, row 3 passes.
    assert metrics["coherent/single/origin"] == 0.5 and metrics["coherent/single/coherent"] == 0.0
    assert metrics["coherent/single/relative_drop"] == 1.0 and metrics["coherent/multiple/origin"] is None
    counts = ("num_questions", "questions_by_rule", "rules_to_judge", "extraction_unparsed", "judge_lenient",
              "judge_unparsed", "missing_responses")  # fmt: skip
    assert [metrics[k] for k in counts] == [16, 5, 1, 1, 1, 2, 0]
    assert len(judge.requests) == 16 and all(r["temperature"] == 0.0 for r in judge.requests)
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["details"]["judge"]["model"] == "judge-m"
    assert results["headline"][0] == "drfr"
    assert results["prompt_scores"] == {"1": 1.0, "2": 0.0, "3": 1.0, "4": pytest.approx(3 / 7)}


def test_each_question_gets_the_official_prompt(tmp_path: Path, judge) -> None:
    answers = {r["instruction"]: ANSWERS[r["main_id"]] for r in ROWS}
    run(tmp_path, write_data(tmp_path, ROWS), answers, judge.base_url)
    sent = {tag_of(r): r["messages"][0]["content"] for r in judge.requests}
    poem, instruction = ANSWERS[1], ROWS[0]["instruction"]
    assert sent["A0"] == EVALUATION_PROMPT.format(input=instruction, output=poem, question="问题A0？[A0]")
    assert sent["A1"] == EXTRACTION_PROMPT.format(instruction=instruction, response=poem, question="问题A1？[A1]")
    assert sent["A3"] == EXTRACTION_PROMPT_EACH.format(instruction=instruction, response=poem, question="问题A3？[A3]")
    assert sent["D4"].startswith(EVALUATION_PROMPT[:40])  # the unscored rule's question is judged yes/no
    assert all("先想想" not in text for text in sent.values())  # the judge sees the answer, not the reasoning


def test_long_instructions_and_responses_are_cut_as_officially() -> None:
    example = complexbench.parse_example(row(9, "指" * 7000, "And", [], [question("Z0", [])]), "row")
    prompt = complexbench.question_prompt(example, example.questions[0], "答" * 5000)
    assert "指" * 6000 + "\n" in prompt and "指" * 6001 not in prompt
    assert "答" * 4000 + "\n" in prompt and "答" * 4001 not in prompt


def test_gold_answers_score_one_and_wrong_answers_zero(tmp_path: Path, serve) -> None:
    rows = [row(1, "写不超过10个字，包含“星”，以“完成”结尾。", "And", ["And"], [
        question("G0", ["End with"], rule="model_endswith:完成"),
        question("G1", ["Length"], rule="model_length:[1,10]"),
        question("G2", ["Keywords"], rule="keyword:[星]"),
        question("G3", ["Helpfulness"], dep=[0]),  # the judge says yes; met only if G0 is
    ])]  # fmt: skip

    def reply(body: dict, number: int):
        extraction = "信息抽取专家" in body["messages"][0]["content"]
        return chat_reply(TARGET + "all" if extraction else "分析：满足。\n答案：是")

    judge = serve(reply)
    data = write_data(tmp_path, rows)
    gold = run(tmp_path, data, {rows[0]["instruction"]: "星光闪烁。完成"}, judge.base_url, out="gold")
    wrong = run(tmp_path, data, {rows[0]["instruction"]: "今天天气很好，我们一起去公园散步吧"}, judge.base_url,
                out="wrong")  # fmt: skip
    assert (gold["drfr"], wrong["drfr"]) == (1.0, 0.0)


def test_the_english_variant_asks_the_translation(tmp_path: Path, judge) -> None:
    answers = {f"EN {r['instruction']}": ANSWERS[r["main_id"]] for r in ROWS}
    metrics = run(tmp_path, write_data(tmp_path, ROWS), answers, judge.base_url, name="complexbench-en")
    assert metrics["drfr"] == pytest.approx(9 / 16)
    sent = {tag_of(r): r["messages"][0]["content"] for r in judge.requests}
    assert "Question A0? [A0]" in sent["A0"] and "EN 写一首" in sent["A0"] and "**输入指令**" in sent["A0"]


@pytest.mark.parametrize(
    ("reply", "verdict", "how"),
    [("分析：好。\n答案：是", True, "answer"), ("分析：是不对的。\n答案：否", False, "answer"),
     ("是的", True, "lenient"), ("否", False, "lenient"), ("答案：是，答案：否", False, "unparsed"),
     ("", False, "unparsed"), ("I cannot tell.", False, "unparsed"), ("是否满足？无法判断", False, "unparsed")],
)  # fmt: skip
def test_verdicts_are_read_as_the_official_script_reads_them(reply: str, verdict: bool, how: str) -> None:
    assert complexbench.parse_verdict(reply) == (verdict, how)


@pytest.mark.parametrize(
    ("reply", "targets", "marked"),
    [(TARGET + "all", ["RESPONSE"], True), (TARGET + "None", [], True), (TARGET + "甲 || 乙", ["甲", "乙"], True),
     ("评测对象：丙\n\n注意：略", ["丙"], True), (EXTRACTION_HEADING + "all", ["RESPONSE"], True), ("结果：丁", ["丁"], False), ("戊", ["戊"], False), ("", [""], False)],
)  # fmt: skip
def test_extraction_replies_are_read_as_the_official_preprocess_reads_them(reply, targets, marked) -> None:
    assert extraction_targets("RESPONSE", reply) == (targets, marked)


@pytest.mark.parametrize(
    ("rule", "targets", "met"),
    [
        ("model_length:[2,5]", ["“甲乙丙丁”"], True),  # 6 characters, 4 without the quotes
        ("model_length:[2,5]", ["甲"], False),
        ("model_length:[2,5]", [], False),
        ("model_length_each:[1,2]", ["甲", "乙丙", "丁戊己"], False),
        ("model_length_word:[2,3]", ["one two three"], True),
        ("model_number_each:[2,3]", ["甲", ""], True),  # the official count includes empty pieces
        ("model_keyword:[苹果, 香蕉]", ["苹果和香蕉"], True),
        ("model_keyword_each:[苹果]", ["苹果", "香蕉"], False),
        ("model_keyword_num:[1,1,苹果,香蕉]", ["苹果和香蕉"], False),
        ("model_keyword_num_each:[1,2,苹果,香蕉]\nmodel_forbidden_word_each:[梨]", ["苹果", "香蕉梨"], False),
        ("model_forbidden_word:[梨]", [], True),  # nothing extracted: nothing forbidden
        ("model_forbidden_word_each:[!]", ["好！"], False),  # ASCII punctuation compared in its Chinese form
        ("model_startswith_each:场景", ["场景1", "场景2"], True),
        ("model_starts_with_list_each:[一,二]", ["一是", "二是"], True),
        ("model_starts_with_list_each:[一,二]", ["一是"], False),
        ("model_startswith:你好\nmodel_endswith:再见", ["你好,再见"], True),
        ("model_endswith_each:！", ["好！", "棒！", "不算"], True),  # the official check skips the last piece
        ("model_endswith:完成", ["全部完成。"], True),
        ("model_not_endswith:吗", ["好吗"], False),
        ("model_not_startswith:你好", [], True),
        ("model_constraint_punc:[。]", ["甲，乙。"], False),
        ("keyword:[海浪]", ["None"], False),
        ("match:完成", ["“完成”"], True),
        ("forbidden_word:[梨]", [""], True),
        ("startswith:你好", ["你好呀"], True),
        ("not endswith:吗", ["好吗？"], False),
        ("length:[2,6]", ["甲乙丙"], True),
        ('Json:["名字"]', ['```json\n{"名字": ["甲"]}\n```'], True),
        ('Json:["名字"]', ['{"名字": 1, "年龄": 2}'], False),
        ("Json:[]", ["没有对象"], False),
    ],
)  # fmt: skip
def test_rules_check_the_extracted_objects_as_the_official_rules_do(rule: str, targets: list[str], met: bool) -> None:
    parsed = parse_rule(rule)
    assert parsed is not None and parsed.check(targets) is met


@pytest.mark.parametrize(
    "rule",
    ["model_mystery:[1]", "each word", "keyword_num:[1,2,a]", "model_length:[__import__('os').getpid(), 9]",
     "model_length:[1]", "Json:[len('x')]", "forbidden_word:[梨]\nkeyword:[苹果]"],
)  # fmt: skip
def test_rules_that_cannot_be_read_are_left_to_the_judge_and_nothing_is_run(rule: str) -> None:
    assert parse_rule(rule) is None


def test_a_question_counts_only_when_its_direct_prerequisites_are_met() -> None:
    example = complexbench.parse_example(row(1, "指令", "Chain_2", ["Chain"], [
        question("X0", []), question("X1", [], dep=[0]), question("X2", [], dep=[1]), question("X3", [], dep=[0, 2]),
    ]), "row")  # fmt: skip
    assert complexbench.dependent_verdicts(example, [False, True, True, True]) == [False, False, True, False]
    assert complexbench.dependent_verdicts(example, [True, True, False, True]) == [True, True, False, False]


@pytest.mark.parametrize(
    ("change", "message"),
    [({"instruction": ""}, "row 0: field 'instruction' must be a non-empty string"),
     ({"scoring_questions": []}, "row 0: field 'scoring_questions' must be a non-empty list"),
     ({"scoring_questions": [question("Y0", [], dep=[3])]},
      "row 0 scoring_questions[0]: field 'dep' must list other questions' positions (0-0)"),
     ({"scoring_questions": [question("Y0", [], rule=7)]}, "row 0 scoring_questions[0]: field 'rule' must be a string")],
)  # fmt: skip
def test_bad_rows_are_refused_naming_file_row_and_field(tmp_path: Path, change: dict, message: str) -> None:
    data = write_data(tmp_path, [ROWS[2] | change])
    with pytest.raises(complexbench.ComplexBenchInputError, match=re.escape(f"{data} {message}")):
        complexbench.load_input_data(data)


def test_absent_or_null_labels_read_as_none() -> None:
    bare = {
        "instruction": "指令",
        "scoring_questions": [{"question": "问题？", "dep": None, "composition_types": None}],
    }
    example = complexbench.parse_example(bare | {"composition_types": None}, "row")
    assert (example.compositions, example.questions[0].deps, example.questions[0].dimensions) == ((), (), ())


def test_complexbench_needs_the_official_file() -> None:
    with pytest.raises(complexbench.ComplexBenchInputError, match="ComplexBench is not on the Hub: pass --input-data"):
        complexbench.load_input_data(None)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"[{", "not valid UTF-8 JSON"), (b"\xff[]", "not valid UTF-8 JSON"), (b"{}", "expected a non-empty JSON array")],
)
def test_a_file_that_is_not_one_json_array_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    data = tmp_path / "data_final.json"
    data.write_bytes(content)
    with pytest.raises(complexbench.ComplexBenchInputError, match=re.escape(f"{data}: {message}")):
        complexbench.load_input_data(data)
