"""Builder presets ("worlds"): the seed tasks, constraints, kwargs, conditions and tree sizes of a whole build.

`toy` is a world small enough for a model of a few million parameters to learn on a CPU in minutes, with every
structure type of the full builder:
- seed tasks: 144 one-line scenes (`resources/toy_seed_tasks.jsonl`) with an eight-word task; 20% held out;
- constraints: 12 the policy can satisfy from the prompt's text alone (letter case, a keyword, first and last
  word, a fixed closing phrase, quotes, a title, a postscript, 2-3 bullets, one sentence or at least two, no
  commas), with kwargs drawn from a few words each, so prompts stay near 90 tokens and answers near 25;
- conditionals key on what the passage shows on its face (a digit, a question mark), and their two branches
  always conflict (lowercase / capitals, include / avoid a word, two closing phrases, two first words): an
  answer can satisfy only one of them, so only a policy that reads the condition can satisfy the active one;
- trees of 2-3 constraints, nesting to depth 2, parallel / sequential / conditional roots in equal shares.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lsrif_trl.structure import ConstraintNode

# Small vocabularies: each constraint's kwargs come from a handful of words the model sees again and again.
TOY_KEYWORDS = ("sun", "rain", "moon", "snow", "wind", "gold")
TOY_FIRST_WORDS = ("Today", "Yes", "Well", "Once")
TOY_LAST_WORDS = ("again", "now", "home", "too")
TOY_END_PHRASES = ("The end.", "That is all.", "Bye for now.")

# Per constraint id: how the toy world draws its kwargs (the constraint's own validation still applies).
_TOY_KWARGS: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "change_case:english_lowercase": lambda rng: {},
    "change_case:english_capital": lambda rng: {},
    "keywords:existence": lambda rng: {"keywords": [rng.choice(TOY_KEYWORDS)]},
    "words:first_word": lambda rng: {"first_word": rng.choice(TOY_FIRST_WORDS)},
    "words:last_word": lambda rng: {"last_word": rng.choice(TOY_LAST_WORDS)},
    "startend:end_checker": lambda rng: {"end_phrase": rng.choice(TOY_END_PHRASES)},
    "startend:quotation": lambda rng: {},
    "detectable_format:title": lambda rng: {},
    "detectable_content:postscript": lambda rng: {"postscript_marker": "P.S."},
    "detectable_format:number_bullet_lists": lambda rng: {"num_bullets": rng.randint(2, 3)},
    "length_constraints:number_sentences": lambda rng: {
        "num_sentences": 2,
        "relation": rng.choice(("less than", "at least")),
    },
    "punctuation:no_comma": lambda rng: {},
}


def _case_pair(rng: random.Random) -> tuple[ConstraintNode, ConstraintNode]:
    return (
        ConstraintNode(id="change_case:english_lowercase", kind="hard", kwargs={}),
        ConstraintNode(id="change_case:english_capital", kind="hard", kwargs={}),
    )


def _keyword_pair(rng: random.Random) -> tuple[ConstraintNode, ConstraintNode]:
    word = rng.choice(TOY_KEYWORDS)
    return (
        ConstraintNode(id="keywords:existence", kind="hard", kwargs={"keywords": [word]}),
        ConstraintNode(id="keywords:forbidden_words", kind="hard", kwargs={"forbidden_words": [word]}),
    )


def _two_of(constraint_id: str, kwarg: str, values: tuple[str, ...]) -> Callable[[random.Random], tuple]:
    def pair(rng: random.Random) -> tuple[ConstraintNode, ConstraintNode]:
        a, b = rng.sample(values, 2)
        return (
            ConstraintNode(id=constraint_id, kind="hard", kwargs={kwarg: a}),
            ConstraintNode(id=constraint_id, kind="hard", kwargs={kwarg: b}),
        )

    return pair


# Conflicting branch pairs, by name: no answer satisfies both members of a pair.
_TOY_BRANCH_PAIRS: dict[str, Callable[[random.Random], tuple[ConstraintNode, ConstraintNode]]] = {
    "case": _case_pair,
    "keyword": _keyword_pair,
    "end_phrase": _two_of("startend:end_checker", "end_phrase", TOY_END_PHRASES),
    "first_word": _two_of("words:first_word", "first_word", TOY_FIRST_WORDS),
}


@dataclass(frozen=True, eq=False)
class World:
    """A builder preset: where tasks come from, which constraints and kwargs, which conditions, what trees."""

    name: str
    seed_source: str
    eval_fraction: float
    kwargs_samplers: Mapping[str, Callable[[random.Random], dict[str, Any]]]
    conditions: tuple[str, ...]  # names in `data.seeds.PASSAGE_CONDITIONS` a conditional may key on
    branch_pairs: Mapping[str, Callable[[random.Random], tuple[ConstraintNode, ConstraintNode]]]
    build_defaults: Mapping[str, Any] = field(default_factory=dict)  # build_examples options the world sets

    @property
    def constraint_ids(self) -> tuple[str, ...]:
        """The hard constraints the world draws free-standing leaves from (sorted)."""
        return tuple(sorted(self.kwargs_samplers))

    def sample_kwargs(self, constraint_id: str, rng: random.Random) -> dict[str, Any]:
        """Kwargs for one of the world's constraints, from its small vocabulary."""
        return self.kwargs_samplers[constraint_id](rng)

    def draw_branch_pairs(self, count: int, rng: random.Random) -> list[tuple[ConstraintNode, ConstraintNode]]:
        """`count` conflicting (then, else) pairs of different kinds (so pairs never clash with each other),
        each in a random order; ValueError when the tree has more conditionals than the world has kinds."""
        if count > len(self.branch_pairs):
            raise ValueError(
                f"world {self.name!r}: {count} conditionals but only {len(self.branch_pairs)} kinds of conflicting "
                "branch pairs; lower max_depth or max_constraints"
            )
        pairs = []
        for name in rng.sample(sorted(self.branch_pairs), count):
            first, second = self.branch_pairs[name](rng)
            pairs.append((first, second) if rng.random() < 0.5 else (second, first))
        return pairs


TOY = World(
    name="toy",
    seed_source="toy",
    eval_fraction=0.2,
    kwargs_samplers=_TOY_KWARGS,
    conditions=("mentions_number", "has_question"),
    branch_pairs=_TOY_BRANCH_PAIRS,
    build_defaults={
        "min_constraints": 2,
        "max_constraints": 3,
        "max_depth": 2,
        "structure_mix": {"parallel": 1.0, "sequential": 1.0, "conditional": 1.0},
    },
)
WORLDS: dict[str, World] = {TOY.name: TOY}


def get_world(name: str) -> World:
    """The world registered under `name`; ValueError listing the known ones."""
    try:
        return WORLDS[name]
    except KeyError:
        raise ValueError(f"unknown world {name!r}; known worlds: {sorted(WORLDS)}") from None
