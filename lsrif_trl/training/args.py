"""The project's script arguments for `recipes/grpo_lsrm.py` and `recipes/sft.py` (parsed by TRL's `TrlParser`).

They sit beside TRL's `GRPOConfig`/`SFTConfig` and `ModelConfig` in one YAML file: data source and
preparation (curriculum, system prompt), the reward functions and their LSRM options, and the offline
conveniences used by the tiny CPU recipes (build the tiny model and a small dataset when missing).
Reward weights are TRL's own `reward_weights` field. The aggregation is the reward's name: `reward_funcs: [lsrm]`
for the structure-aware reward, `[flat]` or `[all]` for the structure-blind baselines, `[raif]` or `[mean5]`
for the published anchors' shapes; `lsrm_*` and `unclosed_think` are the options they share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from lsrif_trl.judges.scorer_args import SoftScorerArguments

Curriculum = Literal["none", "sorted", "max_level"]
CURRICULA = get_args(Curriculum)


@dataclass
class DataArguments:
    """Where the training rows come from and how they are prepared before training."""

    dataset_name: str | None = field(
        default=None,
        metadata={"help": "A local file (.jsonl/.json/.parquet) or folder, or a Hub dataset id."},
    )
    dataset_config: str | None = field(default=None, metadata={"help": "Hub dataset configuration name."})
    dataset_train_split: str = field(default="train", metadata={"help": "Split to train on."})
    build_dataset_rows: int = field(
        default=0,
        metadata={
            "help": "If > 0 and `dataset_name` is a local path that does not exist yet, build that many rows there "
            "with the project's builder (`lsrif data build`) first."
        },
    )
    build_dataset_seed: int = field(default=0, metadata={"help": "Seed of the builder when it runs."})
    build_dataset_families: list[str] = field(
        default_factory=lambda: ["train"],
        metadata={
            "help": "Constraint families the builder draws from (`lsrif data build --families`). The default `train` "
            "keeps IFEval's families held out for evaluation (IFEval, LSR-Eval); [] draws from every family."
        },
    )
    build_dataset_world: str | None = field(
        default=None,
        metadata={
            "help": "Build with this world preset (`lsrif data build --world`, e.g. `toy`), which sets its own seed "
            "tasks and constraints: set build_dataset_families to [] with it."
        },
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "Keep only the first N rows (smoke runs)."})
    system_prompt: str | None = field(
        default=None, metadata={"help": "System message put before every prompt that has none."}
    )
    curriculum: Curriculum = field(
        default="none",
        metadata={
            "help": "Use the `level` column: `none` keeps the data as is (shuffled by TRL); `sorted` trains easy to "
            "hard (levels ascending, TRL's shuffling turned off); `max_level` keeps rows with level <= "
            "`curriculum_max_level` (one stage of a staged curriculum)."
        },
    )
    curriculum_max_level: int | None = field(default=None, metadata={"help": "Highest level kept by `max_level`."})
    build_tiny_model: bool = field(
        default=False,
        metadata={
            "help": "Build the offline tiny model at `model_name_or_path` if that folder does not exist yet, and "
            "rebuild it there if an earlier tiny build is outdated (`lsrif tiny-model`); other folders are left alone."
        },
    )

    tiny_model_preset: str = field(
        default="tiny",
        metadata={"help": "With `build_tiny_model`: which offline model to build (`lsrif tiny-model --preset`)."},
    )

    def __post_init__(self) -> None:
        if self.curriculum not in CURRICULA:
            raise ValueError(f"curriculum: expected one of {list(CURRICULA)}, got {self.curriculum!r}")
        if self.curriculum == "max_level" and self.curriculum_max_level is None:
            raise ValueError("curriculum: `max_level` needs `curriculum_max_level` (the highest level to keep)")
        if self.build_dataset_world and self.build_dataset_families:
            raise ValueError(
                f"build_dataset_world {self.build_dataset_world!r} sets its own constraints; set "
                "build_dataset_families: [] with it"
            )
        if self.build_dataset_rows < 0:
            raise ValueError(f"build_dataset_rows: expected a count >= 0, got {self.build_dataset_rows}")


@dataclass
class RewardOptions:
    """The options every registry reward shares (DESIGN.md section 4)."""

    lsrm_gamma: float = field(default=0.5, metadata={"help": "Decay of later steps after an earlier failure."})
    lsrm_seq_mode: Literal["product", "count", "gate"] = field(
        default="product", metadata={"help": "How earlier failed steps discount later ones (DESIGN.md section 4)."}
    )
    lsrm_tau: float = field(default=0.5, metadata={"help": "Score from which a soft leaf counts as passed."})
    unclosed_think: Literal["zero", "whole"] = field(
        default="zero",
        metadata={"help": "What a completion whose <think> never closes scores: zero, or the whole text."},
    )

    def reward_options(self) -> dict[str, object]:
        """The options `lsrif_trl.rewards.get_reward_funcs` takes, from these arguments."""
        return {
            "gamma": self.lsrm_gamma,
            "seq_mode": self.lsrm_seq_mode,
            "tau": self.lsrm_tau,
            "unclosed_think": self.unclosed_think,
        }


@dataclass
class GRPOScriptArguments(DataArguments, RewardOptions, SoftScorerArguments):
    """Data arguments plus the reward functions (registry names), the options they share and the scorer of soft
    constraints (`soft_scorer`, `judge_*`, `soft_rm_*`: see `lsrif_trl.judges.scorer_args`)."""

    reward_funcs: list[str] = field(
        default_factory=lambda: ["lsrm"],
        metadata={
            "help": "Reward names from `lsrif_trl.rewards.REWARD_NAMES` (lsrm, flat, all, raif, mean5, think_format)."
        },
    )


@dataclass
class SFTScriptArguments(DataArguments, RewardOptions):
    """Data arguments plus the behaviour-cloning filter: keep only demonstrations that satisfy their constraints."""

    completion_column: str = field(
        default="completion", metadata={"help": "Column holding the demonstration (a string or assistant message)."}
    )
    filter_reward: str | None = field(
        default=None,
        metadata={
            "help": "Reward name used to filter demonstrations (rows need `completion` and `structure` or the IFEval "
            "columns); None trains on every row."
        },
    )
    min_reward: float = field(default=1.0, metadata={"help": "Keep rows whose `filter_reward` is >= this value."})
