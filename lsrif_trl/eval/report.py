"""Evaluation reports: one results JSON + markdown table per run, side-by-side comparison with deltas, bootstrap
intervals and one bar plot, model-card metadata (model-index format), and logging to wandb or trackio.

A run directory holds `results.json` (see `RunResults`); metric keys read `ROW/MEASURE` (e.g.
`sequential/lsrm`, `depth 2/all`) or a bare name (e.g. IFEval's `prompt_level_strict`). Values are fractions in
[0, 1], counts for the `n` measure, or null when a slice holds no prompts.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lsrif_trl.eval import bootstrap

RESULTS_FILE = "results.json"
TABLE_FILE = "results.md"
REPORT_BACKENDS = ("wandb", "trackio")
Number = float | int | None


@dataclass
class RunResults:
    """Everything one benchmark run produced that later tools read."""

    benchmark: str
    model: str | None
    metrics: dict[str, Number]
    headline: list[str]  # the metrics a comparison shows and plots by default
    card: dict[str, str]  # model-index identity: dataset_name, dataset_type, dataset_split
    details: dict[str, Any] = field(default_factory=dict)
    generation: dict[str, Any] | None = None  # backend, sampling settings, tokens/s (None when only scored)
    prompt_scores: dict[str, float] | None = None  # prompt id -> score under headline[0] (compare's bootstrap)
    created: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    @classmethod
    def load(cls, path: Path) -> RunResults:
        """Read a `results.json`; a clear error when it is not one."""
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, TypeError) as error:
            raise ValueError(f"{path} is not a results file written by `lsrif eval` ({error})") from None


def save_run(results: RunResults, output_dir: Path) -> tuple[Path, Path]:
    """Write `results.json` and the markdown table `results.md` into `output_dir`; return both paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path, table_path = output_dir / RESULTS_FILE, output_dir / TABLE_FILE
    json_path.write_text(json.dumps(asdict(results), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    table_path.write_text(run_markdown(results), encoding="utf-8")
    return json_path, table_path


def _cell(value: Number, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return str(value) if isinstance(value, int) else f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _split_key(key: str) -> tuple[str, str]:
    row, _, measure = key.rpartition("/")
    return (row, measure) if row else (key, "value")


def metrics_table(metrics: dict[str, Number]) -> str:
    """A markdown table of `ROW/MEASURE` metrics pivoted to rows x measures (bare names: one value column)."""
    rows: dict[str, dict[str, Number]] = {}
    for key, value in metrics.items():
        row, measure = _split_key(key)
        rows.setdefault(row, {})[measure] = value
    measures = list(dict.fromkeys(m for values in rows.values() for m in values))
    body = [[row, *(_cell(values.get(m)) for m in measures)] for row, values in rows.items()]
    return _table(["", *measures], body)


def generation_line(generation: dict[str, Any] | None) -> str:
    """One line saying how the responses were produced (or that they were only scored)."""
    if not generation:
        return "Responses scored from a file (no generation in this run)."
    speed = generation.get("tokens_per_second")
    speed_text = f"{speed:.1f} tokens/s" if speed else "tokens/s not measured (all answers resumed)"
    sampling = ", ".join(f"{k}={v}" for k, v in generation.get("sampling", {}).items())
    return (
        f"Generated with `{generation.get('backend')}`: {generation.get('generated')} new answers, "
        f"{generation.get('resumed')} resumed; {speed_text}; sampling: {sampling}."
    )


def run_markdown(results: RunResults) -> str:
    """The markdown report of one run."""
    title = f"# {results.card.get('dataset_name', results.benchmark)}: {results.model or 'responses file'}\n\n"
    return title + metrics_table(results.metrics) + "\n" + generation_line(results.generation) + "\n"


def find_runs(directories: Sequence[Path]) -> list[tuple[str, RunResults]]:
    """(label, results) for each `DIR/results.json` and `DIR/*/results.json`.

    A run is labelled by the DIR given, or by its own folder when that folder is not just the benchmark's name
    (`make eval` writes `outputs/eval/MODEL/ifeval`, `outputs/eval/MODEL/lsr`: both are labelled by MODEL's DIR)."""
    found: list[tuple[str, RunResults]] = []
    for directory in directories:
        if not directory.is_dir():
            raise ValueError(f"{directory} is not a directory; pass folders written by `lsrif eval --output-dir`")
        paths = [directory / RESULTS_FILE] if (directory / RESULTS_FILE).exists() else []
        paths += sorted(directory.glob(f"*/{RESULTS_FILE}"))
        if not paths:
            raise ValueError(f"{directory} holds no {RESULTS_FILE} (neither directly nor one folder down)")
        for path in paths:
            results = RunResults.load(path)
            own_folder = path.parent != directory and path.parent.name != results.benchmark
            found.append((str(path.parent if own_folder else directory), results))
    return found


def group_by_benchmark(runs: list[tuple[str, RunResults]]) -> dict[str, list[tuple[str, RunResults]]]:
    """Runs grouped by benchmark, in the order given."""
    groups: dict[str, list[tuple[str, RunResults]]] = {}
    for label, results in runs:
        groups.setdefault(results.benchmark, []).append((label, results))
    return groups


def compared_metrics(runs: list[tuple[str, RunResults]], all_metrics: bool = False) -> list[str]:
    """The metric keys a comparison shows: the first run's headline (or every key any run has)."""
    if all_metrics:
        return list(dict.fromkeys(key for _, results in runs for key in results.metrics))
    return list(runs[0][1].headline)


def _delta(value: Number, baseline: Number) -> str:
    if value is None or baseline is None:
        return "–"
    return f"{value - baseline:+.4f}" if isinstance(value - baseline, float) else f"{value - baseline:+d}"


def compare_markdown(runs: list[tuple[str, RunResults]], metrics: Sequence[str]) -> str:
    """Runs of one benchmark side by side; each later run also shows its delta (Δ) against the first."""
    labels = [label for label, _ in runs]
    header = ["metric", labels[0]]
    for label in labels[1:]:
        header += [label, "Δ"]
    rows = []
    for key in metrics:
        baseline = runs[0][1].metrics.get(key)
        row = [key, _cell(baseline)]
        for _, results in runs[1:]:
            value = results.metrics.get(key)
            row += [_cell(value), _delta(value, baseline)]
        rows.append(row)
    return _table(header, rows)


def generation_table(runs: list[tuple[str, RunResults]]) -> str:
    """How each run's answers were produced: backend, throughput and sampling settings."""
    rows = []
    for label, results in runs:
        gen = results.generation or {}
        speed = gen.get("tokens_per_second")
        sampling = ", ".join(f"{k}={v}" for k, v in gen.get("sampling", {}).items()) or "–"
        rows.append([label, gen.get("backend", "scored from a file"), f"{speed:.1f}" if speed else "–", sampling])
    return _table(["run", "backend", "tokens/s", "sampling"], rows)


def comparability(runs: list[tuple[str, RunResults]]) -> list[str]:
    """Warnings when the runs of one benchmark did not score the same prompts (other build, other --limit)."""
    warnings = []
    for key, what in (("fingerprint", "benchmark sets"), ("limit", "--limit values"), ("input_data", "input files")):
        values = {label: results.details.get(key) for label, results in runs}
        if len(set(map(str, values.values()))) > 1:
            shown = ", ".join(f"{label}: {value}" for label, value in values.items())
            warnings.append(f"> Warning: these runs used different {what} ({shown}); the numbers are not comparable.")
    return warnings


def primary_metric(results: RunResults) -> str:
    """The one metric a benchmark is summarised by: the first of its headline."""
    return results.headline[0]


def _run_labels(runs: list[tuple[str, RunResults]]) -> list[str]:
    return list(dict.fromkeys(label for label, _ in runs))


def summary_markdown(runs: list[tuple[str, RunResults]]) -> str:
    """One table in the shape of the papers' result tables: a row per run, a column per benchmark (its primary
    metric), then a row per later run with its delta against the first and the bootstrap 95% interval of it."""
    groups = group_by_benchmark(runs)
    labels = _run_labels(runs)
    by_run = {(label, name): results for name, group in groups.items() for label, results in group}
    header = ["run", *(f"{group[0][1].card.get('dataset_name', name)} ({primary_metric(group[0][1])})"
                       for name, group in groups.items())]  # fmt: skip
    rows = []
    for label in labels:
        cells = [by_run.get((label, name)) for name in groups]
        rows.append([label, *(_cell(r.metrics.get(primary_metric(r))) if r else "–" for r in cells)])
    for label in labels[1:]:
        deltas = [_delta_with_interval(by_run.get((labels[0], name)), by_run.get((label, name))) for name in groups]
        rows.append([f"Δ {label} (95% CI)", *deltas])
    if len(labels) == 1:
        return "## Summary\n\n" + _table(header, rows)
    note = (
        f"\nΔ: the primary metric's change against {labels[0]}; in brackets the paired bootstrap 95% interval over "
        f"the prompts both runs scored ({bootstrap.RESAMPLES} resamples). Judge-scored benchmarks are comparable only "
        "under the same judge.\n"
    )
    return "## Summary\n\n" + _table(header, rows) + note


def _delta_with_interval(base: RunResults | None, other: RunResults | None) -> str:
    if base is None or other is None:
        return "–"
    metric = primary_metric(base)
    text = _delta(other.metrics.get(metric), base.metrics.get(metric))
    interval = bootstrap.paired_interval(base.prompt_scores or {}, other.prompt_scores or {})
    return text if interval is None else f"{text} [{interval[0]:+.4f}, {interval[1]:+.4f}]"


def plot_summary(runs: list[tuple[str, RunResults]], path: Path) -> Path:
    """One grouped bar plot: a group per benchmark (its primary metric), a bar per run; saved to `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: works on servers without a display
    import matplotlib.pyplot as plt

    groups = group_by_benchmark(runs)
    labels = _run_labels(runs)
    width = 0.8 / len(labels)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.4 * len(groups) + 2), 4.0))
    for i, label in enumerate(labels):
        heights = []
        for group in groups.values():
            found = [r for run_label, r in group if run_label == label]
            value = found[0].metrics.get(primary_metric(found[0])) if found else None
            heights.append(0.0 if value is None else float(value))
        positions = [g + (i - (len(labels) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(positions, heights, width, label=label)
    names = [f"{g[0][1].card.get('dataset_name', n)}\n{primary_metric(g[0][1])}" for n, g in groups.items()]
    ax.set_xticks(range(len(groups)), names, fontsize="small")
    ax.set_ylim(0.0, 1.0)  # every primary metric is a fraction
    ax.set_ylabel("score")
    ax.set_title("Primary metric per benchmark")
    ax.legend(fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def compare_runs(directories: Sequence[Path], plot_dir: Path, all_metrics: bool = False) -> tuple[str, list[Path]]:
    """The markdown comparison of every benchmark found in `directories` (a summary table with bootstrap
    intervals, then each benchmark's own table), and the one summary plot it saved."""
    runs = find_runs(directories)
    sections = [summary_markdown(runs)]
    for benchmark, group in group_by_benchmark(runs).items():
        metrics = compared_metrics(group, all_metrics)
        title = f"## {group[0][1].card.get('dataset_name', benchmark)}\n\n"
        warnings = "".join(f"\n{w}\n" for w in comparability(group))
        sections.append(title + compare_markdown(group, metrics) + warnings + "\n" + generation_table(group))
    return "\n".join(sections), [plot_summary(runs, plot_dir / "compare.png")]


def eval_results(results: RunResults) -> list[Any]:
    """The run's headline metrics as `huggingface_hub.EvalResult`s (the model card's model-index entries)."""
    from huggingface_hub import EvalResult

    return [
        EvalResult(
            task_type="text-generation",
            dataset_type=results.card["dataset_type"],
            dataset_name=results.card["dataset_name"],
            dataset_split=results.card.get("dataset_split"),
            metric_type=key,
            metric_name=key,
            metric_value=results.metrics[key],
        )
        for key in results.headline
        if results.metrics.get(key) is not None
    ]


def attach_to_model_card(card_path: Path, runs: Sequence[RunResults], model_name: str) -> Path:
    """Add the runs' headline metrics to the model-index of a local model card (README.md), creating it if absent.

    Entries for the same dataset and metric are replaced, others kept. Upload the card with
    `huggingface-cli upload REPO README.md` or `ModelCard.push_to_hub`."""
    from huggingface_hub import ModelCard, ModelCardData

    if card_path.exists():
        card = ModelCard.load(card_path)
    else:
        card = ModelCard.from_template(
            ModelCardData(model_name=model_name), template_str="---\n{{ card_data }}\n---\n"
        )
    new = [entry for results in runs for entry in eval_results(results)]
    replaced = {(e.dataset_type, e.metric_type) for e in new}
    kept = [e for e in (card.data.eval_results or []) if (e.dataset_type, e.metric_type) not in replaced]
    card.data.eval_results = kept + new
    card.data.model_name = card.data.model_name or model_name
    card_path.parent.mkdir(parents=True, exist_ok=True)
    card.save(card_path)
    return card_path


def report_to(backend: str, results: RunResults, project: str, run_name: str | None = None) -> None:
    """Log a run's metrics (and generation settings as config) to wandb or trackio."""
    if backend not in REPORT_BACKENDS:
        raise ValueError(f"--report-to {backend!r}: choose one of {', '.join(REPORT_BACKENDS)} (or none)")
    try:
        tracker = importlib.import_module(backend)
    except ImportError:
        raise ValueError(
            f"--report-to {backend} needs the {backend} package: pip install 'lsrif-trl[wandb]'"
        ) from None
    config = {"benchmark": results.benchmark, "model": results.model, "generation": results.generation}
    tracker.init(project=project, name=run_name, config=config)
    values = {f"{results.benchmark}/{key}": value for key, value in results.metrics.items() if value is not None}
    tracker.log(values)
    tracker.finish()
