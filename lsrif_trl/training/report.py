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


def final_metrics(log_history: list[Mapping[str, Any]]) -> dict[str, float]:
    """The last logged value of every numeric metric (the closing train summary included)."""
    metrics: dict[str, float] = {}
    for entry in log_history:
        metrics.update({k: v for k, v in entry.items() if isinstance(v, int | float) and not isinstance(v, bool)})
    return metrics


def card_section(setup: Mapping[str, Any], metrics: Mapping[str, float]) -> str:
    """The model-card section that records data, rewards and their options, and the final metrics."""
    lines = [CARD_MARKER, ""]
    lines += [
        f"- **{key}**: `{json.dumps(value) if not isinstance(value, str) else value}`" for key, value in setup.items()
    ]
    if metrics:
        lines += ["", "### Final metrics", "", "| metric | value |", "|---|---|"]
        lines += [f"| {key} | {value:.6g} |" for key, value in sorted(metrics.items())]
    return "\n".join(lines) + "\n"


def attach_model_card(trainer, setup: Mapping[str, Any]) -> None:
    """Make every card the trainer writes (checkpoints, the end, `push_to_hub`) carry the run's setup section."""
    base_card = trainer.create_model_card

    def create_model_card(*args: Any, **kwargs: Any) -> None:
        base_card(*args, **kwargs)
        if not trainer.is_world_process_zero():
            return
        readme = Path(trainer.args.output_dir) / "README.md"
        text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
        text = text.split(CARD_MARKER)[0].rstrip() + "\n\n"
        # TRL's template names the base model and the pipeline's model by Hub id; local runs have neither.
        base = str(setup.get("base model", ""))
        text = text.replace("[None](https://huggingface.co/None)", f"`{base}`")
        text = text.replace('model="None"', f'model="{trainer.hub_model_id or trainer.args.output_dir}"')
        readme.write_text(text + card_section(setup, final_metrics(trainer.state.log_history)), encoding="utf-8")

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
