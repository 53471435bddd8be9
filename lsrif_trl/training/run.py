"""The part every training recipe shares: model inputs before the trainer, and the run after it.

tokenizer = load_model_inputs(script_args, training_args, model_args)   # tiny model, tokenizer, dtype
trainer = SomeTRLTrainer(model=model_args.model_name_or_path, args=training_args, processing_class=tokenizer, ...)
return run_training(trainer, script_args, model_args, setup)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lsrif_trl.training.checkpoints import plan_resume
from lsrif_trl.training.report import attach_model_card, finish_run, print_summary


def load_model_inputs(script_args: Any, training_args: Any, model_args: Any):
    """Build or refresh the tiny model if asked, set the load arguments (dtype explicit), return the tokenizer."""
    from accelerate import PartialState
    from transformers import AutoTokenizer

    if getattr(script_args, "curriculum", "none") == "sorted":
        training_args.shuffle_dataset = False  # keep the easy-to-hard order the curriculum set
    if getattr(script_args, "build_tiny_model", False):
        from lsrif_trl.tiny import MARKER, build_tiny_model

        folder = Path(model_args.model_name_or_path)
        # A missing folder or an earlier tiny build (rebuilt if its corpus or config is outdated); never a folder
        # holding some other model, which build_tiny_model would replace.
        if not folder.is_dir() or (folder / MARKER).is_file():
            with PartialState().main_process_first():
                build_tiny_model(folder, preset=getattr(script_args, "tiny_model_preset", "tiny"))
    training_args.model_init_kwargs = {
        "revision": model_args.model_revision,
        "attn_implementation": model_args.attn_implementation,
        "dtype": model_args.dtype,  # set explicitly: TRL would otherwise load float32
        **(training_args.model_init_kwargs or {}),
    }
    return AutoTokenizer.from_pretrained(
        model_args.model_name_or_path,
        revision=model_args.model_revision,
        trust_remote_code=training_args.trust_remote_code,
    )


def run_training(trainer, script_args: Any, model_args: Any, setup: Mapping[str, Any]) -> int:
    """Resume from the newest complete checkpoint (or stop if the run is complete), train, save everything, push if
    asked, and say where it all is.

    The model card lists the base model, dataset, learning rate and LoRA of every run around the recipe's `setup`.
    """
    attach_model_card(
        trainer,
        {
            "base model": model_args.model_name_or_path,
            "dataset": script_args.dataset_name,
            **setup,
            "learning rate": trainer.args.learning_rate,
            "LoRA": model_args.use_peft,
        },
    )
    from accelerate import PartialState

    args = trainer.args
    checkpoint = args.resume_from_checkpoint
    if not checkpoint:
        with PartialState().main_process_first():  # the main process moves incomplete checkpoints aside first
            plan = plan_resume(args.output_dir, args.max_steps, script_args.start_over)
        if plan.complete:
            if trainer.is_world_process_zero():
                print(plan.message)
            trainer.end()
            return 0
        checkpoint = plan.checkpoint
    if checkpoint:
        print(f"Resuming from {checkpoint} (pass --start_over true to train again from step 0)")
    result = trainer.train(resume_from_checkpoint=checkpoint)
    places = finish_run(trainer, result.metrics)
    if args.push_to_hub:
        trainer.push_to_hub(dataset_name=script_args.dataset_name)
    trainer.end()
    print_summary(places)
    return 0
