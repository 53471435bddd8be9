"""The recipe keys of RAIF's two training mechanics (see `lsrif_trl.training.raif_trainer`), checked before any model.

superior_cot: true                 # the last no_cot_fraction of each group answers without reasoning
no_cot_fraction: 0.25              # RAIF: 2 of 8 samples
superior_cot_reference: none       # none | online | column NAME (offline per-row values, `lsrif data reference`)
bc_dataset: expert                 # SFT rows (prompt/completion or messages, local or Hub), or `expert`: the
                                   # programmatic expert's answers to the training rows
bc_coef: 1.0                       # RAIF's value in every published script
bc_loss_on: sequence               # RAIF's: every token, prompt included; `completion` counts only the answer
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from lsrif_trl.rewards.registry import FORMAT_REWARDS
from lsrif_trl.training.errors import RecipeError
from lsrif_trl.training.superior_cot import SuperiorCoTConfig, parse_reference


@dataclass
class RaifArguments:
    """Superior-CoT contrast and behaviour cloning of experts inside GRPO; both off by default."""

    superior_cot: bool = field(
        default=False,
        metadata={
            "help": "RAIF's sample-wise contrast: keep a reasoning sample only when it beats answering directly."
        },
    )
    no_cot_fraction: float = field(
        default=0.25, metadata={"help": "Share of each group generated with an empty think block prefilled."}
    )
    superior_cot_reference: str = field(
        default="none",
        metadata={
            "help": "What a reasoning sample's answer reward must reach: `none`, `online` (the prompt's direct "
            "samples' mean) or `column NAME` (a per-row value, e.g. from `lsrif data reference`)."
        },
    )
    bc_dataset: str | None = field(
        default=None,
        metadata={
            "help": "Expert demonstrations cloned inside RL (OpenRLHF's ptx term): a local path or Hub id of SFT rows, "
            "or `expert` for the project's programmatic expert's answers to the training rows."
        },
    )
    bc_dataset_split: str = field(default="train", metadata={"help": "Split of `bc_dataset`."})
    bc_expert_noise: float = field(
        default=0.0, metadata={"help": "With `bc_dataset: expert`: probability of dropping each leaf's rewrite."}
    )
    bc_expert_reasoning: bool = field(
        default=False,
        metadata={"help": "With `bc_dataset: expert`: open each demonstration with a <think> block planning it."},
    )
    bc_coef: float = field(default=1.0, metadata={"help": "Weight of the demonstrations' token cross-entropy."})
    bc_loss_on: Literal["sequence", "completion"] = field(
        default="sequence",
        metadata={"help": "`sequence` (RAIF's): every token, prompt included; `completion`: the answer only."},
    )
    bc_batch_size: int | None = field(
        default=None, metadata={"help": "Demonstrations per micro-step (default: per_device_train_batch_size)."}
    )
    bc_max_length: int = field(default=2048, metadata={"help": "Demonstrations are cut to this many tokens."})

    def superior_cot_config(
        self, training_args: Any, sources: frozenset[str] | None = None
    ) -> SuperiorCoTConfig | None:
        """The contrast settings, or None when off; RecipeError for a setting that cannot work. `sources`: the
        mixture's sources it applies to (None: every row)."""
        if not self.superior_cot:
            return None
        if sources is not None and not sources:
            raise RecipeError(
                "superior_cot: no source of dataset_mixture is scored by a tree reward (lsrm, flat, all, raif, mean5), "
                "so the contrast applies to no row; set superior_cot: false"
            )
        if getattr(training_args, "use_vllm", False) and getattr(training_args, "vllm_mode", "") == "server":
            raise RecipeError(
                "superior_cot: vLLM server mode generates a whole group from one prompt, so the empty think block "
                "cannot be prefilled on part of it; use vllm_mode: colocate (or use_vllm: false)"
            )
        try:
            kind, column = parse_reference(self.superior_cot_reference)
            return SuperiorCoTConfig(training_args.num_generations, self.no_cot_fraction, kind, column, sources)
        except ValueError as err:
            raise RecipeError(str(err)) from None

    def check_contrast(self, reward_funcs: list[str], dataset: Any, superior_cot: SuperiorCoTConfig | None) -> None:
        """Before any model: a non-format reward to contrast, and the reference column in every row."""
        if superior_cot is None:
            return
        if all(name in FORMAT_REWARDS for name in reward_funcs):
            raise RecipeError("superior_cot: needs a reward besides the format reward to compare samples by")
        column = superior_cot.reference_column
        if superior_cot.reference == "column":
            if column not in dataset.column_names:
                raise RecipeError(
                    f"superior_cot_reference: the dataset has no column {column!r}; compute it with "
                    "`lsrif data reference` or use `online`"
                )
            for index, value in enumerate(dataset[column]):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise RecipeError(f"superior_cot_reference: row {index} {column}={value!r}, expected a number")
