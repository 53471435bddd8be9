"""Training constraints on particular words, keywords and repeated spans.

Word comparisons ignore case, so none of these contradicts an all-lowercase or all-capitals instruction.
"""

from __future__ import annotations

import functools
import random
import re
from typing import Any

from lsrif_trl.constraints import facts, rewriting
from lsrif_trl.constraints.base import Param
from lsrif_trl.constraints.registry import register
from lsrif_trl.constraints.text import sentences
from lsrif_trl.constraints.training_common import (
    ENGLISH_WORDS,
    LAYOUTS,
    TrainingConstraint,
    count_word,
    normalise,
    paragraphs,
    same_word,
    words,
)

# Sampled words are at most 8 letters (so `words:max_word_length`, drawn from 9 up, never contradicts them), and
# keywords avoid IFEval's SAMPLE_WORDS, so an IFEval forbidden or counted word never collides with one of ours.
_FIRST_WORDS = ("Today", "Honestly", "Imagine", "Yes", "Well", "Sometimes", "Remember", "Perhaps")
_LAST_WORDS = ("indeed", "together", "forever", "again", "today", "tomorrow", "always", "now", "home")
_KEYWORDS = (
    "anchor", "breeze", "cactus", "copper", "ember", "falcon", "glacier", "hammock", "jigsaw", "kettle",
    "lagoon", "marble", "nectar", "pebble", "quartz", "ribbon", "saffron", "tulip", "velvet", "walnut",
    "zenith", "meteor", "thistle", "cobalt", "juniper", "beacon", "canyon", "harbour", "orbit", "prism",
)  # fmt: skip
_SENTENCE_STARTERS = ("We", "This", "It", "Our", "You", "The", "Every", "Then")
_SENTENCE_ENDERS = ("too", "now", "today", "here", "indeed", "again")
_PHRASES = (
    "step by step",
    "little by little",
    "in the long run",
    "at the end of the day",
    "as a matter of fact",
    "once in a while",
    "more or less",
    "sooner or later",
)
_PALINDROMES = ("noon", "level", "redder", "racecar", "rotavator")
_LINE_STARTS = frozenset(
    {"format:numbered_list", "format:qa_pairs", "format:markdown_table", "format:bracketed_title"}
)
_CLOSING = frozenset({"startend:end_checker", "detectable_content:postscript", "format:markdown_table"})
_SENTENCE_END_PUNCTUATION = ".!?…\"'”’)] "
_MOST_COMPARED = 16  # candidate first sentences compared before `_may_repeat_first_sentence` gives up
_WORD_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_ADJACENT_REPEAT = re.compile(
    r"(?<![^\W_])([^\W_]+(?:['’][^\W_]+)*)(?![^\W_])(\W+)(?=\1(?![^\W_]|['’]))", re.IGNORECASE
)
_SEPARATORS = ("so", "all", "very", "just", "quite", "ok", "now", "yes")  # inserted between alphabet neighbours


def _apart(a: str, b: str) -> bool:
    """Whether two words' initials are not neighbours in the alphabet (the check's own test)."""
    x, y = a[0].lower(), b[0].lower()
    return not (x.isascii() and y.isascii() and x.isalpha() and y.isalpha() and abs(ord(x) - ord(y)) == 1)


def _first_neighbour_pair(text: str) -> tuple[re.Match[str], re.Match[str]] | None:
    """The first two adjacent words whose initials are alphabet neighbours, or None."""
    found = list(_WORD_TOKEN.finditer(text))
    for left, right in zip(found, found[1:], strict=False):
        if not _apart(left.group(0), right.group(0)):
            return left, right
    return None


def _exactly(text: str, word: str, times: int, rng: random.Random) -> str:
    """The text with `word` (a whole word, any case) exactly `times` times: extras replaced, missing ones inserted."""
    pattern = rewriting.whole_word(word)
    text = rewriting.replace_words(
        rewriting.ensure_words(text, rng), pattern, lambda _: rewriting.other_word(word, rng), keep=times
    )
    for _ in range(times - count_word(text, word)):
        text = rewriting.insert_words(text, word, rng)
    return text


def _put_at(sentence: str, word: str, position: int, rng: random.Random) -> str:
    """The sentence with `word` as its `position`-th word (filler words pad a short sentence)."""
    found = list(_WORD_TOKEN.finditer(sentence))
    if found and position <= len(found) and same_word(found[position - 1].group(0), word):
        return sentence
    while len(found) < position - 1:
        sentence = rewriting.before_final_punctuation(sentence, rng.choice(rewriting.ADJECTIVES))
        found = list(_WORD_TOKEN.finditer(sentence))
    at = found[position - 2].end() if position > 1 else found[0].start() if found else 0
    return f"{sentence[:at]} {word}{sentence[at:]}" if position > 1 else f"{word} {sentence[at:]}"


def _keyword_param(name: str = "keyword") -> Param:
    return Param(name, str)


@register
class FirstWord(TrainingConstraint):
    """The response's first word is `first_word`."""

    id = "words:first_word"
    fixes = frozenset({facts.LAYOUT, facts.OPENING})
    word_params = ("first_word",)
    expert_phase = rewriting.ENDS
    params = (Param("first_word", str),)
    phrasings = (
        "Begin your response with the word '{first_word}'.",
        "The very first word of your answer must be '{first_word}'.",
        "Start with the word '{first_word}'.",
    )
    conflicts_with = (
        ENGLISH_WORDS
        | _LINE_STARTS
        | {
            "words:first_word_each_sentence",
            "words:start_end_same",
            "detectable_format:multiple_sections",
            "length_constraints:nth_paragraph_first_word",
        }
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        tokens = words(response)
        return bool(tokens) and same_word(tokens[0], kwargs["first_word"])

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.with_first_word(text, kwargs["first_word"], rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.with_first_word(text, rewriting.other_word(kwargs["first_word"], rng).capitalize(), rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"first_word": rng.choice(_FIRST_WORDS)}


@register
class LastWord(TrainingConstraint):
    """The response's last word is `last_word` (punctuation after it is allowed)."""

    id = "words:last_word"
    fixes = frozenset({facts.LAYOUT, facts.CLOSING})
    word_params = ("last_word",)
    expert_phase = rewriting.ENDS
    params = (Param("last_word", str),)
    phrasings = (
        "End your response with the word '{last_word}'.",
        "The last word of your answer must be '{last_word}'; only punctuation may follow it.",
        "Make '{last_word}' the final word of the response.",
    )
    conflicts_with = (
        ENGLISH_WORDS
        | _CLOSING
        | {"format:qa_pairs", "words:last_word_each_sentence", "words:start_end_same", "repeat:first_sentence_at_end"}
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        tokens = words(response)
        return bool(tokens) and same_word(tokens[-1], kwargs["last_word"])

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.before_final_punctuation(rewriting.ensure_words(text, rng), kwargs["last_word"])

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.before_final_punctuation(
            rewriting.ensure_words(text, rng), rewriting.other_word(kwargs["last_word"], rng)
        )

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"last_word": rng.choice(_LAST_WORDS)}


@register
class FirstWordEachSentence(TrainingConstraint):
    """Every sentence starts with `first_word`."""

    id = "words:first_word_each_sentence"
    fixes = frozenset({facts.LAYOUT, facts.OPENING})
    word_params = ("first_word",)
    expert_phase = rewriting.ENDS
    params = (Param("first_word", str),)
    phrasings = (
        "Start every sentence with the word '{first_word}'.",
        "Each sentence you write must begin with '{first_word}'.",
        "Begin all of your sentences with the word '{first_word}'.",
    )
    conflicts_with = (
        ENGLISH_WORDS
        | _LINE_STARTS
        | {
            "format:bigram_brackets",
            "words:first_word",
            "keywords:specific_position",
            "detectable_format:multiple_sections",
            "length_constraints:nth_paragraph_first_word",
        }
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        # Punkt's first sentence starts the text and never ends inside a word, so its first word, if it has
        # one, is the text's: when that word differs, punkt need not run.
        tokens = words(response)
        if not tokens or not same_word(tokens[0], kwargs["first_word"]):
            return False
        parts = [words(s) for s in sentences(response) or ()]
        return bool(parts) and all(p and same_word(p[0], kwargs["first_word"]) for p in parts)

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        word = kwargs["first_word"]
        text = rewriting.ensure_words(text, rng)
        return rewriting.map_sentences(
            text,
            lambda _, s: s if words(s) and same_word(words(s)[0], word) else rewriting.with_first_word(s, word, rng),
        )

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        other = rewriting.other_word(kwargs["first_word"], rng).capitalize()
        return rewriting.map_sentences(text, lambda i, s: rewriting.with_first_word(s, other, rng) if i == 0 else s)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"first_word": rng.choice(_SENTENCE_STARTERS)}


@register
class LastWordEachSentence(TrainingConstraint):
    """Every sentence ends with `last_word` (before its closing punctuation)."""

    id = "words:last_word_each_sentence"
    fixes = frozenset({facts.LAYOUT, facts.CLOSING})
    word_params = ("last_word",)
    expert_phase = rewriting.ENDS
    params = (Param("last_word", str),)
    phrasings = (
        "End every sentence with the word '{last_word}'.",
        "The last word of each sentence must be '{last_word}'.",
        "Finish all of your sentences with the word '{last_word}'.",
    )
    conflicts_with = ENGLISH_WORDS | _LINE_STARTS | _CLOSING | {"format:bigram_brackets", "words:last_word"}

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        # Punkt's last sentence ends the text (trailing whitespace aside) and never starts inside a word, so its
        # last word, if it has one, is the text's: when that word differs, punkt need not run.
        tokens = words(response)
        if not tokens or not same_word(tokens[-1], kwargs["last_word"]):
            return False
        parts = [words(s) for s in sentences(response) or ()]
        return bool(parts) and all(p and same_word(p[-1], kwargs["last_word"]) for p in parts)

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        word = kwargs["last_word"]
        text = rewriting.ensure_words(text, rng)
        return rewriting.map_sentences(
            text,
            lambda _, s: (
                s if words(s) and same_word(words(s)[-1], word) else rewriting.before_final_punctuation(s, word)
            ),
        )

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.before_final_punctuation(text, rewriting.other_word(kwargs["last_word"], rng))

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"last_word": rng.choice(_SENTENCE_ENDERS)}


@register
class StartEndSameWord(TrainingConstraint):
    """The first and the last word of the response are the same word (and there are at least two words)."""

    id = "words:start_end_same"
    fixes = frozenset({facts.LAYOUT, facts.OPENING, facts.CLOSING})
    expert_phase = rewriting.ENDS
    phrasings = (
        "Start and end your response with the same word.",
        "The first word and the last word of your answer must be identical.",
        "Open and close the response with one and the same word.",
    )
    conflicts_with = _LINE_STARTS | _CLOSING | {"words:first_word", "words:last_word"}

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        tokens = words(response)
        return len(tokens) >= 2 and same_word(tokens[0], tokens[-1])

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        text = rewriting.ensure_words(text, rng)
        return rewriting.before_final_punctuation(text, words(text)[0].lower())

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        text = rewriting.ensure_words(text, rng)
        return rewriting.before_final_punctuation(text, rewriting.other_word(words(text)[0], rng))

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class MaxWordLength(TrainingConstraint):
    """No word is longer than `max_letters` characters."""

    id = "words:max_word_length"
    fixes = frozenset()
    expert_phase = rewriting.PUNCTUATION
    params = (Param("max_letters", int, minimum=1, maximum=100),)
    phrasings = (
        "Do not use any word longer than {max_letters} letters.",
        "Every word in your response must have {max_letters} letters or fewer.",
        "Stick to short words: none may exceed {max_letters} letters.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return all(len(w) <= kwargs["max_letters"] for w in words(response))

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        limit = kwargs["max_letters"]
        short = [w for w in rewriting.NOUNS if len(w) <= limit] or ["a"]
        fixed = _WORD_TOKEN.sub(lambda m: m.group(0) if len(m.group(0)) <= limit else rng.choice(short), text)
        return rewriting.ensure_words(fixed, rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.insert_words(text, "incomprehensibilities" + "s" * kwargs["max_letters"], rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"max_letters": rng.randint(9, 12)}


@register
class NoAdjacentRepeat(TrainingConstraint):
    """No word is immediately followed by the same word ("the the")."""

    id = "words:no_adjacent_repeat"
    fixes = frozenset()
    expert_phase = rewriting.PUNCTUATION
    phrasings = (
        "Never use the same word twice in a row.",
        "No word may be immediately repeated (for example, 'very very' is not allowed).",
        "Avoid putting two identical words next to each other.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        tokens = [w.casefold() for w in words(response)]
        return all(a != b for a, b in zip(tokens, tokens[1:], strict=False))

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        text = rewriting.ensure_words(text, rng)
        for _ in range(len(text)):  # each pass breaks one repeat; a text has fewer repeats than characters
            repeat = _ADJACENT_REPEAT.search(text)
            if repeat is None:
                break
            separator = "then" if repeat.group(1).casefold() == "and" else "and"
            text = f"{text[: repeat.end(1)]} {separator}{text[repeat.end(1) :]}"
        return text

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.insert_words(text, "very very", rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class NoAlphabetNeighbours(TrainingConstraint):
    """No two adjacent words start with neighbouring letters of the alphabet (a/b, q/p, ...)."""

    id = "words:no_alphabet_neighbours"
    fixes = frozenset()
    expert_phase = rewriting.PUNCTUATION
    phrasings = (
        "No two adjacent words may start with consecutive letters of the alphabet (such as 'a' and 'b').",
        "Make sure neighbouring words never begin with letters next to each other in the alphabet.",
        "Two words in a row must not start with alphabet neighbours like 'c' and 'd' or 'e' and 'd'.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        initials = [w[0].lower() for w in words(response)]
        return not any(
            a.isascii() and b.isascii() and a.isalpha() and b.isalpha() and abs(ord(a) - ord(b)) == 1
            for a, b in zip(initials, initials[1:], strict=False)
        )

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        text = rewriting.ensure_words(text, rng)
        for _ in range(len(text)):
            pair = _first_neighbour_pair(text)
            if pair is None:
                break
            left, right = pair
            separator = next(w for w in _SEPARATORS if _apart(w, left.group(0)) and _apart(w, right.group(0)))
            text = f"{text[: left.end()]} {separator}{text[left.end() :]}"
        return text

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.insert_words(text, "all birds", rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class Palindrome(TrainingConstraint):
    """At least one word that reads the same backwards, of `min_length` letters or more."""

    id = "words:palindrome"
    fixes = frozenset()
    params = (Param("min_length", int, minimum=2, maximum=100),)
    phrasings = (
        "Include at least one palindrome word of {min_length} or more letters (like '{example}').",
        "Use a word of at least {min_length} letters that reads the same backwards and forwards.",
        "Somewhere in your response, include a palindrome at least {min_length} letters long.",
    )
    conflicts_with = ENGLISH_WORDS

    def render_fields(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Adds an example palindrome that is long enough."""
        example = next((w for w in _PALINDROMES if len(w) >= kwargs["min_length"]), "a" * kwargs["min_length"])
        return {**kwargs, "example": example}

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return any(
            len(w) >= kwargs["min_length"] and w.isalpha() and w.casefold() == w.casefold()[::-1]
            for w in words(response)
        )

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        if self.check(text, kwargs):
            return text
        fitting = [w for w in _PALINDROMES if len(w) >= kwargs["min_length"]]
        return rewriting.insert_words(text, rng.choice(fitting) if fitting else "a" * kwargs["min_length"], rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        def swap(match: re.Match[str]) -> str:
            word = match.group(0)
            folded = word.casefold()
            is_palindrome = len(word) >= kwargs["min_length"] and word.isalpha() and folded == folded[::-1]
            return rng.choice(rewriting.NOUNS) if is_palindrome else word

        return rewriting.ensure_words(_WORD_TOKEN.sub(swap, text), rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"min_length": rng.randint(4, 6)}


@register
class KeywordOnce(TrainingConstraint):
    """`keyword` occurs exactly once, as a whole word."""

    id = "keywords:word_once"
    fixes = frozenset()
    word_params = ("keyword",)
    params = (_keyword_param(),)
    phrasings = (
        "Use the word '{keyword}' exactly once.",
        "Include the word '{keyword}' one time, and only one time.",
        "The word '{keyword}' must appear in your response exactly once.",
    )
    conflicts_with = ENGLISH_WORDS | {"keywords:in_every_paragraph", "keywords:pair_frequency"}

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return count_word(response, kwargs["keyword"]) == 1

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return _exactly(text, kwargs["keyword"], 1, rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return _exactly(text, kwargs["keyword"], 2, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"keyword": rng.choice(_KEYWORDS)}


@register
class KeywordPair(TrainingConstraint):
    """`keyword1` occurs exactly once and `keyword2` exactly twice."""

    id = "keywords:pair_frequency"
    fixes = frozenset()
    word_params = ("keyword1", "keyword2")
    params = (_keyword_param("keyword1"), _keyword_param("keyword2"))
    phrasings = (
        "Use the word '{keyword1}' exactly once and the word '{keyword2}' exactly twice.",
        "Include '{keyword1}' one time and '{keyword2}' two times, no more.",
        "The word '{keyword1}' should appear once and '{keyword2}' twice in your response.",
    )
    conflicts_with = ENGLISH_WORDS

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        if same_word(kwargs["keyword1"], kwargs["keyword2"]):
            return False  # a word cannot occur both once and twice
        return count_word(response, kwargs["keyword1"]) == 1 and count_word(response, kwargs["keyword2"]) == 2

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return _exactly(_exactly(text, kwargs["keyword1"], 1, rng), kwargs["keyword2"], 2, rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return _exactly(text, kwargs["keyword2"], 3, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        first, second = rng.sample(_KEYWORDS, 2)
        return {"keyword1": first, "keyword2": second}


@register
class KeywordPosition(TrainingConstraint):
    """The `word_number`-th word of the `sentence_number`-th sentence is `keyword` (both counted from 1)."""

    id = "keywords:specific_position"
    fixes = frozenset({facts.OPENING})
    word_params = ("keyword",)
    expert_phase = rewriting.ENDS
    params = (
        _keyword_param(),
        Param("sentence_number", int, minimum=1, maximum=1000),
        Param("word_number", int, minimum=1, maximum=1000),
    )
    phrasings = (
        "Make '{keyword}' word number {word_number} of sentence number {sentence_number}.",
        "In sentence {sentence_number} of your response, word {word_number} must be '{keyword}'.",
        "Place the word '{keyword}' at position {word_number} within sentence {sentence_number}.",
    )
    conflicts_with = ENGLISH_WORDS | _LINE_STARTS | {"format:bigram_brackets"}

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        # A word of a sentence is a piece of the text, and case folding maps character by character, so the
        # keyword must occur in the folded text at all before punkt is worth running.
        if kwargs["keyword"].casefold() not in response.casefold():
            return False
        parts = sentences(response) or ()
        if len(parts) < kwargs["sentence_number"]:
            return False
        tokens = words(parts[kwargs["sentence_number"] - 1])
        return len(tokens) >= kwargs["word_number"] and same_word(tokens[kwargs["word_number"] - 1], kwargs["keyword"])

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        keyword, nth, position = kwargs["keyword"], kwargs["sentence_number"], kwargs["word_number"]
        text = rewriting.ensure_words(text, rng)
        have = len(sentences(text) or ())
        if have < nth:
            text = rewriting.add_sentences(text, nth - have, rng)
        return rewriting.map_sentences(text, lambda i, s: _put_at(s, keyword, position, rng) if i == nth - 1 else s)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        swapped = rewriting.whole_word(kwargs["keyword"]).sub(
            lambda _: rewriting.other_word(kwargs["keyword"], rng), text
        )
        return rewriting.ensure_words(swapped, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {
            "keyword": rng.choice(_KEYWORDS),
            "sentence_number": rng.randint(1, 4),
            "word_number": rng.randint(2, 6),  # word 1 could clash with a required first word
        }


@register
class KeywordEveryParagraph(TrainingConstraint):
    """Every blank-line paragraph contains `keyword`."""

    id = "keywords:in_every_paragraph"
    fixes = frozenset()
    word_params = ("keyword",)
    expert_phase = rewriting.LISTS
    params = (_keyword_param(),)
    phrasings = (
        "Use the word '{keyword}' in every paragraph.",
        "Each paragraph (paragraphs are separated by blank lines) must mention the word '{keyword}'.",
        "Work the word '{keyword}' into each of your paragraphs.",
    )
    conflicts_with = ENGLISH_WORDS

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        parts = paragraphs(response)
        return bool(parts) and all(count_word(p, kwargs["keyword"]) > 0 for p in parts)

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        keyword = kwargs["keyword"]
        text = rewriting.ensure_words(text, rng)
        return rewriting.map_paragraphs(
            text, lambda p: p if count_word(p, keyword) else rewriting.insert_words(p, keyword, rng)
        )

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        swapped = rewriting.whole_word(kwargs["keyword"]).sub(
            lambda _: rewriting.other_word(kwargs["keyword"], rng), text
        )
        return rewriting.ensure_words(swapped, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"keyword": rng.choice(_KEYWORDS)}


@functools.lru_cache(maxsize=1024)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """The phrase as whole words, any whitespace between them, any case."""
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.split())) + r"(?!\w)", re.IGNORECASE)


@register
class PhraseTimes(TrainingConstraint):
    """The phrase `phrase` occurs exactly `times` times (whole words, any case)."""

    id = "repeat:phrase_times"
    fixes = frozenset()
    word_params = ("phrase",)
    params = (Param("phrase", str), Param("times", int, minimum=1, maximum=1000))
    phrasings = (
        "Use the exact phrase '{phrase}' {times} time{times_s}.",
        "Repeat the phrase '{phrase}' exactly {times} time{times_s} in your response.",
        "The phrase '{phrase}' must appear exactly {times} time{times_s}, word for word.",
    )
    conflicts_with = ENGLISH_WORDS

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        if not kwargs["phrase"].split():
            return False
        return len(_phrase_pattern(kwargs["phrase"]).findall(response)) == kwargs["times"]

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        pattern = _phrase_pattern(kwargs["phrase"])
        have = len(pattern.findall(text))
        text = rewriting.remove_matches(text, pattern, keep=kwargs["times"])
        for _ in range(kwargs["times"] - have):
            text = rewriting.insert_words(text, " ".join(kwargs["phrase"].split()), rng)
        return rewriting.ensure_words(text, rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return self.satisfy(text, {**kwargs, "times": kwargs["times"] + 1}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"phrase": rng.choice(_PHRASES), "times": rng.randint(2, 4)}


@functools.lru_cache(maxsize=256)
def _before_sentence_end(char: str) -> re.Pattern[str]:
    """`char` followed by a run of end punctuation that holds '.', '?' or '!' (linear: possessive run)."""
    others = re.escape(_SENTENCE_END_PUNCTUATION.replace(".", "").replace("?", "").replace("!", ""))
    return re.compile(f"{re.escape(char)}(?=[{others}]*+[.?!])")


def _may_repeat_first_sentence(normalised: str) -> bool:
    """False only when no possible first sentence of the (normalised) text is also how the text ends.

    Punkt's first sentence starts the text and its last one ends it (trailing whitespace aside); `normalise`
    collapses whitespace, strips and case-folds character by character, so they become a prefix and a suffix
    of the normalised text. The first ends right after '.', '?' or '!' (punctuation folds to itself), or
    after closing punctuation that follows one; stripped of end punctuation, it then stops just before a run
    of `_SENTENCE_END_PUNCTUATION` holding such a mark, or right after a '}' (which is not stripped). To equal
    the stripped last sentence it must end with the stripped text's last character. A '}' there, or more than
    `_MOST_COMPARED` candidates (adversarial text), and this gives up: True.
    """
    ending = normalised.rstrip(_SENTENCE_END_PUNCTUATION)
    if not ending:
        return False
    if ending[-1] == "}":
        return True
    # With two sentences or more the last one misses the text's first character, so its stripped form is
    # shorter than the whole stripped text: a candidate as long as that cannot be the answer.
    candidates = _before_sentence_end(ending[-1]).finditer(normalised, 0, len(ending) - 1)
    for compared, candidate in enumerate(candidates):
        if compared == _MOST_COMPARED or ending.endswith(normalised[: candidate.end()]):
            return True
    return False


@register
class FirstSentenceAtEnd(TrainingConstraint):
    """The last sentence repeats the first one word for word (case, spacing and end punctuation aside)."""

    id = "repeat:first_sentence_at_end"
    fixes = frozenset({facts.CLOSING})
    expert_phase = rewriting.ENDS
    phrasings = (
        "End your response by repeating its first sentence word for word.",
        "Your last sentence must be an exact copy of your first sentence.",
        "Close with the same sentence you opened with, repeated exactly.",
    )
    conflicts_with = LAYOUTS | {"words:last_word", "startend:end_checker", "detectable_content:postscript"}

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        if not _may_repeat_first_sentence(normalise(response)):
            return False  # settled without running punkt
        parts = sentences(response) or ()
        if len(parts) < 2:
            return False
        first, last = (normalise(s).rstrip(_SENTENCE_END_PUNCTUATION) for s in (parts[0], parts[-1]))
        return bool(first) and first == last

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        text = rewriting.ensure_words(text, rng).rstrip()
        first = (sentences(text) or (text,))[0].strip()
        if text[-1] not in _SENTENCE_END_PUNCTUATION:
            text += "."
        return f"{text} {first}"

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return f"{rewriting.ensure_words(text, rng).rstrip()} {rewriting.lower_first(rewriting.short_sentence(rng))}"

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}
