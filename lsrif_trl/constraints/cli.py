"""`lsrif constraints [--family F]` lists the registered constraints; `lsrif constraints show ID` details one."""

from __future__ import annotations

import argparse
import json
import random
import sys

from lsrif_trl.constraints import constraint_ids, families, get_constraint
from lsrif_trl.constraints.base import Constraint, Param

_SHOWN_RENDERINGS = 3


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `lsrif constraints`."""
    parser = subparsers.add_parser("constraints", help="list the registered constraints", description=__doc__)
    parser.add_argument("--family", choices=families(), help="only this family (e.g. ifeval:keywords)")
    actions = parser.add_subparsers(dest="action")
    show = actions.add_parser("show", help="schema, conflicts and sample renderings of one constraint")
    show.add_argument("constraint_id", metavar="ID")
    show.add_argument("--seed", type=int, default=0, help="seed of the sampled kwargs and renderings")
    parser.set_defaults(func=run)


def describe_param(param: Param) -> str:
    """`name: type` plus its restrictions, e.g. `relation: str in ['less than', 'at least']`."""
    kind = f"list[{param.item_type.__name__}]" if param.type is list else param.type.__name__
    text = f"{param.name}: {kind}"
    if param.choices is not None:
        text += f" in {list(param.choices)}"
    if param.minimum is not None:
        text += f" >= {param.minimum:g}"
    if param.maximum is not None:
        text += f" <= {param.maximum:g}"
    if param.regex:
        text += " (regex: literal text and `.` only)"
    return text if param.required else text + " (optional)"


def schema(constraint: Constraint) -> str:
    """The kwargs schema on one line."""
    return ", ".join(describe_param(p) for p in constraint.params) or "(no kwargs)"


def run(args: argparse.Namespace) -> int:
    """List the constraints, or show one; 2 for an unknown id."""
    if args.action == "show":
        try:
            constraint = get_constraint(args.constraint_id)
        except ValueError as err:
            print(f"lsrif constraints: {err}", file=sys.stderr)
            return 2
        show(constraint, args.seed)
        return 0
    for cid in constraint_ids({args.family} if args.family else None):
        constraint = get_constraint(cid)
        print(f"{cid:48} {constraint.family:28} {schema(constraint)}")
    return 0


def show(constraint: Constraint, seed: int) -> None:
    """Print the schema, conflicts and a few renderings of sampled kwargs."""
    print(f"id:        {constraint.id}")
    print(f"family:    {constraint.family}")
    print(f"kwargs:    {schema(constraint)}")
    others = sorted(constraint.conflicts_with - {constraint.id})
    print(f"conflicts: {', '.join(others) if others else '(none besides itself)'}")
    rng = random.Random(seed)
    for index in range(_SHOWN_RENDERINGS):
        kwargs = constraint.sample_kwargs(rng)
        print(f"\nsample {index + 1}: {json.dumps(kwargs, ensure_ascii=False)}")
        print(f"  {constraint.render(kwargs, seed=seed + index)}")
