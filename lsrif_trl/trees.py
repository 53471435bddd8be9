"""One reader of a dataset's logic trees: each distinct tree parsed once per process, with the facts consumers read.

`source_of` (behind `tree_source(row)`) is the one place that decides between a row's `structure` column and its
flat IFEval columns (`instruction_id_list` + `kwargs`); `read_tree(source)` parses a source once per process (GRPO repeats every
prompt num_generations times, and validation, the recipe's checks and the rewards read the same rows); and
`read_trees(rows)` reads a whole dataset into its distinct trees, the row -> tree index and each bad row's error.
Validation, the recipe's checks, the reward functions, `lsrif score` and LSR-Eval all read trees through here.
Every error is a `StructureError` whose message starts with the field (`structure: children[0].id: ...`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from lsrif_trl.structure import (
    ConstraintNode,
    Node,
    StructureError,
    depth,
    leaves,
    parse_ifeval_row,
    parse_structure,
    structure_type,
)

STRUCTURE = "structure"
IFEVAL = "instruction_id_list/kwargs"
TREE_COLUMNS = ("structure", "instruction_id_list", "kwargs")  # the only columns a tree is read from
CACHE_SIZE = 65536  # distinct trees kept per process (an LSRInstruct-sized set has about 38.5k)


class TreeSource(NamedTuple):
    """Where a row's tree comes from: the column kind and its canonical JSON text (the cache key)."""

    column: str  # STRUCTURE or IFEVAL
    text: str


@dataclass(frozen=True, eq=False)
class TreeFacts:
    """A parsed tree and the facts every consumer reads, computed once per distinct tree."""

    tree: Node
    type: str  # one of structure.STRUCTURE_TYPES
    depth: int
    leaves: tuple[ConstraintNode, ...]  # every leaf in document order, both branches of conditionals included
    soft_ids: tuple[str, ...]  # ids of the soft leaves, in document order
    families: tuple[str, ...]  # sorted distinct constraint families of the leaves


def tree_source(row: Mapping[str, Any]) -> TreeSource:
    """The source of a row's tree: its `structure` when set, else its IFEval columns; StructureError if neither."""
    return source_of(row.get("structure"), row.get("instruction_id_list"), row.get("kwargs"))


def source_of(structure: Any, instruction_id_list: Any = None, kwargs: Any = None) -> TreeSource:
    """`tree_source` of one row's column values (the one place that decides between the two forms)."""
    if isinstance(structure, str):
        return TreeSource(STRUCTURE, structure)
    if structure is not None:
        return TreeSource(STRUCTURE, _canonical(STRUCTURE, structure))
    if instruction_id_list is not None:
        return TreeSource(IFEVAL, _canonical(IFEVAL, [instruction_id_list, kwargs]))
    raise StructureError(
        "structure: no `structure` column and no `instruction_id_list`/`kwargs` columns; add one of them"
    )


def _canonical(column: str, value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError) as err:
        raise StructureError(f"{column}: not JSON-serialisable ({type(err).__name__}: {err})") from None


@functools.lru_cache(maxsize=CACHE_SIZE)
def read_tree(source: TreeSource) -> TreeFacts:
    """The parsed tree of `source` with its facts; StructureError whose message starts with the field."""
    if source.column == STRUCTURE:
        try:
            tree = parse_structure(source.text)
        except StructureError as err:  # a path inside the tree, or already the column (text that is not JSON)
            message = str(err)
            raise StructureError(message if message.startswith("structure: ") else f"structure: {message}") from None
    else:
        ids, kwargs = json.loads(source.text)
        tree = parse_ifeval_row(ids, kwargs)  # its errors already start with the column
    tree_leaves = tuple(leaves(tree))
    return TreeFacts(
        tree=tree,
        type=structure_type(tree),
        depth=depth(tree),
        leaves=tree_leaves,
        soft_ids=tuple(leaf.id for leaf in tree_leaves if leaf.kind == "soft"),
        families=tuple(sorted({_family(leaf) for leaf in tree_leaves})),
    )


def _family(leaf: ConstraintNode) -> str:
    return leaf.constraint.family if leaf.constraint is not None else "unregistered"


def row_tree(row: Mapping[str, Any]) -> TreeFacts:
    """The tree of one row (a dataset row, or a line of `lsrif score`'s input)."""
    return read_tree(tree_source(row))


@dataclass(frozen=True)
class DatasetTrees:
    """A dataset's trees: the distinct ones, which one each row has, and the error of each row that has none."""

    trees: tuple[TreeFacts, ...]
    row_tree: tuple[int | None, ...]  # row -> index into `trees`; None for a row in `errors`
    errors: dict[int, str] = field(default_factory=dict)  # row -> its StructureError message (field first)

    def facts(self, row: int) -> TreeFacts | None:
        """The facts of row `row`'s tree, or None when it did not parse."""
        index = self.row_tree[row]
        return None if index is None else self.trees[index]

    def first_soft_leaf(self) -> tuple[int, str] | None:
        """(row, constraint id) of the first soft leaf, or None when every leaf is hard."""
        for row, index in enumerate(self.row_tree):
            if index is not None and self.trees[index].soft_ids:
                return row, self.trees[index].soft_ids[0]
        return None


class TreeReader:
    """Reads rows one at a time (so validation reads each row in one pass) into a DatasetTrees."""

    def __init__(self) -> None:
        self._index: dict[TreeSource, int] = {}
        self._trees: list[TreeFacts] = []
        self._row_tree: list[int | None] = []
        self._errors: dict[int, str] = {}

    def add(self, row: Mapping[str, Any]) -> TreeFacts | None:
        """Read the next row's tree; None (its error recorded) when it does not parse."""
        try:
            source = tree_source(row)
            if source not in self._index:
                self._index[source] = len(self._trees)
                self._trees.append(read_tree(source))
        except StructureError as err:
            self._errors[len(self._row_tree)] = str(err)
            self._row_tree.append(None)
            return None
        self._row_tree.append(self._index[source])
        return self._trees[self._index[source]]

    @property
    def last_error(self) -> str | None:
        """The error of the row read last, or None when it parsed."""
        return self._errors.get(len(self._row_tree) - 1)

    def result(self) -> DatasetTrees:
        """What was read so far."""
        return DatasetTrees(tuple(self._trees), tuple(self._row_tree), dict(self._errors))


def read_trees(rows: Iterable[Mapping[str, Any]]) -> DatasetTrees:
    """Every row's tree, each distinct tree parsed once."""
    reader = TreeReader()
    for row in rows:
        reader.add(row)
    return reader.result()


def tree_rows(dataset: Any, batch_size: int = 1024) -> Iterator[dict[str, Any]]:
    """The tree columns of each row of a `datasets.Dataset`, read a batch of columns at a time."""
    names = [c for c in TREE_COLUMNS if c in dataset.column_names]
    if not names:
        return
    for batch in dataset.select_columns(names).iter(batch_size=batch_size):
        for values in zip(*(batch[name] for name in names), strict=True):
            yield dict(zip(names, values, strict=True))


def batch_trees(batch_size: int, columns: Mapping[str, Any]) -> list[TreeFacts]:
    """The tree of every row of a reward-function batch (TRL passes the dataset's columns as lists)."""
    names = [c for c in TREE_COLUMNS if columns.get(c) is not None]
    if "structure" not in names and "instruction_id_list" not in names:
        passed = sorted(k for k in columns if k not in ("trainer_state", "log_metric", "log_extra"))
        raise ValueError(
            "structured rewards need a `structure` column or the IFEval columns `instruction_id_list` + `kwargs`; "
            f"the dataset passed only {passed}"
        )
    for name in names:
        if len(columns[name]) != batch_size:
            raise ValueError(f"{name}: {len(columns[name])} values for {batch_size} completions")
    none = [None] * batch_size
    values = zip(*(columns[name] if name in names else none for name in TREE_COLUMNS), strict=True)
    out: list[TreeFacts] = []
    last: tuple[Any, TreeFacts] | None = None  # GRPO puts the num_generations copies of a prompt side by side
    for i, (structure, ids, kwargs) in enumerate(values):
        if last is not None and isinstance(structure, str) and structure == last[0]:
            out.append(last[1])
            continue
        try:
            facts = read_tree(source_of(structure, ids, kwargs))
        except StructureError as err:
            raise StructureError(f"batch item {i}: {err}") from None
        out.append(facts)
        last = (structure, facts)
    return out
