"""IFEval constraints on words, letters, language and case, punctuation, and how a response starts or ends."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any, ClassVar

from lsrif_trl.constraints import facts, rewriting
from lsrif_trl.constraints.base import KwargError, Param
from lsrif_trl.constraints.ifeval.common import (
    AT_LEAST,
    LANGUAGE_NAMES,
    LESS_THAN,
    SAMPLE_WORDS,
    IFEvalConstraint,
    compare,
    flipped,
    relation_param,
    sample_relation,
    user_pattern,
)
from lsrif_trl.constraints.registry import register
from lsrif_trl.constraints.text import detected_language, has_capital_words

MAX_LANGUAGE_RETRIES = 8  # filler sentences a case expert adds before giving up on langdetect


@register
class KeywordsExistence(IFEvalConstraint):
    """Every keyword (a case-insensitive regex, as in the reference) occurs somewhere."""

    id = "keywords:existence"
    fixes = frozenset()
    word_params = ("keywords",)
    params = (Param("keywords", list, regex=True),)
    phrasings = (
        "Include the keywords {keywords} in your response.",
        "Make sure your answer mentions each of these words: {keywords}.",
        "Your reply must contain the following keywords: {keywords}.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return all(user_pattern(keyword, re.IGNORECASE).search(response) for keyword in kwargs["keywords"])

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        for keyword in kwargs["keywords"]:
            if not user_pattern(keyword, re.IGNORECASE).search(text):
                text = rewriting.insert_words(text, keyword, rng)
        return text

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.remove_matches(text, user_pattern(rng.choice(kwargs["keywords"]), re.IGNORECASE))

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"keywords": rng.sample(SAMPLE_WORDS, rng.randint(1, 3))}


@register
class KeywordsFrequency(IFEvalConstraint):
    """The keyword (a case-insensitive regex) occurs `less than` / `at least` `frequency` times."""

    id = "keywords:frequency"
    fixes = frozenset()
    word_params = ("keyword",)
    params = (Param("keyword", str, regex=True), Param("frequency", int, minimum=0, maximum=1000), relation_param())
    relation_fields = ("relation",)
    phrasings = (
        'In your response, the word "{keyword}" should appear {relation_words} {frequency} times.',
        'Use the word "{keyword}" {relation_words} {frequency} times in your answer.',
        'Your answer must contain the word "{keyword}" {relation_words} {frequency} times.',
    )

    def word_bounds(self, kwargs: dict[str, Any]) -> tuple[int, int | None]:
        return (kwargs["frequency"], None) if kwargs["relation"] == AT_LEAST else facts.NO_WORD_BOUNDS

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        keyword = user_pattern(kwargs["keyword"].strip(), re.IGNORECASE)
        occurrences = sum(1 for _ in keyword.finditer(response))
        return compare(occurrences, kwargs["relation"], kwargs["frequency"])

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        keyword = user_pattern(kwargs["keyword"].strip(), re.IGNORECASE)
        have, frequency = sum(1 for _ in keyword.finditer(text)), kwargs["frequency"]
        if kwargs["relation"] == LESS_THAN:
            kept = rewriting.remove_matches(text, keyword, keep=frequency - 1) if have >= frequency else text
            return rewriting.ensure_words(kept, rng)
        for _ in range(frequency - have + rng.randint(0, 1)):
            text = rewriting.insert_words(text, kwargs["keyword"].strip(), rng)
        return text

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return self.satisfy(text, {**kwargs, "relation": flipped(kwargs["relation"])}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"keyword": rng.choice(SAMPLE_WORDS), "frequency": rng.randint(2, 4), "relation": sample_relation(rng)}


@register
class KeywordsForbiddenWords(IFEvalConstraint):
    """None of the words occurs as a whole word (`\\bword\\b`, case-insensitive)."""

    id = "keywords:forbidden_words"
    fixes = frozenset()
    forbidden_params = ("forbidden_words",)
    params = (Param("forbidden_words", list, regex=True),)
    phrasings = (
        "Do not include the keywords {forbidden_words} in your response.",
        "Avoid using any of these words: {forbidden_words}.",
        "Your answer must not contain the words {forbidden_words}.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return not any(self._pattern(word).search(response) for word in kwargs["forbidden_words"])

    @staticmethod
    def _pattern(word: str) -> re.Pattern[str]:
        return user_pattern(r"\b" + word + r"\b", re.IGNORECASE)

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        patterns = [self._pattern(word) for word in kwargs["forbidden_words"]]
        allowed = [noun for noun in rewriting.NOUNS if not any(p.search(noun) for p in patterns)]
        for pattern in patterns:
            text = pattern.sub(lambda _: rng.choice(allowed), text)
        return rewriting.ensure_words(text, rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.insert_words(text, rng.choice(kwargs["forbidden_words"]), rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"forbidden_words": rng.sample(SAMPLE_WORDS, rng.randint(1, 3))}


@register
class KeywordsLetterFrequency(IFEvalConstraint):
    """The character occurs (case-insensitively) `less than` / `at least` `let_frequency` times."""

    id = "keywords:letter_frequency"
    fixes = frozenset()
    word_params = ("letter",)
    expert_phase = rewriting.PUNCTUATION
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

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        letter, limit = kwargs["letter"].lower(), kwargs["let_frequency"]
        text = rewriting.ensure_words(text, rng)
        if kwargs["let_relation"] == AT_LEAST:
            word = rewriting.word_with(letter)
            while text.lower().count(letter) < limit:
                text = rewriting.insert_words(text, word, rng)
            return text
        return rewriting.without_letter(text, letter, limit - 1, rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return self.satisfy(text, {**kwargs, "let_relation": flipped(kwargs["let_relation"])}, rng)

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
    fixes = frozenset({facts.LANGUAGE})
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

    no_expert = (
        "it needs fluent text in any of 30 languages that langdetect reads as that language; the project ships "
        "no translation model and no text in those languages"
    )

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"language": rng.choice(tuple(LANGUAGE_NAMES))}


@register
class CapitalWordFrequency(IFEvalConstraint):
    """Words in capitals (`nltk.word_tokenize` tokens with `isupper`) occur `less than` / `at least` N times."""

    id = "change_case:capital_word_frequency"
    fixes = frozenset({facts.CASE})
    expert_phase = rewriting.CASE
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

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        limit, text = kwargs["capital_frequency"], rewriting.ensure_words(text, rng)
        if kwargs["capital_relation"] == AT_LEAST:
            return rewriting.capitals_at_least(text, limit, rng)
        return rewriting.capitals_below(text, limit)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        flip = {
            "capital_relation": flipped(kwargs["capital_relation"]),
            "capital_frequency": kwargs["capital_frequency"],
        }
        return self.satisfy(text, flip, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"capital_frequency": rng.randint(2, 20), "capital_relation": sample_relation(rng)}


class _EnglishCase(IFEvalConstraint):
    """The whole response is in one case and langdetect says English (or cannot tell)."""

    in_case: ClassVar[Callable[[str], bool]]
    to_case: ClassVar[Callable[[str], str]]
    wrong_case_word: ClassVar[str]
    expert_phase = rewriting.CASE

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        if not self.in_case(response):
            return False
        language = detected_language(response)
        return language is None or language == "en"

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        cased = self.to_case(text)
        for _ in range(MAX_LANGUAGE_RETRIES):  # more English filler, until langdetect reads English
            if self.check(cased, kwargs):
                break
            cased = self.to_case(f"{cased} {rewriting.filler_sentence(rng)}")
        return cased

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.insert_words(text, self.wrong_case_word, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class EnglishCapital(_EnglishCase):
    id = "change_case:english_capital"
    fixes = frozenset({facts.CASE})
    phrasings = (
        "Your entire response should be in English, and in all capital letters.",
        "Write your whole answer in English using only CAPITAL LETTERS.",
        "Answer in English, with every letter in upper case.",
    )

    in_case = staticmethod(str.isupper)
    to_case = staticmethod(str.upper)
    wrong_case_word = "quiet"


@register
class EnglishLowercase(_EnglishCase):
    id = "change_case:english_lowercase"
    fixes = frozenset({facts.CASE})
    phrasings = (
        "Your entire response should be in English, and in all lowercase letters. No capital letters are allowed.",
        "Write your whole answer in English using only lowercase letters.",
        "Answer in English without a single capital letter.",
    )

    in_case = staticmethod(str.islower)
    to_case = staticmethod(str.lower)
    wrong_case_word = "LOUD"


@register
class NoComma(IFEvalConstraint):
    id = "punctuation:no_comma"
    forbidden_characters = ","
    fixes = frozenset()
    expert_phase = rewriting.PUNCTUATION
    phrasings = (
        "In your entire response, refrain from the use of any commas.",
        "Do not use any commas in your answer.",
        "Write your reply without a single comma.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return "," not in response

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.ensure_words(text.replace(", ", " ").replace(",", " "), rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.insert_words(text, ", too,", rng)

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
    fixes = frozenset({facts.LAYOUT, facts.CLOSING})
    word_params = ("end_phrase",)
    expert_phase = rewriting.ENDS
    params = (Param("end_phrase", str),)
    phrasings = (
        'Finish your response with this exact phrase: "{end_phrase}". No other words should follow it.',
        'End your answer with the exact words "{end_phrase}", with nothing after them.',
        'Your reply must conclude with the phrase "{end_phrase}" and nothing else after it.',
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return response.strip().strip('"').lower().endswith(kwargs["end_phrase"].strip().lower())

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return f"{text.rstrip()} {kwargs['end_phrase'].strip()}".strip()

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return f"{text.rstrip()} {rewriting.filler_sentence(rng)}".strip()

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"end_phrase": rng.choice(_END_PHRASES)}


@register
class Quotation(IFEvalConstraint):
    id = "startend:quotation"
    fixes = frozenset({facts.LAYOUT})
    expert_phase = rewriting.WRAPPER
    phrasings = (
        "Wrap your entire response with double quotation marks.",
        'Put your whole answer inside double quotes (").',
        "Enclose the entire reply in double quotation marks.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        stripped = response.strip()
        return len(stripped) > 1 and stripped[0] == '"' and stripped[-1] == '"'

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        body = rewriting.ensure_words(text, rng).strip()
        opening = "" if body.startswith('"') else '"\n' if rewriting.starts_with_marker(body) else '"'
        closing = "" if body.endswith('"') and len(body) > 1 else '"'
        return f"{opening}{body}{closing}"

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.ensure_words(text.strip().strip('"'), rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class TwoResponses(IFEvalConstraint):
    """Exactly two different non-blank answers separated by `******` (blank pieces only at the ends)."""

    id = "combination:two_responses"
    fixes = frozenset({facts.LAYOUT})
    expert_phase = rewriting.WRAPPER
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

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        first = rewriting.ensure_words(re.sub(r"\*{6,}", "", text), rng).strip()
        second = rewriting.filler_text(rng, 2)
        while second == first:
            second = rewriting.filler_text(rng, 2)
        return f"{first}\n******\n{second}"

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.ensure_words(re.sub(r"\*{6,}", "", text), rng)

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
    fixes = frozenset({facts.LAYOUT})
    word_params = ("prompt_to_repeat",)
    expert_phase = rewriting.WRAPPER
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

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return f"{kwargs['prompt_to_repeat'].strip()}\n\n{rewriting.ensure_words(text, rng).strip()}"

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        prompt = kwargs["prompt_to_repeat"].strip().lower()
        body = rewriting.ensure_words(text, rng).strip()
        while body.lower().startswith(prompt):
            body = body[len(prompt) :].strip()
        return f"Sure. {rewriting.ensure_words(body, rng)}"

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"prompt_to_repeat": rng.choice(_REQUESTS)}
