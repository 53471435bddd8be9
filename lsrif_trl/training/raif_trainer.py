"""TRL's GRPOTrainer with RAIF's two training mechanics: superior-CoT contrast and behaviour cloning of experts.

Superior CoT (`lsrif_trl.training.superior_cot`): the last k samples of each group get the empty think block
appended to their prompt tokens (after whatever the chat template opened), the reward functions see the same text
in front of the completion, every sample enters the group advantage, and then dropped samples get advantage 0.
With advantage 0 the clipped surrogate of a sample is exactly 0, so it adds no policy gradient, while its KL term
(beta > 0) is untouched. How this normalises compared with RAIF's OpenRLHF code:
- `loss_type: grpo` (per-sequence token mean, then batch mean): a dropped sequence still counts in the batch mean,
  as RAIF's masked sequences do; with `dapo`/`bnpo` its tokens still count in the token normaliser (TRL's `env_mask`
  would remove them from it, and their KL term too, which RAIF keeps).
- KL: TRL's estimator is k3, exp(ref - logp) - (ref - logp) - 1, added per token inside the loss, as RAIF's `k3`
  setting; RAIF's clip epsilon is 0.2 on both sides, TRL's `epsilon` (0.2) and `epsilon_high` (default = epsilon).
With a dataset mixture, only the prompts of instruction sources (`SuperiorCoTConfig.sources`) get direct samples and
the contrast; every other prompt's n samples reason and stay in the loss, as plain GRPO's do.
vLLM server mode generates a group from one deduplicated prompt, so the prefill cannot differ within a group there;
the recipe refuses that combination before any model loads.

Behaviour cloning (`lsrif_trl.training.behaviour_cloning`): `compute_loss` adds bc_coef times the expert
micro-batch's NLL, divided by the accumulation steps as TRL divides its own loss; the stream position is saved in
each checkpoint (`bc_state.json`) and restored with the optimizer.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from typing import Any

import torch
from accelerate.utils import gather_object
from trl import GRPOTrainer

from lsrif_trl.rewards.registry import FORMAT_REWARD_FUNCS, answer_reward
from lsrif_trl.rewards.think import no_cot_prefill, with_prefill
from lsrif_trl.training.behaviour_cloning import ExpertStream, token_nll
from lsrif_trl.training.mixture import SOURCE_COLUMN
from lsrif_trl.training.superior_cot import SuperiorCoTConfig, contrast_keep

BC_STATE_FILE = "bc_state.json"


class RaifGRPOTrainer(GRPOTrainer):
    """GRPOTrainer plus `superior_cot` (a SuperiorCoTConfig or None) and `expert_stream` (an ExpertStream or None).

    `template_opener` is the think opener the chat template already writes (e.g. "<think>\\n"), so only the rest of
    the empty think block is appended to direct samples' prompts."""

    def __init__(
        self,
        *args: Any,
        superior_cot: SuperiorCoTConfig | None = None,
        template_opener: str = "",
        expert_stream: ExpertStream | None = None,
        bc_coef: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.superior_cot = superior_cot
        self.expert_stream = expert_stream
        self.bc_coef = bc_coef
        if superior_cot is not None and superior_cot.num_generations != self.num_generations:
            raise ValueError("superior_cot: its num_generations differs from the trainer's")
        # What follows the template's own opener in a direct sample's assistant turn: its prompt tokens end with it,
        # and the reward functions read it in front of the completion (the answer policy knows the opener).
        self._prefill = no_cot_prefill(template_opener)
        self._prefill_ids = self.processing_class(self._prefill, add_special_tokens=False)["input_ids"]
        self._no_cot_local: list[bool] | None = None
        self._rewards_per_func: torch.Tensor | None = None

    # --- superior CoT -------------------------------------------------------------------------------------------
    def _tokenize_prompts(self, prompts: list):
        prompt_ids, images, multimodal_fields = super()._tokenize_prompts(prompts)
        if self._no_cot_local is not None:
            prompt_ids = [
                list(ids) + self._prefill_ids if direct else ids
                for ids, direct in zip(prompt_ids, self._no_cot_local, strict=True)
            ]
        return prompt_ids, images, multimodal_fields

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        if self._no_cot_local is not None:
            completions = [
                with_prefill(c, self._prefill) if direct else c
                for c, direct in zip(completions, self._no_cot_local, strict=True)
            ]
        self._rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        return self._rewards_per_func

    def _generate_and_score_completions(self, inputs):
        config = self.superior_cot
        if config is None or not self.model.training:
            return super()._generate_and_score_completions(inputs)
        start = self.accelerator.process_index * len(inputs)
        contrasted_local = [config.applies(row.get(SOURCE_COLUMN)) for row in inputs]  # a mixture's non-instruction
        self._no_cot_local = [  # rows reason in every sample (RAIF contrasts instruction prompts only)
            config.is_no_cot(start + i) and contrasted_local[i] for i in range(len(inputs))
        ]
        try:
            output = super()._generate_and_score_completions(inputs)
        finally:
            self._no_cot_local = None
        rewards = self._rewards_per_func
        names = list(self.reward_func_names)
        format_cols = [i for i, n in enumerate(names) if n in FORMAT_REWARD_FUNCS]
        try:
            scores = answer_reward(names, self.reward_weights.tolist(), rewards.tolist())
        except ValueError as err:
            raise ValueError(f"superior_cot: {err}") from None
        answer = torch.tensor(scores, dtype=rewards.dtype, device=rewards.device)
        format_ok = (rewards[:, format_cols] >= 0).all(dim=1) if format_cols else torch.ones_like(answer).bool()
        contrasted = gather_object(contrasted_local)
        reference = None
        if config.reference == "column":
            local = [row.get(config.reference_column) for row in inputs]
            reference = [
                _as_float(v, config.reference_column) if applies else None
                for v, applies in zip(gather_object(local), contrasted, strict=True)
            ]
        result = contrast_keep(config, answer.tolist(), format_ok.tolist(), reference, contrasted)
        keep = torch.tensor(result.keep, device=output["advantages"].device)
        local_keep = keep[start : start + len(inputs)]
        output["advantages"] = output["advantages"] * local_keep.to(output["advantages"].dtype)
        self._log_contrast(answer, keep, result.masked_prompts, contrasted)
        return output

    def _log_contrast(
        self, answer: torch.Tensor, keep: torch.Tensor, masked_prompts: Sequence[bool], contrasted: Sequence[bool]
    ) -> None:
        """The contrast's metrics over the contrasted prompts of the batch (NaN, which TRL skips, when none was)."""
        config = self.superior_cot
        on = torch.tensor(list(contrasted), device=answer.device)
        direct = torch.tensor([config.is_no_cot(i) for i in range(len(answer))], device=answer.device) & on
        prompts = [m for m, c in zip(masked_prompts, contrasted[:: config.num_generations], strict=True) if c]
        metrics = self._metrics["train"]
        metrics["lsrif/superior_cot/contrasted_prompts"].append(on.float().mean().item())
        metrics["lsrif/superior_cot/keep_ratio"].append(_nanmean(keep[on].float()))
        metrics["lsrif/superior_cot/no_cot_fraction"].append(_nanmean(direct[on].float()))
        metrics["lsrif/superior_cot/masked_prompts"].append(sum(prompts) / len(prompts) if prompts else math.nan)
        metrics["lsrif/superior_cot/cot_reward"].append(_nanmean(answer[on & ~direct]))
        metrics["lsrif/superior_cot/no_cot_reward"].append(_nanmean(answer[direct]))

    # --- behaviour cloning --------------------------------------------------------------------------------------
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        if self.expert_stream is None or not self.model.training:
            return loss
        batch = self.expert_stream.next_batch(self.processing_class.pad_token_id)
        batch = {k: v.to(self.accelerator.device) for k, v in batch.items()}
        nll = token_nll(model, batch)
        self._metrics["train"]["lsrif/bc_loss"].append(self.accelerator.gather(nll.detach()).mean().item())
        return loss + self.bc_coef * nll / self.current_gradient_accumulation_steps

    def _save_checkpoint(self, model, trial):
        super()._save_checkpoint(model, trial)
        if self.expert_stream is not None and self.args.should_save:  # every rank draws in step: one file says all
            folder = os.path.join(self._get_output_dir(trial=trial), f"checkpoint-{self.state.global_step}")
            with open(os.path.join(folder, BC_STATE_FILE), "w") as f:
                json.dump({"consumed": self.expert_stream.consumed}, f)

    def _load_optimizer_and_scheduler(self, checkpoint):
        super()._load_optimizer_and_scheduler(checkpoint)
        if self.expert_stream is not None and checkpoint is not None:
            path = os.path.join(checkpoint, BC_STATE_FILE)
            if os.path.exists(path):
                with open(path) as f:
                    self.expert_stream.consumed = int(json.load(f)["consumed"])
            else:
                print(f"warning: {checkpoint} has no {BC_STATE_FILE}: the expert stream restarts from its beginning")


def _as_float(value: Any, column: str | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"superior_cot_reference: column {column!r} holds {value!r}, expected a number")
    return float(value)


def _nanmean(values: torch.Tensor) -> float:
    finite = values[~torch.isnan(values)]
    return finite.mean().item() if finite.numel() else math.nan
