"""GRPO with logic-structured rewards (LSRIF), flat baselines, RAIF's shapes and think-format rule.

    python recipes/grpo_lsrm.py --config recipes/tiny/grpo_lsrm.yaml            # CPU, a minute or two
    accelerate launch --config_file accelerate_configs/zero3.yaml --num_processes 8 \\
        recipes/grpo_lsrm.py --config recipes/qwen2.5-7b/grpo_lsrm.yaml       # GPUs (or: make train MODEL=...)

Order of work: parse the YAML and command line (unknown keys fail) -> build the reward functions -> load and
validate the dataset -> only then the tokenizer and model -> train, resuming from the newest checkpoint in
`output_dir` -> save the model, metrics, model card and reward curve -> push to the Hub when asked.
Anything wrong with the recipe, the rewards or the data stops the run before a model is loaded (exit 2).
"""

from __future__ import annotations

import sys
from dataclasses import asdict

from lsrif_trl.rewards.soft import SoftScorerError
from lsrif_trl.rewards.think import template_think_opener
from lsrif_trl.training.config import KINDS, parse_recipe_args
from lsrif_trl.training.data import prepare_dataset
from lsrif_trl.training.errors import RecipeError
from lsrif_trl.training.eval_split import hold_out_eval_rows
from lsrif_trl.training.mixture import instruction_rows, load_mixture
from lsrif_trl.training.preflight import check_launch, preflight
from lsrif_trl.training.raif_data import expert_stream as bc_stream
from lsrif_trl.training.raif_data import load_demonstrations
from lsrif_trl.training.rewards import check_rewards, check_soft_leaves_scored, run_totals


def main(argv: list[str] | None = None) -> int:
    try:
        check_launch(argv)
        script_args, training_args, model_args = parse_recipe_args(KINDS["grpo"], argv)
        reward_funcs = check_rewards(script_args, training_args)
        preflight(training_args, model_args)
        from accelerate import PartialState

        with PartialState().main_process_first():  # one process builds or downloads the data, the others reuse it
            if script_args.mixture is None:
                dataset = prepare_dataset(script_args)
            else:  # several datasets, each scored by its own rewards (lsrif_trl.training.mixture)
                dataset = load_mixture(script_args, reward_funcs)
        instructions = instruction_rows(dataset, script_args.mixture)  # what the contrast and the expert apply to
        check_soft_leaves_scored(instructions, script_args)
        dataset, eval_dataset = hold_out_eval_rows(dataset, script_args, training_args)
        superior_cot = script_args.superior_cot_config(training_args, script_args.contrast_sources())
        script_args.check_contrast(script_args.contrast_rewards(), instructions, superior_cot)
        demonstrations = load_demonstrations(
            script_args, instruction_rows(dataset, script_args.mixture), training_args.seed
        )
    except RecipeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    # Heavy imports only once the recipe is known to be sound.
    from trl import GRPOTrainer, get_peft_config, get_quantization_config

    from lsrif_trl.training.freeze import freeze_parameters
    from lsrif_trl.training.run import load_model_inputs, run_training

    tokenizer = load_model_inputs(script_args, training_args, model_args)
    # One answer policy for every reward: the recipe's, or `template` when the chat template opens <think> itself
    # (DeepSeek-R1 distills), so completions that only close the block are read from inside it.
    think_prefix = template_think_opener(tokenizer, training_args.chat_template_kwargs)
    policy = script_args.answer_policy().for_template(tokenizer, training_args.chat_template_kwargs)
    # A reward given by import path (your own function) reads the completion as it likes: it gets no policy.
    reward_funcs = [f.with_policy(policy) if hasattr(f, "with_policy") else f for f in reward_funcs]
    scored = list(reward_funcs)  # the reward objects the trainer calls, whose run totals go in the model card
    trainer_inputs = {
        "model": model_args.model_name_or_path,
        "reward_funcs": reward_funcs,
        "args": training_args,
        "train_dataset": dataset,
        "eval_dataset": eval_dataset,
        "processing_class": tokenizer,
        "peft_config": get_peft_config(model_args),
        "quantization_config": get_quantization_config(model_args),  # QLoRA: --load_in_4bit true --use_peft true
    }
    if superior_cot is None and demonstrations is None:
        trainer = GRPOTrainer(**trainer_inputs)
    else:  # RAIF's contrast and/or behaviour cloning (lsrif_trl.training.raif_trainer)
        from lsrif_trl.training.raif_trainer import RaifGRPOTrainer

        try:
            expert_stream = bc_stream(script_args, demonstrations, tokenizer, training_args)
        except RecipeError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        trainer = RaifGRPOTrainer(
            **trainer_inputs,
            superior_cot=superior_cot,
            template_opener=think_prefix,
            expert_stream=expert_stream,
            bc_coef=script_args.bc_coef,
        )
    try:  # after the model loads, before train() builds the optimizer from the parameters that need gradients
        frozen = freeze_parameters(trainer.model, script_args.freeze)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    setup = {  # for the model card, besides the base model, dataset, learning rate and LoRA run_training adds
        "training rows": len(dataset),
        "dataset mixture": script_args.dataset_mixture,
        "evaluation rows": len(eval_dataset) if eval_dataset is not None else None,
        "curriculum": script_args.curriculum,
        "reward functions": script_args.reward_funcs,
        "reward weights": training_args.reward_weights or [1.0] * len(reward_funcs),
        "reward options": {k: v for k, v in script_args.reward_options().items() if k != "policy"},
        "answer policy": asdict(policy),
        "system prompt": script_args.system_prompt,
        "num generations": training_args.num_generations,
        "KL beta": training_args.beta,
        "max completion length": training_args.max_completion_length,
        "frozen": frozen,
        "superior CoT": (
            f"{superior_cot.no_cot_per_group} of {superior_cot.num_generations} answer directly; reference "
            f"{script_args.superior_cot_reference}"
            + (f"; prompts of {', '.join(sorted(superior_cot.sources))} only" if superior_cot.sources else "")
            if superior_cot
            else None
        ),
        "behaviour cloning": (
            f"{script_args.bc_dataset} x {script_args.bc_coef} ({script_args.bc_loss_on})" if demonstrations else None
        ),
        "run totals": lambda: run_totals(scored),
    }
    try:
        return run_training(trainer, script_args, model_args, setup)
    except SoftScorerError as err:  # the judge refuses calls or lost too many verdicts: stop with its reason
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
