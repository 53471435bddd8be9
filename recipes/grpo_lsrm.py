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

from lsrif_trl.training.config import KINDS, parse_recipe_args
from lsrif_trl.training.data import prepare_dataset
from lsrif_trl.training.errors import RecipeError
from lsrif_trl.training.preflight import check_launch, preflight
from lsrif_trl.training.rewards import check_rewards, check_soft_leaves_scored, prefilled_think, restore_think_prefix


def main(argv: list[str] | None = None) -> int:
    try:
        check_launch(argv)
        script_args, training_args, model_args = parse_recipe_args(KINDS["grpo"], argv)
        reward_funcs = check_rewards(script_args, training_args)
        preflight(training_args, model_args)
        from accelerate import PartialState

        with PartialState().main_process_first():  # one process builds or downloads the data, the others reuse it
            dataset = prepare_dataset(script_args)
        check_soft_leaves_scored(dataset, script_args)
    except RecipeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    # Heavy imports only once the recipe is known to be sound.
    from trl import GRPOTrainer, get_peft_config, get_quantization_config

    from lsrif_trl.training.freeze import freeze_parameters
    from lsrif_trl.training.run import load_model_inputs, run_training

    tokenizer = load_model_inputs(script_args, training_args, model_args)
    think_prefix = prefilled_think(tokenizer, training_args.chat_template_kwargs)
    if think_prefix:
        reward_funcs = [restore_think_prefix(f, think_prefix) for f in reward_funcs]
    trainer = GRPOTrainer(
        model=model_args.model_name_or_path,
        reward_funcs=reward_funcs,
        args=training_args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
        quantization_config=get_quantization_config(model_args),  # QLoRA: --load_in_4bit true --use_peft true
    )
    try:  # after the model loads, before train() builds the optimizer from the parameters that need gradients
        frozen = freeze_parameters(trainer.model, script_args.freeze)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    setup = {  # for the model card, besides the base model, dataset, learning rate and LoRA run_training adds
        "training rows": len(dataset),
        "curriculum": script_args.curriculum,
        "reward functions": script_args.reward_funcs,
        "reward weights": training_args.reward_weights or [1.0] * len(reward_funcs),
        "reward options": script_args.reward_options(),
        "think opener restored before scoring": think_prefix or None,
        "system prompt": script_args.system_prompt,
        "num generations": training_args.num_generations,
        "KL beta": training_args.beta,
        "max completion length": training_args.max_completion_length,
        "frozen": frozen,
    }
    return run_training(trainer, script_args, model_args, setup)


if __name__ == "__main__":
    sys.exit(main())
