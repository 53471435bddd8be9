"""Supervised warm-up / behaviour cloning with TRL's `SFTTrainer`, same conventions as `grpo_lsrm.py`.

    python recipes/sft.py --config recipes/tiny/sft.yaml                       # CPU, under a minute
    accelerate launch --config_file accelerate_configs/zero3.yaml recipes/sft.py --config RECIPE.yaml

Rows are prompt + demonstration (`completion_column`), as strings or chat messages. With `filter_reward`
set, only demonstrations that satisfy their own constraints under that reward are kept (behaviour cloning of
an expert, as RAIF does before RL); such rows also need the `structure` (or IFEval) columns.
Recipe, data and filter are checked before any model is loaded (exit 2 with what to fix); the run resumes
from the newest checkpoint in `output_dir`, and ends with the model, metrics, model card and loss curve.
"""

from __future__ import annotations

import sys

from lsrif_trl.training.config import KINDS, parse_recipe_args
from lsrif_trl.training.data import prepare_dataset
from lsrif_trl.training.errors import RecipeError
from lsrif_trl.training.eval_split import hold_out_eval_rows
from lsrif_trl.training.preflight import check_launch, preflight
from lsrif_trl.training.rewards import filter_demonstrations


def main(argv: list[str] | None = None) -> int:
    try:
        check_launch(argv)
        script_args, training_args, model_args = parse_recipe_args(KINDS["sft"], argv)
        preflight(training_args, model_args, sentence_checks=script_args.filter_reward is not None)
        from accelerate import PartialState

        with PartialState().main_process_first():  # one process builds or downloads the data, the others reuse it
            dataset = prepare_dataset(
                script_args,
                validate=script_args.filter_reward is not None,
                completion_column=script_args.completion_column,
            )
        if script_args.filter_reward is not None:
            dataset = filter_demonstrations(
                dataset, script_args.filter_reward, script_args.min_reward, script_args.reward_options()
            )
        dataset, eval_dataset = hold_out_eval_rows(dataset, script_args, training_args)
    except RecipeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    from trl import SFTTrainer, get_peft_config, get_quantization_config

    from lsrif_trl.training.run import load_model_inputs, run_training

    tokenizer = load_model_inputs(script_args, training_args, model_args)
    trainer = SFTTrainer(
        model=model_args.model_name_or_path,
        args=training_args,
        train_dataset=dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
        quantization_config=get_quantization_config(model_args),  # QLoRA: --load_in_4bit true --use_peft true
    )
    setup = {  # for the model card, besides the base model, dataset, learning rate and LoRA run_training adds
        "training rows": len(dataset),
        "evaluation rows": len(eval_dataset) if eval_dataset is not None else None,
        "demonstration filter": (
            f"{script_args.filter_reward} >= {script_args.min_reward}" if script_args.filter_reward else None
        ),
        "system prompt": script_args.system_prompt,
        "max length": training_args.max_length,
    }
    return run_training(trainer, script_args, model_args, setup)


if __name__ == "__main__":
    sys.exit(main())
