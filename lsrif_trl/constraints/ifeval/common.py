"""What the IFEval constraints share: the official ids and conflicts, comparison relations, pattern compilation.

The facts (ids, conflicts, languages, thresholds) follow google-research `instruction_following_eval`.
"""

from __future__ import annotations

import functools
import random
import re
from typing import Any, ClassVar

from lsrif_trl.constraints.base import Constraint, Param

IFEVAL_IDS = (
    "change_case:capital_word_frequency",
    "change_case:english_capital",
    "change_case:english_lowercase",
    "combination:repeat_prompt",
    "combination:two_responses",
    "detectable_content:number_placeholders",
    "detectable_content:postscript",
    "detectable_format:constrained_response",
    "detectable_format:json_format",
    "detectable_format:multiple_sections",
    "detectable_format:number_bullet_lists",
    "detectable_format:number_highlighted_sections",
    "detectable_format:title",
    "keywords:existence",
    "keywords:forbidden_words",
    "keywords:frequency",
    "keywords:letter_frequency",
    "language:response_language",
    "length_constraints:nth_paragraph_first_word",
    "length_constraints:number_paragraphs",
    "length_constraints:number_sentences",
    "length_constraints:number_words",
    "punctuation:no_comma",
    "startend:end_checker",
    "startend:quotation",
)


def _all_but(*kept: str) -> set[str]:
    return set(IFEVAL_IDS) - set(kept)


# Pairs IFEval never asks together (one direction is enough; `_symmetric` adds the other and the id itself).
_DECLARED_CONFLICTS: dict[str, set[str]] = {
    "language:response_language": {
        "detectable_format:multiple_sections",
        "keywords:existence",
        "keywords:frequency",
        "keywords:forbidden_words",
        "startend:end_checker",
        "change_case:english_capital",
        "change_case:english_lowercase",
    },
    "length_constraints:number_paragraphs": {
        "length_constraints:nth_paragraph_first_word",
        "length_constraints:number_sentences",
    },
    "detectable_format:constrained_response": set(IFEVAL_IDS),
    "detectable_format:multiple_sections": {"detectable_format:number_highlighted_sections"},
    "detectable_format:json_format": _all_but("keywords:forbidden_words", "keywords:existence"),
    "combination:two_responses": _all_but(
        "keywords:forbidden_words",
        "keywords:existence",
        "language:response_language",
        "detectable_format:title",
        "punctuation:no_comma",
    ),
    "combination:repeat_prompt": _all_but("keywords:existence", "detectable_format:title", "punctuation:no_comma"),
    "change_case:capital_word_frequency": {"change_case:english_lowercase", "change_case:english_capital"},
    "change_case:english_lowercase": {"change_case:english_capital"},
    "startend:quotation": {"detectable_format:title"},
}


def _symmetric(declared: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    """Every id conflicts with itself, and a conflict in one direction holds in both."""
    table = {cid: {cid} for cid in IFEVAL_IDS}
    for cid, others in declared.items():
        for other in others:
            table[cid].add(other)
            table[other].add(cid)
    return {cid: frozenset(others) for cid, others in table.items()}


CONFLICTS = _symmetric(_DECLARED_CONFLICTS)

LESS_THAN, AT_LEAST = "less than", "at least"
RELATIONS = (LESS_THAN, AT_LEAST)
_RELATION_WORDS = {LESS_THAN: "fewer than", AT_LEAST: "at least"}

# The languages IFEval asks for (ISO 639-1 code -> English name).
LANGUAGE_NAMES = {
    "en": "English", "es": "Spanish", "pt": "Portuguese", "ar": "Arabic", "hi": "Hindi", "fr": "French",
    "ru": "Russian", "de": "German", "ja": "Japanese", "it": "Italian", "bn": "Bengali", "uk": "Ukrainian",
    "th": "Thai", "ur": "Urdu", "ta": "Tamil", "te": "Telugu", "bg": "Bulgarian", "ko": "Korean", "pl": "Polish",
    "he": "Hebrew", "fa": "Persian", "vi": "Vietnamese", "ne": "Nepali", "sw": "Swahili", "kn": "Kannada",
    "mr": "Marathi", "gu": "Gujarati", "pa": "Punjabi", "ml": "Malayalam", "fi": "Finnish",
}  # fmt: skip

# Everyday nouns the data builder draws keywords and first words from (the project's own list).
SAMPLE_WORDS = (
    "garden", "river", "window", "market", "engine", "letter", "mountain", "kitchen", "signal", "harbor",
    "lantern", "meadow", "journey", "archive", "bridge", "canvas", "compass", "harvest", "island", "ladder",
    "library", "machine", "mirror", "orchard", "palace", "pencil", "planet", "puzzle", "rocket", "saddle",
    "season", "shadow", "silver", "station", "theory", "ticket", "timber", "tunnel", "valley", "village",
    "voyage", "weather", "whistle", "winter", "wisdom", "balance", "battery", "blanket", "camera", "candle",
    "circuit", "climate", "coffee", "council", "crystal", "dolphin", "factory", "feather", "forest", "history",
)  # fmt: skip


def relation_param(name: str = "relation") -> Param:
    """The `less than` / `at least` comparison kwarg."""
    return Param(name, str, choices=RELATIONS)


def flipped(relation: str) -> str:
    """The other relation (what a violating expert aims for)."""
    return AT_LEAST if relation == LESS_THAN else LESS_THAN


def compare(count: int, relation: str, threshold: int) -> bool:
    """IFEval's comparison: `less than` is `<`, `at least` is `>=`."""
    return count < threshold if relation == LESS_THAN else count >= threshold


@functools.lru_cache(maxsize=4096)
def user_pattern(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Compile a kwarg the reference uses as a regex; one that is not a valid regex is matched literally."""
    try:
        return re.compile(pattern, flags)
    except re.error:
        return re.compile(re.escape(pattern), flags)


class IFEvalConstraint(Constraint):
    """An IFEval instruction: family and conflicts follow from the official id."""

    relation_fields: ClassVar[tuple[str, ...]] = ()  # relation kwargs that phrasings show as words

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "id" not in cls.__dict__:  # an intermediate base shared by several constraints
            return
        cls.family = "ifeval:" + cls.id.split(":", 1)[0]
        cls.conflicts_with = CONFLICTS[cls.id]

    def render_fields(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Kwargs plus `<name>_words` for relations ("fewer than" / "at least") and quoted list fields."""
        fields = dict(kwargs)
        for name in self.relation_fields:
            fields[f"{name}_words"] = _RELATION_WORDS[kwargs[name]]
        for name, value in kwargs.items():
            if isinstance(value, list):
                fields[name] = ", ".join(f'"{item}"' for item in value)
        return fields


def sample_relation(rng: random.Random) -> str:
    """A uniformly drawn relation."""
    return rng.choice(RELATIONS)
