"""Training constraints on layout: bracketed sentences or word pairs, hyphen lines, lists, titles, Q&A, tables."""

from __future__ import annotations

import random
import re
from typing import Any

from lsrif_trl.constraints import facts, rewriting
from lsrif_trl.constraints.base import Param
from lsrif_trl.constraints.registry import register
from lsrif_trl.constraints.text import sentences
from lsrif_trl.constraints.training_common import LAYOUTS, TrainingConstraint, nonblank_lines, words

# Formats that leave no character outside their markup clash with any marker another constraint adds.
_MARKUP_EVERYWHERE = LAYOUTS | {
    "format:bracketed_title",
    "startend:quotation",
    "startend:end_checker",
    "detectable_content:postscript",
    "detectable_content:number_placeholders",
    "detectable_format:title",
    "detectable_format:multiple_sections",
    "length_constraints:number_paragraphs",
    "length_constraints:nth_paragraph_first_word",
}
# Each alternative starts with a character the previous part cannot match, so full matches never backtrack.
_BRACKETED_SENTENCES = re.compile(r"(?:\[[^\[\]]+\]\s*)+")
_BRACKET_SEGMENT = re.compile(r"\[([^\[\]]+)\]")
_ANGLED_PAIRS = re.compile(r"(?:<<[^<>]+>>\s*)+")
_ANGLED_SEGMENT = re.compile(r"<<([^<>]+)>>")
_NUMBERED_ITEM = re.compile(r"^[ \t]*(\d{1,6})[.)][ \t]+\S", re.MULTILINE)
_WORD_CHARACTER = re.compile(r"[^\W_]")
_QA_MARKER = re.compile(r"([QA]):\s*(\S?)")
_TABLE_SEPARATOR = re.compile(r"\|(?:[ \t]*:?-{3,}:?[ \t]*\|)+")


@register
class BracketEverySentence(TrainingConstraint):
    """The whole response is sentences each wrapped in its own square brackets: `[One.] [Two.]`."""

    id = "format:bracket_every_sentence"
    fixes = frozenset({facts.LAYOUT})
    expert_phase = rewriting.WRAPPER
    phrasings = (
        "Wrap every sentence in square brackets, like [This is a sentence.]",
        "Put each of your sentences inside its own pair of square brackets; nothing may stand outside them.",
        "Enclose every single sentence in [square brackets].",
    )
    conflicts_with = _MARKUP_EVERYWHERE

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        text = response.strip()
        if not _BRACKETED_SENTENCES.fullmatch(text):
            return False
        return all(words(s) and len(sentences(s.strip())) == 1 for s in _BRACKET_SEGMENT.findall(text))

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        plain = rewriting.ensure_words(re.sub(r"[\[\]]", "", text), rng)
        found = [s.strip() for s in sentences(plain) or () if words(s)] or [rewriting.short_sentence(rng)]
        return " ".join(f"[{sentence}]" for sentence in found)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.ensure_words(re.sub(r"[\[\]]", "", text), rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class BigramBrackets(TrainingConstraint):
    """The whole response is word pairs wrapped in double angle brackets: `<<I am>> <<at home>>`."""

    id = "format:bigram_brackets"
    fixes = frozenset({facts.LAYOUT})
    expert_phase = rewriting.WRAPPER
    phrasings = (
        "Wrap every pair of consecutive words in double angular brackets, like <<I am>> <<at home>> <<today .>>",
        "Split your response into two-word groups, each enclosed in << and >>; only the last group may hold "
        "a single word.",
        "Write everything as word pairs in double angle brackets, for example <<the cat>> <<sat down>>.",
    )
    conflicts_with = _MARKUP_EVERYWHERE | {"repeat:phrase_times"}  # `>> <<` would cut the phrase

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        text = response.strip()
        if not _ANGLED_PAIRS.fullmatch(text):
            return False
        sizes = [len(segment.split()) for segment in _ANGLED_SEGMENT.findall(text)]
        return all(size == 2 for size in sizes[:-1]) and sizes[-1] in (1, 2)

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        tokens = rewriting.ensure_words(re.sub(r"[<>]", " ", text), rng).split()
        return " ".join(f"<<{' '.join(tokens[i : i + 2])}>>" for i in range(0, len(tokens), 2))

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.ensure_words(re.sub(r"[<>]", "", text), rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class HyphenLines(TrainingConstraint):
    """At least two lines, each one a single sentence that starts with `- `; no other lines."""

    id = "format:hyphen_lines"
    fixes = frozenset({facts.LAYOUT})
    expert_phase = rewriting.WRAPPER
    phrasings = (
        "Put every sentence on its own line, starting with a hyphen and a space ('- ').",
        "Write one sentence per line and begin each line with '- '; write nothing else.",
        "Format the answer as lines of the form '- <one sentence>'.",
    )
    conflicts_with = _MARKUP_EVERYWHERE

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        lines = nonblank_lines(response)
        return len(lines) >= 2 and all(
            line.startswith("- ") and words(line) and len(sentences(line[2:].strip())) == 1 for line in lines
        )

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        found = rewriting.padded(rewriting.prose_sentences(text, rng), 2, rng)
        return "\n".join(f"- {sentence}" for sentence in found)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return " ".join(rewriting.prose_sentences(text, rng))

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class NumberedList(TrainingConstraint):
    """A numbered list of exactly `num_items` items, numbered 1, 2, ... in order (`1.` or `1)`)."""

    id = "format:numbered_list"
    fixes = frozenset({facts.LAYOUT})
    expert_phase = rewriting.LISTS
    params = (Param("num_items", int, minimum=1, maximum=100),)
    phrasings = (
        "Include a numbered list with exactly {num_items} item{num_items_s} (1., 2., ...).",
        "Present your main points as a numbered list of {num_items} item{num_items_s}.",
        "Your response must contain exactly {num_items} numbered item{num_items_s}, numbered from 1 in order.",
    )
    conflicts_with = LAYOUTS | {"punctuation:no_period", "startend:quotation"}  # "1." items; quote at start

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        numbers = [int(n) for n in _NUMBERED_ITEM.findall(response)]
        return numbers == list(range(1, kwargs["num_items"] + 1))

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.as_list(text, kwargs["num_items"], lambda i: f"{i + 1}. ", rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return self.satisfy(text, {"num_items": kwargs["num_items"] + 1}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"num_items": rng.randint(3, 8)}


@register
class BracketedTitle(TrainingConstraint):
    """The first line is a title in double square brackets (`[[Title]]`), followed by the body."""

    id = "format:bracketed_title"
    fixes = frozenset({facts.LAYOUT, facts.OPENING})
    expert_phase = rewriting.ENDS
    phrasings = (
        "Give your response a title in double square brackets on the first line, such as [[A Day at Sea]].",
        "Start with a title wrapped in double square brackets, e.g. [[My Title]], then write the rest below it.",
        "The first line must be a title enclosed in [[ and ]].",
    )
    conflicts_with = frozenset(
        {"format:bracket_every_sentence", "format:bigram_brackets", "format:hyphen_lines", "startend:quotation"}
    )

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        lines = nonblank_lines(response)
        if len(lines) < 2 or not (lines[0].startswith("[[") and lines[0].endswith("]]")):
            return False
        title = lines[0][2:-2]
        return "[" not in title and "]" not in title and bool(_WORD_CHARACTER.search(title))

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        first, second = rng.sample(rewriting.TITLE_WORDS, 2)
        body = rewriting.ensure_words(text, rng).lstrip()
        return f"[[{first.capitalize()} and {second}]]\n{body}"

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return rewriting.ensure_words(text.replace("[[", "").replace("]]", ""), rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {}


@register
class QAPairs(TrainingConstraint):
    """Exactly `num_pairs` question-answer pairs: lines starting `Q:` and `A:`, alternating, none empty."""

    id = "format:qa_pairs"
    fixes = frozenset({facts.LAYOUT})
    expert_phase = rewriting.LISTS
    params = (Param("num_pairs", int, minimum=1, maximum=100),)
    phrasings = (
        "Format the response as exactly {num_pairs} question-and-answer pair{num_pairs_s}, each question on a line "
        "starting with 'Q:' and its answer on a line starting with 'A:'.",
        "Write {num_pairs} Q&A pair{num_pairs_s}: a line beginning 'Q:' followed by a line beginning 'A:'.",
        "Structure your answer as an FAQ of {num_pairs} question{num_pairs_s} and answer{num_pairs_s}, using 'Q:' and 'A:' at the start of lines.",
    )
    conflicts_with = LAYOUTS | {"startend:quotation"}  # an opening quote would hide the markup

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        markers = [_QA_MARKER.match(line) for line in nonblank_lines(response)]
        found = [(m.group(1), m.group(2)) for m in markers if m]
        expected = ["Q", "A"] * kwargs["num_pairs"]
        return [kind for kind, _ in found] == expected and all(text for _, text in found)

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        plain = re.sub(r"^([ \t]*)[QA]:", r"\1", text, flags=re.MULTILINE)
        return rewriting.as_list(plain, 2 * kwargs["num_pairs"], lambda i: "A: " if i % 2 else "Q: ", rng)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return self.satisfy(text, {"num_pairs": kwargs["num_pairs"] + 1}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"num_pairs": rng.randint(2, 5)}


@register
class MarkdownTable(TrainingConstraint):
    """One markdown table: a header row, a `|---|` separator, and exactly `num_rows` rows of `num_columns` cells."""

    id = "format:markdown_table"
    fixes = frozenset({facts.LAYOUT})
    expert_phase = rewriting.LISTS
    params = (Param("num_rows", int, minimum=1, maximum=100), Param("num_columns", int, minimum=1, maximum=100))
    phrasings = (
        "Include a markdown table with {num_columns} columns and {num_rows} row{num_rows_s} below the header.",
        "Present the key information in one markdown table: a header row, then {num_rows} row{num_rows_s} of "
        "{num_columns} columns each.",
        "Add exactly one markdown table ({num_columns} columns, {num_rows} data row{num_rows_s}).",
    )
    conflicts_with = LAYOUTS | {"startend:quotation"}  # an opening quote would hide the markup

    def check(self, response: str, kwargs: dict[str, Any]) -> bool:
        blocks: list[list[str]] = []
        previous_was_row = False
        for line in response.splitlines():
            row = line.strip()
            is_row = len(row) >= 2 and row.startswith("|") and row.endswith("|")
            if is_row:
                if not previous_was_row:
                    blocks.append([])
                blocks[-1].append(row)
            previous_was_row = is_row
        if len(blocks) != 1 or len(blocks[0]) < 2 or not _TABLE_SEPARATOR.fullmatch(blocks[0][1]):
            return False
        table = blocks[0]
        return len(table) - 2 == kwargs["num_rows"] and all(
            len(row[1:-1].split("|")) == kwargs["num_columns"] for row in table
        )

    def satisfy(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("|")).strip()
        columns = kwargs["num_columns"]

        def row(cells: list[str]) -> str:
            return "| " + " | ".join(cells) + " |"

        table = [row([rewriting.NOUNS[c % len(rewriting.NOUNS)].capitalize() for c in range(columns)])]
        table.append("|" + "---|" * columns)
        table += [row([rng.choice(rewriting.ADJECTIVES) for _ in range(columns)]) for _ in range(kwargs["num_rows"])]
        return f"{rewriting.ensure_words(body, rng)}\n\n" + "\n".join(table)

    def violate(self, text: str, kwargs: dict[str, Any], rng: random.Random) -> str:
        return self.satisfy(text, {**kwargs, "num_rows": kwargs["num_rows"] + 1}, rng)

    def sample_kwargs(self, rng: random.Random) -> dict[str, Any]:
        return {"num_rows": rng.randint(2, 6), "num_columns": rng.randint(2, 4)}
