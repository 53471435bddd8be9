"""The fast punkt tokenizer splits every text exactly as NLTK's own tokenizer on the same parameters; its memory clears."""

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.tokenize.punkt import PunktSentenceTokenizer

from lsrif_trl.constraints import language, nltk_resources
from lsrif_trl.constraints.punkt_fast import FastPunktTokenizer, remembered_decision
from lsrif_trl.constraints.scoring import clear_caches


@pytest.fixture(scope="module")
def tokenizers():
    params = nltk_resources.packaged_punkt_parameters()
    return FastPunktTokenizer(params), PunktSentenceTokenizer(params)


_PIECES = [
    "The", "cat", "sat", "Dr.", "Mr.", "U.S.", "e.g.", "etc.", "No.", "J.", "R.R.", "Tolkien", "3.14", "1.",
    "end.", "Why?", "stop!", "wow!!!", "...", "(see", "above.)", '"Quoted."', "'single.'", "[note.]", "--",
    "*bold*", "# Title", "- item.", "1)", "i.e.", "Jan.", "Inc.", "ok", "\n", "\n\n", "\t", "\r\n", "\x0b",
    "\x0c", "  ", "Ünïcödé.", "日本語。", "a.b.c.", "?!", ".)", '."', "Sept.", "vs.",
]  # fmt: skip
_PROSE = st.lists(st.sampled_from(_PIECES), max_size=60).map(" ".join)
_JOINED = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)  # no spaces: odd contexts
_ADVERSARIAL = st.text(alphabet=st.sampled_from(list(". ?!\"')]}\n\tAa1" + string.whitespace)), max_size=200)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_PROSE, _JOINED, _ADVERSARIAL, st.text(max_size=300)))
def test_sentences_equal_nltk_punkt(tokenizers, sample):
    fast, reference = tokenizers
    assert fast.tokenize(sample) == reference.tokenize(sample)
    assert list(fast.span_tokenize(sample)) == list(reference.span_tokenize(sample))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab. \u00a0\u2003" + string.whitespace)), max_size=40))
def test_last_whitespace_index_equals_punkts_backward_scan(tokenizers, sample):
    fast, reference = tokenizers
    assert fast._get_last_whitespace_index(sample) == PunktSentenceTokenizer._get_last_whitespace_index(
        reference, sample
    )


def test_remembered_decisions_and_long_contexts_give_the_same_sentences(tokenizers):
    fast, reference = tokenizers
    texts = [
        "It rained. The end. It rained. The end!",
        "Dr. Who met Mr. Smith. Dr. Who left.",
        "x" * 300 + ". Next sentence here. " + "y" * 300 + "? Done.",  # contexts longer than the cache takes
    ]
    for sample in texts * 2:  # the second round reads remembered decisions
        assert fast.tokenize(sample) == reference.tokenize(sample)


def test_the_shared_analyses_use_the_fast_tokenizer():
    assert isinstance(nltk_resources.punkt_tokenizer(), FastPunktTokenizer)


def test_clearing_the_scoring_caches_forgets_remembered_decisions_and_word_rows(tokenizers):
    fast, _ = tokenizers
    fast.tokenize("It rained. The end.")
    language.detect("Some words to remember.")
    assert remembered_decision.cache_info().currsize > 0 and language._ROWS_BEFORE_SPACE
    clear_caches()
    assert remembered_decision.cache_info().currsize == 0 and not language._ROWS_BEFORE_SPACE
