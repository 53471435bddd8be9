"""Figures of the analyses: parameter change (heatmap, bars) and attention shift (per category, per layer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def plot_params(result: dict[str, Any], folder: Path) -> dict[str, Path]:
    """params_heatmap.png (module type x layer relative change) and params_by_module.png (change and share)."""
    plt = _pyplot()
    layers = list(result["by_layer"])
    types = [t for t in result["by_module"] if any(t in result["by_layer"][layer] for layer in layers)]
    paths = {}
    if layers and types:
        grid = [[result["by_layer"][layer].get(t) or 0.0 for layer in layers] for t in types]
        fig, ax = plt.subplots(figsize=(max(4, 0.5 * len(layers) + 2), 0.45 * len(types) + 1.5))
        image = ax.imshow(grid, aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(layers)), layers)
        ax.set_yticks(range(len(types)), types)
        ax.set_xlabel("layer")
        ax.set_title("relative change ||ΔW|| / ||W_base||")
        fig.colorbar(image, ax=ax)
        fig.tight_layout()
        paths["heatmap"] = folder / "params_heatmap.png"
        fig.savefig(paths["heatmap"], dpi=120)
        plt.close(fig)
    names = list(result["by_module"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(max(6, 0.9 * len(names) + 2), 3.5))
    left.bar(names, [result["by_module"][n] or 0.0 for n in names])
    left.set_title("relative change per module type")
    right.bar(names, [result["share"][n] for n in names], color="tab:orange")
    right.set_title("share of the total update ||ΔW||²")
    for ax in (left, right):
        ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    paths["bars"] = folder / "params_by_module.png"
    fig.savefig(paths["bars"], dpi=120)
    plt.close(fig)
    return paths


def plot_attention(result: dict[str, Any], folder: Path) -> dict[str, Path]:
    """attention_change.png (change per category, 95% intervals) and attention_layers.png (change per layer)."""
    plt = _pyplot()
    change = result["change"]
    names = list(change["mean"])
    means = [change["mean"][c]["mean"] for c in names]
    errors = [
        [m - change["mean"][c]["ci95"][0] for c, m in zip(names, means, strict=True)],
        [change["mean"][c]["ci95"][1] - m for c, m in zip(names, means, strict=True)],
    ]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(names, means, yerr=errors, capsize=4)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("attention mass, trained − base")
    ax.set_title(f"attention of the answer to each category ({result['prompts']} prompts, 95% bootstrap)")
    fig.tight_layout()
    paths = {"change": folder / "attention_change.png"}
    fig.savefig(paths["change"], dpi=120)
    plt.close(fig)
    layers = list(change["by_layer"])
    fig, ax = plt.subplots(figsize=(max(5, 0.4 * len(layers) + 3), 3.5))
    for name in names:
        ax.plot(layers, [change["by_layer"][layer][name]["mean"] for layer in layers], marker="o", label=name)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel("layer")
    ax.set_ylabel("attention mass, trained − base")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths["layers"] = folder / "attention_layers.png"
    fig.savefig(paths["layers"], dpi=120)
    plt.close(fig)
    return paths
