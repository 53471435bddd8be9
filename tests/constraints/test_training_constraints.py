"""The training constraints (train:* families): each checks what its text asks, with IFEval's interface."""

import functools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nltk.tokenize.punkt import PunktSentenceTokenizer

from lsrif_trl.constraints import constraint_ids, get_constraint, nltk_resources
from lsrif_trl.constraints.ifeval.common import IFEVAL_IDS, SAMPLE_WORDS
from lsrif_trl.constraints.text import word_count
from lsrif_trl.constraints.training_common import WHOLE_RESPONSE, normalise, paragraphs, same_word, words
from lsrif_trl.constraints.training_words import _SENTENCE_END_PUNCTUATION

TRAINING_IDS = [cid for cid in constraint_ids() if get_constraint(cid).family.startswith("train:")]

TABLE = "| City | Sights |\n|---|:---:|\n| Rome | many |\n| Oslo | some |"

# id -> (kwargs, responses that follow it, responses that do not)
CASES = {
    "count:words_per_paragraph": (
        {"relation": "at most", "num_words": 5},
        ["One two three.\n\nFour five six seven eight."],
        ["One two three.\n\nFour five six seven eight nine.", "   "],
    ),
    "count:sentences_per_paragraph": (
        {"num_sentences": 2},
        ["It rains. We stay in.\n\n  \nThe sun returns. We go out."],
        ["It rains. We stay in.\n\nThe sun returns.", ""],
    ),
    "count:paragraphs": (
        {"num_paragraphs": 3},
        ["First part.\n\nSecond part.\n \nThird part.\n"],
        ["First part.\nStill first.\n\nSecond part.", "A.\n\nB.\n\nC.\n\nD."],
    ),
    "count:letters": (
        {"relation": "at least", "num_letters": 10},
        ["Élan vital, naïve."],
        ["12345 67890 ab", "Élan vital!"],
    ),
    "count:unique_word_ratio": (
        {"min_percent": 75},
        ["The cat sat on a mat."],
        ["The the THE cat.", ""],
    ),
    "count:words_per_sentence": (
        {"max_words": 4},
        ["I like tea. You like coffee too."],
        ["I like tea. You really like strong coffee."],
    ),
    "count:numerals": (
        {"relation": "at least", "num_numerals": 3},
        ["In 2023 we sold 1,200 bikes at 3.5 euros each."],
        ["We sold 1,200.5 bikes in twenty twenty-three."],
    ),
    "count:questions": (
        {"num_questions": 2},
        ["Why now?? Who knows. Why not?"],
        ["Why now? Who knows.", "Why? How? When?"],
    ),
    "punctuation:no_period": ({}, ["No full stops here, only commas!"], ["One sentence."]),
    "punctuation:no_exclamation": ({}, ["Calm words."], ["Wow!"]),
    "punctuation:end_with_question": ({}, ["Shall we begin?  \n"], ["Is it? Yes.", "Done"]),
    "punctuation:semicolons": ({"min_semicolons": 2}, ["One; two; three."], ["One; two."]),
    "words:first_word": (
        {"first_word": "Today"},
        ['"today, we sail."', "TODAY is the day."],
        ["Todays are long.", "We sail today.", ""],
    ),
    "words:last_word": (
        {"last_word": "home"},
        ["We finally came HOME!", "Back home.\n"],
        ["Home is far away.", "homes"],
    ),
    "words:first_word_each_sentence": (
        {"first_word": "We"},
        ["We sail at dawn. We return at dusk! we rest."],
        ["We sail at dawn. They return at dusk."],
    ),
    "words:last_word_each_sentence": (
        {"last_word": "now"},
        ["Come here now. Eat your dinner now!"],
        ["Come here now. Eat your dinner later."],
    ),
    "words:start_end_same": (
        {},
        ["Rain falls on the roof, and I listen to the rain."],
        ["Rain falls.", "Rain"],
    ),
    "words:max_word_length": (
        {"max_letters": 6},
        ["Keep it short and plain."],
        ["Keep it short and wonderful."],
    ),
    "words:no_adjacent_repeat": ({}, ["It is what it is."], ["It was very Very cold.", "That that is."]),
    "words:no_alphabet_neighbours": ({}, ["Cats like fish."], ["A big cat.", "Red quilts."]),
    "words:palindrome": (
        {"min_length": 5},
        ["We paddled a Kayak all afternoon."],
        ["We saw a noon sky.", "Numbers 12321 do not count."],
    ),
    "keywords:word_once": (
        {"keyword": "river"},
        ["The River was calm; riverside trees swayed."],
        ["No water here.", "river, river."],
    ),
    "keywords:pair_frequency": (
        {"keyword1": "bridge", "keyword2": "river"},
        ["The bridge spans the river. The river is wide."],
        ["The bridge spans the river.", "The bridge and bridge over river and river."],
    ),
    "keywords:specific_position": (
        {"keyword": "garden", "sentence_number": 2, "word_number": 3},
        ["It is spring. In the garden, tulips bloom."],
        ["It is spring. In a big garden, tulips bloom.", "It is spring."],
    ),
    "keywords:in_every_paragraph": (
        {"keyword": "winter"},
        ["Winter came early.\n\nWe loved the winter light."],
        ["Winter came early.\n\nWe loved the light."],
    ),
    "repeat:phrase_times": (
        {"phrase": "step by step", "times": 2},
        ["Step by step we climbed; step  by\nstep we won."],
        ["Step by step we climbed.", "step by steps and step by step"],
    ),
    "repeat:first_sentence_at_end": (
        {},
        ["Home is where we start. We travel far. home is where  we start!"],
        ["Home is where we start. We travel far.", "Home is where we start."],
    ),
    "format:bracket_every_sentence": (
        {},
        ["[The sun rose.] [Birds sang loudly!]\n[We woke up.]"],
        ["[The sun rose.] Birds sang.", "[The sun rose. Birds sang.]", "[]"],
    ),
    "format:bigram_brackets": (
        {},
        ["<<I am>> <<at home>> <<today.>>", "<<I am>> <<here>>"],
        ["<<I am at>> <<home>>", "<<I am>> home", "<<I>> <<am here>>"],
    ),
    "format:hyphen_lines": (
        {},
        ["- The sun rose.\n- Birds sang loudly!\n"],
        ["- The sun rose. Birds sang.\n- We woke.", "- Only one line.", "Intro.\n- The sun rose.\n- Birds sang."],
    ),
    "format:numbered_list": (
        {"num_items": 3},
        ["Steps:\n1. Boil water.\n2) Add tea.\n  3. Wait."],
        ["1. Boil water.\n2. Add tea.", "1. Boil.\n3. Add.\n2. Wait.", "1. A\n2. B\n3. C\n4. D"],
    ),
    "format:bracketed_title": (
        {},
        ["[[A Day at Sea]]\nWe sailed at dawn."],
        ["A Day at Sea\nWe sailed.", "[[A Day at Sea]]", "[[ ]]\nWe sailed."],
    ),
    "format:qa_pairs": (
        {"num_pairs": 2},
        ["Q: Is it open?\nA: Yes.\n\nQ: When?\nA: At nine,\nevery day."],
        ["Q: Is it open?\nA: Yes.", "Q: Is it open?\nQ: When?\nA: Yes.\nA: Nine.", "Q: Open?\nA:\nQ: When?\nA: Nine."],
    ),
    "format:markdown_table": (
        {"num_rows": 2, "num_columns": 2},
        ["Here you go:\n\n" + TABLE + "\n\nEnjoy."],
        [TABLE + "\n| Kyiv | lots |", TABLE + "\n\n" + TABLE, "| a | b |\n| c | d |\n| e | f |"],
    ),
}


def test_there_are_at_least_25_training_constraints_and_none_reuses_an_ifeval_id():
    assert len(TRAINING_IDS) >= 25
    assert not set(TRAINING_IDS) & set(IFEVAL_IDS)


def test_every_training_constraint_has_hand_written_examples():
    assert sorted(CASES) == TRAINING_IDS


@pytest.mark.parametrize("cid", TRAINING_IDS)
def test_passing_examples_pass(cid):
    kwargs, passing, _ = CASES[cid]
    constraint = get_constraint(cid)
    for response in passing:
        assert constraint.check(response, constraint.validate(kwargs)) is True, response


@pytest.mark.parametrize("cid", TRAINING_IDS)
def test_failing_examples_fail(cid):
    kwargs, _, failing = CASES[cid]
    constraint = get_constraint(cid)
    for response in failing:
        assert constraint.check(response, constraint.validate(kwargs)) is False, response


@pytest.mark.parametrize("cid", TRAINING_IDS)
def test_family_is_the_id_prefix_under_train(cid):
    constraint = get_constraint(cid)
    assert constraint.family == "train:" + cid.split(":")[0]


@pytest.mark.parametrize("cid", TRAINING_IDS)
def test_conflicts_name_registered_ids_and_include_itself_and_whole_response_formats(cid):
    conflicts = get_constraint(cid).conflicts_with
    assert cid in conflicts and conflicts >= WHOLE_RESPONSE
    assert set(conflicts) <= set(constraint_ids())


def test_known_contradictions_are_declared():
    def conflict(a, b):
        return b in get_constraint(a).conflicts_with or a in get_constraint(b).conflicts_with

    assert conflict("format:numbered_list", "format:qa_pairs")
    assert conflict("format:markdown_table", "detectable_format:number_bullet_lists")
    assert conflict("punctuation:no_period", "count:words_per_sentence")
    assert conflict("words:first_word", "format:bracketed_title")
    assert conflict("words:last_word", "startend:end_checker")
    assert conflict("keywords:word_once", "language:response_language")
    assert conflict("format:bigram_brackets", "detectable_format:title")
    assert not conflict("words:first_word", "change_case:english_lowercase")  # word checks ignore case


@pytest.mark.parametrize("cid", TRAINING_IDS)
def test_schema_rejects_unknown_missing_and_mistyped_kwargs(cid):
    constraint = get_constraint(cid)
    kwargs = constraint.sample_kwargs(random.Random(0))
    with pytest.raises(ValueError, match=f"{cid}: unknown kwarg 'bogus'"):
        constraint.validate({**kwargs, "bogus": 1})
    for param in constraint.params:
        with pytest.raises(ValueError, match=f"{cid}: missing kwarg '{param.name}'"):
            constraint.validate({k: v for k, v in kwargs.items() if k != param.name})
        wrong = "seven" if param.type is int else 7
        with pytest.raises(ValueError, match=f"{cid}: kwarg '{param.name}'"):
            constraint.validate({**kwargs, param.name: wrong})


def test_counts_of_one_render_in_the_singular():
    for cid, kwargs in [("count:questions", {"num_questions": 1}), ("format:numbered_list", {"num_items": 1})]:
        for seed in range(10):
            text = get_constraint(cid).render(kwargs, seed)
            assert " 1 " in text and not any(f" 1 {w}s" in text for w in ("question", "item", "numbered item")), text


def test_sampling_is_deterministic_for_a_seed():
    for cid in TRAINING_IDS:
        constraint = get_constraint(cid)
        assert constraint.sample_kwargs(random.Random(9)) == constraint.sample_kwargs(random.Random(9))


def test_sampled_words_fit_any_sampled_word_length_limit_and_avoid_ifeval_keywords():
    shortest_limit = min(
        get_constraint("words:max_word_length").sample_kwargs(random.Random(i))["max_letters"] for i in range(200)
    )
    for cid in TRAINING_IDS:
        for seed in range(50):
            for value in get_constraint(cid).sample_kwargs(random.Random(seed)).values():
                if isinstance(value, str) and value not in ("at least", "at most"):
                    assert all(len(w) <= shortest_limit for w in value.split()), (cid, value)
                    assert value.lower() not in SAMPLE_WORDS, (cid, value)


def test_keyword_pair_with_the_same_word_twice_is_unsatisfiable():
    constraint = get_constraint("keywords:pair_frequency")
    assert not constraint.check("river river river", {"keyword1": "river", "keyword2": "River"})


_ODD_TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet="[]<>|-Q:A.?!;\n\t *#1234567890 abc", max_size=300),
    st.sampled_from(["", "\x00\x01\x1b", "\n" * 500, "[" * 500, "<<" * 300, "|" * 500, "- \n" * 200, "\u200b\ufeff"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_ODD_TEXT, seed=st.integers(0, 2**16))
def test_every_check_returns_a_bool_on_any_text(text, seed):
    for cid in TRAINING_IDS:
        constraint = get_constraint(cid)
        kwargs = constraint.sample_kwargs(random.Random(seed))
        assert isinstance(constraint.check(text, kwargs), bool), cid


# The sentence-based checks settle many texts without punkt; these are their plain definitions on NLTK's own
# punkt, which the fast checks must match on every text.
@functools.cache
def _nltk_punkt():
    return PunktSentenceTokenizer(nltk_resources.packaged_punkt_parameters())


def _punkt_sentences(text):
    return _nltk_punkt().tokenize(text)


def _plain_check(cid, response, kwargs):
    parts = _punkt_sentences(response)
    sentence_words = [words(s) for s in parts]
    if cid == "words:first_word_each_sentence":
        return bool(parts) and all(p and same_word(p[0], kwargs["first_word"]) for p in sentence_words)
    if cid == "words:last_word_each_sentence":
        return bool(parts) and all(p and same_word(p[-1], kwargs["last_word"]) for p in sentence_words)
    if cid == "keywords:specific_position":
        if len(parts) < kwargs["sentence_number"]:
            return False
        tokens = sentence_words[kwargs["sentence_number"] - 1]
        return len(tokens) >= kwargs["word_number"] and same_word(tokens[kwargs["word_number"] - 1], kwargs["keyword"])
    if cid == "count:words_per_sentence":
        return bool(parts) and all(word_count(s) <= kwargs["max_words"] for s in parts)
    if cid == "repeat:first_sentence_at_end":
        if len(parts) < 2:
            return False
        first, last = (normalise(s).rstrip(_SENTENCE_END_PUNCTUATION) for s in (parts[0], parts[-1]))
        return bool(first) and first == last
    assert cid == "count:sentences_per_paragraph"
    blocks = paragraphs(response)
    return bool(blocks) and all(len(_punkt_sentences(b)) == kwargs["num_sentences"] for b in blocks)


_SHORTCUT_KWARGS = {
    "words:first_word_each_sentence": st.fixed_dictionaries({"first_word": st.sampled_from(["We", "it", "Don't"])}),
    "words:last_word_each_sentence": st.fixed_dictionaries({"last_word": st.sampled_from(["now", "TOO", "o'clock"])}),
    "keywords:specific_position": st.fixed_dictionaries(
        {"keyword": st.sampled_from(["we", "Now", "ǅem", "straße"]), "sentence_number": st.integers(1, 3),
         "word_number": st.integers(1, 3)}
    ),
    "count:words_per_sentence": st.fixed_dictionaries({"max_words": st.integers(1, 6)}),
    "count:sentences_per_paragraph": st.fixed_dictionaries({"num_sentences": st.integers(1, 3)}),
    "repeat:first_sentence_at_end": st.just({}),
}  # fmt: skip
_SENTENCE_PIECES = [
    "We", "we", "it", "It", "now", "NOW", "too", "Don't", "o'clock", "ǅEM", "ǆem", "STRASSE", "straße", "Dr.", "U.S.",
    "e.g.", "3.5", "end.", "now.", "too!", "why?", '"now."', "(it.)", "now.)", "...", "'", "’", "-", "--", "_",
    "\n", "\n\n", " \n \n", "\t",
]  # fmt: skip
_REPEATED_OPENING = st.builds(
    lambda first, middle, again, end: f"{first} {middle}{again(first)}{end}",
    st.lists(st.sampled_from(_SENTENCE_PIECES + ["}", ".}", "…", "Ok."]), min_size=1, max_size=6).map(" ".join),
    st.lists(st.sampled_from(_SENTENCE_PIECES), max_size=8).map(" ".join),
    st.sampled_from([str, str.upper, str.lower, lambda t: t.replace(" ", "\n  "), lambda t: t.rstrip(".!?")]),
    st.sampled_from(["", ".", "!", " ", '."', ".)", "}", "\n"]),
)  # texts whose last sentence may repeat the first one
_SENTENCE_TEXT = st.one_of(
    _REPEATED_OPENING,
    st.lists(st.sampled_from(_SENTENCE_PIECES), max_size=40).map(" ".join),
    st.lists(st.sampled_from(_SENTENCE_PIECES), max_size=15).map("".join),
    st.text(alphabet=st.sampled_from(list("Wwe it now.?!'\"()\n_-")), max_size=80),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), response=_SENTENCE_TEXT)
def test_sentence_checks_that_skip_punkt_agree_with_their_plain_definition(data, response):
    for cid, kwargs_strategy in _SHORTCUT_KWARGS.items():
        kwargs = data.draw(kwargs_strategy, label=cid)
        assert get_constraint(cid).check(response, kwargs) == _plain_check(cid, response, kwargs), cid


def test_skipping_punkt_keeps_the_hard_cases():
    position = get_constraint("keywords:specific_position")
    assert position.check("Go. STRASSE now.", {"keyword": "straße", "sentence_number": 2, "word_number": 1})
    first = get_constraint("words:first_word_each_sentence")
    assert first.check('"We go." (We stay.) We rest!', {"first_word": "we"})
    last = get_constraint("words:last_word_each_sentence")
    assert last.check("Go now! (Stay now.) Rest now.\n", {"last_word": "NOW"})
    assert not get_constraint("count:words_per_sentence").check("One two three? Four.", {"max_words": 2})
    repeat = get_constraint("repeat:first_sentence_at_end")
    assert repeat.check("Hello THERE. It rains. hello  there!", {})
    assert repeat.check("Why not? It rains. why NOT!", {})
    assert repeat.check('"Stop!" She ran. "Stop!"', {})
    assert repeat.check("Say {yes.} Then go. Say {yes.}", {})  # a '}' after the end mark is kept
    assert not repeat.check("a." * 20000 + " b.", {})  # many candidate ends: decided, and quickly
