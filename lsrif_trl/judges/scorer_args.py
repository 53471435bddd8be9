"""Recipe YAML keys that choose the scorer of soft constraints; `lsrif_trl.training` composes them into the GRPO
script arguments.

soft_scorer: judge                       # or classifier, or none (default: hard constraints only)
judge_base_url: http://localhost:8001/v1
judge_model: Qwen/Qwen2.5-7B-Instruct
soft_rm_path: outputs/tiny-soft-rm       # for soft_scorer: classifier
soft_scored_constraints: [keywords:existence]   # hard constraints the scorer scores instead of their verifiers
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

from lsrif_trl.judges import build_soft_scorer
from lsrif_trl.judges.openai_judge import FAILURE_MIN_ITEMS, FAILURE_WINDOW, OpenAIJudge
from lsrif_trl.rewards.soft import SoftScorer, soft_scored_ids

JUDGE_DEFAULTS = {f.name: f.default for f in fields(OpenAIJudge)}  # the judge owns its defaults


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
        default=JUDGE_DEFAULTS["api_key_env"],
        metadata={"help": "Environment variable holding the judge's API key (if any)."},
    )
    judge_concurrency: int = field(
        default=JUDGE_DEFAULTS["concurrency"], metadata={"help": "Judge requests in flight at once (per process)."}
    )
    judge_timeout: float = field(
        default=JUDGE_DEFAULTS["timeout"],
        metadata={"help": "Seconds one judge attempt may take, reply included, before it is retried."},
    )
    judge_deadline: float = field(
        default=JUDGE_DEFAULTS["deadline"],
        metadata={"help": "Seconds one verdict may take, retries and waits included; then missing."},
    )
    judge_max_retries: int = field(
        default=JUDGE_DEFAULTS["max_retries"], metadata={"help": "Retries of a failed judge request."}
    )
    judge_max_failure_rate: float = field(
        default=JUDGE_DEFAULTS["max_failure_rate"],
        metadata={
            "help": f"Share of missing verdicts among the last {FAILURE_WINDOW} soft leaves judged (checked from "
            f"{FAILURE_MIN_ITEMS} on) that stops training with an error."
        },
    )
    judge_cache: str | None = field(
        default=None, metadata={"help": "sqlite file caching verdicts across runs (default: in memory)."}
    )
    judge_top_logprobs: int = field(
        default=JUDGE_DEFAULTS["top_logprobs"],
        metadata={"help": "Top logprobs asked for the verdict token (0: text verdicts only)."},
    )
    judge_max_tokens: int = field(
        default=JUDGE_DEFAULTS["max_tokens"], metadata={"help": "Reply tokens; raise it for judges that reason."}
    )
    soft_rm_path: str | None = field(
        default=None, metadata={"help": "Reward model folder for soft_scorer: classifier."}
    )
    soft_rm_batch_size: int = field(default=8, metadata={"help": "Batch size of the reward model."})
    soft_scored_constraints: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Hard constraint ids whose leaves the soft scorer scores instead of their verifiers, as if they "
            "were soft (measures a reward model against the verifiers' truth; `make ablation RM=1`)."
        },
    )

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
                "deadline": self.judge_deadline,
                "max_retries": self.judge_max_retries,
                "max_failure_rate": self.judge_max_failure_rate,
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

    def soft_scored_ids(self, scorer: SoftScorer | None) -> frozenset[str]:
        """`soft_scored_constraints` checked against the registry and `scorer`; ValueError naming the key."""
        try:
            return soft_scored_ids(self.soft_scored_constraints, scorer)
        except ValueError as err:
            raise ValueError(f"soft_scored_constraints: {err}") from None
