"""LSR-Eval: a held-out logic-structure benchmark, built by the project's own builder from a fixed recipe.

The prompts come from the seed tasks of the builder's held-out `eval` split (never seen in training data built
from the `train` split), with a fixed seed and fixed quotas per structure cell, so every user evaluates on the
same set; `fingerprint` (a hash of ids, prompts and trees) is stored with the results to prove it, and the default
build is checked against the pinned `LSR_EVAL_V1_FINGERPRINT` (a mismatch warns: the builder, constraints or seed
tasks changed the benchmark, which then needs a new VERSION and pinned fingerprint on purpose). A response is
the answer the generator split off its reasoning under the run's answer policy (`rewards.think`); it is scored
whole, with IFEval's strict checks as the rewards use them, and reported per structure type, per nesting depth and per constraint family under three aggregations:
`lsrm` (the structure-aware reward), `flat` (mean over every leaf) and `all` (every active leaf passes).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lsrif_trl.eval import generation
from lsrif_trl.rewards.lsrm import LSRMConfig, aggregate
from lsrif_trl.rewards.scoring import score_completions
from lsrif_trl.rewards.think import WHOLE_TEXT
from lsrif_trl.structure import STRUCTURE_TYPES, Node, active_leaves
from lsrif_trl.trees import STRUCTURE, TreeSource, read_tree

BENCHMARK = "lsr"
AGGREGATIONS = ("lsrm", "flat", "all")
DEPTHS = (1, 2, 3)
# The recipe of LSR-Eval v1. Changing any value makes a different benchmark: bump VERSION with it.
VERSION = "1"
SEED = 20250917
MAX_DEPTH = 3
MIN_CONSTRAINTS = 2
MAX_CONSTRAINTS = 6
STRUCTURE_MIX = {"parallel": 1.0, "sequential": 1.0, "conditional": 1.0}
# The 25 official IFEval verifiers: a fixed set, apart from the training-only `train:*` families, so a model
# trained on those is evaluated on constraint families it never saw.
DEFAULT_FAMILIES = ("ifeval",)
# Prompts per cell. Flat parallel/sequential lists only exist at depth 1, and deeper groups always mix kinds
# (the builder never nests a group in one of its own kind), so the cells are the three depth-1 kinds, any
# conditional, and mixed trees of depth 2 and 3: 100 each gives ~100 per type and >= 100 per depth.
CELL_QUOTAS = {"parallel": 100, "sequential": 100, "conditional": 100, "nested-2": 100, "nested-3": 100}
MAX_CANDIDATES = 20_000  # examples drawn before giving up on filling the quotas
# `fingerprint(build_lsr_eval())` of v1, computed once and pinned: results are comparable only while it holds.
LSR_EVAL_V1_FINGERPRINT = "c1c726171a2ede1b"
PINNED_FINGERPRINTS = {"1": LSR_EVAL_V1_FINGERPRINT}


class LSREvalDriftWarning(UserWarning):
    """The default LSR-Eval build differs from the set pinned for its VERSION."""


@dataclass(frozen=True)
class LSRExample:
    """One benchmark prompt with its logic tree."""

    id: str
    prompt: str
    structure: str  # the tree as a JSON string (docs/structure.md)
    structure_type: str
    depth: int
    seed_task: str  # id of the builder's seed task (from its held-out `eval` split)

    @property
    def tree(self) -> Node:
        return read_tree(TreeSource(STRUCTURE, self.structure)).tree


def cell_of(structure_type: str, depth: int) -> str:
    """The quota cell of a tree: its structure type, with depth added for mixed trees."""
    return f"nested-{depth}" if structure_type == "nested" else structure_type


def _candidates(families: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    # Imported here: every `lsrif` command loads this module; only LSR-Eval runs need the builder (and datasets).
    from lsrif_trl.data.builder import ExampleFactory
    from lsrif_trl.data.compose import ComposeConfig

    config = ComposeConfig(
        min_constraints=MIN_CONSTRAINTS,
        max_constraints=MAX_CONSTRAINTS,
        max_depth=MAX_DEPTH,
        structure_mix=STRUCTURE_MIX,
        families=families,
    )
    factory = ExampleFactory(config, SEED, seed_split="eval")
    for index in range(MAX_CANDIDATES):
        yield from (example.row for example in factory.examples(index))


def build_lsr_eval(families: Iterable[str] | None = None) -> list[LSRExample]:
    """The benchmark: candidates in build order fill each cell's quota (duplicate prompts skipped), then the
    cells take turns, so any prefix is balanced across structure types and depths.

    `families` replaces DEFAULT_FAMILIES (selectors as in the builder: a family or a prefix such as `ifeval`). The
    default build is checked against the pinned fingerprint of its VERSION (LSREvalDriftWarning on a mismatch)."""
    chosen = tuple(sorted(families)) if families else DEFAULT_FAMILIES
    examples = list(_build(chosen))
    if chosen == DEFAULT_FAMILIES:
        problem = drift(examples)
        if problem:
            warnings.warn(problem, LSREvalDriftWarning, stacklevel=2)
    return examples


def drift(examples: Iterable[LSRExample]) -> str | None:
    """Why `examples` are not the pinned LSR-Eval of this VERSION, or None when they are."""
    built = fingerprint(examples)
    pinned = PINNED_FINGERPRINTS.get(VERSION)
    if built == pinned:
        return None
    return (
        f"LSR-Eval v{VERSION} built with fingerprint {built}, but v{VERSION} is pinned as {pinned}: the builder, "
        "the constraints' rendering or the seed tasks changed the benchmark, so scores are not comparable with "
        f"published v{VERSION} results. If the change is meant, bump VERSION in lsrif_trl/eval/lsr.py and pin the "
        "new fingerprint; otherwise revert the change."
    )


@functools.cache  # deterministic, so one build per process is enough
def _build(families: tuple[str, ...]) -> tuple[LSRExample, ...]:
    remaining = dict(CELL_QUOTAS)
    seen: set[str] = set()
    chosen: list[LSRExample] = []
    for row in _candidates(families):
        prompt = row["prompt"][-1]["content"]
        cell = cell_of(row["structure_type"], row["depth"])
        if remaining.get(cell, 0) == 0 or prompt in seen:
            continue
        remaining[cell] -= 1
        seen.add(prompt)
        seed_task = row["source"].removeprefix("lsrif-builder:")
        chosen.append(LSRExample(row["id"], prompt, row["structure"], row["structure_type"], row["depth"], seed_task))
        if not any(remaining.values()):
            return _interleave_cells(chosen)
    unfilled = {cell: left for cell, left in remaining.items() if left}
    raise ValueError(
        f"LSR-Eval could not fill its quotas from {MAX_CANDIDATES} candidates (missing {unfilled}); "
        f"families {families} may be too few to build these structures"
    )


def build_world_eval(world: str, seed: int, num_prompts: int) -> list[LSRExample]:
    """A held-out set in a builder world (`data.worlds`): `num_prompts` distinct prompts built with `seed` from
    the world's held-out `eval` seed tasks, so any seed gives prompts nobody tuned on (no pinned fingerprint)."""
    from lsrif_trl.data.builder import build_examples

    if num_prompts < 1:
        raise ValueError(f"num_prompts={num_prompts}: expected a positive number of prompts")
    seen: set[str] = set()
    chosen: list[LSRExample] = []
    # Distinct prompts are the rule; ask for a few more rows than needed so the rare repeat costs nothing.
    for example in build_examples(num_prompts + num_prompts // 4 + 8, seed, world=world, seed_split="eval"):
        row = example.row
        prompt = row["prompt"][-1]["content"]
        if prompt in seen:
            continue
        seen.add(prompt)
        seed_task = row["source"].removeprefix("lsrif-builder:")
        chosen.append(LSRExample(row["id"], prompt, row["structure"], row["structure_type"], row["depth"], seed_task))
        if len(chosen) == num_prompts:
            return chosen
    raise ValueError(f"world {world!r}: only {len(chosen)} distinct held-out prompts for seed {seed}; ask for fewer")


def _interleave_cells(examples: list[LSRExample]) -> tuple[LSRExample, ...]:
    """Round-robin over the cells (in CELL_QUOTAS order), so the first N prompts (`--limit N`) stay balanced."""
    by_cell: dict[str, list[LSRExample]] = {cell: [] for cell in CELL_QUOTAS}
    for example in examples:
        by_cell[cell_of(example.structure_type, example.depth)].append(example)
    columns = itertools.zip_longest(*by_cell.values())
    return tuple(example for column in columns for example in column if example is not None)


def fingerprint(examples: Iterable[LSRExample]) -> str:
    """A short hash of the benchmark's ids, prompts and trees: equal fingerprints mean the same benchmark."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps([example.id, example.prompt, example.structure]).encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class LeafResult:
    """One constraint of one prompt: its family, whether the input makes it apply, and its score."""

    id: str
    family: str
    active: bool
    score: float


@dataclass(frozen=True)
class PromptScore:
    """One prompt's scores under every aggregation, with its leaves."""

    example: LSRExample
    response: str
    scores: dict[str, float | None]
    leaves: list[LeafResult]
    errors: int

    def to_json(self) -> dict[str, Any]:
        """The per-prompt output line."""
        return {
            "id": self.example.id,
            "prompt": self.example.prompt,
            "response": self.response,
            "structure_type": self.example.structure_type,
            "depth": self.example.depth,
            **self.scores,
            "leaves": [leaf.__dict__ for leaf in self.leaves],
            "errors": self.errors,
        }


def score_lsr(examples: list[LSRExample], responses: dict[str, str], allow_missing: bool = False) -> list[PromptScore]:
    """Score every example's response under lsrm, flat and all (a missing response is an error or, if allowed, '')."""
    missing = [e.prompt for e in examples if e.prompt not in responses]
    if missing and not allow_missing:
        raise ValueError(
            f"{len(missing)} of {len(examples)} LSR-Eval prompts have no response (first: {missing[0][:80]!r}); "
            "answer them, pass --limit to score the first N prompts only, or pass --allow-missing"
        )
    trees = [e.tree for e in examples]
    answers = [responses.get(e.prompt, "") for e in examples]
    # `flat` checks every leaf once; the other aggregations read the same leaf scores.
    flat = score_completions(trees, answers, LSRMConfig(aggregation="flat"), policy=WHOLE_TEXT)
    configs = {name: LSRMConfig(aggregation=name) for name in AGGREGATIONS if name != "flat"}
    results = []
    for example, tree, answer, row in zip(examples, trees, answers, flat, strict=True):
        scores = {name: aggregate(tree, row.leaf_scores.__getitem__, config) for name, config in configs.items()}
        scores["flat"] = row.reward
        active = set(active_leaves(tree))  # nodes hash by identity
        leaves = [
            LeafResult(leaf.id, leaf.constraint.family, leaf in active, score)
            for leaf, score in row.leaf_scores.items()
        ]
        results.append(PromptScore(example, answer, scores, leaves, row.errors))
    return results


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _slice_metrics(rows: list[PromptScore], name: str) -> dict[str, float | int | None]:
    out: dict[str, float | int | None] = {f"{name}/n": len(rows)}
    for aggregation in AGGREGATIONS:
        out[f"{name}/{aggregation}"] = _mean(
            [r.scores[aggregation] for r in rows if r.scores[aggregation] is not None]
        )
    out[f"{name}/leaves"] = _mean([leaf.score for r in rows for leaf in r.leaves if leaf.active])
    return out


def summarize(results: list[PromptScore]) -> dict[str, float | int | None]:
    """Metrics `ROW/MEASURE`: rows are all prompts, each structure type, each depth and each family; measures
    are n, the mean score under lsrm / flat / all, and `leaves` (the pass rate of the constraints that apply).
    A family's row holds the prompts with at least one active constraint of that family (its `leaves`: only
    that family's constraints)."""
    metrics = _slice_metrics(results, "all prompts")
    for kind in STRUCTURE_TYPES:
        metrics |= _slice_metrics([r for r in results if r.example.structure_type == kind], kind)
    for depth in DEPTHS:
        metrics |= _slice_metrics([r for r in results if r.example.depth == depth], f"depth {depth}")
    for family in sorted({leaf.family for r in results for leaf in r.leaves}):
        rows = [r for r in results if any(leaf.active and leaf.family == family for leaf in r.leaves)]
        family_metrics = _slice_metrics(rows, f"family {family}")
        family_metrics[f"family {family}/leaves"] = _mean(
            [leaf.score for r in rows for leaf in r.leaves if leaf.active and leaf.family == family]
        )
        metrics |= family_metrics
    return metrics


HEADLINE = [
    "all prompts/lsrm",
    "all prompts/flat",
    "all prompts/all",
    *(f"{kind}/lsrm" for kind in STRUCTURE_TYPES),
    *(f"depth {depth}/lsrm" for depth in DEPTHS),
]
CARD = {"dataset_name": "LSR-Eval", "dataset_type": "lsrif-trl/lsr-eval", "dataset_split": f"v{VERSION}"}


def load_responses(path: Path, known_prompts: set[str]) -> dict[str, str]:
    """Responses by prompt from a JSONL with `prompt` and `response`; errors name the line and the field."""
    return generation.load_responses(path, known_prompts, f"LSR-Eval v{VERSION}")


def write_benchmark(examples: Iterable[LSRExample], path: Path) -> Path:
    """The benchmark as JSONL (one example's fields per line), for generating answers with other tools."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(asdict(example), ensure_ascii=False) + "\n")
    return path


def write_prompt_results(results: list[PromptScore], path: Path) -> Path:
    """One JSON line per prompt: its scores under each aggregation and every leaf's verdict."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for result in results:
            handle.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    return path
