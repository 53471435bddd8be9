"""What a training recipe leaves behind: resume point, model card, metrics, reward curve, closing summary."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CARD_MARKER = "## lsrif-trl training setup"
REWARD_PLOT = "reward_curve.png"
LOSS_PLOT = "loss_curve.png"


LAST_STEPS = 10  # the card's step metrics are means over this many of the last logged steps


def _numbers(entry: Mapping[str, Any]) -> dict[str, float]:
    return {k: v for k, v in entry.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def run_totals(log_history: list[Mapping[str, Any]]) -> dict[str, float]:
    """The trainer's closing summary of the run (train_runtime, train_loss, total_flos, ...); {} before it ends."""
    closing = [e for e in log_history if "train_runtime" in e]
    return _numbers(closing[-1]) if closing else {}


def last_steps_mean(log_history: list[Mapping[str, Any]], last: int = LAST_STEPS) -> dict[str, float]:
    """Each step metric averaged over the last `last` logged steps that report it: mean_i x_i, i in those steps."""
    steps = [_numbers(e) for e in log_history if "train_runtime" not in e]
    keys = {k for entry in steps for k in entry} - {"step", "epoch"}
    means = {}
    for key in keys:
        values = [entry[key] for entry in steps if key in entry][-last:]
        means[key] = sum(values) / len(values)
    return means


def _table(title: str, metrics: Mapping[str, float]) -> list[str]:
    rows = [f"| {key} | {value:.6g} |" for key, value in sorted(metrics.items())]
    return ["", f"### {title}", "", "| metric | value |", "|---|---|", *rows] if metrics else []


def card_section(setup: Mapping[str, Any], log_history: list[Mapping[str, Any]]) -> str:
    """The model-card section: data, rewards and their options, the run's totals and its last steps' means (a
    callable value, such as the run's reward-error totals, is read when the card is written)."""
    lines = [CARD_MARKER, ""]
    for key, value in setup.items():
        value = value() if callable(value) else value
        lines.append(f"- **{key}**: `{json.dumps(value) if not isinstance(value, str) else value}`")
    lines += _table("Run totals", run_totals(log_history))
    lines += _table(f"Mean of the last {LAST_STEPS} logged steps", last_steps_mean(log_history))
    return "\n".join(lines) + "\n"


def attach_model_card(trainer, setup: Mapping[str, Any]) -> None:
    """Make every card the trainer writes (checkpoints, the end, `push_to_hub`) carry the run's setup section."""
    base_card = trainer.create_model_card

    def create_model_card(*args: Any, **kwargs: Any) -> None:
        base_card(*args, **kwargs)
        if not trainer.is_world_process_zero():
            return
        from huggingface_hub import ModelCard, ModelCardData

        readme = Path(trainer.args.output_dir) / "README.md"
        card = ModelCard.load(readme) if readme.is_file() else ModelCard("")
        if not isinstance(card.data, ModelCardData):
            card.data = ModelCardData()
        base = str(setup.get("base model", ""))
        # The card's metadata names a Hub base model only; TRL's text names local ones as broken Hub links.
        card.data.base_model = None if not base or Path(base).exists() else base
        text = card.text.split(CARD_MARKER)[0].rstrip() + "\n\n"
        text = text.replace("[None](https://huggingface.co/None)", f"`{base}`")
        text = text.replace('model="None"', f'model="{trainer.hub_model_id or trainer.args.output_dir}"')
        card.text = text + card_section(setup, trainer.state.log_history)
        card.save(readme)

    trainer.create_model_card = create_model_card


def curve_keys(log_history: list[Mapping[str, Any]]) -> list[str]:
    """What to plot: the total and per-function mean rewards (GRPO), else the training loss (SFT)."""
    logged = {k for e in log_history for k in e}
    rewards = sorted(k for k in logged if k.startswith("rewards/") and k.endswith("/mean"))
    if "reward" in logged:
        return ["reward", *rewards]
    return ["loss"] if "loss" in logged else []


def plot_curves(log_history: list[Mapping[str, Any]], path: str | Path) -> Path | None:
    """Plot `curve_keys` against the step into `path`; None if nothing was logged."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    keys = curve_keys(log_history)
    series = {k: [(e["step"], e[k]) for e in log_history if k in e and "step" in e] for k in keys}
    series = {k: v for k, v in series.items() if v}
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, points in series.items():
        steps, values = zip(*points, strict=True)
        ax.plot(steps, values, marker="o", markersize=3, label="total (weighted)" if key == "reward" else key)
    ax.set_xlabel("step")
    ax.set_ylabel("mean reward" if keys[0] == "reward" else "training loss")
    ax.set_title("Training reward" if keys[0] == "reward" else "Training loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def finish_run(trainer, train_metrics: Mapping[str, float]) -> dict[str, Path | None]:
    """Save model, metrics, state, card and plot; return where they are (only the main process writes)."""
    output_dir = Path(trainer.args.output_dir)
    trainer.save_model(str(output_dir))
    trainer.log_metrics("train", dict(train_metrics))
    trainer.save_metrics("train", dict(train_metrics))
    trainer.save_state()
    plot = None
    if trainer.is_world_process_zero():
        trainer.create_model_card(model_name=output_dir.name)
        name = REWARD_PLOT if "reward" in curve_keys(trainer.state.log_history) else LOSS_PLOT
        plot = plot_curves(trainer.state.log_history, output_dir / name)
    return {
        "model": output_dir,
        "metrics": output_dir / "train_results.json",
        "log history": output_dir / "trainer_state.json",
        "model card": output_dir / "README.md",
        "curve plot": plot,
    }


def print_summary(places: Mapping[str, Path | None]) -> None:
    """Tell the user where everything is (main process only)."""
    if int(os.environ.get("RANK", "0")) != 0:
        return
    print("\nTraining finished. Outputs:")
    for name, path in places.items():
        print(f"  {name:<12} {path if path is not None else '(nothing logged)'}")
