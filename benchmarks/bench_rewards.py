"""How fast is the LSRM reward, and what share of a GRPO step does it take?

1. Throughput: the `lsrm` TRL reward function on 10,000 (tree, completion) pairs, each tree holding 2 to 8 hard
   constraints from the registry (random kwargs; random parallel / sequential / conditional nesting),
   completions of 40-400 words with a think block half of the time, scored in GRPO-sized batches on one pinned
   core. Three mixes: every registered verifier, IFEval's 25 only, and all but the slowest (langdetect and NLTK
   tokenizer based) ones; each run splits its time between the verifiers and LSRM's own work.
2. Step share: a tiny-model `GRPOTrainer` run on CPU, timed by TRL's own profiling contexts
   (`profiling/Time taken: GRPOTrainer.<reward name>` around each reward function).

Run: `python benchmarks/bench_rewards.py [--pairs 10000] [--grpo-steps 3]`. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from lsrif_trl.constraints import constraint_ids, follows_strict, get_constraint
from lsrif_trl.rewards import get_reward_funcs, scoring
from lsrif_trl.structure import ConditionalNode, ConstraintNode, Node, ParallelNode, SequentialNode, to_json

WORDS = [
    "the",
    "river",
    "model",
    "answer",
    "short",
    "clear",
    "plan",
    "data",
    "light",
    "garden",
    "window",
    "quiet",
    "north",
    "story",
    "number",
    "simple",
    "bright",
    "city",
    "paper",
    "music",
    "table",
    "yellow",
    "seven",
    "travel",
    "reason",
    "method",
    "result",
    "summer",
    "letter",
    "ocean",
    "forest",
]
BATCH = 1024  # completions per reward call, as in a 1,024-completion GRPO step
SLOW_US = 200  # verifiers slower than this per check (langdetect, NLTK treebank) are reported apart
GROUP = 8  # completions per prompt (num_generations): GRPO repeats each tree this many times


def random_tree(rng: random.Random, leaves: list[ConstraintNode]) -> Node:
    """A random nesting of `leaves` under parallel, sequential and conditional nodes."""
    if len(leaves) == 1:
        return leaves[0]
    kind = rng.choice(["parallel", "sequential", "conditional"])
    if kind == "conditional":
        cut = rng.randint(1, len(leaves) - 1)
        active = rng.choice(["then", "else"])
        return ConditionalNode(
            "the input asks a question", active, random_tree(rng, leaves[:cut]), random_tree(rng, leaves[cut:])
        )
    cuts = sorted(rng.sample(range(1, len(leaves)), k=min(len(leaves) - 1, rng.randint(1, 3))))
    groups = [leaves[a:b] for a, b in zip([0, *cuts], [*cuts, len(leaves)], strict=True)]
    children = tuple(
        random_tree(rng, g) if rng.random() < 0.3 else ParallelNode(tuple(g)) if len(g) > 1 else g[0] for g in groups
    )
    return ParallelNode(children) if kind == "parallel" else SequentialNode(children)


def random_structure(rng: random.Random, ids: list[str]) -> str:
    leaves = []
    for cid in rng.sample(ids, rng.randint(2, 8)):
        constraint = get_constraint(cid)
        leaves.append(ConstraintNode(cid, "hard", constraint.validate(constraint.sample_kwargs(rng))))
    return to_json(random_tree(rng, leaves))


def random_completion(rng: random.Random) -> str:
    """Plain prose with commas, paragraphs, bullets, a title or a postscript now and then."""
    paragraphs = []
    for _ in range(rng.randint(1, 4)):
        sentences = []
        for _ in range(rng.randint(1, 6)):
            words = rng.choices(WORDS, k=rng.randint(5, 18))
            if rng.random() < 0.4:
                words[rng.randrange(len(words))] += ","
            sentences.append(" ".join(words).capitalize() + rng.choice([".", ".", "!", "?"]))
        paragraphs.append(" ".join(sentences))
    if rng.random() < 0.3:
        paragraphs.append("\n".join(f"* {' '.join(rng.choices(WORDS, k=4))}" for _ in range(rng.randint(2, 5))))
    text = rng.choice(["\n\n", "\n\n", "\n***\n"]).join(paragraphs)
    if rng.random() < 0.2:
        text = f"<<{rng.choice(WORDS).title()}>>\n\n{text}"
    if rng.random() < 0.2:
        text += "\n\nP.S. " + " ".join(rng.choices(WORDS, k=6))
    if rng.random() < 0.5:
        text = f"<think>{' '.join(rng.choices(WORDS, k=rng.randint(20, 120)))}</think>\n\n{text}"
    return text.lower() if rng.random() < 0.15 else text


def bench_throughput(pairs: int, ids: list[str], label: str, seed: int) -> float:
    """Completions per second of the `lsrm` reward function (cold caches, GRPO-like repeated trees)."""
    rng = random.Random(seed)
    structures = [random_structure(rng, ids) for _ in range(pairs // GROUP + 1)]
    rows = [(structures[i // GROUP], random_completion(rng)) for i in range(pairs)]
    (lsrm,) = get_reward_funcs(["lsrm"])
    in_verifiers = 0.0
    verify = scoring.follows_strict

    def timed_verify(*args):  # splits the time between the verifiers and LSRM's own work
        nonlocal in_verifiers
        start = time.perf_counter()
        try:
            return verify(*args)
        finally:
            in_verifiers += time.perf_counter() - start

    scoring.follows_strict = timed_verify
    start = time.perf_counter()
    for i in range(0, pairs, BATCH):
        chunk = rows[i : i + BATCH]
        lsrm(prompts=[""] * len(chunk), completions=[c for _, c in chunk], structure=[s for s, _ in chunk])
    elapsed = time.perf_counter() - start
    scoring.follows_strict = verify
    per_s = pairs / elapsed
    own_us = (elapsed - in_verifiers) / pairs * 1e6
    print(f"[throughput:{label}] {pairs} pairs over {len(ids)} constraint ids: {elapsed:.2f} s -> {per_s:,.0f} /s")
    print(
        f"[throughput:{label}] verifiers {in_verifiers / elapsed:.0%} of the time; LSRM's own work (parse cache, "
        f"answer extraction, aggregation, metrics) {own_us:.1f} us per completion; errors counted {lsrm.error_count}"
    )
    return per_s


def verifier_costs(samples: int = 300, seed: int = 1) -> dict[str, float]:
    """Mean microseconds per strict check of each hard verifier on fresh benchmark completions."""
    rng = random.Random(seed)
    costs = {}
    for cid in constraint_ids():
        constraint = get_constraint(cid)
        kwargs = constraint.validate(constraint.sample_kwargs(rng))
        texts = [random_completion(rng) for _ in range(samples)]  # fresh texts: the text analyses are cached
        start = time.perf_counter()
        for text in texts:
            follows_strict(text, cid, kwargs)
        costs[cid] = (time.perf_counter() - start) / samples * 1e6
    slowest = sorted(costs.items(), key=lambda kv: -kv[1])[:5]
    print("[verifiers] slowest (us per check): " + ", ".join(f"{cid} {us:.0f}" for cid, us in slowest))
    return costs


def bench_grpo_share(steps: int) -> None:
    """Share of tiny-model GRPO step time spent in the reward, from TRL's profiling contexts."""
    import trl.extras.profiling as profiling
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from lsrif_trl.tiny import build_tiny_model

    timings: dict[str, list[float]] = defaultdict(list)
    original = profiling.ProfilingContext._log_metrics

    def record(self, duration: float) -> None:  # TRL only forwards these to wandb/mlflow/trackio; keep them here
        timings[self.name].append(duration)
        original(self, duration)

    profiling.ProfilingContext._log_metrics = record
    rng = random.Random(2)
    rows = [
        {
            "prompt": [{"role": "user", "content": f"Write about {w}."}],
            "structure": random_structure(rng, constraint_ids()),
        }
        for w in WORDS[:16]
    ]
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_model(Path(tmp) / "tiny")
        args = GRPOConfig(
            output_dir=str(Path(tmp) / "out"),
            use_cpu=True,
            max_steps=steps,
            per_device_train_batch_size=16,
            num_generations=8,
            max_completion_length=64,
            logging_steps=1,
            report_to=[],
            save_strategy="no",
        )
        trainer = GRPOTrainer(
            model=AutoModelForCausalLM.from_pretrained(model_dir),
            reward_funcs=get_reward_funcs(["lsrm"]),
            args=args,
            train_dataset=Dataset.from_list(rows),
            processing_class=AutoTokenizer.from_pretrained(model_dir),
        )
        start = time.perf_counter()
        trainer.train()
        total = time.perf_counter() - start
    profiling.ProfilingContext._log_metrics = original
    reward = sum(timings["GRPOTrainer.lsrm_reward"])
    generate = sum(sum(v) for k, v in timings.items() if "generate" in k)
    print(f"[grpo] tiny model on CPU, {steps} steps x 16 completions (max 64 new tokens): {total:.2f} s in train()")
    print(f"[grpo] TRL profiling: lsrm_reward {reward * 1e3:.1f} ms total, generation {generate:.2f} s")
    print(f"[grpo] reward share of step time: {reward / total:.3%}")


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--grpo-steps", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target states
    costs = verifier_costs()
    per_s = bench_throughput(args.pairs, sorted(costs), "all registered", seed=10)
    ifeval = sorted(cid for cid in costs if get_constraint(cid).family.startswith("ifeval:"))
    bench_throughput(args.pairs, ifeval, "IFEval's 25", seed=11)
    fast = sorted(cid for cid, us in costs.items() if us < SLOW_US)
    bench_throughput(args.pairs, fast, f"verifiers < {SLOW_US} us", seed=12)
    bench_grpo_share(args.grpo_steps)
    explain_step_share(per_s)


def explain_step_share(per_s: float, gpus: int = 8, step_s: tuple[float, float] = (60.0, 300.0)) -> None:
    """Why the measured throughput keeps the reward under 2% of a GPU step over BATCH completions."""
    per_process = BATCH / gpus / per_s  # TRL scores each process's own completions, then gathers the rewards
    print(
        f"[claim] one core scores a completion in {1e3 / per_s:.2f} ms (all registered verifiers), so a {BATCH}-completion "
        f"step costs {BATCH / per_s:.2f} s of reward on one process, or {per_process:.2f} s on each of {gpus} "
        f"data-parallel processes, which is 2% of a {per_process / 0.02:.0f} s step."
    )
    print(
        f"[claim] such a step decodes {BATCH} completions of 512-2048 tokens (0.5-2 M tokens) and runs forward and "
        f"backward passes of a 1.5B-7B policy over them: {step_s[0]:.0f}-{step_s[1]:.0f} s on one 8-GPU node, so "
        f"the reward takes {per_process / step_s[1]:.2%}-{per_process / step_s[0]:.2%} of it. On fewer GPUs "
        f"both the step and the per-process reward grow by the same factor, so the share holds."
    )


if __name__ == "__main__":
    main()
