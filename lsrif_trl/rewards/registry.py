"""Reward functions by the names recipe YAML files use.

    get_reward_funcs(names, **options) -> list of TRL reward functions, in the order of `names`

Names (`REWARD_NAMES`):
    lsrm          logic-structured reward over the `structure` tree (docs/lsrm.md), in [0, 1]
    flat          mean over every leaf, both conditional branches included (structure-blind baseline), [0, 1]
    all           1 if every active constraint passes else 0, {0, 1}
    raif          RAIF's shape: +2 all pass, -2 none passes, else the fraction passing, [-2, 2]
    mean5         self-supervised IF-RL's shape: 5 x mean constraint score, [0, 5]
    think_format  RAIF's format rule: +1 for one non-placeholder <think>...</think> before the answer, else -1
    math_accuracy maths rows: 1 if the answer (math-verify, as TRL's accuracy_reward) equals `solution`, else 0
    math_raif     maths rows, RAIF's shape: +2 equal, -1.5 not, -2 without a \boxed{} answer (rewards.math_answer)
`answer_reward` is what RAIF's contrast compares samples by: the weighted rewards without the format rules
(`FORMAT_REWARD_FUNCS`, by function name); the trainer (`training.raif_trainer`) and `lsrif data reference`
(`eval.reference`) both use it.
Options (`DEFAULT_OPTIONS`, shared by all names; an entry may override `gamma`, `seq_mode` and `tau` for itself):
    gamma, seq_mode, tau   LSRM's options (`rewards.lsrm.LSRMConfig`; recipe keys `lsrm_gamma`, `lsrm_seq_mode`,
                   `lsrm_tau`)
    policy         the run's `rewards.think.AnswerPolicy`: where the scored answer starts (recipe keys
                   `think_opened_by`, `unclosed_think`; the chat template may open the block, see `for_template`)
    soft_scorer    a `rewards.soft.SoftScorer` (callable) for soft leaves; default None (hard leaves only)
    soft_scored    hard constraint ids the soft scorer scores instead of their verifiers (as if soft); default ()
An entry of `names` is a name or a mapping `{"name": "lsrm", "gamma": 0.7, "func_name": "lsrm_g07"}`;
`func_name` sets the function's `__name__` (TRL's metric key) when one name is used twice. An entry that is not a
name but a dotted import path (`my_pkg.rewards.fn`) is that function of your own, imported as TRL's grpo.py does
(the working directory first on the path) and called as TRL calls reward functions; the options do not apply to it.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lsrif_trl.rewards.functions import StructuredReward, ThinkFormatReward
from lsrif_trl.rewards.lsrm import AGGREGATIONS, LSRMConfig, SeqMode
from lsrif_trl.rewards.math_answer import MathAnswerReward
from lsrif_trl.rewards.soft import SoftScorer
from lsrif_trl.rewards.think import (
    DEFAULT_POLICY,
    THINK_OPENED_BY_HELP,
    UNCLOSED_HELP,
    AnswerPolicy,
    ThinkOpener,
    UnclosedPolicy,
)

MATH_REWARDS = {"math_accuracy": "accuracy", "math_raif": "raif"}  # name -> rewards.math_answer shape
REWARD_NAMES = (*AGGREGATIONS, "think_format", *MATH_REWARDS)
FORMAT_REWARDS = ("think_format",)  # format rules: left out of the answer reward RAIF's contrast compares
FORMAT_REWARD_FUNCS = (ThinkFormatReward.NAME,)  # the same rules by their functions' `__name__` (a trainer's names)
RewardFunc = Callable[..., list[float | None]]


@dataclass
class RewardOptions:
    """The options every registry reward shares, as recipe keys; `lsrif score` and the recipes read their
    defaults and choices from here (the formulas are in `rewards.lsrm`)."""

    lsrm_gamma: float = field(
        default=LSRMConfig.gamma,
        metadata={"help": "Decay of later sequential steps after an earlier failure, in [0, 1]."},
    )
    lsrm_seq_mode: SeqMode = field(
        default=LSRMConfig.seq_mode,
        metadata={"help": "How earlier failed steps discount later ones: product, count or gate."},
    )
    lsrm_tau: float = field(
        default=LSRMConfig.tau, metadata={"help": "Score from which a leaf counts as passed, in [0, 1]."}
    )
    think_opened_by: ThinkOpener = field(
        default=DEFAULT_POLICY.think_opened_by, metadata={"help": THINK_OPENED_BY_HELP}
    )
    unclosed_think: UnclosedPolicy = field(default=DEFAULT_POLICY.unclosed, metadata={"help": UNCLOSED_HELP})

    def answer_policy(self) -> AnswerPolicy:
        """The answer policy these options describe (before the tokenizer is known)."""
        return AnswerPolicy(self.think_opened_by, self.unclosed_think)

    def reward_options(self) -> dict[str, Any]:
        """These options as the keyword arguments of `get_reward_funcs`."""
        return {
            "gamma": self.lsrm_gamma,
            "seq_mode": self.lsrm_seq_mode,
            "tau": self.lsrm_tau,
            "policy": self.answer_policy(),
        }

    def build(
        self,
        names: Sequence[str | Mapping[str, Any]],
        soft_scorer: SoftScorer | None = None,
        soft_scored: Sequence[str] = (),
    ) -> list[RewardFunc]:
        """The reward functions `names` with these options; ValueError naming the bad name or option."""
        return get_reward_funcs(names, **self.reward_options(), soft_scorer=soft_scorer, soft_scored=soft_scored)


DEFAULT_OPTIONS: dict[str, Any] = {**RewardOptions().reward_options(), "soft_scorer": None, "soft_scored": ()}


def get_reward_func(name: str, **options: Any) -> RewardFunc:
    """One reward function by name; ValueError listing the known names or naming the bad option."""
    if name not in REWARD_NAMES:
        raise ValueError(
            f"unknown reward {name!r}; known rewards: {', '.join(REWARD_NAMES)}, or an import path (my_pkg.rewards.fn)"
        )
    func_name = options.pop("func_name", None)
    unknown = sorted(set(options) - set(DEFAULT_OPTIONS))
    if unknown:
        raise ValueError(f"reward {name!r}: unknown option {unknown[0]!r}; known options: {sorted(DEFAULT_OPTIONS)}")
    opts = {**DEFAULT_OPTIONS, **options}
    try:  # options are checked for every name, so a typo in a shared option fails even next to think_format
        reward = StructuredReward(
            LSRMConfig(name if name in AGGREGATIONS else "lsrm", opts["gamma"], opts["seq_mode"], opts["tau"]),
            policy=opts["policy"],
            soft_scorer=opts["soft_scorer"],
            soft_scored=opts["soft_scored"],
            name=func_name,
        )
    except ValueError as err:
        raise ValueError(f"reward {name!r}: {err}") from None
    if name in AGGREGATIONS:
        return reward
    if func_name is not None:
        raise ValueError(f"reward {name!r}: `func_name` is not supported (use it once per run)")
    try:
        if name in MATH_REWARDS:
            return MathAnswerReward(MATH_REWARDS[name], policy=opts["policy"])
        return ThinkFormatReward(opts["policy"])
    except ValueError as err:
        raise ValueError(f"reward {name!r}: {err}") from None


def import_reward_func(path: str) -> RewardFunc:
    """The function at the dotted import path `path` (`my_pkg.rewards.fn`); ValueError saying what is missing."""
    module_name, _, attribute = path.rpartition(".")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as TRL's grpo.py: modules beside where the run starts
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(
            f"unknown reward {path!r}: not a known name ({', '.join(REWARD_NAMES)}) and its module {module_name!r} "
            f"cannot be imported ({type(err).__name__}: {err})"
        ) from None
    func = getattr(module, attribute, None)
    if not callable(func):
        raise ValueError(f"reward {path!r}: module {module_name!r} has no function {attribute!r}")
    return func


def get_reward_funcs(names: Sequence[str | Mapping[str, Any]], **options: Any) -> list[RewardFunc]:
    """Reward functions for `names` (see the module docstring), all sharing `options` unless an entry overrides."""
    if isinstance(names, str):
        names = [names]
    funcs = []
    for entry in names:
        if isinstance(entry, Mapping):
            entry_options = dict(entry)
            if "name" not in entry_options:
                raise ValueError(
                    f"reward entry {dict(entry)!r}: missing `name`; known rewards: {', '.join(REWARD_NAMES)}"
                )
            name = entry_options.pop("name")
            funcs.append(get_reward_func(name, **{**options, **entry_options}))
        elif entry not in REWARD_NAMES and "." in entry.strip("."):
            funcs.append(import_reward_func(entry))
        else:
            funcs.append(get_reward_func(entry, **options))
    seen: set[str] = set()
    for func in funcs:
        if func.__name__ in seen:
            raise ValueError(f"two reward functions are both named {func.__name__!r}; give one a `func_name`")
        seen.add(func.__name__)
    return funcs


def answer_reward(
    names: Sequence[str], weights: Sequence[float], scores: Sequence[Sequence[float | None]]
) -> list[float]:
    """Per sample, sum_f w_f * r_f over the reward functions named `names` (`__name__`) not in FORMAT_REWARD_FUNCS
    whose score r_f = `scores[i][f]` is a number (None or NaN is unscored), NaN where none of them scored it."""
    cols = [f for f, name in enumerate(names) if name not in FORMAT_REWARD_FUNCS]
    if not cols:
        raise ValueError(f"needs a reward besides the format reward ({', '.join(FORMAT_REWARDS)}); got {list(names)}")
    if len(weights) != len(names):
        raise ValueError(f"{len(weights)} reward weights for {len(names)} reward functions {list(names)}")
    totals = []
    for row in scores:
        scored = [weights[f] * row[f] for f in cols if row[f] is not None and not math.isnan(row[f])]
        totals.append(math.fsum(scored) if scored else math.nan)
    return totals
