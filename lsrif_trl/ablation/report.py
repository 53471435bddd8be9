"""The ablation's report: per-prompt held-out results of every run -> means, 95% intervals, tables and plots.

Each evaluated model contributes, per held-out prompt, three numbers read from its `lsr_results.jsonl`:
`all` (1 iff every active leaf passes: the all-satisfied rate), `lsrm` and `flat` (the prompt's scores under
those aggregations). For a group of runs (one reward, several seeds) a statistic is the mean over seeds of the
mean over prompts; its 95% interval is a percentile bootstrap that resamples seeds and prompts (the same
prompt draw for every run, since all runs answer the same prompts):

    mean = (1/S) Σ_s (1/P) Σ_p x[s, p]
    ci95 = 2.5th and 97.5th percentiles of mean(x[s*, p*]) over B draws of seeds s* and prompts p*

A difference between two groups (LSRM minus flat, a reward minus the SFT start) resamples seeds within each
group and shares the prompt draw, so the prompt-to-prompt variation common to both cancels.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lsrif_trl.structure import STRUCTURE_TYPES

MEASURES = {"all_satisfied": "all", "lsrm_score": "lsrm", "flat_score": "flat"}  # report name -> results column
BOOTSTRAP_DRAWS = 2000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class EvalTable:
    """One held-out evaluation: per prompt, its id, structure type, depth and scores (None counts as 0)."""

    ids: tuple[str, ...]
    types: tuple[str, ...]
    depths: tuple[int, ...]
    scores: Mapping[str, np.ndarray]  # results column -> float array over prompts

    @classmethod
    def read(cls, path: str | Path) -> EvalTable:
        """The table of an `lsr_results.jsonl` written by `lsrif eval lsr`; ValueError naming the line."""
        rows = []
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                rows.append((row["id"], row["structure_type"], int(row["depth"]), row))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
                raise ValueError(f"{path} line {number}: not an lsr_results row ({err})") from None
        if not rows:
            raise ValueError(f"{path}: no evaluated prompts")
        scores = {column: np.array([float(row[column] or 0.0) for *_, row in rows]) for column in MEASURES.values()}
        return cls(tuple(r[0] for r in rows), tuple(r[1] for r in rows), tuple(r[2] for r in rows), scores)


def _check_same_prompts(tables: Sequence[EvalTable]) -> None:
    first = tables[0].ids
    for table in tables[1:]:
        if table.ids != first:
            raise ValueError("the runs were evaluated on different held-out prompts; evaluate them with one EVAL_SEED")


def _interval(draws: np.ndarray) -> list[float]:
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return [float(low), float(high)]


def _draw_means(matrix: np.ndarray, prompt_draws: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap means of a seeds x prompts matrix: seeds resampled here, prompts given (B x P indices)."""
    seeds = rng.integers(0, matrix.shape[0], size=(prompt_draws.shape[0], matrix.shape[0]))
    # mean over resampled seeds of the mean over resampled prompts, one value per draw
    per_seed = matrix[:, prompt_draws].mean(axis=2)  # seeds x B
    return np.take_along_axis(per_seed.T, seeds, axis=1).mean(axis=1)


def summarize(
    groups: Mapping[str, Sequence[EvalTable]], seed: int = 0, draws: int = BOOTSTRAP_DRAWS
) -> dict[str, dict[str, Any]]:
    """For each group (its runs), every measure overall, per structure type and per depth: the mean, its 95%
    interval (`draws` bootstrap draws) and the per-seed means."""
    tables = [t for runs in groups.values() for t in runs]
    _check_same_prompts(tables)
    first = tables[0]
    slices: dict[tuple[str, str], np.ndarray] = {("all", ""): np.arange(len(first.ids))}
    for kind in STRUCTURE_TYPES:
        slices[("by_type", kind)] = np.array([i for i, t in enumerate(first.types) if t == kind], dtype=int)
    for level in sorted(set(first.depths)):
        slices[("by_depth", str(level))] = np.array([i for i, d in enumerate(first.depths) if d == level], dtype=int)
    out: dict[str, dict[str, Any]] = {name: {"by_type": {}, "by_depth": {}} for name in groups}
    rng = np.random.default_rng(seed)
    prompt_draws = {key: rng.integers(0, len(idx), size=(draws, len(idx))) for key, idx in slices.items() if len(idx)}
    for name, runs in groups.items():
        for key, idx in slices.items():
            if not len(idx):
                continue
            block: dict[str, Any] = {"n": int(len(idx))}
            for measure, column in MEASURES.items():
                matrix = np.stack([run.scores[column][idx] for run in runs])
                boot = _draw_means(matrix, prompt_draws[key], rng)
                block[measure] = {"mean": float(matrix.mean()), "ci95": _interval(boot)}
                block[measure]["per_seed"] = [float(v) for v in matrix.mean(axis=1)]
            section, label = key
            if section == "all":
                out[name].update(block)
            else:
                out[name][section][label] = block
    return out


def difference(
    a: Sequence[EvalTable], b: Sequence[EvalTable], seed: int = 0, draws: int = BOOTSTRAP_DRAWS
) -> dict[str, Any]:
    """Group `a` minus group `b` (all-satisfied, LSRM and flat scores), overall and per structure type, with a
    95% interval from a bootstrap sharing the prompt draw between the groups."""
    _check_same_prompts([*a, *b])
    first = a[0]
    slices = {"": np.arange(len(first.ids))}
    slices |= {
        kind: np.array([i for i, t in enumerate(first.types) if t == kind], dtype=int) for kind in STRUCTURE_TYPES
    }
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"by_type": {}}
    for label, idx in slices.items():
        if not len(idx):
            continue
        prompt_draws = rng.integers(0, len(idx), size=(draws, len(idx)))
        block: dict[str, Any] = {"n": int(len(idx))}
        for measure, column in MEASURES.items():
            ma = np.stack([run.scores[column][idx] for run in a])
            mb = np.stack([run.scores[column][idx] for run in b])
            boot = _draw_means(ma, prompt_draws, rng) - _draw_means(mb, prompt_draws, rng)
            block[measure] = {"mean": float(ma.mean() - mb.mean()), "ci95": _interval(boot)}
        if label:
            out["by_type"][label] = block
        else:
            out.update(block)
    return out


def _fmt(stat: Mapping[str, Any], signed: bool = False) -> str:
    low, high = stat["ci95"]
    sign = "+" if signed else ""
    return f"{stat['mean'] * 100:{sign}.1f} [{low * 100:{sign}.1f}, {high * 100:{sign}.1f}]"


def markdown(results: Mapping[str, Any]) -> str:
    """`results.md`: the settings, then tables of the SFT start and each reward (percent, 95% intervals)."""
    groups = {"SFT start": results["sft"], **results["rewards"]}
    settings = results["settings"]
    lines = [
        "# Toy-world ablation",
        "",
        f"Held-out prompts: {results['sft']['n']} from the toy world's held-out seed tasks, eval seed "
        f"{results['eval_seed']}. Seeds {settings['seeds']}, {settings['steps']} GRPO steps per run. Values are "
        "percent: mean over seeds [95% bootstrap interval over seeds and prompts].",
        "",
        "## All constraints satisfied (held out)",
        "",
        "| model | all | " + " | ".join(STRUCTURE_TYPES) + " |",
        "|---|---|" + "---|" * len(STRUCTURE_TYPES),
    ]
    for name, group in groups.items():
        cells = [_fmt(group["by_type"][k]["all_satisfied"]) if k in group["by_type"] else "-" for k in STRUCTURE_TYPES]
        lines.append(f"| {name} | {_fmt(group['all_satisfied'])} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Mean LSRM and flat scores (held out)",
        "",
        "| model | LSRM score | flat score |",
        "|---|---|---|",
    ]
    for name, group in groups.items():
        lines.append(f"| {name} | {_fmt(group['lsrm_score'])} | {_fmt(group['flat_score'])} |")
    depths = sorted(results["sft"]["by_depth"])
    lines += ["", "## All satisfied by depth", "", "| model | " + " | ".join(f"depth {d}" for d in depths) + " |"]
    lines.append("|---|" + "---|" * len(depths))
    for name, group in groups.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(group["by_depth"][d]["all_satisfied"]) for d in depths) + " |")
    for title, key in (("Lift over the SFT start", "lift_over_sft"), ("LSRM minus flat", None)):
        blocks = (
            {name: group[key] for name, group in results["rewards"].items() if key in group}
            if key
            else ({"lsrm - flat": results["lsrm_minus_flat"]} if results.get("lsrm_minus_flat") else {})
        )
        if not blocks:
            continue
        lines += ["", f"## {title} (all satisfied, points)", "", "| | all | " + " | ".join(STRUCTURE_TYPES) + " |"]
        lines.append("|---|---|" + "---|" * len(STRUCTURE_TYPES))
        for name, block in blocks.items():
            cells = [
                _fmt(block["by_type"][k]["all_satisfied"], signed=True) if k in block["by_type"] else "-"
                for k in STRUCTURE_TYPES
            ]
            lines.append(f"| {name} | {_fmt(block['all_satisfied'], signed=True)} | " + " | ".join(cells) + " |")
    if results.get("gamma_sweep"):
        lines += [
            "",
            "## Gamma sweep (LSRM, sequential items)",
            "",
            "| gamma | sequential all | all |",
            "|---|---|---|",
        ]
        for gamma, group in results["gamma_sweep"].items():
            sequential = group["by_type"].get("sequential")
            seq = _fmt(sequential["all_satisfied"]) if sequential else "-"
            lines.append(f"| {gamma} | {seq} | {_fmt(group['all_satisfied'])} |")
    timings = results.get("timings", {})
    if timings:
        lines += ["", "## Wall time", "", "| stage | seconds |", "|---|---|"]
        lines += [f"| {stage} | {seconds:.0f} |" for stage, seconds in timings.items()]
    return "\n".join(lines) + "\n"


def plot_bars(results: Mapping[str, Any], path: str | Path) -> Path:
    """A bar chart per structure type: all-satisfied of the SFT start and each reward, with 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = {"SFT": results["sft"], **results["rewards"]}
    kinds = [k for k in STRUCTURE_TYPES if k in results["sft"]["by_type"]]
    fig, axes = plt.subplots(1, len(kinds) + 1, figsize=(3 * (len(kinds) + 1), 3.4), sharey=True)
    for ax, kind in zip(axes, ["all", *kinds], strict=True):
        stats = [g["all_satisfied"] if kind == "all" else g["by_type"][kind]["all_satisfied"] for g in groups.values()]
        means = [s["mean"] * 100 for s in stats]
        errors = [
            [m - s["ci95"][0] * 100 for m, s in zip(means, stats, strict=True)],
            [s["ci95"][1] * 100 - m for m, s in zip(means, stats, strict=True)],
        ]
        ax.bar(range(len(stats)), means, yerr=errors, capsize=3, color=[f"C{i}" for i in range(len(stats))])
        ax.set_xticks(range(len(stats)), list(groups), rotation=30)
        ax.set_title("all prompts" if kind == "all" else kind)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("held-out all satisfied (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_curves(curves: Mapping[str, Sequence[Sequence[tuple[int, float]]]], path: str | Path, ylabel: str) -> Path:
    """Learning curves: per reward, every seed's (step, value) points thin and their mean over seeds bold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for color, (name, runs) in enumerate(curves.items()):
        for run in runs:
            if run:
                ax.plot(*zip(*run, strict=True), color=f"C{color}", alpha=0.25, linewidth=0.8)
        steps = sorted({step for run in runs for step, _ in run})
        means = [np.mean([v for run in runs for s, v in run if s == step]) for step in steps]
        if steps:
            ax.plot(steps, means, color=f"C{color}", linewidth=2, label=name)
    ax.set_xlabel("GRPO step")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
