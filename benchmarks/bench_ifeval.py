"""IFEval scoring throughput: this project against lm-evaluation-harness's implementation, with identical verdicts.

Both score the 541 GPT-4 responses released with IFEval, strict and loose together, with this project's
per-response caches cleared before each repeat (after a warm-up that loads punkt and langdetect's profiles).
Time is CPU time of the scoring process (`time.process_time`), so other load on the machine skews it less. lm-eval runs in its own virtualenv
(`benchmarks/.venv-lmeval`, made by `make bench-ifeval`) so its dependencies never touch the project's; only its
`lm_eval.tasks.ifeval` modules are imported (not `lm_eval/__init__`, which needs torch). Prints both
throughputs, their ratio and any verdict that differs; asserts nothing.

Run: `make bench-ifeval`, or `python benchmarks/bench_ifeval.py [--repeats 5] [--reference-python PY]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
IFEVAL_DATA = HERE.parent.parent / "shared" / "data" / "ifeval"
INPUT = IFEVAL_DATA / "input_data.jsonl"
RESPONSES = IFEVAL_DATA / "input_response_data_gpt4_20231107_145030.jsonl"
UNSTABLE = IFEVAL_DATA / "reference_unstable.json"
NLTK_DATA = IFEVAL_DATA.parent / "nltk_data"
REFERENCE_PYTHON = HERE / ".venv-lmeval" / "bin" / "python"
WARM_UP = "A warm-up answer. It loads the tokenizers, NOT the cases!"


def load_cases() -> list[tuple[dict, str]]:
    """(input row, response) for every IFEval prompt."""
    responses = {}
    with RESPONSES.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            responses[row["prompt"]] = row["response"]
    with INPUT.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    return [(row, responses[row["prompt"]]) for row in rows]


def warm_up_rows(cases: list[tuple[dict, str]]) -> list[dict]:
    """One single-instruction row per instruction id (its first use), to load every model before timing."""
    rows: dict[str, dict] = {}
    for row, _ in cases:
        for index, cid in enumerate(row["instruction_id_list"]):
            single = {**row, "instruction_id_list": [cid], "kwargs": [row["kwargs"][index]]}
            rows.setdefault(cid, single)
    return list(rows.values())


def time_ours(cases: list[tuple[dict, str]], repeats: int) -> tuple[list[float], list[tuple[list, list]]]:
    """Seconds per cold pass and the (strict, loose) verdicts of this project."""
    from lsrif_trl.constraints.scoring import clear_caches
    from lsrif_trl.eval.ifeval import parse_example, score_example

    examples = [(parse_example(row, f"row {i}"), response) for i, (row, response) in enumerate(cases)]
    for row in warm_up_rows(cases):
        score_example(parse_example(row, "warm-up"), WARM_UP)
    seconds, verdicts = [], []
    for _ in range(repeats):
        clear_caches()
        start = time.process_time()
        results = [score_example(example, response) for example, response in examples]
        seconds.append(time.process_time() - start)
        verdicts = [(s.follow_instruction_list, lo.follow_instruction_list) for s, lo in results]
    return seconds, verdicts


def reference_worker(repeats: int) -> None:
    """Inside lm-eval's virtualenv: score every case with its IFEval code and print seconds and verdicts as JSON."""
    spec = importlib.util.find_spec("lm_eval")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("lm_eval is not installed in this interpreter; run `make bench-ifeval`")
    root = Path(next(iter(spec.submodule_search_locations)))
    for name, path in (("lm_eval", root), ("lm_eval.tasks", root / "tasks")):
        package = types.ModuleType(name)  # a bare package: its __init__ would import torch and the evaluator
        package.__path__ = [str(path)]
        sys.modules[name] = package
    from lm_eval.tasks.ifeval import utils

    def score(row: dict, response: str) -> tuple[list, list]:
        example = utils.InputExample(row["key"], row["instruction_id_list"], row["prompt"], row["kwargs"])
        strict = utils.test_instruction_following_strict(example, response)
        loose = utils.test_instruction_following_loose(example, response)
        return strict.follow_instruction_list, loose.follow_instruction_list

    cases = load_cases()
    for row in warm_up_rows(cases):
        score(row, WARM_UP)
    seconds, verdicts = [], []
    for _ in range(repeats):
        start = time.process_time()
        verdicts = [score(row, response) for row, response in cases]
        seconds.append(time.process_time() - start)
    json.dump({"seconds": seconds, "verdicts": verdicts}, sys.stdout)


def time_reference(python: Path, repeats: int) -> tuple[list[float], list[tuple[list, list]]]:
    """Run `reference_worker` in lm-eval's interpreter."""
    if not python.exists():
        raise SystemExit(f"{python} not found: run `make bench-ifeval` (it creates lm-eval's virtualenv)")
    env = {"NLTK_DATA": os.environ["NLTK_DATA"], "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    command = [str(python), __file__, "--worker", "--repeats", str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"lm-eval worker failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout)
    return result["seconds"], [tuple(v) for v in result["verdicts"]]


def differences(cases, ours, reference) -> tuple[list[str], list[str]]:
    """Differing verdicts, split into those the reference draws at random (allowed) and real ones."""
    unstable = {(e["key"], e["instruction_index"]) for e in json.loads(UNSTABLE.read_text())["entries"]}
    allowed, real = [], []
    for (row, _), (our_strict, our_loose), (ref_strict, ref_loose) in zip(cases, ours, reference, strict=True):
        for index, cid in enumerate(row["instruction_id_list"]):
            if (our_strict[index], our_loose[index]) != (ref_strict[index], ref_loose[index]):
                note = (
                    f"key {row['key']} #{index} {cid}: ours strict/loose {our_strict[index]}/{our_loose[index]}, "
                    f"lm-eval {ref_strict[index]}/{ref_loose[index]}"
                )
                (allowed if (row["key"], index) in unstable else real).append(note)
    return allowed, real


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5, help="cold passes per implementation (median reported)")
    parser.add_argument("--reference-python", type=Path, default=REFERENCE_PYTHON)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        reference_worker(args.repeats)
        return

    os.environ.setdefault("NLTK_DATA", str(NLTK_DATA))  # the shared punkt_tab parameters, for both sides
    cases = load_cases()
    instructions = sum(len(row["instruction_id_list"]) for row, _ in cases)
    ref_seconds, ref_verdicts = time_reference(args.reference_python, args.repeats)
    our_seconds, our_verdicts = time_ours(cases, args.repeats)
    allowed, real = differences(cases, our_verdicts, ref_verdicts)

    ours, ref = statistics.median(our_seconds), statistics.median(ref_seconds)
    print(
        f"IFEval: {len(cases)} GPT-4 responses, {instructions} instructions, strict + loose, median of {args.repeats}"
    )
    print(f"  lm-eval   {len(cases) / ref:9.1f} responses/s   ({ref:.3f} s per pass; {ref_seconds})")
    print(f"  lsrif     {len(cases) / ours:9.1f} responses/s   ({ours:.3f} s per pass; {our_seconds})")
    print(f"  ratio     {ref / ours:9.2f}x")
    print(f"  verdicts  {'identical' if not real else f'{len(real)} DIFFER'}", end="")
    print(f" ({len(allowed)} differ where the reference draws a random letter)" if allowed else "")
    for note in real + allowed:
        print(f"    {note}")


if __name__ == "__main__":
    main()
