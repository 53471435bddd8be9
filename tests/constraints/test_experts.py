"""Every constraint's expert: `satisfy` passes the constraint's own strict verifier, `violate` fails it (hypothesis)."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsrif_trl.constraints import constraint_ids, follows_strict, get_constraint, rewriting
from lsrif_trl.constraints.base import NoExpert
from lsrif_trl.constraints.ifeval.common import SAMPLE_WORDS
from lsrif_trl.constraints.ifeval.lexical import _END_PHRASES
from lsrif_trl.constraints.training_words import _FIRST_WORDS, _KEYWORDS, _LAST_WORDS, _PHRASES

EXPERT_IDS = [cid for cid in constraint_ids() if get_constraint(cid).has_expert]
VIOLATION_IDS = [cid for cid in EXPERT_IDS if get_constraint(cid).has_violation]
EXAMPLES_PER_CONSTRAINT = 100  # x every constraint with an expert: thousands of kwargs and base texts in all

_VOCABULARY = sorted(rewriting.FILLER_WORDS | {"garden", "river", "anchor", "step", "by", "Today", "indeed"})
_sentence = st.builds(
    lambda words, comma, end: (" ".join(words).capitalize() + end).replace(" ", ", ", 1 if comma else 0),
    st.lists(st.sampled_from(_VOCABULARY), min_size=1, max_size=12),
    st.booleans(),
    st.sampled_from([".", ".", "!", "?"]),
)
_paragraph = st.lists(_sentence, min_size=1, max_size=5).map(" ".join)
BASE_TEXTS = st.one_of(
    st.lists(_paragraph, min_size=1, max_size=4).map("\n\n".join),
    st.just(""),
    st.sampled_from(["...", "  \n ", "Hello"]),
)
SEEDS = st.integers(0, 2**32 - 1)
SETTINGS = settings(max_examples=EXAMPLES_PER_CONSTRAINT, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _kwargs(constraint, seed: int) -> dict:
    return constraint.validate(constraint.sample_kwargs(random.Random(seed)))


@pytest.mark.parametrize("constraint_id", EXPERT_IDS)
@SETTINGS
@given(base=BASE_TEXTS, seed=SEEDS)
def test_satisfy_passes_the_strict_verifier(constraint_id, base, seed):
    constraint = get_constraint(constraint_id)
    kwargs = _kwargs(constraint, seed)
    answer = constraint.satisfy(base, kwargs, random.Random(seed))
    assert follows_strict(answer, constraint_id, kwargs), (kwargs, base, answer)


@pytest.mark.parametrize("constraint_id", VIOLATION_IDS)
@SETTINGS
@given(base=BASE_TEXTS, seed=SEEDS)
def test_violate_fails_the_strict_verifier(constraint_id, base, seed):
    constraint = get_constraint(constraint_id)
    kwargs = _kwargs(constraint, seed)
    rng = random.Random(seed)
    satisfied = constraint.satisfy(base, kwargs, rng)
    violated = constraint.violate(satisfied, kwargs, rng)
    assert not follows_strict(violated, constraint_id, kwargs), (kwargs, satisfied, violated)


@pytest.mark.parametrize("constraint_id", constraint_ids())
def test_every_constraint_has_an_expert_or_says_why_not(constraint_id):
    constraint = get_constraint(constraint_id)
    assert constraint.has_expert != bool(constraint.no_expert), constraint_id
    if not constraint.has_expert:
        with pytest.raises(NoExpert, match=constraint_id):
            constraint.satisfy("Some text.", {}, random.Random(0))


def test_the_expert_is_deterministic_given_the_seed():
    for constraint_id in EXPERT_IDS:
        constraint = get_constraint(constraint_id)
        kwargs = _kwargs(constraint, 7)
        first = constraint.satisfy("We like plans. They need tools.", kwargs, random.Random(3))
        assert first == constraint.satisfy("We like plans. They need tools.", kwargs, random.Random(3))


def test_filler_never_holds_a_sampled_word_or_phrase():
    """Filler text must not add a keyword (matched as a substring by IFEval), a phrase, a first or last word."""
    sampled = {w.lower() for w in (*SAMPLE_WORDS, *_KEYWORDS, *_FIRST_WORDS, *_LAST_WORDS)}
    text = " ".join(rewriting.filler_sentence(random.Random(seed)) for seed in range(500)).lower()
    assert not [w for w in sampled if w in text]
    assert not [p for p in _PHRASES if p in text]
    assert not [p for p in _END_PHRASES if p.lower() in text]
