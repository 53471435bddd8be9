"""Training constraints that count: words, sentences and paragraphs per unit, letters, numerals, punctuation."""

from __future__ import annotations

import random
import re
from typing import Any

from lsrif_trl.constraints import facts, rewriting
from lsrif_trl.constraints.base import NoExpert, Param
from lsrif_trl.constraints.registry import register
from lsrif_trl.constraints.text import (
    longest_sentence_bound,
    sentence_count,
    sentence_count_bound,
    sentences,
    word_count,
)
from lsrif_trl.constraints.training_common import (
    AT_LEAST,
    AT_MOST,
    LAYOUTS,
    SENTENCE_BASED,
    TrainingConstraint,
    bound_param,
    paragraphs,
    within,
    words,
)

_LETTER = re.compile(r"[^\W\d_]")
_NUMERAL = re.compile(r"\d+(?:[.,]\d+)*")
_QUESTION_MARKS = re.compile(r"\?+")
_PLAIN_END = re.compile(r"(?<=[^\W_])[.!](?=\s|$)")  # a sentence end a question mark can replace


@register
class WordsPerParagraph(TrainingConstraint):
    """Every blank-line paragraph has at least / at most `num_words` words."""

    id = "count:words_per_paragraph"
    fixes = frozenset({facts.LAYOUT})
    expert_phase = rewriting.LISTS
    params = (bound_param(), Param("num_words", int, minimum=1, maximum=10_000))
    phrasings = (
        "Each paragraph must contain {relation} {num_words} words.",
        "Write {relation} {num_words} words in every paragraph.",
        "Separate paragraphs with a blank line, and give each one {relation} {num_words} words.",
    )
    conflicts_with = LAYOUTS

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        parts = paragraphs(response)
        return bool(parts) and all(within(word_count(p), kwargs["relation"], kwargs["num_words"]) for p in parts)

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        relation, limit = kwargs["relation"], kwargs["num_words"]
        at_least = relation == AT_LEAST
        edit = (
            (lambda p: rewriting.words_at_least(p, limit, rng))
            if at_least
            else (lambda p: rewriting.words_at_most(p, limit, rng))
        )
        return rewriting.map_paragraphs(rewriting.ensure_words(text, rng), edit)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        other = AT_MOST if kwargs["relation"] == AT_LEAST else AT_LEAST
        limit = kwargs["num_words"] + (1 if other == AT_LEAST else -1)
        return self.satisfy(text, {"relation": other, "num_words": limit}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        if rng.random() < 0.5:
            return {"relation": AT_LEAST, "num_words": rng.randint(15, 60)}
        return {"relation": AT_MOST, "num_words": rng.randint(40, 120)}


@register
class SentencesPerParagraph(TrainingConstraint):
    """Every blank-line paragraph has exactly `num_sentences` sentences."""

    id = "count:sentences_per_paragraph"
    fixes = frozenset({facts.LAYOUT})
    expert_phase = rewriting.LISTS
    params = (Param("num_sentences", int, minimum=1, maximum=1000),)
    phrasings = (
        "Every paragraph should have exactly {num_sentences} sentence{num_sentences_s}.",
        "Write paragraphs (separated by blank lines) of exactly {num_sentences} sentence{num_sentences_s} each.",
        "Each of your paragraphs must be made of {num_sentences} sentence{num_sentences_s}, no more and no fewer.",
    )
    conflicts_with = LAYOUTS | {"punctuation:no_period"}

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        parts = paragraphs(response)
        if not parts or any(sentence_count_bound(p) < kwargs["num_sentences"] for p in parts):
            return False  # settled without running punkt
        return all(sentence_count(p) == kwargs["num_sentences"] for p in parts)

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        count = kwargs["num_sentences"]
        return rewriting.map_paragraphs(
            rewriting.ensure_words(text, rng), lambda p: rewriting.sentences_to(p, count, rng)
        )

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return self.satisfy(text, {"num_sentences": kwargs["num_sentences"] + 1}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"num_sentences": rng.randint(1, 5)}


@register
class ParagraphCount(TrainingConstraint):
    """Exactly `num_paragraphs` non-blank paragraphs separated by blank lines."""

    id = "count:paragraphs"
    fixes = frozenset({facts.LAYOUT})
    expert_phase = rewriting.PARAGRAPHS
    params = (Param("num_paragraphs", int, minimum=1, maximum=100),)
    phrasings = (
        "Write exactly {num_paragraphs} paragraphs, separated from each other by a blank line.",
        "Your answer must consist of {num_paragraphs} paragraphs with an empty line between them.",
        "Structure the response as {num_paragraphs} paragraphs divided by blank lines.",
    )
    conflicts_with = LAYOUTS | {
        "length_constraints:number_paragraphs",
        "length_constraints:nth_paragraph_first_word",
    }

    def word_bounds(self, kwargs: dict[str, Any]) -> tuple[int, int | None]:
        return facts.WORDS_PER_PARAGRAPH * kwargs["num_paragraphs"], None

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return len(paragraphs(response)) == kwargs["num_paragraphs"]

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.paragraphs_of(text, kwargs["num_paragraphs"], "\n\n", rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return self.satisfy(text, {"num_paragraphs": kwargs["num_paragraphs"] + 1}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"num_paragraphs": rng.randint(2, 6)}


@register
class LetterCount(TrainingConstraint):
    """The response holds at least / at most `num_letters` letters (any alphabet; digits and marks excluded)."""

    id = "count:letters"
    fixes = frozenset()
    expert_phase = rewriting.SENTENCES
    params = (bound_param(), Param("num_letters", int, minimum=1, maximum=100_000))
    phrasings = (
        "Use {relation} {num_letters} letters in total.",
        "Your response should contain {relation} {num_letters} letters, counting every letter of every word.",
        "In total, write {relation} {num_letters} alphabetic characters.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return within(len(_LETTER.findall(response)), kwargs["relation"], kwargs["num_letters"])

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        text, limit = rewriting.ensure_words(text, rng), kwargs["num_letters"]
        if kwargs["relation"] == AT_LEAST:
            return rewriting.grow_until(text, lambda t: len(_LETTER.findall(t)) >= limit, rng)
        return rewriting.shrink_until(text, lambda t: len(_LETTER.findall(t)) <= limit, rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        other = AT_MOST if kwargs["relation"] == AT_LEAST else AT_LEAST
        limit = kwargs["num_letters"] + (1 if other == AT_LEAST else -1)
        return self.satisfy(text, {"relation": other, "num_letters": max(limit, 1)}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        if rng.random() < 0.5:
            return {"relation": AT_LEAST, "num_letters": rng.randrange(200, 1001, 50)}
        return {"relation": AT_MOST, "num_letters": rng.randrange(1500, 3001, 100)}  # ~300-600 words: room to answer


@register
class UniqueWordRatio(TrainingConstraint):
    """At least `min_percent` % of the words are distinct (ignoring case)."""

    id = "count:unique_word_ratio"
    fixes = frozenset()
    expert_phase = rewriting.PUNCTUATION
    params = (Param("min_percent", int, minimum=1, maximum=100),)
    phrasings = (
        "Vary your vocabulary: at least {min_percent}% of the words you use must be different words.",
        "Make sure that at least {min_percent} percent of your words are unique (case does not matter).",
        "Avoid repeating yourself: distinct words must make up at least {min_percent}% of the response.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        tokens = [w.casefold() for w in words(response)]
        return bool(tokens) and 100 * len(set(tokens)) >= kwargs["min_percent"] * len(tokens)

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        text = rewriting.ensure_words(text, rng)
        for _ in range(len(text)):  # each step removes a repeated clause or adds a new word
            if self.check(text, kwargs):
                break
            trimmed = rewriting.trim_clause(text)
            text = trimmed if trimmed != text else rewriting.insert_words(text, rewriting.new_word(text), rng)
        return text

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        tokens = words(rewriting.ensure_words(text, rng))
        repeats = " ".join([tokens[0]] * (len(tokens) * 100 // kwargs["min_percent"] + 2))
        return rewriting.insert_words(text, repeats.lower(), rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"min_percent": rng.randrange(40, 71, 5)}  # long natural answers rarely exceed ~70%


@register
class WordsPerSentence(TrainingConstraint):
    """No sentence has more than `max_words` words."""

    id = "count:words_per_sentence"
    fixes = frozenset()
    expert_phase = rewriting.SENTENCES
    params = (Param("max_words", int, minimum=1, maximum=10_000),)
    phrasings = (
        "No sentence may be longer than {max_words} words.",
        "Keep every sentence to at most {max_words} words.",
        "Write short sentences: {max_words} words or fewer each.",
    )
    conflicts_with = frozenset({"punctuation:no_period"})

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        if longest_sentence_bound(response) > kwargs["max_words"]:
            return False  # settled without running punkt
        parts = sentences(response)
        return bool(parts) and all(word_count(s) <= kwargs["max_words"] for s in parts)

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        limit = kwargs["max_words"]
        text = rewriting.ensure_words(text, rng)
        for _ in range(8):  # a split sentence is re-read by punkt; a few passes settle it
            if self.check(text, kwargs):
                break
            text = rewriting.map_sentences(text, lambda _, s: rewriting.split_sentence(s, limit))
        return text

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.insert_words(text, " ".join(["very"] * (kwargs["max_words"] + 1)), rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"max_words": rng.randint(8, 25)}


@register
class NumeralCount(TrainingConstraint):
    """At least / at most `num_numerals` numbers written in digits (`3.5` and `1,200` count once)."""

    id = "count:numerals"
    fixes = frozenset()
    expert_phase = rewriting.PUNCTUATION
    params = (bound_param(), Param("num_numerals", int, minimum=0, maximum=1000))
    phrasings = (
        "Include {relation} {num_numerals} number{num_numerals_s} written in digits.",
        "Your response should contain {relation} {num_numerals} numeral{num_numerals_s} (numbers written with digits).",
        "Use digits for numbers, and write {relation} {num_numerals} such number{num_numerals_s}.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return within(len(_NUMERAL.findall(response)), kwargs["relation"], kwargs["num_numerals"])

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        count, text = kwargs["num_numerals"], rewriting.ensure_words(text, rng)
        if kwargs["relation"] == AT_MOST:
            return rewriting.ensure_words(rewriting.remove_matches(text, _NUMERAL, keep=count), rng)
        for _ in range(count - len(_NUMERAL.findall(text))):
            text = rewriting.insert_words(text, str(rng.randint(2, 99)), rng)
        return text

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        other = AT_MOST if kwargs["relation"] == AT_LEAST else AT_LEAST
        count = kwargs["num_numerals"] + (1 if other == AT_LEAST else -1)
        if count < 0:
            raise NoExpert(f"{self.id}: at least 0 numerals holds for every text")
        return self.satisfy(text, {"relation": other, "num_numerals": count}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        if rng.random() < 0.6:
            return {"relation": AT_LEAST, "num_numerals": rng.randint(2, 6)}
        return {"relation": AT_MOST, "num_numerals": rng.randint(1, 3)}


@register
class QuestionCount(TrainingConstraint):
    """Exactly `num_questions` questions (a run of question marks counts once)."""

    id = "count:questions"
    fixes = frozenset()
    expert_phase = rewriting.PUNCTUATION
    params = (Param("num_questions", int, minimum=1, maximum=1000),)
    phrasings = (
        "Ask exactly {num_questions} question{num_questions_s} in your response.",
        "Include exactly {num_questions} question{num_questions_s} ending in a question mark, and no other question marks.",
        "Your reply must contain {num_questions} question{num_questions_s} in total, no more and no fewer.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return len(_QUESTION_MARKS.findall(response)) == kwargs["num_questions"]

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        wanted, text = kwargs["num_questions"], rewriting.ensure_words(text, rng)
        have = len(_QUESTION_MARKS.findall(text))
        if have > wanted:  # the last ones stay (an end phrase or a closing question)
            return rewriting.replace_words(text, _QUESTION_MARKS, lambda _: ".", keep=0, limit=have - wanted)
        text = rewriting.ensure_sentence_ends(text, wanted - have, rng)
        return rewriting.replace_words(text, _PLAIN_END, lambda _: "?", keep=0, limit=wanted - have)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return self.satisfy(text, {"num_questions": kwargs["num_questions"] + 1}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"num_questions": rng.randint(1, 4)}


@register
class NoPeriod(TrainingConstraint):
    """No full stop (`.`) anywhere in the response."""

    id = "punctuation:no_period"
    forbidden_characters = "."
    fixes = frozenset()
    expert_phase = rewriting.PUNCTUATION
    phrasings = (
        "Do not use any periods (full stops) in your response.",
        "Write without a single full stop; end sentences some other way.",
        "The character '.' must not appear anywhere in your answer.",
    )
    conflicts_with = SENTENCE_BASED | {"detectable_content:postscript", "startend:end_checker"}

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return "." not in response

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.ensure_words(text, rng).replace(".", "")

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.insert_words(text, "etc.", rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class NoExclamation(TrainingConstraint):
    """No exclamation mark anywhere in the response."""

    id = "punctuation:no_exclamation"
    forbidden_characters = "!"
    fixes = frozenset()
    expert_phase = rewriting.PUNCTUATION
    phrasings = (
        "Do not use any exclamation marks.",
        "Avoid exclamation marks entirely.",
        "The character '!' must not appear in your response.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return "!" not in response

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.ensure_words(text.replace("!", "."), rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.insert_words(text, "wow!", rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class EndWithQuestion(TrainingConstraint):
    """The response's last visible character is a question mark."""

    id = "punctuation:end_with_question"
    fixes = frozenset({facts.CLOSING})
    expert_phase = rewriting.ENDS
    phrasings = (
        "End your response with a question.",
        "Finish with a question to the reader; the last character must be a question mark.",
        "Your final sentence must be a question ending in '?'.",
    )
    conflicts_with = frozenset(
        {
            "startend:end_checker",
            "startend:quotation",
            "detectable_content:postscript",
            "format:bracket_every_sentence",
            "format:bigram_brackets",
            "format:markdown_table",
            "repeat:first_sentence_at_end",
        }
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return response.rstrip().endswith("?")

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.ensure_words(text, rng).rstrip().rstrip(".!;:,") + "?"

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.ensure_words(text, rng).rstrip().rstrip("?") + "."

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class SemicolonCount(TrainingConstraint):
    """At least `min_semicolons` semicolons."""

    id = "punctuation:semicolons"
    fixes = frozenset()
    expert_phase = rewriting.CONTENT
    params = (Param("min_semicolons", int, minimum=1, maximum=1000),)
    phrasings = (
        "Use at least {min_semicolons} semicolon{min_semicolons_s}.",
        "Join related clauses with semicolons; use at least {min_semicolons} of them.",
        "Your response must contain {min_semicolons} or more semicolon{min_semicolons_s} (;).",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return response.count(";") >= kwargs["min_semicolons"]

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        text = rewriting.ensure_words(text, rng)
        for _ in range(kwargs["min_semicolons"] - text.count(";")):
            text = text.replace(" and ", "; ", 1) if " and " in text else rewriting.insert_words(text, "; so", rng)
        return text

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.ensure_words(text.replace(";", ","), rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"min_semicolons": rng.randint(1, 4)}
