"""The model card a run leaves: its setup, the run's totals and the mean of its last logged steps, via the card API."""

from types import SimpleNamespace

from huggingface_hub import ModelCard

from lsrif_trl.training.report import LAST_STEPS, attach_model_card, last_steps_mean, run_totals

TRL_CARD = """---
library_name: transformers
model_name: run
tags:
- trl
- grpo
---

# Model Card for run

This model is a fine-tuned version of [None](https://huggingface.co/None).
generator = pipeline("text-generation", model="None", device="cuda")
"""
HISTORY = [{"step": s, "epoch": s / 20, "reward": float(s), "loss": 0.5} for s in range(1, 21)]
HISTORY += [{"step": 20, "train_runtime": 12.5, "train_loss": 0.5, "total_flos": 10.0}]


def test_totals_come_from_the_closing_summary_and_step_metrics_are_means_of_the_last_steps():
    assert run_totals(HISTORY) == {"step": 20, "train_runtime": 12.5, "train_loss": 0.5, "total_flos": 10.0}
    means = last_steps_mean(HISTORY)
    assert means["reward"] == sum(range(21 - LAST_STEPS, 21)) / LAST_STEPS  # steps 11..20, not step 20 alone
    assert means["loss"] == 0.5 and "step" not in means and "epoch" not in means
    assert run_totals(HISTORY[:-1]) == {}


def fake_trainer(output_dir, base):
    def create_model_card(*args, **kwargs):
        (output_dir / "README.md").write_text(TRL_CARD, encoding="utf-8")

    args = SimpleNamespace(output_dir=str(output_dir))
    return SimpleNamespace(
        create_model_card=create_model_card,
        is_world_process_zero=lambda: True,
        args=args,
        hub_model_id=None,
        state=SimpleNamespace(log_history=HISTORY),
    )


def test_the_card_keeps_trls_metadata_names_the_base_model_and_carries_both_tables(tmp_path):
    trainer = fake_trainer(tmp_path, "Qwen/Qwen2.5-7B-Instruct")
    attach_model_card(trainer, {"base model": "Qwen/Qwen2.5-7B-Instruct", "reward functions": ["lsrm"]})
    trainer.create_model_card()
    trainer.create_model_card()  # a second write (checkpoint, then the end) replaces the section, never repeats it
    card = ModelCard.load(tmp_path / "README.md")
    assert card.data.base_model == "Qwen/Qwen2.5-7B-Instruct" and card.data.tags == ["trl", "grpo"]
    assert "huggingface.co/None" not in card.text and 'model="' + str(tmp_path) + '"' in card.text
    assert card.text.count("## lsrif-trl training setup") == 1
    assert "### Run totals" in card.text and "| train_runtime | 12.5 |" in card.text
    assert f"### Mean of the last {LAST_STEPS} logged steps" in card.text and "| reward | 15.5 |" in card.text


def test_a_local_base_model_is_named_in_the_text_not_as_hub_metadata(tmp_path):
    base = tmp_path / "tiny-model"
    base.mkdir()
    out = tmp_path / "run"
    out.mkdir()
    trainer = fake_trainer(out, str(base))
    attach_model_card(trainer, {"base model": str(base)})
    trainer.create_model_card()
    card = ModelCard.load(out / "README.md")
    assert card.data.base_model is None and f"`{base}`" in card.text
