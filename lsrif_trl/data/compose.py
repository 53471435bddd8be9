"""Sample sets of constraints that can be satisfied together, and the logic tree that arranges them.

Compatibility rules: a constraint joins an instruction only if it breaks none of these against every
constraint already chosen (both branches of a conditional count: the `flat` baseline scores them all,
and every curriculum level must stay satisfiable):

1. no two constraints with the same id;
2. neither lists the other in `conflicts_with` (for two soft constraints: `constraints.soft.soft_conflict`);
3. letter case: at most one constraint that fixes the case of the answer (lowercase, capitals, capital-word
   counts), since any two of them can contradict each other;
4. JSON output: a constraint that asks for JSON excludes every other layout constraint (sections, bullets,
   highlights, titles, paragraphs, quotes, start/end phrases, postscripts, brackets, ...);
5. word budget: an upper limit on the answer's words must leave room for what the other constraints
   require: the words they need at least (their `num_words`/`frequency` lower bounds and about 5 words per
   required sentence, 10 per paragraph or section, 3 per bullet, 2 per highlight, 1 per placeholder) must fit
   in 80% of the limit (per-paragraph or per-sentence counts bound no total and are left out);
6. response language: a constraint that fixes the answer's language excludes constraints whose kwargs carry
   English words or phrases (keywords, start/end phrases), which an answer in another language cannot hold;
7. forbidden words and characters: a word one constraint forbids may not be one another constraint requires (a
   keyword, a phrase to repeat, a first or last word), nor may a required word or phrase hold a character
   another forbids (an end phrase with `!` against no exclamation marks);
8. opening and closing: at most one constraint fixes how the answer opens (first word, title, a word at a
   given position, same first and last word) and at most one how it closes (last word, end phrase,
   postscript, final question, repeated first sentence), since a title line or a postscript moves the first
   or last word another constraint checks.

Rules 3-8 read the facts each constraint declares on its class (`constraints.facts`: the aspects it fixes, its
required and forbidden words, its word bounds); contradictions beyond them are stated through `conflicts_with`.

Structure: the root kind follows `structure_mix`; the depth (composite levels on the longest path, see
`lsrif_trl.structure.depth`) is uniform over 1..`max_depth`. At depth 1 a conditional holds one constraint
per branch; deeper trees put one subtree of depth d-1 under the root and leaves (or, under a conditional,
one flat group) beside it. A group never nests a group of its own kind (it would read as one list).
"""

from __future__ import annotations

import functools
import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lsrif_trl.constraints import facts
from lsrif_trl.constraints.registry import get_constraint
from lsrif_trl.constraints.soft import soft_conflict
from lsrif_trl.data.constraint_pool import ConstraintPool
from lsrif_trl.structure import (
    ConditionalNode,
    ConstraintNode,
    Node,
    ParallelNode,
    SequentialNode,
)

ROOT_KINDS = ("parallel", "sequential", "conditional")
DEFAULT_STRUCTURE_MIX: dict[str, float] = {"parallel": 0.4, "sequential": 0.3, "conditional": 0.3}
WORD_LIMIT_HEADROOM = 0.8  # the other constraints' needs must fit in this share of an upper word limit
MAX_SLOT_DRAWS = 60
MAX_SET_RESTARTS = 30

_ENGLISH_WORD = re.compile(r"[A-Za-z]{2}")


@dataclass(frozen=True, eq=False)
class ComposeConfig:
    """What the composer may produce: constraint counts, structure kinds and depth, families, soft share."""

    min_constraints: int = 2
    max_constraints: int = 8
    max_depth: int = 1
    structure_mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_STRUCTURE_MIX))
    families: tuple[str, ...] | None = None
    soft_share: float = 0.0

    def __post_init__(self) -> None:
        if not 2 <= self.min_constraints <= self.max_constraints:
            raise ValueError(
                f"constraints per instruction: need 2 <= min_constraints <= max_constraints, got "
                f"{self.min_constraints}..{self.max_constraints}"
            )
        if self.max_depth < 1 or self.max_depth + 1 > self.max_constraints:
            raise ValueError(
                f"max_depth={self.max_depth}: must be >= 1 and a tree of depth d needs d+1 constraints "
                f"(max_constraints={self.max_constraints})"
            )
        object.__setattr__(self, "structure_mix", normalise_mix(self.structure_mix))
        if self.structure_mix["conditional"] > 0 and self.max_depth == 1 and self.min_constraints > 2:
            raise ValueError(
                "a conditional at depth 1 holds 2 constraints (one per branch) but min_constraints="
                f"{self.min_constraints}; set conditional=0 in the structure mix or max_depth >= 2"
            )
        if not 0.0 <= self.soft_share <= 1.0:
            raise ValueError(f"soft_share={self.soft_share}: must be in [0, 1]")


def normalise_mix(mix: Mapping[str, float]) -> dict[str, float]:
    """The structure mix with every root kind present and weights summing to 1; ValueError names the fix."""
    unknown = sorted(set(mix) - set(ROOT_KINDS))
    if unknown:
        raise ValueError(f"structure mix: unknown kind {unknown[0]!r}; use {', '.join(ROOT_KINDS)}")
    weights = {kind: float(mix.get(kind, 0.0)) for kind in ROOT_KINDS}
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"structure mix {dict(mix)}: weights must be >= 0 with a positive sum")
    total = sum(weights.values())
    return {kind: w / total for kind, w in weights.items()}


def parse_mix(text: str) -> dict[str, float]:
    """Read `parallel=0.4,sequential=0.3,conditional=0.3` (missing kinds get 0) into a normalised mix."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not sep or math.isnan(weight):
            raise ValueError(f"structure mix: {part!r} is not KIND=WEIGHT (e.g. parallel=0.4)")
        mix[name.strip()] = weight
    return normalise_mix(mix)


# ------------------------------------------------------------------------------------------ compatibility


def _word_bounds(leaf: ConstraintNode) -> tuple[int, int | None]:
    """(words the leaf needs at least, words it allows at most or None), as its constraint declares them."""
    if leaf.kind != "hard":
        return facts.NO_WORD_BOUNDS
    return get_constraint(leaf.id).word_bounds(leaf.kwargs)


def _has_english_text(leaf: ConstraintNode) -> bool:
    """Whether the leaf's kwargs hold English words the answer must contain or avoid."""
    constraint = get_constraint(leaf.id)
    words = constraint.required_words(leaf.kwargs) + constraint.forbidden_words(leaf.kwargs)
    return any(_ENGLISH_WORD.search(word) for word in words)


@functools.cache
def id_conflict(a_id: str, a_kind: str, b_id: str, b_kind: str) -> str | None:
    """Why two constraints cannot be asked together whatever their kwargs (rules 1-4 and 8), or None."""
    if a_id == b_id:
        return "same id"
    if a_kind == "soft" and b_kind == "soft":
        return "conflicting soft dimensions" if soft_conflict(a_id, b_id) else None
    if a_kind == "soft" or b_kind == "soft":
        return None
    a, b = get_constraint(a_id), get_constraint(b_id)
    if b_id in a.conflicts_with or a_id in b.conflicts_with:
        return "conflicts_with"
    if facts.CASE in a.fixes and facts.CASE in b.fixes:
        return "two letter-case constraints"
    for x, y in ((a, b), (b, a)):
        if facts.JSON in x.fixes and y.fixes & {facts.LAYOUT, facts.JSON}:
            return "JSON output with another layout constraint"
    if facts.OPENING in a.fixes and facts.OPENING in b.fixes:
        return "two constraints on how the answer opens"
    if facts.CLOSING in a.fixes and facts.CLOSING in b.fixes:
        return "two constraints on how the answer closes"
    return None


def _forbids_required_word(x: ConstraintNode, y: ConstraintNode) -> bool:
    """Whether `x` forbids a word that `y` asks for (as a keyword, a phrase to repeat, a first or last word)."""
    forbidden = set(get_constraint(x.id).forbidden_words(x.kwargs))
    if not forbidden:
        return False
    required = " ".join(get_constraint(y.id).required_words(y.kwargs))
    return any(re.search(rf"\b{re.escape(word)}\b", required) for word in forbidden)


def _forbids_required_character(x: ConstraintNode, y: ConstraintNode) -> bool:
    """Whether `x` forbids a character that a word or phrase `y` requires holds (`!` in `Hope this helps!`)."""
    characters = get_constraint(x.id).forbidden_characters
    return bool(characters) and any(
        c in word for word in get_constraint(y.id).required_words(y.kwargs) for c in characters
    )


def _kwargs_conflict(a: ConstraintNode, b: ConstraintNode) -> str | None:
    """Rules 6 and 7, which depend on the kwargs."""
    if a.kind != "hard" or b.kind != "hard":
        return None
    for x, y in ((a, b), (b, a)):
        if facts.LANGUAGE in get_constraint(x.id).fixes and _has_english_text(y):
            return "response language with English words to include"
        if _forbids_required_word(x, y):
            return "a forbidden word that another constraint requires"
        if _forbids_required_character(x, y):
            return "a forbidden character in a word or phrase another constraint requires"
    return None


def pair_conflict(a: ConstraintNode, b: ConstraintNode) -> str | None:
    """Why `a` and `b` cannot be asked together (rules 1-4 and 6-8 of the module doc), or None."""
    return id_conflict(a.id, a.kind, b.id, b.kind) or _kwargs_conflict(a, b)


def set_conflict(leaves: list[ConstraintNode]) -> str | None:
    """Why the whole set cannot be satisfied together (pairwise rules plus the word budget), or None."""
    for i, a in enumerate(leaves):
        for b in leaves[i + 1 :]:
            reason = pair_conflict(a, b)
            if reason:
                return f"{a.id} / {b.id}: {reason}"
    return _budget_conflict(leaves)


def _budget_conflict(leaves: list[ConstraintNode], bounds: list[tuple[int, int | None]] | None = None) -> str | None:
    """Rule 5 over the set; `bounds` are the leaves' `_word_bounds` when the caller already has them."""
    bounds = bounds if bounds is not None else [_word_bounds(leaf) for leaf in leaves]
    for i, (_, limit) in enumerate(bounds):
        if limit is None:
            continue
        needed = sum(need for j, (need, _) in enumerate(bounds) if j != i)
        if needed > WORD_LIMIT_HEADROOM * limit:
            return f"{leaves[i].id}: a limit of {limit} words leaves no room for the {needed} words others need"
    return None


# ------------------------------------------------------------------------------------------ constraints


@functools.cache
def _blocked_ids(pool: ConstraintPool, constraint_id: str, kind: str) -> frozenset[str]:
    """The pool's ids that `id_conflict` rules out next to this constraint, whatever the kwargs."""
    candidates = [(i, "hard") for i in pool.hard] + [(i, "soft") for i in pool.soft]
    return frozenset(i for i, k in candidates if id_conflict(constraint_id, kind, i, k))


def sample_leaves(
    n: int, pool: ConstraintPool, rng: random.Random, given: tuple[ConstraintNode, ...] = ()
) -> list[ConstraintNode]:
    """`n` constraints with freshly sampled kwargs that break no compatibility rule with one another.

    Ids that clash with a chosen one are never drawn (same distribution as rejecting them, without the
    wasted draws); only the kwargs-dependent rules (5-7) reject a drawn constraint. `given` leaves come first
    and every new leaf must be compatible with them; they are not checked against each other (a world's
    conflicting conditional branches)."""
    for _ in range(MAX_SET_RESTARTS):
        chosen: list[ConstraintNode] = list(given)
        bounds: list[tuple[int, int | None]] = [_word_bounds(leaf) for leaf in given]
        blocked: set[str] = set().union(*(_blocked_ids(pool, leaf.id, leaf.kind) for leaf in given))
        while len(chosen) < n:
            for _ in range(MAX_SLOT_DRAWS if not blocked.issuperset(pool.hard) else 0):
                leaf = pool.draw(rng, blocked)
                if leaf is None:  # every soft id is blocked; the next draw may be hard
                    continue
                leaf_bounds = _word_bounds(leaf)
                if all(_kwargs_conflict(leaf, other) is None for other in chosen) and (
                    _budget_conflict([*chosen, leaf], [*bounds, leaf_bounds]) is None
                ):
                    chosen.append(leaf)
                    bounds.append(leaf_bounds)
                    blocked |= _blocked_ids(pool, leaf.id, leaf.kind)
                    break
            else:
                break  # no compatible constraint for this slot: start the set again
        else:
            return chosen
    raise ValueError(
        f"could not find {n} mutually compatible constraints in {pool.describe()}; lower max_constraints or "
        f"widen the families"
    )


# ------------------------------------------------------------------------------------------ structure


@dataclass(frozen=True)
class Slot:
    """A leaf position in a tree shape; filled with a constraint later."""

    index: int


@dataclass(frozen=True)
class GroupShape:
    """A parallel or sequential node in a tree shape."""

    kind: str
    children: tuple[Any, ...]


@dataclass(frozen=True)
class ConditionalShape:
    """A conditional in a tree shape; its condition and active branch come from the input later."""

    index: int
    then: Any
    else_: Any


def _pick(rng: random.Random, weights: Mapping[str, float], exclude: tuple[str, ...] = ()) -> str:
    kinds = [k for k in ROOT_KINDS if k not in exclude and weights[k] > 0]
    if not kinds:  # every allowed kind has weight 0: fall back to a plain list
        return "parallel" if "parallel" not in exclude else "sequential"
    return rng.choices(kinds, weights=[weights[k] for k in kinds])[0]


class _ShapeBuilder:
    """Grows one tree shape with numbered `Slot` leaves and numbered conditionals, deterministically."""

    def __init__(self, rng: random.Random, mix: Mapping[str, float]) -> None:
        self.rng, self.mix = rng, mix
        self.slots = 0
        self.conditionals = 0

    def leaf(self) -> Slot:
        self.slots += 1
        return Slot(self.slots - 1)

    def grow(self, kind: str, n: int, depth: int) -> GroupShape | ConditionalShape:
        """A subtree of `kind` with exactly `n` leaves and exactly `depth` composite levels."""
        if kind == "conditional":
            return self._conditional(n, depth)
        if depth == 1:
            return GroupShape(kind, tuple(self.leaf() for _ in range(n)))
        deep, deep_n = self._deep_child(n, depth, exclude=(kind,))
        children = [deep] + [self.leaf() for _ in range(n - deep_n)]
        self.rng.shuffle(children)
        return GroupShape(kind, tuple(children))

    def _deep_child(self, n: int, depth: int, exclude: tuple[str, ...]) -> tuple[Any, int]:
        """The child that carries depth-1 levels, with between `depth` and n-1 leaves (2 for a flat conditional)."""
        kind = _pick(self.rng, self.mix, exclude=exclude)
        deep_n = 2 if kind == "conditional" and depth == 2 else self.rng.randint(depth, n - 1)
        return self.grow(kind, deep_n, depth - 1), deep_n

    def _conditional(self, n: int, depth: int) -> ConditionalShape:
        index = self.conditionals
        self.conditionals += 1
        if depth == 1:
            return ConditionalShape(index, self.leaf(), self.leaf())
        deep, deep_n = self._deep_child(n, depth, exclude=())
        rest = n - deep_n
        if rest == 1:
            other = self.leaf()
        else:
            other = self.grow(_pick(self.rng, self.mix, exclude=("conditional",) if rest != 2 else ()), rest, 1)
        branches = [deep, other]
        self.rng.shuffle(branches)
        return ConditionalShape(index, branches[0], branches[1])


@dataclass(frozen=True)
class Shape:
    """A sampled tree shape (with `Slot` leaves) and how many leaves and conditionals it has."""

    tree: GroupShape | ConditionalShape
    n_leaves: int
    n_conditionals: int


def sample_shape(config: ComposeConfig, rng: random.Random) -> Shape:
    """Draw the root kind from the mix, a depth in 1..max_depth and a constraint count, then grow the shape."""
    kind = _pick(rng, config.structure_mix)
    depth = rng.randint(1, config.max_depth)
    if kind == "conditional" and depth == 1 and config.min_constraints > 2:
        depth = 2  # a depth-1 conditional holds exactly 2 constraints (ComposeConfig checked max_depth >= 2)
    if kind == "conditional" and depth == 1:
        n = 2
    else:
        n = rng.randint(max(config.min_constraints, depth + 1), config.max_constraints)
    builder = _ShapeBuilder(rng, config.structure_mix)
    tree = builder.grow(kind, n, depth)
    return Shape(tree, builder.slots, builder.conditionals)


@dataclass(frozen=True)
class Condition:
    """A property of the input passage, phrased for the instruction, and whether the passage has it."""

    text: str
    holds: bool


def _slots(part: Slot | GroupShape | ConditionalShape) -> list[int]:
    if isinstance(part, Slot):
        return [part.index]
    children = (part.then, part.else_) if isinstance(part, ConditionalShape) else part.children
    return [index for child in children for index in _slots(child)]


def branch_slots(shape: Shape) -> list[tuple[int, int]] | None:
    """For each conditional (by its index), one slot of its `then` and one of its `else` branch, no slot used
    twice (inner conditionals choose first); None when a branch has no slot left (a conditional as a branch)."""
    claimed: dict[int, tuple[int, int]] = {}
    used: set[int] = set()

    def visit(part: Slot | GroupShape | ConditionalShape) -> bool:
        if isinstance(part, Slot):
            return True
        children = (part.then, part.else_) if isinstance(part, ConditionalShape) else part.children
        if not all(visit(child) for child in children):
            return False
        if isinstance(part, ConditionalShape):
            free = [[i for i in _slots(branch) if i not in used] for branch in (part.then, part.else_)]
            if not all(free):
                return False
            claimed[part.index] = (free[0][0], free[1][0])
            used.update(claimed[part.index])
        return True

    if not visit(shape.tree):
        return None
    return [claimed[index] for index in range(shape.n_conditionals)]


def fill_shape(shape: Shape, leaves: list[ConstraintNode], conditions: list[Condition]) -> Node:
    """The tree of `shape` with its slots replaced by `leaves` and its conditionals by `conditions`."""
    if len(leaves) != shape.n_leaves or len(conditions) != shape.n_conditionals:
        raise ValueError(
            f"shape needs {shape.n_leaves} leaves and {shape.n_conditionals} conditions, "
            f"got {len(leaves)} and {len(conditions)}"
        )

    def build(part: Slot | GroupShape | ConditionalShape) -> Node:
        if isinstance(part, Slot):
            return leaves[part.index]
        if isinstance(part, ConditionalShape):
            condition = conditions[part.index]
            active = "then" if condition.holds else "else"
            return ConditionalNode(condition.text, active, build(part.then), build(part.else_))
        children = tuple(build(child) for child in part.children)
        return ParallelNode(children) if part.kind == "parallel" else SequentialNode(children)

    return build(shape.tree)
