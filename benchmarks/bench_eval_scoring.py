"""How fast are the evaluation scorers? Scoring must never be the slow part of `lsrif eval`.

- IFEval: the 541 official prompts with GPT-4's released responses (`../shared/data/ifeval`), strict + loose.
- LSR-Eval: the 500 fixed prompts, each answered with one of those GPT-4 responses (real text of realistic
  length and layout), scored under lsrm, flat and all plus the per-type/depth/family summary.

For each benchmark it prints responses/s (best of `--repeats` cold-cache runs after a warm-up) and the generation
speed at which scoring would take as long as generating: responses/s x mean answer length in tokens
(whitespace words x 1.3, a usual tokens-per-word ratio for English).

Run: `python benchmarks/bench_eval_scoring.py [--repeats 3]`.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TOKENS_PER_WORD = 1.3


def best_time(run: Callable[[], object], repeats: int) -> float:
    """Seconds of the fastest of `repeats` cold runs (text-analysis caches cleared first: every response of an
    evaluation is new), after one untimed warm-up run that loads NLTK's and langdetect's models."""
    from lsrif_trl.constraints.scoring import clear_caches

    run()
    times = []
    for _ in range(repeats):
        clear_caches()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def report(name: str, n: int, seconds: float, texts: list[str]) -> None:
    tokens = TOKENS_PER_WORD * sum(len(t.split()) for t in texts) / len(texts)
    rate = n / seconds
    print(
        f"{name:9s} {n:4d} responses in {seconds:6.3f} s = {rate:7.1f} responses/s "
        f"({1000 / rate:5.2f} ms each); mean answer ~{tokens:.0f} tokens -> scoring matches a generator "
        f"running at {rate * tokens:,.0f} tokens/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from lsrif_trl.eval import ifeval, lsr

    examples = ifeval.load_input_data(SHARED / "ifeval" / "input_data.jsonl")
    gpt4 = ifeval.load_responses(
        SHARED / "ifeval" / "input_response_data_gpt4_20231107_145030.jsonl", {e.prompt for e in examples}
    )
    seconds = best_time(lambda: ifeval.score_ifeval(examples, gpt4), args.repeats)
    report("IFEval", len(examples), seconds, list(gpt4.values()))

    benchmark = lsr.build_lsr_eval()
    texts = list(gpt4.values())
    rng = random.Random(0)
    answers = {e.prompt: rng.choice(texts) for e in benchmark}
    seconds = best_time(lambda: lsr.summarize(lsr.score_lsr(benchmark, answers)), args.repeats)
    report("LSR-Eval", len(benchmark), seconds, list(answers.values()))
    start = time.perf_counter()
    lsr._build.cache_clear()
    lsr.build_lsr_eval()
    print(f"LSR-Eval build (500 prompts from the fixed recipe): {time.perf_counter() - start:.2f} s")
    print(json.dumps({"cpu_count": os.cpu_count()}))


if __name__ == "__main__":
    main()
