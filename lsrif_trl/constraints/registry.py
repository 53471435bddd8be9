"""The one registry of leaf specs: hard constraints (a class each) and soft ones (catalogue entries), by id.

A hard spec is a `Constraint` instance (it checks a response); a soft spec is a `constraints.soft.SoftConstraint`
(a judge scores it). Lookups fail with an error that suggests the fix.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from lsrif_trl.constraints.base import Constraint

if TYPE_CHECKING:
    from lsrif_trl.constraints.soft import SoftConstraint

_SPECS: dict[str, Constraint | SoftConstraint] = {}


def _add(spec: Constraint | SoftConstraint) -> None:
    if spec.id in _SPECS:
        raise ValueError(f"constraint id {spec.id!r} is registered twice")
    _SPECS[spec.id] = spec


def register(cls: type[Constraint]) -> type[Constraint]:
    """Class decorator: add one instance of the hard constraint `cls` under `cls.id`."""
    _add(cls())
    return cls


def register_soft(spec: SoftConstraint) -> SoftConstraint:
    """Add a soft constraint under its id."""
    _add(spec)
    return spec


def get_spec(constraint_id: str) -> Constraint | SoftConstraint:
    """The hard or soft spec registered under `constraint_id`; a ValueError with close matches otherwise."""
    try:
        return _SPECS[constraint_id]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(constraint_id), _SPECS, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `lsrif constraints` lists them"
        raise ValueError(f"unknown constraint id {constraint_id!r}{hint}") from None


def is_hard(spec: Constraint | SoftConstraint) -> bool:
    """Whether a spec is a hard constraint (checked by code) rather than a soft one (scored by a judge)."""
    return isinstance(spec, Constraint)


def get_constraint(constraint_id: str) -> Constraint:
    """The hard constraint registered under `constraint_id`; a ValueError naming the fix otherwise."""
    spec = get_spec(constraint_id)
    if not is_hard(spec):
        raise ValueError(f'{constraint_id!r} is a soft constraint; mark the leaf "kind": "soft" and give its `text`')
    return spec


def constraint_ids(families: set[str] | None = None) -> list[str]:
    """All hard constraint ids (sorted), optionally only those of the given families."""
    return sorted(cid for cid, c in _SPECS.items() if is_hard(c) and (families is None or c.family in families))


def registered_soft_ids() -> list[str]:
    """All soft constraint ids, sorted."""
    return sorted(cid for cid, spec in _SPECS.items() if not is_hard(spec))


def families() -> list[str]:
    """All hard constraint families present in the registry."""
    return sorted({c.family for c in _SPECS.values() if is_hard(c)})
