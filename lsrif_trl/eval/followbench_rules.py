"""FollowBench's rule-based checks (Jiang et al., ACL 2024), with the semantics of the official
`code/rule_based_evaluation.py`: which rows they score, and the verdict of each check on a response.

A rule row is a level >= 1 row whose `source` names a checker below, or a `format` row of example_id 22 or 30; in
the English data that is 350 rows (every `example` row, and 150 of the others). Checks match the reference exactly,
quirks included: sentences are the non-empty pieces between `.`, `!` and `?`; words are `split(' ')` or `split()`
as the reference uses them; the example template's `{answer}` wildcard does not cross a newline.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Callable
from typing import Protocol

FORMAT_RULE_IDS = (22, 30)
Check = Callable[[str], bool]


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"[.!?]", text) if s]


def contains_word(text: str, word: str) -> bool:
    """`word` as a whole word (case-sensitive)."""
    return re.search(r"\b" + re.escape(word) + r"\b", text) is not None


def _sentence_count(n: int) -> Check:
    return lambda text: len(_sentences(text)) == n


def _sentences_shorter_than(n: int) -> Check:
    return lambda text: all(len(s.split()) < n for s in _sentences(text))


def _sentences_longer_than(text: str, n: int) -> bool:
    return all(len(s.split()) > n for s in _sentences(text))


def _nth_sentence(text: str, n: int, test: Callable[[str], bool]) -> bool:
    sentences = _sentences(text)
    return len(sentences) >= n and test(sentences[n - 1])


def _present_perfect(sentence: str) -> bool:
    return re.search(r"\b(has|have)\s+\w+", sentence) is not None


def _present_continuous(text: str) -> bool:
    return re.search(r"\b(am|is|are)\s+\w+ing\b", text) is not None


def _space_words(text: str) -> int:
    return len(text.split(" "))


def _has(word: str) -> Check:
    return lambda text: contains_word(text, word)


def _lacks(word: str) -> Check:
    return lambda text: not contains_word(text, word)


# The summarisation rows of the mixed file: the constraint added at each level, checked cumulatively.
CUMULATIVE: dict[str, list[Check]] = {
    "cnn_dailymail": [
        _sentence_count(3),
        _sentences_shorter_than(15),
        lambda t: (
            _nth_sentence(t, 1, _has("Potter"))
            and _nth_sentence(t, 2, _has("actor"))
            and _nth_sentence(t, 3, _has("films"))
        ),
        lambda t: not _nth_sentence(t, 2, _has("lavish")),
        lambda t: _nth_sentence(t, 3, _present_perfect),
    ],
    "xsum": [
        _sentence_count(1),
        lambda t: _space_words(t) < 20,
        _lacks("Newton Stewart"),
        _present_continuous,
        _has("operation"),
    ],
    "samsum": [
        _sentence_count(1),
        lambda t: _space_words(t) < 15,
        _has("stuff"),
        lambda t: re.search("procrast", t, re.IGNORECASE) is None,
        lambda t: sum(c in string.punctuation for c in t) == 1,
    ],
    "gigaword": [
        lambda t: _space_words(t) == 8,
        lambda t: not any(c in string.punctuation for c in t),
        str.islower,
        _lacks("bus"),
        _has("in"),
    ],
    "arxiv": [
        _sentence_count(1),
        lambda t: _space_words(t) <= 20,
        lambda t: t[:2] == "We",
        _has("activations"),
        _lacks("transformer"),
    ],
}


def _last_match(pattern: str, text: str, target: str) -> bool:
    found = re.findall(pattern, text)
    return bool(found) and found[-1] == target


def _conll_entities(target: str) -> list[str]:
    value = ast.literal_eval(target)  # a list literal of strings written by the benchmark's authors (data, not output)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"CONLL2003 target is not a list of strings: {target[:80]!r}")
    return value


# Checkers that compare with the row's `target`.
TARGETED: dict[str, Callable[[str, str], bool]] = {
    "E2E": lambda text, target: text == target,
    "text_editing": lambda text, target: text == target,
    "WIKIEVENTS": lambda text, target: all(line in target.split("\n") for line in text.split("\n")),
    "CONLL2003": lambda text, target: text in _conll_entities(target),
    "BBH_logical": lambda text, target: _last_match(r"\([A-Z]\)", text, target),
    "BBH_time": lambda text, target: _last_match(r"\d{2}/\d{2}/\d{4}", text, target),
    "self_made_space": lambda text, target: target in text,
    "gsm_8k": lambda text, target: _last_match(r"\$\d+", text, target),
}
RULE_SOURCES = frozenset(CUMULATIVE) | frozenset(TARGETED)


def _format_22(text: str, level: int) -> bool:
    paragraphs = text.split("\n\n")
    if level == 5:  # the reference asks for a fourth paragraph (the closing phrase) at level 5
        if len(paragraphs) != 4:
            return False
    elif len(paragraphs) != 3:
        return False
    if level == 1:
        return True
    if not all(len(_sentences(p)) < 3 for p in paragraphs[:3]):
        return False
    if level >= 3 and not _sentences_longer_than(text, 20):
        return False
    if level >= 4 and not all(re.match(r"\d+\.", p.lstrip()) for p in paragraphs if p.lstrip()):
        return False
    return level < 5 or text.endswith("Those are suggestions")


def _format_30(text: str, level: int) -> bool:
    sentences = re.split(r"(?<!\w\.\w.)(?<![A-Z][a-z]\.)(?<=\.|\?)\s", text)
    keyword_sentences = [s for s in sentences if any(f"{n}." in s for n in range(1, 6))]
    checks = [
        lambda: "**" in text,
        lambda: len(re.findall(r"\*\*[\d].+?:", text)) == 5,
        lambda: all(len(s.split(".")) < 3 for s in keyword_sentences),
        lambda: all(10 <= len(s.split()) <= 15 for s in sentences),
        lambda: all(not word.endswith("-ly") for s in sentences for word in s.split()),
    ]
    return all(check() for check in checks[:level])


def example_template_matches(target: str, response: str) -> bool:
    """The `example` rows: the response must fully match `target` (minus its `{instruction}` line), `{answer}`
    matching anything within one line."""
    template = target.replace("{instruction}\n", "").replace("{{", "{").replace("}}", "}").replace("{answer}", ".*")
    pattern = re.escape(template).replace("\\.\\*", ".*")
    return re.fullmatch(pattern, response) is not None


class Row(Protocol):
    """The fields of a FollowBench row the rules read."""

    category: str
    example_id: int
    level: int
    source: str
    target: str


def is_rule_row(category: str, example_id: int, level: int, source: str) -> bool:
    """Whether the official code scores this row by rules (everything else at level >= 1 goes to the judge)."""
    if level < 1:
        return False
    if category == "example":
        return True
    return source in RULE_SOURCES or (category == "format" and example_id in FORMAT_RULE_IDS)


def rule_verdict(row: Row, response: str) -> bool:
    """The official rule verdict of `response` on a rule row."""
    if row.category == "example":
        return example_template_matches(row.target, response)
    if row.category == "format" and row.example_id in FORMAT_RULE_IDS:
        return (_format_22 if row.example_id == 22 else _format_30)(response, row.level)
    if row.source in CUMULATIVE:
        return all(check(response) for check in CUMULATIVE[row.source][: row.level])
    return TARGETED[row.source](response, row.target)
