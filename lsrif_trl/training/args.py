"""The script arguments of `recipes/grpo_lsrm.py`, `recipes/sft.py` and `recipes/train_rm.py` (parsed by TRL's
`TrlParser` beside TRL's trainer config and `ModelConfig`, in one YAML file).

Each library owns its options; this module only composes them: the data arguments shared by every script, the
reward options of `lsrif_trl.rewards.registry.RewardOptions` and the soft-constraint scorer of
`lsrif_trl.judges.scorer_args.SoftScorerArguments`. Reward weights are TRL's own `reward_weights` field. The
aggregation is the reward's name: `reward_funcs: [lsrm]` for the structure-aware reward, `[flat]` or `[all]` for
the structure-blind baselines, `[raif]` or `[mean5]` for the published anchors' shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from lsrif_trl.data.expert import ExpertConfig
from lsrif_trl.judges.scorer_args import SoftScorerArguments
from lsrif_trl.rewards.registry import RewardOptions
from lsrif_trl.training.freeze import check_freeze_keys
from lsrif_trl.training.mixture import parse_mixture
from lsrif_trl.training.raif_args import RaifArguments

Curriculum = Literal["none", "sorted", "max_level"]
CURRICULA = get_args(Curriculum)


@dataclass
class DatasetArguments:
    """Where the rows of any recipe come from, the offline tiny model of the CPU recipes, and whether to start over."""

    dataset_name: str | None = field(
        default=None,
        metadata={"help": "A local file (.jsonl/.json/.parquet) or folder, or a Hub dataset id."},
    )
    dataset_config: str | None = field(
        default=None,
        metadata={
            "help": "Configuration of a Hub dataset (`datasets.load_dataset(dataset_name, dataset_config)`), or of a "
            "local folder whose README.md declares `configs`; a file or save_to_disk folder has none."
        },
    )
    dataset_train_split: str = field(default="train", metadata={"help": "Split to train on."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Keep only the first N rows (smoke runs)."})
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
    start_over: bool = field(
        default=False,
        metadata={
            "help": "Train from step 0 even when output_dir holds a resumable or finished run (its checkpoints are "
            "replaced as new ones are saved). Without it a run resumes from its newest complete checkpoint, or "
            "stops saying it is complete."
        },
    )


@dataclass
class DataArguments(DatasetArguments):
    """Where the prompt rows of GRPO and SFT come from and how they are prepared before training."""

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
    eval_fraction: float = field(
        default=0.0,
        metadata={
            "help": "Share of the prepared rows held out as the evaluation set that `eval_strategy` (steps or epoch) "
            "evaluates on (lsrif_trl.training.eval_split); 0 holds out nothing."
        },
    )

    def __post_init__(self) -> None:
        if not 0.0 <= self.eval_fraction < 1.0:
            raise ValueError(f"eval_fraction: expected a share in [0, 1), got {self.eval_fraction}")
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

    def expert_answers(self) -> ExpertConfig | None:
        """How the rows the recipe builds are answered by the constraints' experts; None: they are not."""
        return None


@dataclass
class GRPOScriptArguments(DataArguments, RewardOptions, SoftScorerArguments, RaifArguments):
    """Data arguments plus the reward functions (registry names), the options they share, the scorer of soft
    constraints (`soft_scorer`, `judge_*`, `soft_rm_*`), RAIF's mechanics (`superior_cot*`, `bc_*`) and dataset
    mixtures with rewards per source (`dataset_mixture`, `lsrif_trl.training.mixture`)."""

    reward_funcs: list[str] = field(
        default_factory=lambda: ["lsrm"],
        metadata={
            "help": "Reward names from `lsrif_trl.rewards.REWARD_NAMES` (lsrm, flat, all, raif, mean5, think_format, "
            "math_accuracy, math_raif)."
        },
    )
    freeze: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Parameter groups kept fixed during training (attention, mlp, qk, embeddings, norms, lm_head) or "
            "fnmatch patterns over parameter names ('*.layers.0.*'); see `lsrif_trl.training.freeze`."
        },
    )
    dataset_mixture: dict[str, Any] | None = field(
        default=None,
        metadata={
            "help": "Several datasets in given proportions, each with its own reward functions: `datasets: [{source, "
            "path, weight, reward_funcs, config, split, columns, prompt_suffix, build_rows, builder}]` and `seed` (see "
            "`lsrif_trl.training.mixture`); replaces dataset_name and reward_funcs."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_freeze_keys(self.freeze)
        self.mixture = parse_mixture(self.dataset_mixture)
        if self.mixture is None:
            return
        entries = self.mixture.reward_entries()
        if self.reward_funcs not in (["lsrm"], entries):  # the default, or what the sources already say
            raise ValueError(
                f"reward_funcs: {self.reward_funcs} next to dataset_mixture; each source names its own reward_funcs, "
                "so drop the top-level key"
            )
        if self.dataset_name is not None or self.dataset_config is not None or self.build_dataset_rows:
            raise ValueError(
                "dataset_name / dataset_config / build_dataset_rows: the datasets of dataset_mixture replace them; give "
                "each source its `path` (and `config`, `build_rows`)"
            )
        if self.curriculum != "none":
            raise ValueError(
                "curriculum: orders the levels of one builder dataset; use curriculum: none with a mixture"
            )
        self.reward_funcs = entries

    def contrast_sources(self) -> frozenset[str] | None:
        """The sources RAIF's contrast applies to (instruction data), or None for every row (no mixture)."""
        return None if self.mixture is None else self.mixture.instruction_sources()

    def contrast_rewards(self) -> list[Any]:
        """The reward entries that score the rows RAIF's contrast applies to."""
        if self.mixture is None:
            return list(self.reward_funcs)
        return [e for s in self.mixture.sources if s.is_instructions for e in s.reward_funcs]


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
    build_dataset_expert: bool = field(
        default=False,
        metadata={
            "help": "Answer the rows the recipe builds (build_dataset_rows) with the constraints' experts "
            "(`lsrif data expert`) into a `completion` column: demonstrations of the training distribution."
        },
    )
    build_dataset_expert_noise: float = field(
        default=ExpertConfig.noise,
        metadata={"help": "Probability that the expert drops each leaf's rewrite (noisy demonstrations)."},
    )
    build_dataset_expert_wrong_branch: float = field(
        default=ExpertConfig.wrong_branch,
        metadata={"help": "Probability that the expert follows a conditional's inactive branch."},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        try:
            self._expert_config()
        except ValueError as err:  # ExpertConfig names `noise=` or `wrong_branch=`: give the recipe key
            raise ValueError(f"build_dataset_expert_{err}") from None

    def _expert_config(self) -> ExpertConfig:
        return ExpertConfig(noise=self.build_dataset_expert_noise, wrong_branch=self.build_dataset_expert_wrong_branch)

    def expert_answers(self) -> ExpertConfig | None:
        """The expert's noise settings when `build_dataset_expert` is set, else None."""
        return self._expert_config() if self.build_dataset_expert else None


@dataclass
class RMScriptArguments(DatasetArguments):
    """Data arguments of the soft-constraint reward model: pairs from `lsrif rm-data`, and an optional test split."""

    dataset_test_split: str | None = field(default=None, metadata={"help": "Split to evaluate on (optional)."})
