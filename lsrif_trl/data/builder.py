"""Build LSRInstruct-style training data: seed task + sampled constraint tree + rendered prompt, per row.

Example i of a build with seed s draws everything from `random.Random("lsrif-builder|s|i")`, so a build is a
pure function of its arguments (same seed, same bytes) and examples can be made in any order or process.
"""

from __future__ import annotations

import json
import multiprocessing
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from datasets import Dataset, Features, List, Value
from tqdm.auto import tqdm

from lsrif_trl.data.compose import (
    ComposeConfig,
    Condition,
    Shape,
    branch_slots,
    fill_shape,
    sample_leaves,
    sample_shape,
)
from lsrif_trl.data.constraint_pool import ConstraintPool, constraint_family, load_all_constraints
from lsrif_trl.data.curriculum import decompose
from lsrif_trl.data.render import RenderedPrompt, render_prompt
from lsrif_trl.data.seeds import PASSAGE_CONDITIONS, SeedTask, load_seed_tasks, passage_properties
from lsrif_trl.data.worlds import World, get_world
from lsrif_trl.structure import ConstraintNode, Node, depth, leaves, parse_structure, structure_type, to_json

FEATURES = Features(
    {
        "id": Value("string"),
        "prompt": List({"role": Value("string"), "content": Value("string")}),
        "structure": Value("string"),
        "structure_type": Value("string"),
        "depth": Value("int32"),
        "level": Value("int32"),
        "n_constraints": Value("int32"),
        "source": Value("string"),
        "families": List(Value("string")),
        "spans": Value("string"),
    }
)
# Below this many examples, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 4000
SHAPE_OPTIONS = ("min_constraints", "max_constraints", "max_depth", "structure_mix")  # what a world may preset


@dataclass(frozen=True)
class BuiltExample:
    """One row with what produced its prompt (the task and the rendering a rewriter may reword).

    Only plain values, so worker processes send examples back cheaply; `tree` is re-read from the row."""

    row: dict[str, Any]
    task: str
    rendered: RenderedPrompt
    render_seed: int

    @property
    def tree(self) -> Node:
        """The row's logic tree."""
        return parse_structure(self.row["structure"])


class _ConditionIndex:
    """For each condition (of `names`, default all), the passage-bearing seed tasks where it holds and where not."""

    def __init__(self, tasks: list[SeedTask], names: tuple[str, ...] | None = None) -> None:
        self.properties: dict[int, dict[str, bool]] = {}
        by_condition: dict[str, tuple[list[int], list[int]]] = {}
        for i, task in enumerate(tasks):
            if not task.passage:
                continue
            props = {
                PASSAGE_CONDITIONS[name]: holds
                for name, holds in passage_properties(task.passage).items()
                if names is None or name in names
            }
            self.properties[i] = props
            for text, holds in props.items():
                by_condition.setdefault(text, ([], []))[0 if holds else 1].append(i)
        # Only conditions seen both true and false can give either branch on demand.
        self.usable = {text: pair for text, pair in sorted(by_condition.items()) if pair[0] and pair[1]}
        self.conditions = tuple(self.usable)

    def draw(self, count: int, rng: random.Random) -> tuple[int, list[Condition]]:
        """A passage task and `count` conditions on it; the first one's truth value is a fair coin."""
        first = rng.choice(self.conditions)
        holds = rng.random() < 0.5
        task_index = rng.choice(self.usable[first][0 if holds else 1])
        props = self.properties[task_index]
        others = [text for text in sorted(props) if text != first]
        rng.shuffle(others)
        while len(others) < count - 1:  # more conditionals than properties: conditions repeat
            others.append(rng.choice(sorted(props)))
        texts = [first, *others[: count - 1]]
        return task_index, [Condition(text, props[text]) for text in texts]


class ExampleFactory:
    """Everything a build needs once (config, constraint pool, seed tasks); makes example i on demand.

    With a `world`, its seed tasks, constraints (with its kwargs), conditions and conflicting branch pairs
    replace `seed_source`, `config.families` and `config.soft_share`."""

    def __init__(
        self,
        config: ComposeConfig,
        seed: int,
        seed_source: str = "builtin",
        seed_split: str = "train",
        curriculum: bool = False,
        seed_passage_column: str | None = None,
        world: World | None = None,
    ) -> None:
        self.config, self.seed, self.curriculum, self.world = config, seed, curriculum, world
        if world is None:
            self.pool = ConstraintPool.from_families(config.families, config.soft_share)
            self.tasks = load_seed_tasks(seed_source, split=seed_split, passage_column=seed_passage_column)
            self.conditions = _ConditionIndex(self.tasks)
        else:
            load_all_constraints()
            self.pool = ConstraintPool(world.constraint_ids, (), kwargs_source=world.sample_kwargs)
            self.tasks = load_seed_tasks(world.seed_source, split=seed_split, eval_fraction=world.eval_fraction)
            self.conditions = _ConditionIndex(self.tasks, world.conditions)
        if config.structure_mix["conditional"] > 0 and not self.conditions.conditions:
            raise ValueError(
                f"seed tasks {seed_source} ({seed_split}) have no passages whose properties vary, so no "
                f"conditional can be built; set conditional=0 in the structure mix"
            )

    def examples(self, index: int) -> list[BuiltExample]:
        """Example `index` (or its curriculum series I_1..I_k when `curriculum` is set)."""
        rng = random.Random(f"lsrif-builder|{self.seed}|{index}")
        shape = sample_shape(self.config, rng)
        while self.world is not None and branch_slots(shape) is None:  # a world needs a slot per branch pair
            shape = sample_shape(self.config, rng)
        conditions: list[Condition] = []
        if shape.n_conditionals:
            task_index, conditions = self.conditions.draw(shape.n_conditionals, rng)
        else:
            task_index = rng.randrange(len(self.tasks))
        task = self.tasks[task_index]
        tree = fill_shape(shape, self._leaves(shape, rng), conditions)
        render_seed = rng.randrange(2**31)
        base_id = f"lsrif-{self.seed}-{index:07d}"
        trees = decompose(tree) if self.curriculum else [tree]
        built = []
        for level_tree in trees:
            n = len(leaves(level_tree))
            row_id = f"{base_id}-L{n}" if self.curriculum else base_id
            rendered = render_prompt(level_tree, task.task, task.passage, render_seed)
            row = make_row(row_id, level_tree, rendered, task.id)
            built.append(BuiltExample(row, task.task, rendered, render_seed))
        return built

    def _leaves(self, shape: Shape, rng: random.Random) -> list[ConstraintNode]:
        """The shape's leaves in slot order; in a world, each conditional's branches open with a conflicting pair."""
        if self.world is None or not shape.n_conditionals:
            return sample_leaves(shape.n_leaves, self.pool, rng)
        pairs = self.world.draw_branch_pairs(shape.n_conditionals, rng)
        drawn = sample_leaves(shape.n_leaves, self.pool, rng, given=tuple(leaf for pair in pairs for leaf in pair))
        slots = [slot for pair_slots in branch_slots(shape) or () for slot in pair_slots]
        placed = dict(zip(slots, drawn, strict=False))
        rest = iter(drawn[len(placed) :])
        return [placed[index] if index in placed else next(rest) for index in range(shape.n_leaves)]


def make_row(row_id: str, tree: Node, rendered: RenderedPrompt, seed_id: str) -> dict[str, Any]:
    """The dataset row for one tree and its rendered prompt."""
    tree_leaves = leaves(tree)
    return {
        "id": row_id,
        "prompt": [{"role": "user", "content": rendered.text}],
        "structure": to_json(tree),
        "structure_type": structure_type(tree),
        "depth": depth(tree),
        "level": len(tree_leaves),
        "n_constraints": len(tree_leaves),
        "source": f"lsrif-builder:{seed_id}",
        "families": sorted({constraint_family(leaf.id) for leaf in tree_leaves}),
        "spans": _spans_json(rendered),
    }


def _spans_json(rendered: RenderedPrompt) -> str | None:
    """The `spans` column: {category: [[start, end], ...]} over the user message, or None if unknown."""
    spans = rendered.spans()
    return None if spans is None else json.dumps(spans, separators=(",", ":"))


# Worker processes get the factory once (through the pool initializer), not once per task.
_WORKER_FACTORY: ExampleFactory | None = None


def _init_worker(factory: ExampleFactory) -> None:
    global _WORKER_FACTORY
    _WORKER_FACTORY = factory


def _worker_examples(index: int) -> list[BuiltExample]:
    assert _WORKER_FACTORY is not None
    return _WORKER_FACTORY.examples(index)


def iter_examples(
    factory: ExampleFactory, num_examples: int, num_proc: int = 1, progress: bool = False
) -> Iterator[BuiltExample]:
    """Examples 0..num_examples-1 in order (worker processes keep the order), with an optional progress bar."""
    bar = tqdm(total=num_examples, desc="building", unit="ex", disable=not progress)
    if num_proc <= 1 or num_examples < PARALLEL_THRESHOLD:
        for index in range(num_examples):
            yield from factory.examples(index)
            bar.update()
    else:
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
        with context.Pool(num_proc, initializer=_init_worker, initargs=(factory,)) as workers:
            for batch in workers.imap(_worker_examples, range(num_examples), chunksize=256):
                yield from batch
                bar.update()
    bar.close()


def rows_to_dataset(rows: list[dict[str, Any]]) -> Dataset:
    """One Arrow table from the row dicts, with the fixed schema (`FEATURES`)."""
    columns = {name: [row[name] for row in rows] for name in FEATURES}
    # Straight to Arrow: `Dataset.from_dict` would re-encode every value through `Features` first (10x slower).
    return Dataset(pa.Table.from_pydict(columns, schema=FEATURES.arrow_schema))


def shape_options(world: str | None = None, **given: Any) -> dict[str, Any]:
    """The tree-size options of a build (`SHAPE_OPTIONS`): those given (not None), else the world's, else the
    composer's defaults."""
    unknown = sorted(set(given) - set(SHAPE_OPTIONS))
    if unknown:
        raise ValueError(f"unknown shape option {unknown[0]!r}; expected {list(SHAPE_OPTIONS)}")
    preset = dict(get_world(world).build_defaults) if world else {}
    fields = ComposeConfig.__dataclass_fields__
    defaults = {name: fields[name].default for name in SHAPE_OPTIONS if name != "structure_mix"}
    defaults["structure_mix"] = fields["structure_mix"].default_factory()
    return {
        name: given[name] if given.get(name) is not None else preset.get(name, defaults[name])
        for name in SHAPE_OPTIONS
    }


def build_examples(
    num_examples: int,
    seed: int = 0,
    *,
    max_depth: int | None = None,
    structure_mix: Mapping[str, float] | None = None,
    families: tuple[str, ...] | list[str] | None = None,
    min_constraints: int | None = None,
    max_constraints: int | None = None,
    soft_share: float = 0.0,
    seed_source: str = "builtin",
    seed_split: str = "train",
    seed_passage_column: str | None = None,
    curriculum: bool = False,
    world: str | None = None,
    num_proc: int = 1,
    progress: bool = False,
) -> list[BuiltExample]:
    """The examples of a build (rows plus trees and renderings), for callers that post-process prompts.

    Unset tree-size options come from the `world` (`data.worlds`), else the composer's defaults (2-8 constraints,
    depth 1, `DEFAULT_STRUCTURE_MIX`). A world sets the seed tasks and constraints itself."""
    if num_examples < 1:
        raise ValueError(f"num_examples={num_examples}: must be >= 1")
    if world is not None and (families or soft_share or seed_source != "builtin" or seed_passage_column):
        raise ValueError(
            f"world {world!r} sets its own seed tasks and constraints; drop families, soft_share, seed_source and "
            "seed_passage_column (or drop the world)"
        )
    shape = shape_options(
        world,
        min_constraints=min_constraints,
        max_constraints=max_constraints,
        max_depth=max_depth,
        structure_mix=structure_mix,
    )
    config = ComposeConfig(**shape, families=tuple(families) if families else None, soft_share=soft_share)
    factory = ExampleFactory(
        config,
        seed,
        seed_source=seed_source,
        seed_split=seed_split,
        curriculum=curriculum,
        seed_passage_column=seed_passage_column,
        world=get_world(world) if world else None,
    )
    return list(iter_examples(factory, num_examples, num_proc=num_proc, progress=progress))


def build_dataset(num_examples: int, seed: int = 0, **options: Any) -> Dataset:
    """`num_examples` instructions (times their levels with `curriculum=True`) as a `datasets.Dataset`.

    Options are those of `build_examples`: max_depth, structure_mix, families, min_constraints,
    max_constraints, soft_share, seed_source (see `data.seeds.load_seed_tasks`), seed_split, seed_passage_column,
    curriculum, world (see `data.worlds`), num_proc, progress."""
    return rows_to_dataset([example.row for example in build_examples(num_examples, seed, **options)])
