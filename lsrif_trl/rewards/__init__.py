"""Rewards for instruction-following RL: LSRM over logic trees, flat baselines, anchor shapes, think format.

The TRL entry point is `get_reward_funcs(names, **options)` (see `rewards.registry`)."""

from lsrif_trl.rewards.functions import StructuredReward, ThinkFormatReward
from lsrif_trl.rewards.lsrm import AGGREGATIONS, SEQ_MODES, LSRMConfig, aggregate
from lsrif_trl.rewards.registry import REWARD_NAMES, RewardOptions, get_reward_func, get_reward_funcs
from lsrif_trl.rewards.scoring import RowScore, score_completions
from lsrif_trl.rewards.soft import SoftScorer
from lsrif_trl.rewards.think import AnswerPolicy, think_format_score

__all__ = [
    "AGGREGATIONS",
    "AnswerPolicy",
    "REWARD_NAMES",
    "SEQ_MODES",
    "LSRMConfig",
    "RewardOptions",
    "RowScore",
    "SoftScorer",
    "StructuredReward",
    "ThinkFormatReward",
    "aggregate",
    "get_reward_func",
    "get_reward_funcs",
    "score_completions",
    "think_format_score",
]
