"""What every atomic constraint is: an id, a kwargs schema, phrasings that render it, a check and an expert.

One object writes the instruction text, verifies a response against it and (its expert) rewrites a text to
satisfy or violate it, so the data builder, the reward and the demonstrations never disagree about what a
constraint means.
"""

from __future__ import annotations

import random
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from lsrif_trl.constraints import facts, rewriting


class NoExpert(NotImplementedError):
    """A constraint whose expert cannot write a satisfying (or violating) text; the message says why."""


class KwargError(ValueError):
    """Kwargs that do not fit a constraint's schema; `field` names the offending kwarg, so callers can point at it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


MAX_TEXT_CHARS = 2000  # a str kwarg, or one item of a list kwarg (IFEval's longest, prompt_to_repeat, has 318)
MAX_LIST_ITEMS = 32  # items of a list kwarg (IFEval's longest keyword list has 5)
MAX_REGEX_CHARS = 100  # a kwarg the reference compiles as a regex (IFEval's longest has 13 characters)
REGEX_SYNTAX = re.compile(r"[\\^$*+?{}\[\]()|]")  # what a regex kwarg may not hold; `.` stays (IFEval's "P.S.")


@dataclass(frozen=True)
class Param:
    """One keyword argument of a constraint: its name, type and allowed values.

    Every int or float kwarg has a `maximum`, so no row can make a check allocate or loop without bound. A `regex`
    kwarg is one the reference compiles as a regular expression: it may hold literal text and `.` only (no
    quantifier, group, class, alternation, anchor or escape), so its search is linear in the response for a
    pattern of at most MAX_REGEX_CHARS; IFEval's own kwargs all fit, and the regex they form is unchanged."""

    name: str
    type: type  # int, float, str or list (a list of `item_type`)
    required: bool = True
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    item_type: type = str
    regex: bool = False

    def validate(self, constraint_id: str, value: Any) -> Any:
        """Return `value` normalised to this param's type, or raise a KwargError naming id and field."""
        where = f"{constraint_id}: kwarg {self.name!r}"
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if self.type is int and isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON round trips and IFBench store some counts as floats
        if isinstance(value, bool) or not isinstance(value, self.type):
            raise KwargError(
                f"{where}: expected {self.type.__name__}, got {type(value).__name__} {value!r}", self.name
            )
        if self.type is list:
            bad = [v for v in value if not isinstance(v, self.item_type)]
            if bad or not value:
                raise KwargError(
                    f"{where}: expected a non-empty list of {self.item_type.__name__}, got {value!r}", self.name
                )
        if self.choices is not None and value not in self.choices:
            raise KwargError(f"{where}: expected one of {list(self.choices)}, got {value!r}", self.name)
        if self.type is float and value != value:
            raise KwargError(f"{where}: expected a number, got NaN", self.name)
        if self.minimum is not None and value < self.minimum:
            raise KwargError(f"{where}: expected a value >= {self.minimum}, got {value!r}", self.name)
        if self.maximum is not None and value > self.maximum:
            raise KwargError(f"{where}: expected a value <= {self.maximum:g} (the limit), got {value!r}", self.name)
        if self.type is list and len(value) > MAX_LIST_ITEMS:
            raise KwargError(f"{where}: {len(value)} items, more than the limit of {MAX_LIST_ITEMS}", self.name)
        for text in value if self.type is list else (value,):
            if isinstance(text, str):
                self._check_text(where, text)
        return value

    def _check_text(self, where: str, text: str) -> None:
        limit = MAX_REGEX_CHARS if self.regex else MAX_TEXT_CHARS
        if len(text) > limit:
            raise KwargError(f"{where}: {len(text)} characters, more than the limit of {limit}", self.name)
        syntax = REGEX_SYNTAX.search(text) if self.regex else None
        if syntax:
            raise KwargError(
                f"{where}: {text!r:.60} uses regular-expression syntax ({syntax.group()!r}); this kwarg is matched as "
                "a regex, so only literal text and `.` are accepted (the limit that keeps its search linear)",
                self.name,
            )


class Constraint(ABC):
    """An atomic, verifiable instruction. Subclasses set the class attributes and implement the methods."""

    id: ClassVar[str]
    family: ClassVar[str]  # e.g. "ifeval:length_constraints" or "format"; used to split train and eval sets
    params: ClassVar[tuple[Param, ...]] = ()
    phrasings: ClassVar[tuple[str, ...]]  # str.format templates over `render_fields(kwargs)`
    conflicts_with: ClassVar[frozenset[str]] = frozenset()  # ids that cannot be asked together with this one
    # Facts composition reads (constraints.facts): aspects fixed, kwargs holding required / forbidden words.
    fixes: ClassVar[frozenset[str]]
    word_params: ClassVar[tuple[str, ...]] = ()
    forbidden_params: ClassVar[tuple[str, ...]] = ()
    forbidden_characters: ClassVar[str] = ""  # characters the answer may not hold anywhere (e.g. "," or "!")
    expert_phase: ClassVar[int] = rewriting.CONTENT  # when the tree expert applies `satisfy` (rewriting phases)
    no_expert: ClassVar[str | None] = None  # why `satisfy` cannot exist for this constraint, if it cannot

    def validate(self, kwargs: dict[str, Any] | None) -> dict[str, Any]:
        """Return kwargs checked against the schema; `None` values count as absent (IFEval's Hub copy pads)."""
        given = {k: v for k, v in (kwargs or {}).items() if v is not None}
        known = {p.name for p in self.params}
        unknown = sorted(set(given) - known)
        if unknown:
            raise KwargError(
                f"{self.id}: unknown kwarg {unknown[0]!r}; expected only {sorted(known) or 'no kwargs'}", unknown[0]
            )
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name in given:
                out[p.name] = p.validate(self.id, given[p.name])
            elif p.required:
                raise KwargError(f"{self.id}: missing kwarg {p.name!r} ({p.type.__name__})", p.name)
        return out

    def render_fields(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Values the phrasings may use; override to add derived words (e.g. 'fewer than' for a relation)."""
        return dict(kwargs)

    def render(self, kwargs: dict[str, Any], seed: int = 0) -> str:
        """Phrase the constraint as instruction text; the seed picks one of the phrasings deterministically."""
        template = self.phrasings[random.Random(f"{self.id}|{seed}").randrange(len(self.phrasings))]
        return template.format(**self.render_fields(kwargs))

    @abstractmethod
    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        """Whether `response` follows the constraint (no strict/loose handling here); never raises on a str."""

    def word_bounds(self, kwargs: dict[str, Any]) -> tuple[int, int | None]:
        """(words an answer needs at least, words it may have at most or None), for the composer's word budget."""
        return facts.NO_WORD_BOUNDS

    def required_words(self, kwargs: dict[str, Any]) -> list[str]:
        """The words and phrases (lower case) the answer must contain, from the `word_params` kwargs."""
        return _strings(kwargs, self.word_params)

    def forbidden_words(self, kwargs: dict[str, Any]) -> list[str]:
        """The words (lower case) the answer must not contain, from the `forbidden_params` kwargs."""
        return _strings(kwargs, self.forbidden_params)

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        """`text` rewritten (changing as little as it can) so that `check` passes with these validated kwargs."""
        raise NoExpert(f"{self.id} has no expert: {self.no_expert}")

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        """`text` rewritten so that the strict check fails (the constraint's usual mistake)."""
        raise NoExpert(f"{self.id} has no violating expert: {self.no_expert or 'any text it fails is unnatural'}")

    @property
    def has_expert(self) -> bool:
        """Whether this constraint's expert can satisfy it."""
        return type(self).satisfy is not Constraint.satisfy

    @property
    def has_violation(self) -> bool:
        """Whether this constraint's expert can also write a text that fails it."""
        return type(self).violate is not Constraint.violate

    @abstractmethod
    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        """Draw valid kwargs for the data builder."""


def _strings(kwargs: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    """The lower-cased strings of the named kwargs (list kwargs flattened)."""
    values = [kwargs[name] for name in names if name in kwargs]
    flat = [v for value in values for v in (value if isinstance(value, list) else [value])]
    return [v.lower() for v in flat if isinstance(v, str)]
