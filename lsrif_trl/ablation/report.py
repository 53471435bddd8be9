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

What the runs changed against the SFT start (`summarize_analyses`, from `lsrif analyze params` and `attention`
of each run): per module type the relative change ||W_run − W_SFT||_F / ||W_SFT||_F and its share of the
update, as the mean over seeds; per token category the change in attention mass of the answer's first tokens,
as the mean over seeds of the mean over prompts with the same seeds-and-prompts interval.
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


def _seed_means(per_seed: Sequence[Mapping[str, float | None]]) -> dict[str, dict[str, Any]]:
    """{key: {"mean": mean over the seeds that define it (None if none does), "per_seed": [...]}}."""
    out = {}
    for key in per_seed[0]:
        values = [run.get(key) for run in per_seed]
        known = [v for v in values if v is not None]
        out[key] = {"mean": float(np.mean(known)) if known else None, "per_seed": values}
    return out


def summarize_analyses(
    groups: Mapping[str, Sequence[Mapping[str, Any]]], seed: int = 0, draws: int = BOOTSTRAP_DRAWS
) -> dict[str, Any]:
    """Per group, its runs' `{"params": params.json, "attention": attention.json}` against the SFT start: module
    types' relative change and share (mean and per seed), categories' attention change (mean, 95% interval over
    seeds and prompts, per seed); plus the SFT start's own attention masses."""
    runs = [run for group in groups.values() for run in group]
    first = runs[0]["attention"]
    for run in runs[1:]:
        other = run["attention"]
        if (other["data"], other["prompts"], other["answer_tokens"]) != (
            first["data"],
            first["prompts"],
            first["answer_tokens"],
        ):
            raise ValueError(
                f"the attention of {other['trained']} was read on other prompts or answer positions than that of "
                f"{first['trained']}; analyze every run with the same data and settings"
            )
    rng = np.random.default_rng(seed)
    prompt_draws = rng.integers(0, first["prompts"], size=(draws, first["prompts"]))
    out: dict[str, Any] = {
        "prompts": first["prompts"],
        "answer_tokens": first["answer_tokens"],
        "sft_attention": first["models"]["base"]["mean"],
        "groups": {},
    }
    for name, group in groups.items():
        attention = {}
        for category in first["change"]["per_prompt"]:
            matrix = np.array([run["attention"]["change"]["per_prompt"][category] for run in group])
            attention[category] = {
                "mean": float(matrix.mean()),
                "ci95": _interval(_draw_means(matrix, prompt_draws, rng)),
                "per_seed": [float(v) for v in matrix.mean(axis=1)],
            }
        out["groups"][name] = {
            "by_module": _seed_means([run["params"]["by_module"] for run in group]),
            "share": _seed_means([run["params"]["share"] for run in group]),
            "total": _seed_means([{"total": run["params"]["total"]} for run in group])["total"],
            "attention": attention,
        }
    return out


def _fmt(stat: Mapping[str, Any], signed: bool = False, digits: int = 1) -> str:
    low, high = stat["ci95"]
    form = f"{'+' if signed else ''}.{digits}f"
    return f"{stat['mean'] * 100:{form}} [{low * 100:{form}}, {high * 100:{form}}]"


def _type_cells(block: Mapping[str, Any], signed: bool = False) -> str:
    """All-satisfied overall and per structure type, as table cells ("-" for a type without prompts)."""
    cells = [_fmt(block["all_satisfied"], signed)]
    cells += [
        _fmt(block["by_type"][k]["all_satisfied"], signed) if k in block["by_type"] else "-" for k in STRUCTURE_TYPES
    ]
    return " | ".join(cells)


def _mechanism_lines(results: Mapping[str, Any]) -> list[str]:
    """results.md's sections on the frozen-parameter runs and on what the runs changed against the SFT start."""
    lines: list[str] = []
    header = ["| | all | " + " | ".join(STRUCTURE_TYPES) + " |", "|---|---|" + "---|" * len(STRUCTURE_TYPES)]
    for key, group in results.get("freeze", {}).items():
        lines += ["", f"## LSRM with {key} frozen (held out, all satisfied)", "", *header]
        lines.append(f"| lsrm | {_type_cells(results['rewards']['lsrm'])} |")
        lines.append(f"| lsrm, {key} frozen | {_type_cells(group)} |")
        lines.append(f"| frozen - unfrozen (points) | {_type_cells(group['minus_unfrozen'], signed=True)} |")
    analysis = results.get("analysis")
    if not analysis:
        return lines
    groups = analysis["groups"]
    types = [t for t in next(iter(groups.values()))["by_module"] if t not in ("lm_head", "other")]
    lines += [
        "",
        "## Which parameters moved (relative change ||W_run - W_SFT||_F / ||W_SFT||_F, mean over seeds)",
        "",
        "| group | " + " | ".join(types) + " | all |",
        "|---|" + "---|" * (len(types) + 1),
    ]
    for name, group in groups.items():
        cells = [
            "-" if group["by_module"][t]["mean"] is None else f"{group['by_module'][t]['mean']:.3g}" for t in types
        ]
        total = group["total"]["mean"]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {'-' if total is None else f'{total:.3g}'} |")
    categories = list(analysis["sft_attention"])
    lines += [
        "",
        f"## Attention of the answer's first {analysis['answer_tokens']} tokens on each prompt category "
        f"({analysis['prompts']} training prompts)",
        "",
        "Percent of attention mass (mean over layers and heads); runs: change against the SFT start in points, mean "
        "over seeds [95% interval over seeds and prompts].",
        "",
        "| | " + " | ".join(categories) + " |",
        "|---|" + "---|" * len(categories),
        "| SFT start (mass) | " + " | ".join(f"{analysis['sft_attention'][c] * 100:.2f}" for c in categories) + " |",
    ]
    for name, group in groups.items():
        cells = [_fmt(group["attention"][c], signed=True, digits=2) for c in categories]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


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
        lines.append(f"| {name} | {_type_cells(group)} |")
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
            lines.append(f"| {name} | {_type_cells(block, signed=True)} |")
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
    lines += _mechanism_lines(results)
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


def plot_analysis(analysis: Mapping[str, Any], path: str | Path) -> Path:
    """Two panels per run group: each module type's relative change (mean over seeds) and each category's
    attention change against the SFT start (points, 95% intervals)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = analysis["groups"]
    types = [t for t in next(iter(groups.values()))["by_module"] if t not in ("lm_head", "other")]
    categories = list(analysis["sft_attention"])
    width = 0.8 / len(groups)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4))
    for i, (name, group) in enumerate(groups.items()):
        offset = (i - (len(groups) - 1) / 2) * width
        changes = [group["by_module"][t]["mean"] or 0.0 for t in types]
        left.bar(np.arange(len(types)) + offset, changes, width, color=f"C{i}", label=name)
        cells = [group["attention"][c] for c in categories]
        means = np.array([c["mean"] for c in cells]) * 100
        errors = np.array([[c["mean"] - c["ci95"][0], c["ci95"][1] - c["mean"]] for c in cells]).T * 100
        right.bar(np.arange(len(categories)) + offset, means, width, yerr=errors, capsize=2, color=f"C{i}", label=name)
    left.set_xticks(range(len(types)), types, rotation=30)
    left.set_ylabel("relative change against the SFT start")
    right.set_xticks(range(len(categories)), categories, rotation=30)
    right.set_ylabel("attention mass change (points)")
    right.axhline(0, color="black", linewidth=0.6)
    for ax in (left, right):
        ax.grid(axis="y", alpha=0.3)
    left.legend(fontsize=8)
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
