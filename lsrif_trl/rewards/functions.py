"""TRL reward functions: `fn(prompts, completions, **columns) -> list[float | None]` (docs/lsrm.md).

`StructuredReward` reads each row's tree from the `structure` column (or the flat IFEval columns
`instruction_id_list` + `kwargs`) through `lsrif_trl.trees` (parsed once per distinct tree), scores the completion
with `rewards.scoring` and, through the `log_metric` callable that `GRPOTrainer` passes, logs per batch:
`lsrif/<name>/type/<structure type>` and `lsrif/<name>/depth/<d>` (mean reward), `lsrif/<name>/all_satisfied`
(share of completions that satisfy every active constraint), `lsrif/reward_errors` (checks that failed and
scored 0, and soft scores that were missing or clipped, per reward-function call; TRL averages it over calls) and
`lsrif/soft_missing` (soft leaves without a verdict; their completions' rewards are None). A row whose tree imposes nothing on its input
returns None, which TRL leaves out for that row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from lsrif_trl.rewards.lsrm import DEFAULT_CONFIG, LSRMConfig
from lsrif_trl.rewards.scoring import RowScore, score_completions
from lsrif_trl.rewards.soft import SoftScorer, soft_scored_ids
from lsrif_trl.rewards.think import DEFAULT_POLICY, AnswerPolicy, think_format_score
from lsrif_trl.trees import TreeFacts, batch_trees

ERRORS_METRIC = "lsrif/reward_errors"
MISSING_METRIC = "lsrif/soft_missing"


class StructuredReward:
    """A TRL reward function scoring completions against their logic trees under one `LSRMConfig`."""

    column_sets = (("structure",), ("instruction_id_list", "kwargs"))  # one of these carries a row's tree

    def __init__(
        self,
        config: LSRMConfig = DEFAULT_CONFIG,
        *,
        policy: AnswerPolicy = DEFAULT_POLICY,
        soft_scorer: SoftScorer | None = None,
        soft_scored: Iterable[str] = (),
        name: str | None = None,
    ) -> None:
        if soft_scorer is not None and not callable(soft_scorer):
            raise ValueError(f"soft_scorer: expected a callable scorer(prompt, answer, text), got {soft_scorer!r}")
        self.config, self.policy, self.soft_scorer = config, _policy(policy), soft_scorer
        self.soft_scored = soft_scored_ids(soft_scored, soft_scorer)  # hard ids the soft scorer scores instead
        self.__name__ = name or f"{config.aggregation}_reward"  # TRL logs rewards/<__name__>/mean
        self.error_count = 0  # checks that failed (scored 0) or soft scores missing, since construction
        self.missing_count = 0  # soft leaves without a verdict since construction

    def with_policy(self, policy: AnswerPolicy) -> StructuredReward:
        """This reward reading answers under `policy` (same name, options and soft scorer; no errors counted)."""
        return StructuredReward(
            self.config, policy=policy, soft_scorer=self.soft_scorer, soft_scored=self.soft_scored, name=self.__name__
        )

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float | None]:
        parsed = batch_trees(len(completions), columns)
        rows = score_completions(
            [p.tree for p in parsed],
            completions,
            self.config,
            prompts=prompts,
            policy=self.policy,
            soft_scorer=self.soft_scorer,
            soft_scored=self.soft_scored,
        )
        self.error_count += sum(r.errors for r in rows)
        self.missing_count += sum(r.missing for r in rows)
        log_metric = columns.get("log_metric")
        if callable(log_metric):
            self._log(log_metric, parsed, rows)
        return [r.reward for r in rows]

    def _log(self, log_metric: Callable[[str, float], None], parsed: list[TreeFacts], rows: list[RowScore]) -> None:
        by_group: dict[str, list[float]] = defaultdict(list)
        satisfied: list[bool] = []
        for tree, row in zip(parsed, rows, strict=True):
            if row.reward is not None:
                by_group[f"type/{tree.type}"].append(row.reward)
                by_group[f"depth/{tree.depth}"].append(row.reward)
            if row.all_passed is not None:
                satisfied.append(row.all_passed)
        for group, values in sorted(by_group.items()):
            log_metric(f"lsrif/{self.__name__}/{group}", sum(values) / len(values))
        if satisfied:
            log_metric(f"lsrif/{self.__name__}/all_satisfied", sum(satisfied) / len(satisfied))
        log_metric(ERRORS_METRIC, float(sum(r.errors for r in rows)))
        if self.soft_scorer is not None:
            log_metric(MISSING_METRIC, float(sum(r.missing for r in rows)))


class ThinkFormatReward:
    """RAIF's think-format reward: +1 for one non-placeholder `<think>...</think>` before a non-empty answer,
    else -1 (see `rewards.think.think_format_score`)."""

    NAME = "think_format_reward"  # its `__name__`, which TRL logs and passes on as the reward's name

    def __init__(self, policy: AnswerPolicy = DEFAULT_POLICY) -> None:
        self.policy = _policy(policy)
        if self.policy.think_opened_by == "none":
            raise ValueError("think_opened_by is 'none': no think block can be opened, so the format rule fails all")
        self.__name__ = self.NAME

    def with_policy(self, policy: AnswerPolicy) -> ThinkFormatReward:
        """This reward reading completions under `policy`."""
        return ThinkFormatReward(policy)

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float]:
        return [think_format_score(c, self.policy) for c in completions]


def _policy(value: Any) -> AnswerPolicy:
    if not isinstance(value, AnswerPolicy):
        raise ValueError(f"policy: expected an AnswerPolicy, got {value!r}")
    return value
