"""Shared text analyses: the cheap bounds hold, early-exit counting agrees with full counting."""

import nltk
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.tokenize import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktSentenceTokenizer

from lsrif_trl.constraints import nltk_resources, text

_PUNKT = PunktSentenceTokenizer(nltk_resources.packaged_punkt_parameters())


def nltk_word_tokenize(sample: str) -> list[str]:
    """`nltk_word_tokenize(sample)` as NLTK defines it (treebank tokens of each English punkt sentence)."""
    return [token for sentence in _PUNKT.tokenize(sample) for token in NLTKWordTokenizer().tokenize(sentence)]


_PROSE = st.lists(
    st.sampled_from(
        ["The", "CAT", "sat.", "Dr.", "U.S.", "CAN'T", "stop!", "Why?", "ok", "NASA's", "\n", "--", '"HI"']
    ),
    max_size=40,
).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(st.one_of(_PROSE, st.text(max_size=120)), st.integers(0, 12))
def test_bounds_hold_and_early_exit_counting_matches_the_full_count(sample, threshold):
    sentences = text.sentence_count(sample)
    assert sentences is not None and sentences <= text.sentence_count_bound(sample)
    capitals = text.capital_word_count(sample)
    assert capitals == sum(token.isupper() for token in nltk_word_tokenize(sample))
    assert capitals <= sum(map(str.isupper, sample))
    assert text.has_capital_words(sample, threshold) == (capitals >= threshold)


_CASE_TRAPS = [
    "CANNOT", "CanNOT", "GIMme", "GONNA", "gOTTA", "LEMME", "WANNA", "MORE'N", "D'YE", "'TIS", "'TWAS", "'tIS",
    "DON'T", "DOn't", "CAN'T", "WON'T", "N'T", "I", "A.", "U.S.A.", "P.S.", "iPhone", "McDONALD", "NASA's",
    "(HI)", '"OK"', "HELLO,WORLD", "ǅem", "ǄEM", "ſ", "CANNOTſ", "'TIſ", "\u212aELVIN", "İSTANBUL", "ß", "ẞIG",
    "ΣΑΣ", "Ⓐ", "ⒶCANNOT", "ⓐ", "Ⅻ", "x_Y", "_A_", "3D", "A1", "--", "...", "\n", "!", "?", "'", "`", "’",
]  # fmt: skip
_CASED_TEXT = st.one_of(
    st.lists(st.sampled_from(_CASE_TRAPS + ["The", "cat", "sat."]), max_size=30).map(" ".join),
    st.lists(st.sampled_from(_CASE_TRAPS), max_size=12).map("".join),  # traps glued to each other
    st.text(alphabet=st.sampled_from(list("AaBNnOoTtIiSs' .!?\"-Ⓐǅſ")), max_size=60),
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_CASED_TEXT, _PROSE, st.text(max_size=120)), st.integers(0, 12))
def test_capital_word_bound_is_never_below_nltks_count(sample, threshold):
    capitals = sum(token.isupper() for token in nltk_word_tokenize(sample))
    bound = text.capital_word_bound(sample)
    assert bound is None or capitals <= bound
    assert text.has_capital_words(sample, threshold) == (capitals >= threshold)


def test_capital_word_bound_counts_capital_words_and_the_pieces_contractions_cut():
    assert text.capital_word_bound("The river is Long.") == 0  # capitals followed by lower case never count
    assert text.capital_word_bound("HELLO big WORLD, I say") == 3
    assert text.capital_word_bound("DOn't GIMme that") == 2  # DO | n't and GIM | me can be cut apart
    assert text.capital_word_bound("Ⓐ circled capital") is None  # a cased character outside \w: no cheap bound


def test_counts_use_nltk_like_the_reference():
    sample = "Dr. Smith went to Washington. He said HELLO to the U.S. team! Did they REPLY?"
    assert text.sentence_count(sample) == 3
    assert text.word_count(sample) == len(nltk.tokenize.RegexpTokenizer(r"\w+").tokenize(sample))
    assert text.capital_word_count(sample) == 3  # HELLO, U.S, REPLY
