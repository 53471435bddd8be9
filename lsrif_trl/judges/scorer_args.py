"""Recipe YAML keys that choose the scorer of soft constraints; `lsrif_trl.training` composes them into the GRPO
script arguments.

soft_scorer: judge                       # or classifier, or none (default: hard constraints only)
judge_base_url: http://localhost:8001/v1
judge_model: Qwen/Qwen2.5-7B-Instruct
soft_rm_path: outputs/tiny-soft-rm       # for soft_scorer: classifier
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from lsrif_trl.judges import build_soft_scorer
from lsrif_trl.rewards.soft import SoftScorer


@dataclass
class SoftScorerArguments:
    """Which scorer gives soft leaves their probability, and its settings."""

    soft_scorer: Literal["none", "judge", "classifier"] = field(
        default="none",
        metadata={
            "help": "Scorer of soft constraints: an OpenAI-compatible LLM judge, a local reward model, or none."
        },
    )
    judge_base_url: str | None = field(default=None, metadata={"help": "Judge server, e.g. http://localhost:8001/v1."})
    judge_model: str | None = field(default=None, metadata={"help": "Model name the judge server serves."})
    judge_api_key_env: str = field(
        default="OPENAI_API_KEY", metadata={"help": "Environment variable holding the judge's API key (if any)."}
    )
    judge_concurrency: int = field(default=8, metadata={"help": "Parallel judge requests."})
    judge_timeout: float = field(default=60.0, metadata={"help": "Seconds before a judge request is retried."})
    judge_max_retries: int = field(default=3, metadata={"help": "Retries of a failed judge request."})
    judge_cache: str | None = field(
        default=None, metadata={"help": "sqlite file caching verdicts across runs (default: in memory)."}
    )
    judge_top_logprobs: int = field(
        default=5, metadata={"help": "Top logprobs asked for the verdict token (0: text verdicts only)."}
    )
    judge_max_tokens: int = field(default=8, metadata={"help": "Reply tokens; raise it for judges that reason."})
    soft_rm_path: str | None = field(
        default=None, metadata={"help": "Reward model folder for soft_scorer: classifier."}
    )
    soft_rm_batch_size: int = field(default=8, metadata={"help": "Batch size of the reward model."})

    def soft_scorer_options(self) -> dict[str, Any]:
        """The keyword arguments of `judges.build_soft_scorer` for the chosen scorer."""
        if self.soft_scorer == "judge":
            missing = [k for k in ("judge_base_url", "judge_model") if not getattr(self, k)]
            if missing:
                raise ValueError(f"soft_scorer: judge needs {' and '.join(missing)}")
            return {
                "base_url": self.judge_base_url,
                "model": self.judge_model,
                "api_key_env": self.judge_api_key_env,
                "concurrency": self.judge_concurrency,
                "timeout": self.judge_timeout,
                "max_retries": self.judge_max_retries,
                "cache_path": self.judge_cache,
                "top_logprobs": self.judge_top_logprobs,
                "max_tokens": self.judge_max_tokens,
            }
        if self.soft_scorer == "classifier":
            if not self.soft_rm_path:
                raise ValueError(
                    "soft_scorer: classifier needs soft_rm_path (a reward model from recipes/train_rm.py)"
                )
            return {"model_path": self.soft_rm_path, "batch_size": self.soft_rm_batch_size}
        return {}

    def build_soft_scorer(self) -> SoftScorer | None:
        """The configured scorer (None for `soft_scorer: none`); ValueError naming the key to fix."""
        return build_soft_scorer(self.soft_scorer, **self.soft_scorer_options())
