"""The category of every prompt token: from the builder's `spans` column, or a documented word-list fallback.

A row built by `lsrif data build` records the character ranges of its connectors, constraints, action verbs and
task/passage (`spans`); they are mapped onto the chat-templated prompt's tokens through the tokenizer's offsets.
A token takes the category holding most of its non-space characters; template tokens, the system prompt, list
markers and the like are "other". A row without spans (another dataset, an LLM-reworded prompt) falls back to word
lists: a word in `FALLBACK_CONNECTORS` is a connector, one in the renderer's ACTION_VERBS a verb (any case), and
everything else "other": the fallback cannot tell constraint text from the task, so those two stay empty.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from lsrif_trl.data.render import ACTION_VERBS, SPAN_CATEGORIES
from lsrif_trl.data.tagged import OTHER

CATEGORIES = (*SPAN_CATEGORIES, OTHER)
# The renderer's own connective words (First, Then, Next, Finally, Also, Otherwise, ...) plus the usual ones of
# hand-written instructions.
# fmt: off
FALLBACK_CONNECTORS = frozenset({
    "if", "then", "else", "otherwise", "unless", "when", "whenever", "first", "second", "third", "next", "after",
    "afterwards", "before", "finally", "last", "lastly", "also", "additionally", "moreover", "furthermore", "besides",
})
# fmt: on
_VERBS = frozenset(verb.lower() for verb in ACTION_VERBS)
_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class CategorizedPrompt:
    """A templated prompt's token ids, one category index (into CATEGORIES) per token, and where they came from."""

    input_ids: list[int]
    categories: list[int]
    source: str  # "spans" or "word_list"


def _prompt_messages(prompt: Any) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)


def _row_spans(row: dict[str, Any], content: str, where: str) -> dict[str, list[list[int]]] | None:
    """The row's spans, checked against its last message; None when the row has none."""
    spans = row.get("spans")
    if not spans:
        return None
    try:
        spans = json.loads(spans) if isinstance(spans, str) else spans
        ranges = [(name, int(start), int(end)) for name, pairs in spans.items() for start, end in pairs]
    except (ValueError, TypeError, AttributeError) as err:
        raise ValueError(f"{where}: spans: not a JSON object of [start, end] lists ({err})") from None
    for name, start, end in ranges:
        if name not in CATEGORIES:
            raise ValueError(f"{where}: spans: unknown category {name!r} (known: {', '.join(CATEGORIES)})")
        if not 0 <= start <= end <= len(content):
            raise ValueError(
                f"{where}: spans: {name} [{start}, {end}] lies outside the {len(content)}-character prompt; the prompt "
                "was changed after the builder wrote its spans (set the row's spans to null to use the word lists)"
            )
    return spans


def word_list_spans(text: str) -> dict[str, list[list[int]]]:
    """Connector and verb character ranges of `text` by the fallback word lists."""
    found: dict[str, list[list[int]]] = {}
    for word in _WORD.finditer(text):
        lower = word.group().lower()
        category = "connector" if lower in FALLBACK_CONNECTORS else "verb" if lower in _VERBS else None
        if category:
            found.setdefault(category, []).append([word.start(), word.end()])
    return found


def char_categories(length: int, spans: dict[str, list[list[int]]], offset: int = 0) -> list[int]:
    """One category index per character of a text of `length`, the spans placed at `offset`."""
    chars = [CATEGORIES.index(OTHER)] * length
    for name, ranges in spans.items():
        index = CATEGORIES.index(name)
        for start, end in ranges:
            chars[offset + start : offset + end] = [index] * (end - start)
    return chars


def categorize(tokenizer: Any, row: dict[str, Any], where: str = "row") -> CategorizedPrompt:
    """The row's prompt with the generation prompt, tokenized, and each token's category; errors name `where`."""
    messages = _prompt_messages(row["prompt"])
    content = messages[-1]["content"]
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    offset = text.rfind(content)
    if offset < 0:
        raise ValueError(f"{where}: the chat template changed the last message's text; its spans cannot be placed")
    spans = _row_spans(row, content, where)
    source = "spans" if spans is not None else "word_list"
    chars = char_categories(len(text), spans if spans is not None else word_list_spans(content), offset)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    categories = []
    for start, end in encoded["offset_mapping"]:
        counts = Counter(chars[i] for i in range(start, end) if not text[i].isspace())
        categories.append(counts.most_common(1)[0][0] if counts else CATEGORIES.index(OTHER))
    return CategorizedPrompt(list(encoded["input_ids"]), categories, source)
