"""The logic tree of an instruction (docs/structure.md): parse, validate, inspect and render it.

A tree is made of constraint leaves (hard: checked by a registered verifier; soft: scored by a judge) and
three composite nodes: `parallel` (all children apply), `sequential` (children are ordered steps) and
`conditional` (the input selects the `then` or the `else` branch; `active` records which one).
Errors raised while parsing are `StructureError`s whose message starts with the path inside the tree
(`children[2].then.kwargs.num_words: ...`) and, when loading a dataset, the row (`row 17: ...`).
A tree is at most MAX_TREE_DEPTH composite levels deep and holds at most MAX_TREE_LEAVES leaves, so no row can
make scoring recurse or loop without bound.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lsrif_trl.constraints.base import MAX_TEXT_CHARS, Constraint, KwargError
from lsrif_trl.constraints.registry import get_constraint
from lsrif_trl.constraints.soft import SoftConstraint, get_soft

NODE_TYPES = ("constraint", "parallel", "sequential", "conditional")
LEAF_KINDS = ("hard", "soft")
BRANCHES = ("then", "else")
STRUCTURE_TYPES = ("parallel", "sequential", "conditional", "nested")
MAX_TREE_DEPTH = 8  # composite levels (the builder nests up to 3; the paper's data 1)
MAX_TREE_LEAVES = 64  # leaves of one tree, both branches counted (the builder draws up to 8; IFEval rows hold 6)


class StructureError(ValueError):
    """A tree that does not follow docs/structure.md; the message names the row (if known) and the path."""


# Nodes compare and hash by identity (eq=False): reward code keys per-leaf scores by the leaf object itself.
@dataclass(frozen=True, eq=False)
class ConstraintNode:
    """A leaf: one atomic constraint. Hard leaves carry validated kwargs; soft leaves carry the text to judge.

    `constraint` is the registered object the id resolved to when the leaf was parsed (None for a leaf built by
    hand), so scoring never looks the id up again."""

    id: str
    kind: Literal["hard", "soft"] = "hard"
    kwargs: dict[str, Any] = field(default_factory=dict)
    text: str | None = None
    constraint: Constraint | SoftConstraint | None = field(default=None, repr=False)


@dataclass(frozen=True, eq=False)
class ParallelNode:
    """Every child applies at once, in any order."""

    children: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class SequentialNode:
    """The children are ordered steps; a failed step discounts the steps after it (see rewards.lsrm)."""

    children: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class ConditionalNode:
    """`then` applies when the condition holds for the input, `else_` otherwise; `active` says which one does."""

    condition: str
    active: Literal["then", "else"]
    then: Node
    else_: Node | None = None

    @property
    def active_branch(self) -> Node | None:
        """The branch the input selects, or None when that branch is absent (the node then imposes nothing)."""
        return self.then if self.active == "then" else self.else_


Node = ConstraintNode | ParallelNode | SequentialNode | ConditionalNode


# ---------------------------------------------------------------------------------------------- parsing


def parse_structure(obj: Mapping[str, Any] | str, *, row: int | None = None) -> Node:
    """Parse and validate a tree given as a dict or a JSON string; `row` prefixes errors with `row N: `."""
    try:
        tree = _parse_node(_decoded(obj, "structure"), "", 0)
        n_leaves = len(leaves(tree))
        if n_leaves > MAX_TREE_LEAVES:
            raise _fail("", f"{n_leaves} leaves, more than the limit of {MAX_TREE_LEAVES}")
        return tree
    except StructureError as err:
        raise _with_row(err, row) from None


def parse_ifeval_row(instruction_id_list: Any, kwargs_list: Any, *, row: int | None = None) -> ParallelNode:
    """Read a flat IFEval row (`instruction_id_list` + `kwargs`) as a parallel node of hard constraints."""
    try:
        kwargs_list = _decoded(kwargs_list, "kwargs")
        if not isinstance(instruction_id_list, list) or not instruction_id_list:
            raise StructureError(f"instruction_id_list: expected a non-empty list of ids, got {instruction_id_list!r}")
        if len(instruction_id_list) > MAX_TREE_LEAVES:
            raise StructureError(
                f"instruction_id_list: {len(instruction_id_list)} ids, more than the limit of {MAX_TREE_LEAVES}"
            )
        if kwargs_list is None:
            kwargs_list = [{}] * len(instruction_id_list)
        if not isinstance(kwargs_list, list) or len(kwargs_list) != len(instruction_id_list):
            raise StructureError(
                f"kwargs: expected a list of {len(instruction_id_list)} dicts (one per instruction id), "
                f"got {kwargs_list!r}"
            )
        leaves = tuple(
            _hard_leaf(cid, kw, id_path=f"instruction_id_list[{i}]", kwargs_path=f"kwargs[{i}]")
            for i, (cid, kw) in enumerate(zip(instruction_id_list, kwargs_list, strict=True))
        )
        return ParallelNode(leaves)
    except StructureError as err:
        raise _with_row(err, row) from None


def _decoded(value: Any, field: str) -> Any:
    """A column that may hold JSON text (as datasets often store nested values) as its Python value."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as err:
        raise StructureError(f"{field}: not valid JSON ({err})") from None
    except RecursionError:
        raise StructureError(f"{field}: nested too deeply to decode (the limit is {MAX_TREE_DEPTH} levels)") from None


def _with_row(err: StructureError, row: int | None) -> StructureError:
    return StructureError(f"row {row}: {err}") if row is not None else err


def _join(path: str, key: str) -> str:
    if key.startswith("["):
        return f"{path}{key}"
    return f"{path}.{key}" if path else key


def _fail(path: str, message: str) -> StructureError:
    return StructureError(f"{path or '<root>'}: {message}")


def _parse_node(obj: Any, path: str, level: int) -> Node:
    """The node at `path`, `level` composite nodes below the root."""
    if not isinstance(obj, Mapping):
        raise _fail(path, f"expected a node object with a `type`, got {type(obj).__name__} {obj!r:.80}")
    node_type = obj.get("type")
    if node_type not in NODE_TYPES:
        raise _fail(_join(path, "type"), f"expected one of {list(NODE_TYPES)}, got {node_type!r}")
    if node_type == "constraint":
        return _parse_leaf(obj, path)
    if level >= MAX_TREE_DEPTH:
        raise _fail(
            path, f"a {node_type} node below {level} composite levels: deeper than the limit of {MAX_TREE_DEPTH}"
        )
    if node_type in ("parallel", "sequential"):
        _reject_unknown_keys(obj, {"type", "children"}, path)
        children = obj.get("children")
        children_path = _join(path, "children")
        if not isinstance(children, list) or not children:
            raise _fail(children_path, f"expected a non-empty list of nodes, got {children!r:.80}")
        if len(children) > MAX_TREE_LEAVES:
            raise _fail(children_path, f"{len(children)} children, more than the limit of {MAX_TREE_LEAVES} leaves")
        parsed = tuple(_parse_node(c, _join(children_path, f"[{i}]"), level + 1) for i, c in enumerate(children))
        return ParallelNode(parsed) if node_type == "parallel" else SequentialNode(parsed)
    return _parse_conditional(obj, path, level + 1)


def _parse_conditional(obj: Mapping[str, Any], path: str, level: int) -> ConditionalNode:
    _reject_unknown_keys(obj, {"type", "condition", "active", "then", "else"}, path)
    condition = obj.get("condition")
    if not isinstance(condition, str) or not condition.strip():
        raise _fail(_join(path, "condition"), f"expected a non-empty string, got {condition!r:.80}")
    if len(condition) > MAX_TEXT_CHARS:
        raise _fail(_join(path, "condition"), f"{len(condition)} characters, more than the limit of {MAX_TEXT_CHARS}")
    active = obj.get("active")
    if active not in BRANCHES:
        raise _fail(_join(path, "active"), f"expected 'then' or 'else', got {active!r}")
    if "then" not in obj:
        raise _fail(_join(path, "then"), "missing; a conditional needs a `then` node (`else` is optional)")
    then = _parse_node(obj["then"], _join(path, "then"), level)
    else_ = _parse_node(obj["else"], _join(path, "else"), level) if obj.get("else") is not None else None
    return ConditionalNode(condition=condition, active=active, then=then, else_=else_)


def _parse_leaf(obj: Mapping[str, Any], path: str) -> ConstraintNode:
    _reject_unknown_keys(obj, {"type", "id", "kwargs", "kind", "text"}, path)
    kind = obj.get("kind", "hard")
    if kind not in LEAF_KINDS:
        raise _fail(_join(path, "kind"), f"expected 'hard' or 'soft', got {kind!r}")
    if kind == "hard":
        return _hard_leaf(obj.get("id"), obj.get("kwargs"), _join(path, "id"), _join(path, "kwargs"))
    constraint_id, text = obj.get("id"), obj.get("text")
    try:
        soft = get_soft(constraint_id)
    except ValueError as err:
        raise _fail(_join(path, "id"), str(err)) from None
    if not isinstance(text, str) or not text.strip():
        raise _fail(_join(path, "text"), "a soft constraint needs the non-empty `text` a judge scores against")
    if len(text) > MAX_TEXT_CHARS:
        raise _fail(_join(path, "text"), f"{len(text)} characters, more than the limit of {MAX_TEXT_CHARS}")
    kwargs = obj.get("kwargs") or {}
    if not isinstance(kwargs, Mapping):
        raise _fail(_join(path, "kwargs"), f"expected an object, got {kwargs!r:.80}")
    return ConstraintNode(id=constraint_id, kind="soft", kwargs=dict(kwargs), text=text, constraint=soft)


def _hard_leaf(constraint_id: Any, kwargs: Any, id_path: str, kwargs_path: str) -> ConstraintNode:
    """A hard leaf whose id is registered and whose kwargs pass that constraint's schema."""
    if not isinstance(constraint_id, str):
        raise _fail(id_path, f"expected a constraint id string, got {constraint_id!r}")
    try:
        constraint = get_constraint(constraint_id)
    except ValueError as err:
        raise _fail(id_path, str(err)) from None
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise _fail(kwargs_path, f"expected an object, got {type(kwargs).__name__} {kwargs!r:.80}")
    try:
        validated = constraint.validate(dict(kwargs or {}))
    except ValueError as err:
        message = str(err).removeprefix(f"{constraint_id}: ")
        where = _join(kwargs_path, err.field) if isinstance(err, KwargError) else kwargs_path
        raise _fail(where, f"{message} [{constraint_id}]") from None
    return ConstraintNode(id=constraint_id, kind="hard", kwargs=validated, constraint=constraint)


def _reject_unknown_keys(obj: Mapping[str, Any], allowed: set[str], path: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise _fail(_join(path, unknown[0]), f"unknown field for a {obj['type']} node; allowed: {sorted(allowed)}")


# ------------------------------------------------------------------------------------------ serialising


def to_dict(node: Node) -> dict[str, Any]:
    """The `structure` object (docs/structure.md) of `node` (what `parse_structure` reads back into an equal tree)."""
    if isinstance(node, ConstraintNode):
        if node.kind == "soft":  # the DESIGN form of a soft leaf: id, text, kind (kwargs only if given)
            soft = {"type": "constraint", "id": node.id, "text": node.text, "kind": "soft"}
            return {**soft, "kwargs": dict(node.kwargs)} if node.kwargs else soft
        return {"type": "constraint", "id": node.id, "kwargs": dict(node.kwargs), "kind": "hard"}
    if isinstance(node, ParallelNode | SequentialNode):
        kind = "parallel" if isinstance(node, ParallelNode) else "sequential"
        return {"type": kind, "children": [to_dict(c) for c in node.children]}
    out = {"type": "conditional", "condition": node.condition, "active": node.active, "then": to_dict(node.then)}
    if node.else_ is not None:
        out["else"] = to_dict(node.else_)
    return out


def to_json(node: Node) -> str:
    """`to_dict` as a compact JSON string (the dataset's `structure` column)."""
    return json.dumps(to_dict(node), ensure_ascii=False, separators=(",", ":"))


# ------------------------------------------------------------------------------------------- inspecting


def children_of(node: Node) -> tuple[Node, ...]:
    """Direct children, both branches of a conditional included."""
    if isinstance(node, ParallelNode | SequentialNode):
        return node.children
    if isinstance(node, ConditionalNode):
        return (node.then,) if node.else_ is None else (node.then, node.else_)
    return ()


def leaves(node: Node) -> list[ConstraintNode]:
    """Every leaf in document order, both branches of every conditional included."""
    if isinstance(node, ConstraintNode):
        return [node]
    return [leaf for child in children_of(node) for leaf in leaves(child)]


def active_leaves(node: Node) -> list[ConstraintNode]:
    """The leaves the input makes apply: inactive conditional branches are skipped."""
    if isinstance(node, ConstraintNode):
        return [node]
    if isinstance(node, ConditionalNode):
        branch = node.active_branch
        return active_leaves(branch) if branch is not None else []
    return [leaf for child in node.children for leaf in active_leaves(child)]


def depth(node: Node) -> int:
    """Composite levels on the longest root-to-leaf path (both branches): a leaf is 0, a flat list 1."""
    kids = children_of(node)
    return 1 + max(depth(c) for c in kids) if kids else 0


def _unwrap(node: Node) -> Node:
    while isinstance(node, ParallelNode) and len(node.children) == 1:
        node = node.children[0]
    return node


def _composite_kinds(node: Node) -> Iterator[str]:
    node = _unwrap(node)
    if isinstance(node, ConstraintNode):
        return
    yield type(node).__name__.removesuffix("Node").lower()
    for child in children_of(node):
        yield from _composite_kinds(child)


def structure_type(node: Node) -> str:
    """One of STRUCTURE_TYPES, after treating one-child parallel wrappers as transparent:
    the root's kind when every composite node in the tree (both branches) has that same kind, "parallel" for a
    lone leaf, and "nested" as soon as two different kinds occur (e.g. a parallel step inside a sequence)."""
    kinds = set(_composite_kinds(node))
    if not kinds:
        return "parallel"
    return kinds.pop() if len(kinds) == 1 else "nested"


def render_line(node: Node) -> str:
    """A compact one-line rendering for logs, e.g. `seq(no_comma, if[then] <cond> ? par(a, b) : c)`.

    Leaves show their id and kwargs (`~` marks a soft leaf); the active conditional branch is marked."""
    if isinstance(node, ConstraintNode):
        if node.kind == "soft":
            return f"~{node.id}"
        if not node.kwargs:
            return node.id
        return f"{node.id}{json.dumps(node.kwargs, ensure_ascii=False, separators=(',', ':'))}"
    if isinstance(node, ParallelNode | SequentialNode):
        name = "par" if isinstance(node, ParallelNode) else "seq"
        return f"{name}({', '.join(render_line(c) for c in node.children)})"
    else_ = render_line(node.else_) if node.else_ is not None else "-"
    return f"if[{node.active}] {node.condition!r} ? {render_line(node.then)} : {else_}"
