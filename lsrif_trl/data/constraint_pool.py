"""The constraints a build may draw from: registered ids filtered by family and kind, sampled with fresh kwargs."""

from __future__ import annotations

import functools
import importlib
import pkgutil
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import lsrif_trl.constraints
from lsrif_trl.constraints.registry import constraint_ids, families, get_constraint, get_spec
from lsrif_trl.constraints.soft import SOFT_FAMILY, get_soft, soft_ids
from lsrif_trl.structure import ConstraintNode


@functools.cache
def load_all_constraints() -> None:
    """Import every module under `lsrif_trl.constraints`, so each registers its constraints once."""
    for module in pkgutil.walk_packages(lsrif_trl.constraints.__path__, "lsrif_trl.constraints."):
        importlib.import_module(module.name)


def constraint_family(constraint_id: str) -> str:
    """The family of a registered hard or soft constraint; "unregistered" for an unknown id."""
    try:
        return get_spec(constraint_id).family
    except ValueError:
        return "unregistered"


def family_matches(family: str, selectors: tuple[str, ...]) -> bool:
    """A selector names a family exactly (`ifeval:keywords`) or every family under a prefix (`ifeval`)."""
    return any(family == s or family.startswith(f"{s}:") for s in selectors)


@dataclass(frozen=True)
class ConstraintPool:
    """Hard (registry) and soft (`constraints.soft` catalogue) ids to draw from, and the share of soft leaves.

    `kwargs_source(id, rng)` replaces the constraints' own kwargs samplers (a world's small vocabulary)."""

    hard: tuple[str, ...]
    soft: tuple[str, ...]
    soft_share: float = 0.0
    kwargs_source: Callable[[str, random.Random], dict[str, Any]] | None = None

    @classmethod
    def from_families(cls, selectors: tuple[str, ...] | None, soft_share: float = 0.0) -> ConstraintPool:
        """Registered constraints of the selected families (all when None); ValueError if no hard one matches.

        Soft leaves come from every soft constraint, whichever families are selected (soft ones have no
        verifier to hold out), and only when `soft_share` > 0."""
        load_all_constraints()
        known = [*families(), SOFT_FAMILY]
        if selectors is not None:
            unused = [s for s in selectors if not any(family_matches(f, (s,)) for f in known)]
            if unused:
                raise ValueError(f"unknown constraint family {unused[0]!r}; registered families: {known}")
        chosen = {f for f in families() if selectors is None or family_matches(f, selectors)}
        hard = tuple(constraint_ids(chosen))
        if not hard:
            raise ValueError(f"no hard constraints in families {selectors}; registered families: {known}")
        return cls(hard, tuple(soft_ids()) if soft_share > 0 else (), soft_share)

    def describe(self) -> str:
        """A short summary for error messages."""
        return f"a pool of {len(self.hard)} hard and {len(self.soft)} soft constraints"

    def draw(self, rng: random.Random, blocked: Collection[str] = ()) -> ConstraintNode | None:
        """One leaf: soft with probability `soft_share`, the id uniform among its kind's ids not in `blocked`,
        kwargs freshly sampled; None when every id of the drawn kind is blocked."""
        use_soft = bool(self.soft) and rng.random() < self.soft_share
        open_ids = [i for i in (self.soft if use_soft else self.hard) if i not in blocked]
        if not open_ids:
            return None
        if use_soft:
            soft = get_soft(rng.choice(open_ids))
            return ConstraintNode(id=soft.id, kind="soft", text=rng.choice(soft.texts))
        constraint_id = rng.choice(open_ids)
        constraint = get_constraint(constraint_id)
        kwargs = self.kwargs_source(constraint_id, rng) if self.kwargs_source else constraint.sample_kwargs(rng)
        return ConstraintNode(id=constraint_id, kind="hard", kwargs=constraint.validate(kwargs))
