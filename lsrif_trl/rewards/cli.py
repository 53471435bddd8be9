"""`lsrif score FILE.jsonl`: the reward of each completion against its tree, one JSON line out per line in.

Each input line holds `structure` (object or JSON string; or the flat IFEval `instruction_id_list` + `kwargs`)
and `completion` (a string, or a list of chat messages). Every line is validated before anything is printed;
a bad line prints `FILE line N: field: problem` to stderr and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from lsrif_trl.jsonl import json_object
from lsrif_trl.rewards.lsrm import AGGREGATIONS, SEQ_MODES, LSRMConfig
from lsrif_trl.rewards.registry import RewardOptions
from lsrif_trl.rewards.scoring import RowScore, score_completions
from lsrif_trl.rewards.think import THINK_OPENERS, UNCLOSED_POLICIES, AnswerPolicy
from lsrif_trl.structure import StructureError, render_line
from lsrif_trl.trees import TreeFacts, row_tree

EXIT_BAD_INPUT = 2


class BadLine(ValueError):
    """An input line that cannot be scored; the message names the line and the field."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `lsrif score`."""
    parser = subparsers.add_parser("score", help="score completions against their logic trees", description=__doc__)
    parser.add_argument("file", type=Path, help="JSONL with `structure` and `completion` per line")
    defaults, helps = RewardOptions(), {f.name: f.metadata["help"] for f in fields(RewardOptions)}
    parser.add_argument("--aggregation", choices=AGGREGATIONS, default=LSRMConfig.aggregation)
    parser.add_argument("--gamma", type=float, default=defaults.lsrm_gamma, help=helps["lsrm_gamma"])
    parser.add_argument("--seq-mode", choices=SEQ_MODES, default=defaults.lsrm_seq_mode, help=helps["lsrm_seq_mode"])
    parser.add_argument("--tau", type=float, default=defaults.lsrm_tau, help=helps["lsrm_tau"])
    parser.add_argument(
        "--think-opened-by", choices=THINK_OPENERS, default=defaults.think_opened_by, help=helps["think_opened_by"]
    )
    parser.add_argument(
        "--unclosed-think", choices=UNCLOSED_POLICIES, default=defaults.unclosed_think, help=helps["unclosed_think"]
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate every line, then print one JSON result per line; 2 on bad input."""
    try:
        config = LSRMConfig(args.aggregation, args.gamma, args.seq_mode, args.tau)
        policy = AnswerPolicy(args.think_opened_by, args.unclosed_think)
        trees, completions = read_lines(args.file)
    except (ValueError, OSError) as err:
        print(f"lsrif score: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    rows = score_completions([t.tree for t in trees], completions, config, policy=policy)
    for facts, row in zip(trees, rows, strict=True):
        sys.stdout.write(json.dumps(result_record(facts, row, config), ensure_ascii=False) + "\n")
    return 0


def read_lines(path: Path) -> tuple[list[TreeFacts], list[Any]]:
    """The parsed tree and the completion of every line; BadLine on the first line that is not usable."""
    trees, completions = [], []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            tree, completion = parse_line(line, f"{path} line {number}")
            trees.append(tree)
            completions.append(completion)
    if not trees:
        raise BadLine(f"{path}: no lines to score")
    return trees, completions


def parse_line(line: str, where: str) -> tuple[TreeFacts, Any]:
    """One input line as (its tree's facts, completion)."""
    if not line.strip():
        raise BadLine(f"{where}: empty line; every line needs `structure` and `completion`")
    record = json_object(line, where, BadLine)
    try:
        facts = row_tree(record)
    except StructureError as err:
        raise BadLine(f"{where}: {err}") from None
    if facts.soft_ids:
        raise BadLine(
            f"{where}: structure: soft constraint {facts.soft_ids[0]!r}; `lsrif score` scores hard constraints only "
            f"(soft leaves need a judge, see lsrif_trl.judges)"
        )
    completion = record.get("completion")
    if not isinstance(completion, str | list):
        raise BadLine(f"{where}: completion: expected a string (or a list of chat messages), got {completion!r:.60}")
    return facts, completion


def result_record(facts: TreeFacts, row: RowScore, config: LSRMConfig) -> dict[str, Any]:
    """The output line: the reward first, then what explains it (leaves not scored have `score: null`)."""
    return {
        "reward": row.reward,
        "aggregation": config.aggregation,
        "structure_type": facts.type,
        "depth": facts.depth,
        "all_passed": row.all_passed,
        "leaves": [
            {"id": leaf.id, "kwargs": leaf.kwargs, "score": row.leaf_scores.get(leaf)} for leaf in facts.leaves
        ],
        "errors": row.errors,
        "structure": render_line(facts.tree),
    }
