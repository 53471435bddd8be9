"""The judge of the judge-scored benchmarks: any OpenAI-compatible chat server, asked through the evaluation's own
OpenAI backend, its replies kept (and resumed) in `judge_replies.jsonl` beside the results.

Replies are parsed by each benchmark's own rules, never executed. Judge scores depend on the judge: compare runs
scored by the same judge model and settings only (they are recorded in `results.json`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lsrif_trl.data.http_retry import RetryPolicy
from lsrif_trl.eval.generation import OpenAIGenerator, SamplingParams, read_responses, run_generation

REPLIES_FILE = "judge_replies.jsonl"


@dataclass(frozen=True)
class JudgeConfig:
    """Which judge answers and how; greedy by default, as the benchmarks' GPT-4 judges were run."""

    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    max_tokens: int = 2048
    temperature: float = 0.0
    seed: int = 42
    concurrency: int = 8
    timeout: float = 300.0
    max_retries: int = 5

    def __post_init__(self) -> None:
        if not self.base_url or not self.model:
            raise ValueError("a judge needs --judge-base-url and --judge-model (any OpenAI-compatible server)")

    def record(self) -> dict[str, Any]:
        """The settings stored with the results (the key's variable name, never the key)."""
        return asdict(self)


def judge_replies(prompts: list[str], config: JudgeConfig, output_dir: Path) -> dict[str, str]:
    """The judge's reply to every prompt (the text after any reasoning); replies already on disk are reused."""
    sampling = SamplingParams(config.max_tokens, config.temperature, 1.0, config.seed)
    judge = OpenAIGenerator(
        config.model,
        sampling,
        base_url=config.base_url,
        api_key_env=config.api_key_env,
        concurrency=config.concurrency,
        timeout=config.timeout,
        retry=RetryPolicy(max_retries=config.max_retries),
    )
    path = output_dir / REPLIES_FILE
    run_generation(judge, prompts, path)
    replies = read_responses(path)
    return {prompt: replies[prompt]["response"] for prompt in prompts}
