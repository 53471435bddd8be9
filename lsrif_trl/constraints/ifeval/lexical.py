"""IFEval constraints on words, letters, language and case, punctuation, and how a response starts or ends."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any, ClassVar

from lsrif_trl.constraints.base import KwargError, Param
from lsrif_trl.constraints.ifeval.common import (
    AT_LEAST,
    LANGUAGE_NAMES,
    SAMPLE_WORDS,
    IFEvalConstraint,
    compare,
    relation_param,
    sample_relation,
    user_pattern,
)
from lsrif_trl.constraints.registry import register
from lsrif_trl.constraints.text import detected_language, has_capital_words


@register
class KeywordsExistence(IFEvalConstraint):
    """Every keyword (a case-insensitive regex, as in the reference) occurs somewhere."""

    id = "keywords:existence"
    params = (Param("keywords", list, regex=True),)
    phrasings = (
        "Include the keywords {keywords} in your response.",
        "Make sure your answer mentions each of these words: {keywords}.",
        "Your reply must contain the following keywords: {keywords}.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return all(user_pattern(keyword, re.IGNORECASE).search(response) for keyword in kwargs["keywords"])

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"keywords": rng.sample(SAMPLE_WORDS, rng.randint(1, 3))}


@register
class KeywordsFrequency(IFEvalConstraint):
    """The keyword (a case-insensitive regex) occurs `less than` / `at least` `frequency` times."""

    id = "keywords:frequency"
    params = (Param("keyword", str, regex=True), Param("frequency", int, minimum=0, maximum=1000), relation_param())
    relation_fields = ("relation",)
    phrasings = (
        'In your response, the word "{keyword}" should appear {relation_words} {frequency} times.',
        'Use the word "{keyword}" {relation_words} {frequency} times in your answer.',
        'Your answer must contain the word "{keyword}" {relation_words} {frequency} times.',
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        keyword = user_pattern(kwargs["keyword"].strip(), re.IGNORECASE)
        occurrences = sum(1 for _ in keyword.finditer(response))
        return compare(occurrences, kwargs["relation"], kwargs["frequency"])

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"keyword": rng.choice(SAMPLE_WORDS), "frequency": rng.randint(2, 4), "relation": sample_relation(rng)}


@register
class KeywordsForbiddenWords(IFEvalConstraint):
    """None of the words occurs as a whole word (`\\bword\\b`, case-insensitive)."""

    id = "keywords:forbidden_words"
    params = (Param("forbidden_words", list, regex=True),)
    phrasings = (
        "Do not include the keywords {forbidden_words} in your response.",
        "Avoid using any of these words: {forbidden_words}.",
        "Your answer must not contain the words {forbidden_words}.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return not any(
            user_pattern(r"\b" + word + r"\b", re.IGNORECASE).search(response) for word in kwargs["forbidden_words"]
        )

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"forbidden_words": rng.sample(SAMPLE_WORDS, rng.randint(1, 3))}


@register
class KeywordsLetterFrequency(IFEvalConstraint):
    """The character occurs (case-insensitively) `less than` / `at least` `let_frequency` times."""

    id = "keywords:letter_frequency"
    params = (
        Param("letter", str),
        Param("let_frequency", int, minimum=0, maximum=10_000),
        relation_param("let_relation"),
    )
    relation_fields = ("let_relation",)
    phrasings = (
        'In your response, the letter "{letter}" should appear {let_relation_words} {let_frequency} times.',
        'Use the letter "{letter}" {let_relation_words} {let_frequency} times in your answer.',
        'Write your answer so that the letter "{letter}" appears {let_relation_words} {let_frequency} times.',
    )

    def validate(self, kwargs: dict[str, Any] | None) -> dict[str, Any]:
        out = super().validate(kwargs)
        if len(out["letter"]) != 1:
            raise KwargError(
                f"{self.id}: kwarg 'letter': expected a single character, got {out['letter']!r}", "letter"
            )
        return out

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        # The reference counts the literal character; its newest version swaps characters outside a-z/A-Z for a
        # random letter, which no deterministic scorer can reproduce.
        letter = kwargs["letter"].strip().lower()
        count = response.lower().count(letter) if len(letter) == 1 else 0
        return compare(count, kwargs["let_relation"], kwargs["let_frequency"])

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {
            "letter": rng.choice("abcdefghijklmnopqrstuvwxyz"),
            "let_frequency": rng.randint(2, 12),
            "let_relation": sample_relation(rng),
        }


@register
class ResponseLanguage(IFEvalConstraint):
    """langdetect names `language` (a text it cannot classify counts as followed, as in the reference)."""

    id = "language:response_language"
    params = (Param("language", str, choices=tuple(LANGUAGE_NAMES)),)
    phrasings = (
        "Your ENTIRE response should be in {language_name}; no other language is allowed.",
        "Write your whole answer in {language_name} only.",
        "Respond only in {language_name}, without using any other language.",
    )

    def render_fields(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {**kwargs, "language_name": LANGUAGE_NAMES[kwargs["language"]]}

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        language = detected_language(response)
        return language is None or language == kwargs["language"]

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"language": rng.choice(tuple(LANGUAGE_NAMES))}


@register
class CapitalWordFrequency(IFEvalConstraint):
    """Words in capitals (`nltk.word_tokenize` tokens with `isupper`) occur `less than` / `at least` N times."""

    id = "change_case:capital_word_frequency"
    params = (Param("capital_frequency", int, minimum=0, maximum=1000), relation_param("capital_relation"))
    relation_fields = ("capital_relation",)
    phrasings = (
        "In your response, words in all capital letters should appear {capital_relation_words} "
        "{capital_frequency} times.",
        "Use {capital_relation_words} {capital_frequency} words written entirely in capital letters.",
        "Your answer should contain {capital_relation_words} {capital_frequency} fully capitalized words.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        reached = has_capital_words(response, kwargs["capital_frequency"])
        return reached is not None and reached == (kwargs["capital_relation"] == AT_LEAST)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"capital_frequency": rng.randint(2, 20), "capital_relation": sample_relation(rng)}


class _EnglishCase(IFEvalConstraint):
    """The whole response is in one case and langdetect says English (or cannot tell)."""

    in_case: ClassVar[Callable[[str], bool]]

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        if not self.in_case(response):
            return False
        language = detected_language(response)
        return language is None or language == "en"

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class EnglishCapital(_EnglishCase):
    id = "change_case:english_capital"
    phrasings = (
        "Your entire response should be in English, and in all capital letters.",
        "Write your whole answer in English using only CAPITAL LETTERS.",
        "Answer in English, with every letter in upper case.",
    )

    in_case = staticmethod(str.isupper)


@register
class EnglishLowercase(_EnglishCase):
    id = "change_case:english_lowercase"
    phrasings = (
        "Your entire response should be in English, and in all lowercase letters. No capital letters are allowed.",
        "Write your whole answer in English using only lowercase letters.",
        "Answer in English without a single capital letter.",
    )

    in_case = staticmethod(str.islower)


@register
class NoComma(IFEvalConstraint):
    id = "punctuation:no_comma"
    phrasings = (
        "In your entire response, refrain from the use of any commas.",
        "Do not use any commas in your answer.",
        "Write your reply without a single comma.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return "," not in response

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


_END_PHRASES = (
    "Is there anything else I can help with?",
    "Let me know if you have any questions.",
    "That is all for now.",
    "Thank you for reading.",
    "Hope this helps!",
)


@register
class EndChecker(IFEvalConstraint):
    """The response, stripped of whitespace and double quotes, ends with the phrase (case-insensitive)."""

    id = "startend:end_checker"
    params = (Param("end_phrase", str),)
    phrasings = (
        'Finish your response with this exact phrase: "{end_phrase}". No other words should follow it.',
        'End your answer with the exact words "{end_phrase}", with nothing after them.',
        'Your reply must conclude with the phrase "{end_phrase}" and nothing else after it.',
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return response.strip().strip('"').lower().endswith(kwargs["end_phrase"].strip().lower())

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"end_phrase": rng.choice(_END_PHRASES)}


@register
class Quotation(IFEvalConstraint):
    id = "startend:quotation"
    phrasings = (
        "Wrap your entire response with double quotation marks.",
        'Put your whole answer inside double quotes (").',
        "Enclose the entire reply in double quotation marks.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        stripped = response.strip()
        return len(stripped) > 1 and stripped[0] == '"' and stripped[-1] == '"'

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class TwoResponses(IFEvalConstraint):
    """Exactly two different non-blank answers separated by `******` (blank pieces only at the ends)."""

    id = "combination:two_responses"
    phrasings = (
        "Give two different responses. Responses and only responses should be separated by 6 asterisk symbols: "
        "******.",
        "Write two distinct answers, separated from each other by a line of six asterisks (******).",
        "Provide two different replies; put ****** between them and nowhere else.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        pieces = response.split("******")
        answers = []
        for index, piece in enumerate(pieces):
            if piece.strip():
                answers.append(piece)
            elif 0 < index < len(pieces) - 1:
                return False
        return len(answers) == 2 and answers[0].strip() != answers[1].strip()

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


_REQUESTS = (
    "Write a short story about a lighthouse keeper who finds a message in a bottle.",
    "Explain how a bicycle gear system works to a ten-year-old.",
    "Describe the water cycle in a few sentences.",
    "Suggest three names for a bakery that sells only bread.",
    "Summarize the benefits of learning a second language.",
)


@register
class RepeatPrompt(IFEvalConstraint):
    """The response starts (case-insensitively, after stripping) with `prompt_to_repeat`.

    The data builder should set `prompt_to_repeat` to the request it writes; `sample_kwargs` draws a stand-in.
    """

    id = "combination:repeat_prompt"
    params = (Param("prompt_to_repeat", str),)
    phrasings = (
        "First repeat the request word for word without change, then give your answer (do not say anything "
        "before repeating the request; the request to repeat does not include this sentence). "
        "The request: {prompt_to_repeat}",
        "Begin by copying this request exactly, then answer it: {prompt_to_repeat}",
        "Repeat the following request verbatim before you respond to it: {prompt_to_repeat}",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return response.strip().lower().startswith(kwargs["prompt_to_repeat"].strip().lower())

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"prompt_to_repeat": rng.choice(_REQUESTS)}
