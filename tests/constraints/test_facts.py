"""The facts composition reads are declared on every constraint class, and the one registry holds every leaf spec."""

import random

import pytest

from lsrif_trl.constraints import constraint_ids, facts, get_constraint
from lsrif_trl.constraints.base import Constraint
from lsrif_trl.constraints.registry import get_spec, is_hard
from lsrif_trl.constraints.soft import get_soft, soft_ids


def _declared_below_constraint(cls: type, name: str) -> bool:
    return any(name in klass.__dict__ for klass in cls.__mro__ if klass is not Constraint)


@pytest.mark.parametrize("constraint_id", constraint_ids())
def test_every_constraint_declares_what_it_fixes_with_known_aspects(constraint_id):
    constraint = get_constraint(constraint_id)
    assert _declared_below_constraint(type(constraint), "fixes"), f"{constraint_id} declares no `fixes`"
    assert constraint.fixes <= set(facts.ASPECTS)


@pytest.mark.parametrize("constraint_id", constraint_ids())
def test_every_text_kwarg_is_declared_as_required_or_forbidden_words(constraint_id):
    """A string kwarg without fixed choices holds words the answer must contain or avoid: the composer must know."""
    constraint = get_constraint(constraint_id)
    texts = {p.name for p in constraint.params if p.type in (str, list) and p.choices is None}
    declared = set(constraint.word_params) | set(constraint.forbidden_params)
    assert texts == declared, constraint_id


@pytest.mark.parametrize("constraint_id", constraint_ids())
def test_word_bounds_are_a_need_and_an_optional_limit(constraint_id):
    constraint = get_constraint(constraint_id)
    for seed in range(20):
        need, limit = constraint.word_bounds(constraint.validate(constraint.sample_kwargs(random.Random(seed))))
        assert need >= 0 and (limit is None or limit >= 0)


def test_required_and_forbidden_words_come_lower_cased_from_the_declared_kwargs():
    existence = get_constraint("keywords:existence")
    assert existence.required_words({"keywords": ["Garden", "river"]}) == ["garden", "river"]
    assert existence.forbidden_words({"keywords": ["garden"]}) == []
    forbidden = get_constraint("keywords:forbidden_words")
    assert forbidden.forbidden_words({"forbidden_words": ["Winter"]}) == ["winter"]


def test_one_registry_holds_hard_and_soft_specs():
    assert is_hard(get_spec("punctuation:no_comma")) and not is_hard(get_spec("soft:tone"))
    assert get_soft("soft:tone") is get_spec("soft:tone")
    assert not set(soft_ids()) & set(constraint_ids())
    with pytest.raises(ValueError, match='is a soft constraint; mark the leaf "kind": "soft"'):
        get_constraint("soft:tone")
    with pytest.raises(ValueError, match="unknown soft constraint"):
        get_soft("punctuation:no_comma")
