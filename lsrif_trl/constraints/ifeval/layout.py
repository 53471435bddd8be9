"""IFEval constraints on length, paragraphs, sections, markdown structure and other detectable formats."""

from __future__ import annotations

import json
import random
import re
from typing import Any

from lsrif_trl.constraints import facts, rewriting
from lsrif_trl.constraints.base import KwargError, Param
from lsrif_trl.constraints.ifeval.common import (
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
from lsrif_trl.constraints.scans import count_bullet_items, count_placeholders, has_title
from lsrif_trl.constraints.text import sentence_count, sentence_count_bound, word_count

_DIVIDER = re.compile(r"\s?\*\*\*\s?")
_HIGHLIGHT = re.compile(r"\*[^\n\*]*\*")
_DOUBLE_HIGHLIGHT = re.compile(r"\*\*[^\n\*]*\*\*")
# `\s*MARKER.*$` (the reference's pattern) matches exactly where MARKER does, so the prefix is left out.
_PS = re.compile(r"p\.\s?s\.")
_PPS = re.compile(r"p\.\s?p\.\s?s")
_FIRST_WORD_END = frozenset(".,?!'\"")


def _headers(splitter: str) -> re.Pattern[str]:
    """Section headers of this splitter in any case (what an expert removes before writing its own)."""
    return user_pattern(r"\s?" + splitter + r"\s?\d+\s?", re.IGNORECASE)


_PLACEHOLDERS = ("name", "date", "address", "place", "time", "amount")
_ANSWER_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


@register
class NumberSentences(IFEvalConstraint):
    """Punkt sentences number `less than` / `at least` `num_sentences`."""

    id = "length_constraints:number_sentences"
    fixes = frozenset()
    expert_phase = rewriting.SENTENCES
    params = (Param("num_sentences", int, minimum=0, maximum=1000), relation_param())
    relation_fields = ("relation",)
    phrasings = (
        "Your response should contain {relation_words} {num_sentences} sentences.",
        "Answer in {relation_words} {num_sentences} sentences.",
        "Write {relation_words} {num_sentences} sentences in total.",
    )

    def word_bounds(self, kwargs: dict[str, Any]) -> tuple[int, int | None]:
        if kwargs["relation"] == LESS_THAN:
            return facts.NO_WORD_BOUNDS
        return facts.WORDS_PER_SENTENCE * kwargs["num_sentences"], None

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        relation, threshold = kwargs["relation"], kwargs["num_sentences"]
        if sentence_count_bound(response) < threshold:  # settled without running punkt
            return relation == LESS_THAN
        count = sentence_count(response)
        return count is not None and compare(count, relation, threshold)

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        text = rewriting.ensure_words(text, rng)
        threshold = kwargs["num_sentences"]
        if kwargs["relation"] == LESS_THAN:
            target = max(1, threshold - 1 - rng.randint(0, 1))
        else:
            target = threshold + rng.randint(0, 2)
        return rewriting.sentences_to(text, target, rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return self.satisfy(text, {**kwargs, "relation": flipped(kwargs["relation"])}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {
            "num_sentences": rng.randint(2, 20),
            "relation": sample_relation(rng),
        }  # "fewer than 1" is unsatisfiable


@register
class NumberWords(IFEvalConstraint):
    """`\\w+` words number `less than` / `at least` `num_words`."""

    id = "length_constraints:number_words"
    fixes = frozenset()
    expert_phase = rewriting.SENTENCES
    params = (Param("num_words", int, minimum=0, maximum=10_000), relation_param())
    relation_fields = ("relation",)
    phrasings = (
        "Answer with {relation_words} {num_words} words.",
        "Your response should be {relation_words} {num_words} words long.",
        "Use {relation_words} {num_words} words in your reply.",
    )

    def word_bounds(self, kwargs: dict[str, Any]) -> tuple[int, int | None]:
        if kwargs["relation"] == LESS_THAN:
            return 0, kwargs["num_words"] - 1
        return kwargs["num_words"], None

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return compare(word_count(response), kwargs["relation"], kwargs["num_words"])

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        if kwargs["relation"] == LESS_THAN:
            return rewriting.words_at_most(text, max(1, kwargs["num_words"] - 1 - rng.randint(0, 3)), rng)
        return rewriting.words_at_least(text, kwargs["num_words"] + rng.randint(0, 3), rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return self.satisfy(text, {**kwargs, "relation": flipped(kwargs["relation"])}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"num_words": rng.randint(50, 400), "relation": sample_relation(rng)}


@register
class NumberParagraphs(IFEvalConstraint):
    """Exactly `num_paragraphs` non-blank paragraphs separated by `***` (blank ones only at the ends)."""

    id = "length_constraints:number_paragraphs"
    fixes = frozenset({facts.LAYOUT})
    expert_phase = rewriting.PARAGRAPHS
    params = (Param("num_paragraphs", int, minimum=1, maximum=100),)
    phrasings = (
        "There should be {num_paragraphs} paragraphs. Paragraphs are separated with the markdown divider: ***",
        "Write exactly {num_paragraphs} paragraphs and put the markdown divider *** between them.",
        "Your answer must have {num_paragraphs} paragraphs, separated from each other by ***.",
    )

    def word_bounds(self, kwargs: dict[str, Any]) -> tuple[int, int | None]:
        return facts.WORDS_PER_PARAGRAPH * kwargs["num_paragraphs"], None

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        paragraphs = _DIVIDER.split(response)
        count = len(paragraphs)
        for index, paragraph in enumerate(paragraphs):
            if not paragraph.strip():
                if 0 < index < len(paragraphs) - 1:
                    return False
                count -= 1
        return count == kwargs["num_paragraphs"]

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.paragraphs_of(text, kwargs["num_paragraphs"], "\n\n***\n\n", rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return self.satisfy(text, {"num_paragraphs": kwargs["num_paragraphs"] + 1}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"num_paragraphs": rng.randint(2, 5)}


@register
class NthParagraphFirstWord(IFEvalConstraint):
    """`num_paragraphs` non-blank paragraphs split by blank lines, and paragraph `nth_paragraph` opens with a word."""

    id = "length_constraints:nth_paragraph_first_word"
    fixes = frozenset({facts.LAYOUT, facts.OPENING})
    word_params = ("first_word",)
    expert_phase = rewriting.PARAGRAPHS
    params = (
        Param("num_paragraphs", int, minimum=1, maximum=100),
        Param("nth_paragraph", int, minimum=1, maximum=100),
        Param("first_word", str),
    )
    phrasings = (
        "There should be {num_paragraphs} paragraphs. Paragraphs and only paragraphs are separated with each "
        "other by two new lines. Paragraph {nth_paragraph} must start with the word {first_word}.",
        "Write {num_paragraphs} paragraphs separated by blank lines; paragraph number {nth_paragraph} has to "
        'begin with the word "{first_word}".',
        "Your answer needs {num_paragraphs} paragraphs (separate them with an empty line), and the first word of "
        'paragraph {nth_paragraph} must be "{first_word}".',
    )

    def validate(self, kwargs: dict[str, Any] | None) -> dict[str, Any]:
        out = super().validate(kwargs)
        if out["nth_paragraph"] > out["num_paragraphs"]:
            raise KwargError(
                f"{self.id}: kwarg 'nth_paragraph': expected a value <= num_paragraphs ({out['num_paragraphs']}), "
                f"got {out['nth_paragraph']}",
                "nth_paragraph",
            )
        return out

    def word_bounds(self, kwargs: dict[str, Any]) -> tuple[int, int | None]:
        return facts.WORDS_PER_PARAGRAPH * kwargs["num_paragraphs"], None

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        paragraphs = response.split("\n\n")
        count = sum(1 for paragraph in paragraphs if paragraph.strip())
        nth = kwargs["nth_paragraph"]
        # Like the reference, `nth` indexes the raw split (blank pieces included) but is bounded by the count.
        if nth > count:
            return False
        paragraph = paragraphs[nth - 1].strip()
        if not paragraph:
            return False
        word = paragraph.split()[0].lstrip("'").lstrip('"')
        first_word = []
        for char in word:
            if char in _FIRST_WORD_END:
                break
            first_word.append(char.lower())
        return count == kwargs["num_paragraphs"] and "".join(first_word) == kwargs["first_word"].lower()

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        count, nth, word = kwargs["num_paragraphs"], kwargs["nth_paragraph"], kwargs["first_word"]
        parts = text.split("\n\n")  # the check's own split: a right count keeps the layout, only the word moves
        if sum(1 for part in parts if part.strip()) != count or not parts[nth - 1].strip():
            parts = rewriting.paragraphs_of(text, count, "\n\n", rng).split("\n\n")
        if not self.check("\n\n".join(parts), kwargs):
            parts[nth - 1] = rewriting.with_first_word(parts[nth - 1].lstrip("'\""), word, rng)
        return "\n\n".join(parts)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return self.satisfy(text, {**kwargs, "num_paragraphs": kwargs["num_paragraphs"] + 1}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        num_paragraphs = rng.randint(2, 5)
        return {
            "num_paragraphs": num_paragraphs,
            "nth_paragraph": rng.randint(1, num_paragraphs),
            "first_word": rng.choice(SAMPLE_WORDS),
        }


@register
class NumberPlaceholders(IFEvalConstraint):
    """At least `num_placeholders` square-bracket placeholders such as [address]."""

    id = "detectable_content:number_placeholders"
    fixes = frozenset({facts.LAYOUT})
    params = (Param("num_placeholders", int, minimum=0, maximum=100),)
    phrasings = (
        "The response must contain at least {num_placeholders} placeholders in square brackets, such as [address].",
        "Include at least {num_placeholders} placeholders written in square brackets, like [name].",
        "Leave at least {num_placeholders} blanks for the reader, each as a placeholder in square brackets "
        "(e.g. [date]).",
    )

    def word_bounds(self, kwargs: dict[str, Any]) -> tuple[int, int | None]:
        return facts.WORDS_PER_PLACEHOLDER * kwargs["num_placeholders"], None

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return count_placeholders(response) >= kwargs["num_placeholders"]

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        text = rewriting.ensure_words(text, rng)
        for _ in range(kwargs["num_placeholders"] - count_placeholders(text)):
            text = rewriting.insert_words(text, f"[{rng.choice(_PLACEHOLDERS)}]", rng)
        return text

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.ensure_words(text.replace("[", "").replace("]", ""), rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"num_placeholders": rng.randint(2, 4)}


@register
class Postscript(IFEvalConstraint):
    """A postscript starting with the marker (`P.S.` and `P.P.S` tolerate a space after each dot)."""

    id = "detectable_content:postscript"
    fixes = frozenset({facts.LAYOUT, facts.CLOSING})
    word_params = ("postscript_marker",)
    expert_phase = rewriting.ENDS
    params = (Param("postscript_marker", str, regex=True),)
    phrasings = (
        "At the end of your response, please explicitly add a postscript starting with {postscript_marker}",
        "Finish with a postscript that begins with {postscript_marker}",
        "Add a postscript at the very end of your answer, starting with {postscript_marker}",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        marker = kwargs["postscript_marker"].strip()
        if marker == "P.P.S":
            pattern = _PPS
        elif marker == "P.S.":
            pattern = _PS
        else:  # the reference uses any other marker as a regex, followed by `.*$` on one line
            pattern = user_pattern(marker.lower() + r".*$", re.MULTILINE)
        return pattern.search(response.lower()) is not None

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        marker = kwargs["postscript_marker"].strip()
        return f"{text.rstrip()}\n{marker} {rewriting.lower_first(rewriting.filler_sentence(rng))}".strip()

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        for pattern in (_PPS, _PS, re.compile(re.escape(kwargs["postscript_marker"].strip().lower()))):
            text = pattern.sub("note", text.lower()) if pattern.search(text.lower()) else text
        return rewriting.ensure_words(text, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"postscript_marker": rng.choice(("P.S.", "P.P.S"))}


@register
class NumberBulletLists(IFEvalConstraint):
    """Exactly `num_bullets` markdown bullet lines (`* ...` or `- ...`)."""

    id = "detectable_format:number_bullet_lists"
    fixes = frozenset({facts.LAYOUT})
    expert_phase = rewriting.LISTS
    params = (Param("num_bullets", int, minimum=0, maximum=100),)
    phrasings = (
        "Your answer must contain exactly {num_bullets} bullet points. Use markdown bullet points such as:\n"
        "* This is point 1.\n* This is point 2",
        "Format your answer as exactly {num_bullets} markdown bullet points (lines starting with * ).",
        "Write exactly {num_bullets} bullet points in markdown, one per line, each starting with an asterisk.",
    )

    def word_bounds(self, kwargs: dict[str, Any]) -> tuple[int, int | None]:
        return facts.WORDS_PER_BULLET * kwargs["num_bullets"], None

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return count_bullet_items(response) == kwargs["num_bullets"]

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.as_list(text, kwargs["num_bullets"], lambda _: "* ", rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return self.satisfy(text, {"num_bullets": kwargs["num_bullets"] + 1}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"num_bullets": rng.randint(2, 6)}


@register
class ConstrainedResponse(IFEvalConstraint):
    """The response contains one of "My answer is yes." / "... no." / "... maybe."."""

    id = "detectable_format:constrained_response"
    fixes = frozenset({facts.LAYOUT})
    expert_phase = rewriting.ENDS
    phrasings = (
        'Answer with one of the following options: "My answer is yes.", "My answer is no.", "My answer is maybe."',
        'Reply with exactly one of: "My answer is yes.", "My answer is no." or "My answer is maybe."',
        'Your answer must be one of these options: "My answer is yes.", "My answer is no.", "My answer is maybe."',
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        stripped = response.strip()
        return any(option in stripped for option in _ANSWER_OPTIONS)

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return f"{rng.choice(_ANSWER_OPTIONS)} {rewriting.ensure_words(text, rng).strip()}"

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.ensure_words(text.replace("My answer is", "I think"), rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class NumberHighlightedSections(IFEvalConstraint):
    """At least `num_highlights` non-blank `*highlighted*` spans (a `**bold**` span counts twice, as in IFEval)."""

    id = "detectable_format:number_highlighted_sections"
    fixes = frozenset({facts.LAYOUT})
    params = (Param("num_highlights", int, minimum=0, maximum=100),)
    phrasings = (
        "Highlight at least {num_highlights} sections in your answer with markdown, i.e. *highlighted section*.",
        "Use markdown to highlight at least {num_highlights} parts of your answer, like *this part*.",
        "Mark at least {num_highlights} sections of your reply as highlighted with asterisks, e.g. *key idea*.",
    )

    def word_bounds(self, kwargs: dict[str, Any]) -> tuple[int, int | None]:
        return facts.WORDS_PER_HIGHLIGHT * kwargs["num_highlights"], None

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        if "*" not in response:
            return kwargs["num_highlights"] <= 0
        count = sum(1 for span in _HIGHLIGHT.findall(response) if span.strip("*").strip())
        count += sum(1 for span in _DOUBLE_HIGHLIGHT.findall(response) if span[2:-2].strip())
        return count >= kwargs["num_highlights"]

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        text = rewriting.ensure_words(text, rng)
        for _ in range(len(text) + kwargs["num_highlights"]):
            if self.check(text, kwargs):
                break
            text = rewriting.insert_words(
                text, f"*{rng.choice(rewriting.ADJECTIVES)} {rng.choice(rewriting.NOUNS)}*", rng
            )
        return text

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.ensure_words(text.replace("*", ""), rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"num_highlights": rng.randint(2, 4)}


@register
class MultipleSections(IFEvalConstraint):
    """At least `num_sections` section headers `<section_spliter> <number>` (the splitter is a regex)."""

    id = "detectable_format:multiple_sections"
    fixes = frozenset({facts.LAYOUT})
    word_params = ("section_spliter",)
    expert_phase = rewriting.LISTS
    params = (Param("section_spliter", str, regex=True), Param("num_sections", int, minimum=0, maximum=100))
    phrasings = (
        "Your response must have {num_sections} sections. Mark the beginning of each section with "
        "{section_spliter} X, such as:\n{section_spliter} 1\n[content of section 1]\n{section_spliter} 2\n"
        "[content of section 2]",
        "Divide your answer into {num_sections} sections, each starting with a header like "
        "'{section_spliter} 1', '{section_spliter} 2', and so on.",
        "Organize the reply in {num_sections} parts, and begin each part with {section_spliter} followed by its "
        "number.",
    )

    def word_bounds(self, kwargs: dict[str, Any]) -> tuple[int, int | None]:
        return facts.WORDS_PER_PARAGRAPH * kwargs["num_sections"], None

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        splitter = user_pattern(r"\s?" + kwargs["section_spliter"].strip() + r"\s?\d+\s?")
        return len(splitter.split(response)) - 1 >= kwargs["num_sections"]

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        splitter, count = kwargs["section_spliter"].strip(), kwargs["num_sections"]
        plain = rewriting.ensure_words(_headers(splitter).sub(" ", text), rng)
        return rewriting.head_paragraphs(plain, [f"{splitter} {i + 1}" for i in range(count)], rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        splitter, count = kwargs["section_spliter"].strip(), kwargs["num_sections"]
        plain = rewriting.ensure_words(_headers(splitter).sub(" ", text), rng)
        return rewriting.head_paragraphs(plain, [f"{splitter} {i + 1}" for i in range(count - 1)], rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"section_spliter": rng.choice(("Section", "SECTION")), "num_sections": rng.randint(2, 5)}


@register
class JsonFormat(IFEvalConstraint):
    """The response (optionally inside a ``` / ```json fence) parses as JSON."""

    id = "detectable_format:json_format"
    fixes = frozenset({facts.JSON, facts.LAYOUT})
    expert_phase = rewriting.WRAPPER
    phrasings = (
        "Entire output should be wrapped in JSON format. You can use markdown ticks such as ```.",
        "Format your entire answer as valid JSON (a markdown code fence around it is fine).",
        "Your whole reply must be a JSON document; you may put it inside ``` fences.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        body = response.strip()
        for fence in ("```json", "```Json", "```JSON", "```"):
            body = body.removeprefix(fence)
        body = body.removesuffix("```").strip()
        try:
            json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting, not valid for our purpose
            return False
        return True

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        document = json.dumps({"answer": rewriting.ensure_words(text, rng).strip()}, ensure_ascii=False, indent=2)
        return f"```json\n{document}\n```" if rng.random() < 0.5 else document

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return f"Answer: {self.satisfy(text, kwargs, rng)}"

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class Title(IFEvalConstraint):
    """A non-blank title in double angular brackets, such as <<poem of joy>>, on one line."""

    id = "detectable_format:title"
    fixes = frozenset({facts.LAYOUT, facts.OPENING})
    expert_phase = rewriting.ENDS
    phrasings = (
        "Your answer must contain a title, wrapped in double angular brackets, such as <<poem of joy>>.",
        "Give your answer a title inside double angular brackets, like <<my title>>.",
        "Start with a title written between << and >>, for example <<a day at sea>>.",
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        return has_title(response)

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        words = rng.sample(rewriting.TITLE_WORDS, 2)
        return f"<<{words[0].capitalize()} and {words[1]}>>\n{rewriting.ensure_words(text, rng).lstrip()}"

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.ensure_words(text.replace("<<", "").replace(">>", ""), rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}
