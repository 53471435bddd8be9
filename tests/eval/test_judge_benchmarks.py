"""CFBench and InFoBench against a scripted loopback judge: the official prompts and conversations, the official
reply parsing, and the metric arithmetic (CSR / ISR / PSR, DRFR) on known verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lsrif_trl import cli
from lsrif_trl.eval import cfbench, infobench


def chat_reply(text: str):
    return 200, {"choices": [{"message": {"content": text}, "finish_reason": "stop"}]}, {}, 0.0


def run(tmp_path: Path, name: str, data: Path, prompts: list[str], judge_url: str) -> dict:
    responses = tmp_path / "responses.jsonl"
    responses.write_text("".join(json.dumps({"prompt": p, "response": f"<think>hm</think>Answer to {p[:12]}"}) + "\n"
                                 for p in prompts))  # fmt: skip
    argv = ["eval", name, "--responses", str(responses), "--input-data", str(data), "--output-dir",
            str(tmp_path / "out"), "--judge-base-url", judge_url, "--judge-model", "judge-m"]  # fmt: skip
    assert cli.main(argv) == 0
    return json.loads((tmp_path / "out" / "metrics.json").read_text())


# ---- InFoBench -------------------------------------------------------------------------------------------------
INFO_ROWS = [
    {"id": "a", "instruction": "Write a haiku.", "input": "", "subset": "Easy_set",
     "decomposed_questions": ["Is it a haiku? [yes]", "Is it about rain? [no]", "Is it in English? [yes]"]},
    {"id": "b", "instruction": "Summarise the text.", "input": "Rain fell.", "subset": "Hard_set",
     "decomposed_questions": ["Is it a summary? [yes]", "Is it short? [junk]", "Is it polite? [yes]"]},
    {"id": "c", "instruction": "Greet me.", "input": "", "subset": "Hard_set",
     "decomposed_questions": ["Is it a greeting? [shout-yes]", "Is it rude? [shout-no]"]},
]  # fmt: skip
INFO_REPLIES = {"[yes]": "Yes, it is.", "[no]": "no", "[junk]": "Cannot decide: YES and NO.",
                "[shout-yes]": "The answer: YES", "[shout-no]": "The answer: NO"}  # fmt: skip


@pytest.fixture
def info_judge(serve):
    def reply(body: dict, number: int):
        question = body["messages"][-1]["content"]
        return chat_reply(next(text for tag, text in INFO_REPLIES.items() if tag in question))

    return serve(reply)


def test_infobench_asks_each_question_in_one_conversation_and_computes_drfr(tmp_path: Path, info_judge) -> None:
    data = tmp_path / "infobench.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in INFO_ROWS))
    prompts = [infobench.parse_example(r, "row").prompt for r in INFO_ROWS]
    assert prompts[1] == "Summarise the text.\nRain fell."
    metrics = run(tmp_path, "infobench", data, prompts, info_judge.base_url)
    # a: yes no yes; b: yes, then an unreadable reply ends it (its last question is never asked); c: yes no.
    assert metrics["drfr"] == pytest.approx(4 / 8)
    assert metrics["easy_set/drfr"] == pytest.approx(2 / 3) and metrics["hard_set/drfr"] == pytest.approx(2 / 5)
    assert (metrics["judge_unparsed"], metrics["num_questions"]) == (1, 8)
    assert len(info_judge.requests) == 7
    first = next(r["messages"] for r in info_judge.requests if "Rain fell" in r["messages"][0]["content"])
    assert first[0]["content"].startswith(
        infobench.SYSTEM_TEXT + '\n\nInput:\n"Rain fell."\n\nGenerated Text:\n"Answer'
    )
    assert first[0]["content"].endswith('"\n\nQuestion:\nIs it a summary? [yes]\n')
    third_turn = next(r["messages"] for r in info_judge.requests if len(r["messages"]) == 5)
    assert [m["role"] for m in third_turn] == ["user", "assistant", "user", "assistant", "user"]
    assert third_turn[1]["content"] == "Yes, it is." and third_turn[4]["content"] == "Is it in English? [yes]\n"
    assert "<think>" not in first[0]["content"]  # the judge sees the answer, not the reasoning
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["details"]["judge"]["model"] == "judge-m"
    assert results["prompt_scores"] == {"a": pytest.approx(2 / 3), "b": pytest.approx(1 / 3), "c": 0.5}


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [("Yes.", True), ("no, it is not", False), ("Not really", False), ("The answer is YES", True),
     ("NO.", False), ("YES or NO", True), ("Maybe YES or NO", None), ("unsure", None)],
)  # fmt: skip
def test_infobench_verdicts_are_read_as_the_official_script_reads_them(reply: str, verdict) -> None:
    assert infobench.parse_verdict(reply) is verdict


def test_infobench_without_a_judge_is_refused_before_anything_runs(tmp_path: Path, capsys) -> None:
    argv = ["eval", "infobench", "--responses", str(tmp_path / "r.jsonl"), "--output-dir", str(tmp_path / "o")]
    assert cli.main(argv) == 2
    assert "scored by a judge: pass --judge-base-url and --judge-model" in capsys.readouterr().err


# ---- CFBench ---------------------------------------------------------------------------------------------------
def cf_row(idx: int, split: str, criteria: list[tuple[str, str]]) -> dict:
    return {"idx": idx, "prompt": f"指令 {idx}", "gold": "", "split": split,
            "criteria": [[text, need, "内容约束", "其他"] for text, need in criteria]}  # fmt: skip


P, S = cfbench.PRIMARY, cfbench.SECONDARY
CF_ROWS = [
    cf_row(1, "easy", [("p1", P), ("s1", S)]),  # all met: CSR 1, ISR 1, PSR 1
    cf_row(2, "easy", [("p1", P), ("s1", S), ("s2", S)]),  # a primary fails: PSR 0
    cf_row(3, "hard", [("p1", P), ("s1", S), ("s2", S)]),  # secondary 0.5: 0.5 + 0.25 = 0.75, PSR 0
    cf_row(4, "hard", [("s1", S), ("s2", S), ("s3", S)]),  # only secondary, CSR 0.67: PSR 0
    cf_row(5, "hard", [("p1", P), ("s1", S)]),  # malformed reply, read leniently
    cf_row(6, "hard", [("p1", P)]),  # unreadable reply
]
CF_REPLIES = {
    1: "p1\t1\n\ns1\t1",
    2: "p1\t0\n\ns1\t1\n\ns2\t1",
    3: "p1\t1\n\ns1\t1\n\ns2\t0",
    4: "s1\t1\n\ns2\t1\n\ns3\t0",
    5: "p1\t1\ns1\t0",  # one newline instead of two; the lenient reading keeps only the 1
    6: "I think the answer is fine.",
}
CF_EXPECTED = {  # csr, isr, psr
    1: (1.0, 1.0, 1.0), 2: (0.67, 0.0, 0.0), 3: (0.67, 0.0, 0.0), 4: (0.67, 0.0, 0.0), 5: (1.0, 1.0, 1.0),
    6: (0.0, 0.0, 0.0),
}  # fmt: skip


def test_cfbench_scores_each_instruction_as_the_official_script_does(tmp_path: Path, serve) -> None:
    def reply(body: dict, number: int):
        prompt = body["messages"][0]["content"]
        idx = int(prompt.split("[用户指令]: 指令 ")[1].split("\n")[0])
        return chat_reply(CF_REPLIES[idx])

    judge = serve(reply)
    data = tmp_path / "cfbench_data.json"
    data.write_text(json.dumps(CF_ROWS, ensure_ascii=False))
    metrics = run(tmp_path, "cfbench", data, [r["prompt"] for r in CF_ROWS], judge.base_url)
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "out" / "cfbench_results.jsonl").read_text().splitlines())}
    assert {int(k): (r["csr"], r["isr"], r["psr"]) for k, r in rows.items()} == CF_EXPECTED
    assert [rows[str(i)]["reading"] for i in (1, 5, 6)] == ["strict", "lenient", "unreadable"]
    for index, metric in enumerate(("csr", "isr", "psr")):
        values = [expected[index] for expected in CF_EXPECTED.values()]
        assert metrics[metric] == pytest.approx(sum(values) / 6)
    assert metrics["easy/csr"] == pytest.approx((1.0 + 0.67) / 2)
    assert (metrics["judge_lenient"], metrics["judge_unreadable"]) == (1, 1)
    # the judge is called concurrently, so requests arrive in any order: find instruction 1's
    first = next(r for r in judge.requests if "[用户指令]: 指令 1\n" in r["messages"][0]["content"])
    prompt = first["messages"][0]["content"]
    assert "[模型答案]: Answer to 指令 1" in prompt and "[评估标准]: p1\n\ns1\n\n[你的评估]: \n" in prompt
    assert all(r["temperature"] == 0.0 for r in judge.requests)


def test_cfbench_needs_the_official_file() -> None:
    with pytest.raises(cfbench.CFBenchInputError, match="CFBench is not on the Hub: pass --input-data"):
        cfbench.load_input_data(None)


def test_a_failing_judge_stops_the_run_with_exit_1_and_keeps_what_it_had(tmp_path: Path, serve, capsys) -> None:
    judge = serve(lambda body, number: (500, None, {}, 0.0))
    data = tmp_path / "infobench.jsonl"
    data.write_text(json.dumps(INFO_ROWS[0]) + "\n")
    responses = tmp_path / "responses.jsonl"
    responses.write_text(json.dumps({"prompt": "Write a haiku.", "response": "Rain."}) + "\n")
    argv = ["eval", "infobench", "--responses", str(responses), "--input-data", str(data), "--output-dir",
            str(tmp_path / "out"), "--judge-base-url", judge.base_url, "--judge-model", "j", "--max-retries", "0"]  # fmt: skip
    assert cli.main(argv) == 1
    assert "HTTP 500" in capsys.readouterr().err
    assert not (tmp_path / "out" / "metrics.json").exists()
