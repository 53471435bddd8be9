"""Train a soft-constraint reward model (one logit, Bradley-Terry loss) with TRL's `RewardTrainer`.

    lsrif rm-data --data DATA --model POLICY --output PAIRS.jsonl     # self-supervised pairs (judges.rm_data)
    python recipes/train_rm.py --config recipes/tiny/train_rm.yaml     # CPU, seconds
    accelerate launch --config_file accelerate_configs/zero2.yaml recipes/train_rm.py --config RECIPE.yaml

Order of work: parse the YAML and command line (unknown keys fail) -> load and check every pair -> only then
the tokenizer and model (`AutoModelForSequenceClassification`, num_labels=1: a causal LM gets a fresh score
head) -> train, resuming from the newest checkpoint in `output_dir` -> save the model, tokenizer, metrics and
model card. The saved folder is what `soft_scorer: classifier` + `soft_rm_path` load in a GRPO recipe.
"""

from __future__ import annotations

import sys

from lsrif_trl.training.config import KINDS, parse_recipe_args
from lsrif_trl.training.errors import RecipeError
from lsrif_trl.training.preferences import load_preference_data
from lsrif_trl.training.preflight import check_launch, preflight


def main(argv: list[str] | None = None) -> int:
    try:
        check_launch(argv)
        script_args, training_args, model_args = parse_recipe_args(KINDS["train_rm"], argv)
        preflight(training_args, model_args, sentence_checks=False)
        train_dataset, eval_dataset = load_preference_data(script_args)
    except RecipeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    from trl import RewardTrainer, get_peft_config, get_quantization_config

    from lsrif_trl.training.run import load_model_inputs, run_training

    tokenizer = load_model_inputs(script_args, training_args, model_args)
    trainer = RewardTrainer(
        model=model_args.model_name_or_path,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
        quantization_config=get_quantization_config(model_args),  # QLoRA: --load_in_4bit true --use_peft true
    )
    setup = {  # for the model card, besides the base model, dataset, learning rate and LoRA run_training adds
        "training pairs": len(train_dataset),
        "max length": training_args.max_length,
        "center rewards coefficient": training_args.center_rewards_coefficient,
    }
    return run_training(trainer, script_args, model_args, setup)


if __name__ == "__main__":
    sys.exit(main())
