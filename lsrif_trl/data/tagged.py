"""Text that remembers which part of it is what: a string plus runs of (category, length) covering it.

The renderer builds prompts from these so it can say, for every character, whether it belongs to a logical
connector, a constraint, an action verb, the task or passage, or nothing in particular ("other"). Plain strings
joined in count as "other". `spans()` gives the character ranges of each category, as stored in the dataset.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

OTHER = "other"


@dataclass(frozen=True)
class Tagged:
    """`text` with `runs`: consecutive (category, length) pairs whose lengths sum to len(text)."""

    text: str = ""
    runs: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, text: str, category: str = OTHER) -> Tagged:
        """All of `text` in one category."""
        return cls(text, ((category, len(text)),) if text else ())

    def __add__(self, other: Tagged | str) -> Tagged:
        other = other if isinstance(other, Tagged) else Tagged.of(other)
        runs = list(self.runs)
        for category, length in other.runs:
            if runs and runs[-1][0] == category:
                runs[-1] = (category, runs[-1][1] + length)
            else:
                runs.append((category, length))
        return Tagged(self.text + other.text, tuple(runs))

    def __radd__(self, other: str) -> Tagged:
        return Tagged.of(other) + self

    def slice(self, start: int, stop: int) -> Tagged:
        """Characters start..stop with their categories."""
        runs, position = [], 0
        for category, length in self.runs:
            low, high = max(start, position), min(stop, position + length)
            if high > low:
                runs.append((category, high - low))
            position += length
        return Tagged(self.text[start:stop], tuple(runs))

    def retext(self, text: str) -> Tagged:
        """`text` made from this one by a function that strips whitespace, may change letter case and cut or add
        characters at the end (`as_clause`, `as_sentence`): kept characters keep their category, added ones are
        "other"."""
        lead = len(self.text) - len(self.text.lstrip())
        kept = min(len(text), len(self.text.strip()))
        return Tagged(text[:kept], self.slice(lead, lead + kept).runs) + text[kept:]

    def spans(self, offset: int = 0) -> dict[str, list[list[int]]]:
        """{category: [[start, end], ...]} (end exclusive, shifted by `offset`), "other" left out."""
        found: dict[str, list[list[int]]] = {}
        position = offset
        for category, length in self.runs:
            if category != OTHER:
                found.setdefault(category, []).append([position, position + length])
            position += length
        return found


def join(separator: str, items: Iterable[Tagged]) -> Tagged:
    """`separator.join` for tagged pieces (the separator is "other")."""
    result = Tagged()
    for i, item in enumerate(items):
        result = result + item if i == 0 else result + separator + item
    return result


def fill(layout: str, fields: Mapping[str, Tagged | str], literals: str = OTHER) -> Tagged:
    """`layout.format(**fields)` for plain `{name}` fields, keeping each field's categories; the layout's own
    text gets category `literals`."""
    result = Tagged()
    for literal, name, _, _ in string.Formatter().parse(layout):
        result = result + Tagged.of(literal, literals)
        if name is not None:
            result = result + fields[name]
    return result
