"""The judge of the judge-scored benchmarks: any OpenAI-compatible chat server, asked through the evaluation's own
OpenAI backend, its replies kept (and resumed) in `judge_replies.jsonl` beside the results.

Replies are parsed by each benchmark's own rules, never executed. Judge scores depend on the judge: compare runs
scored by the same judge model and settings only (they are recorded in `results.json`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lsrif_trl.chat.retry import RetryPolicy
from lsrif_trl.eval.generation import (
    GENERATION_RETRIES,
    OpenAIGenerator,
    SamplingParams,
    read_responses,
    run_generation,
)

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
    max_retries: int = GENERATION_RETRIES

    def __post_init__(self) -> None:
        if not self.base_url or not self.model:
            raise ValueError("a judge needs --judge-base-url and --judge-model (any OpenAI-compatible server)")

    def record(self) -> dict[str, Any]:
        """The settings stored with the results (the key's variable name, never the key)."""
        return asdict(self)


Message = dict[str, str]


class _ConversationJudge(OpenAIGenerator):
    """The OpenAI backend with a whole conversation per request: each prompt is a JSON list of chat messages."""

    def _messages(self, prompt: str) -> list[Message]:
        return json.loads(prompt)


def judge_conversations(conversations: list[list[Message]], config: JudgeConfig, output_dir: Path) -> list[str]:
    """The judge's next reply (the text after any reasoning) to each conversation, in order; replies already in
    `output_dir/judge_replies.jsonl` are reused, new ones appended as they arrive."""
    keys = [json.dumps(messages, ensure_ascii=False) for messages in conversations]
    sampling = SamplingParams(config.max_tokens, config.temperature, 1.0, config.seed)
    judge = _ConversationJudge(
        config.model,
        sampling,
        base_url=config.base_url,
        api_key_env=config.api_key_env,
        concurrency=config.concurrency,
        timeout=config.timeout,
        retry=RetryPolicy(max_retries=config.max_retries),
    )
    path = output_dir / REPLIES_FILE
    output_dir.mkdir(parents=True, exist_ok=True)
    run_generation(judge, keys, path)
    replies = read_responses(path)
    return [replies[key]["response"] for key in keys]


def judge_replies(prompts: list[str], config: JudgeConfig, output_dir: Path) -> dict[str, str]:
    """The judge's reply to each single-turn prompt, by prompt."""
    replies = judge_conversations([[{"role": "user", "content": p}] for p in prompts], config, output_dir)
    return dict(zip(prompts, replies, strict=True))
