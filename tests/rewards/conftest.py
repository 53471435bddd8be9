"""Test-only constraints with obvious checks, so reward tests read as arithmetic (ids start with `test:`).

They are registered only for the tests that ask for the `test_constraints` fixture and removed afterwards, so
no other test (or the data builder running inside the same worker) ever sees them in the registry.
"""

import random

import pytest

from lsrif_trl.constraints import registry
from lsrif_trl.constraints.base import Constraint, Param


class _NoComma(Constraint):
    id = "test:no_comma"
    family = "test"
    phrasings = ("Do not use commas.",)

    def check(self, response, kwargs):
        return "," not in response

    def sample_kwargs(self, rng: random.Random):
        return {}


class _MinWords(Constraint):
    id = "test:min_words"
    family = "test"
    params = (Param("num_words", int, minimum=1),)
    phrasings = ("Use at least {num_words} words.",)

    def check(self, response, kwargs):
        return len(response.split()) >= kwargs["num_words"]

    def sample_kwargs(self, rng: random.Random):
        return {"num_words": rng.randint(1, 5)}


class _BuggyVerifier(Constraint):
    """A verifier that raises on any input, standing in for a bug in a real one."""

    id = "test:raises"
    family = "test"
    phrasings = ("Anything.",)

    def check(self, response, kwargs):
        raise RuntimeError("verifier bug")

    def sample_kwargs(self, rng: random.Random):
        return {}


@pytest.fixture
def test_constraints(monkeypatch):
    """Register the `test:` constraints for one test."""
    for cls in (_NoComma, _MinWords, _BuggyVerifier):
        monkeypatch.setitem(registry._SPECS, cls.id, cls())
