"""Atomic constraints: a registry of verifiable instructions that render themselves and check responses.

Importing this package registers every constraint (the 25 IFEval instructions under their official ids,
and the IF-RLVR-style training constraints of the `train:*` families).
"""

from lsrif_trl.constraints import (  # noqa: F401  (importing registers the IFEval, training and soft constraints)
    ifeval,
    soft,
    training_counts,
    training_format,
    training_words,
)
from lsrif_trl.constraints.base import Constraint, Param
from lsrif_trl.constraints.registry import constraint_ids, families, get_constraint, register
from lsrif_trl.constraints.scoring import follows_both, follows_loose, follows_strict, response_variants

__all__ = [
    "Constraint",
    "Param",
    "constraint_ids",
    "families",
    "follows_both",
    "follows_loose",
    "follows_strict",
    "get_constraint",
    "register",
    "response_variants",
]
