"""Text edits the constraints' experts share: filler prose, word insertion and removal, sentence counts.

An expert (`Constraint.satisfy` / `Constraint.violate`) rewrites a text so a check passes or fails. The edits
here change as little as they can: words go inside a sentence (never first or last word of the text),
sentences are added after the first one and merged by dropping an interior full stop, so an edit made for
one constraint seldom undoes another. Filler words come from a small vocabulary that shares no word or
substring with the constraints' own samplers (tests check it), so filler never adds a keyword or a phrase.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

# Expert phases: the tree expert applies rewrites in this order (content first, wrappers and case last), so a
# later rewrite keeps what an earlier one made true: paragraphs are cut before lists fill the last one, and
# openings, closings, wrappers and case touch only the ends or the letters.
CONTENT, SENTENCES, PARAGRAPHS, LISTS, PUNCTUATION, ENDS, WRAPPER, CASE = range(8)

SUBJECTS = ("We", "You", "They", "Our friends", "The kids", "Most people", "The guests", "Your team")
VERBS = ("like", "need", "build", "share", "find", "keep", "want", "fix", "draw", "pick")
ADJECTIVES = ("good", "clear", "calm", "quick", "fresh", "plain", "kind", "warm", "bold", "neat")
NOUNS = ("plans", "tools", "ideas", "notes", "paths", "songs", "games", "maps", "books", "cups")
PRONOUNS = ("we", "you", "they")
MANNERS = ("care", "pride", "ease", "friends", "patience")
_GLUE = ("the", "and", "them", "with")
FILLER_WORDS = frozenset(
    w.lower() for part in (*SUBJECTS, *VERBS, *ADJECTIVES, *NOUNS, *PRONOUNS, *MANNERS, *_GLUE) for w in part.split()
)
TITLE_WORDS = ("notes", "plans", "ideas", "maps", "songs", "paths")

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# A sentence end the experts may edit: a full stop, question or exclamation mark after two word characters,
# followed by whitespace (so never the text's last mark, never the dots of `P.S.`).
_INTERIOR_END = re.compile(r"(?<=\w\w)[.!?](?=\s)")
_SAME_LINE_END = re.compile(r"(?<=\w\w)[.!?] (?=[A-Z])")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n(?:[ \t]*\*\*\*[ \t]*\n[ \t]*\n)?")
_LINE_MARKER = re.compile(r"^[ \t]*(?:[*-][ \t]*|\d+[.)][ \t]+|\*\*\*[ \t]*$)", re.MULTILINE)


def filler_sentence(rng: random.Random, avoid: str = "") -> str:
    """One plain English sentence of filler (`We like the good plans and they share them with care.`); with
    `avoid`, only words without those letters, which leaves a shorter, less fluent sentence."""
    if avoid:
        bad = set(avoid.lower())
        pool = [w for w in FILLER_WORDS if not set(w) & bad]
        return " ".join(rng.sample(pool, min(4, len(pool)))).capitalize() + "." if pool else ""
    parts = (
        rng.choice(SUBJECTS), rng.choice(VERBS), "the", rng.choice(ADJECTIVES), rng.choice(NOUNS), "and",
        rng.choice(PRONOUNS), rng.choice(VERBS), "them with", rng.choice(MANNERS),
    )  # fmt: skip
    return " ".join(parts) + "."


def lower_first(sentence: str) -> str:
    """The sentence with its first letter in lower case (so punkt reads it as continuing the one before)."""
    return sentence[:1].lower() + sentence[1:]


def filler_text(rng: random.Random, sentences: int) -> str:
    """`sentences` filler sentences in one paragraph."""
    return " ".join(filler_sentence(rng) for _ in range(sentences))


def has_words(text: str) -> bool:
    """Whether the text holds at least one word."""
    return _WORD.search(text) is not None


def ensure_words(text: str, rng: random.Random) -> str:
    """The text, or a filler sentence when it holds no word (an expert needs something to edit)."""
    return text if has_words(text) else filler_sentence(rng)


def insert_words(text: str, phrase: str, rng: random.Random) -> str:
    """`phrase` inside the text: before an interior sentence end, or after the first word; never first or last.

    The insertion point is drawn with `rng` among the interior sentence ends (they keep every other word in
    place and add no sentence); a text with none gets the phrase after its first word."""
    text = ensure_words(text, rng)
    ends = list(_INTERIOR_END.finditer(text))
    if ends:
        at = rng.choice(ends).start()
        return f"{text[:at]} {phrase}{text[at:]}"
    first = _WORD.search(text)
    assert first is not None
    return f"{text[: first.end()]} {phrase}{text[first.end() :]}"


def remove_matches(text: str, pattern: re.Pattern[str], keep: int = 0) -> str:
    """The text without the matches of `pattern` after the first `keep` (each with one space before it)."""
    seen = 0

    def drop(match: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        return match.group(0) if seen <= keep else ""

    spaced = re.compile(r"[ \t]?(?:" + pattern.pattern + ")", pattern.flags)
    return spaced.sub(drop, text)


def add_sentences(text: str, count: int, rng: random.Random) -> str:
    """The text with `count` filler sentences after its first sentence (appended when it has no interior end)."""
    if count <= 0:
        return text
    extra = filler_text(rng, count)
    end = _INTERIOR_END.search(text)
    if end is None:
        stripped = text.rstrip()
        if not stripped or stripped[-1] not in ".!?":
            stripped += "."
        return f"{stripped} {extra}{text[len(text.rstrip()) :]}"
    at = end.end()
    return f"{text[:at]} {extra}{text[at:]}"


def merge_sentences(text: str, count: int) -> str:
    """The text with up to `count` interior sentence ends removed, so two sentences read as one.

    On one line, `plans. They` becomes `plans and they`; at a line break the mark is dropped, keeping the layout."""
    for _ in range(count):
        same_line = _SAME_LINE_END.search(text)
        if same_line:
            at = same_line.start()
            text = f"{text[:at]} and {text[at + 2].lower()}{text[at + 3 :]}"
            continue
        end = _INTERIOR_END.search(text)
        if end is None:
            break
        text = text[: end.start()] + text[end.end() :]
    return text


def prose_sentences(text: str, rng: random.Random) -> list[str]:
    """The text's sentences with line markers (bullets, numbers, `***` dividers) removed, one per item."""
    plain = _LINE_MARKER.sub("", text)
    pieces = [p.strip() for p in re.split(r"(?<=[.!?])\s+|\n\s*\n", plain) if p.strip()]
    return [p for p in pieces if has_words(p)] or [filler_sentence(rng)]


def padded(sentences: list[str], count: int, rng: random.Random) -> list[str]:
    """At least `count` sentences: the given ones, then filler."""
    return sentences + [filler_sentence(rng) for _ in range(count - len(sentences))]


def group(items: list[str], parts: int) -> list[list[str]]:
    """`items` cut into `parts` consecutive non-empty groups, as even as possible (needs len(items) >= parts)."""
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (i < extra)
        out.append(items[start:end])
        start = end
    return out


def before_final_punctuation(text: str, addition: str) -> str:
    """`addition` after the text's last word, before any punctuation and whitespace that close the text."""
    found = list(_WORD.finditer(text))
    if not found:
        return f"{text} {addition}".strip()
    end = found[-1].end()
    return f"{text[:end]} {addition}{text[end:]}"


def other_word(word: str, rng: random.Random) -> str:
    """A filler word different from `word` (ignoring case)."""
    return rng.choice([w for w in NOUNS if w != word.casefold()])


def starts_with_marker(text: str) -> bool:
    """Whether the text's first line starts with a line marker (a bullet, a number, a divider) a prefix would hide."""
    return _LINE_MARKER.match(text) is not None or text.lstrip().startswith(("|", "Q:", "#"))


def sentences_to(text: str, target: int, rng: random.Random) -> str:
    """The text with exactly `target` punkt sentences (filler added after the first, or interior ends merged)."""
    from lsrif_trl.constraints.text import sentence_count

    for _ in range(8):
        count = sentence_count(text) or 0
        if count == target:
            return text
        if count < target:
            text = add_sentences(text, target - count, rng)
        else:
            merged = merge_sentences(text, count - target)
            if merged == text:
                break
            text = merged
    if "\n" in text.strip():
        return text  # the layout holds the remaining ends; rebuilding the prose would lose it
    sentences = padded(prose_sentences(text, rng), target, rng)
    return " ".join([*sentences[: target - 1], " ".join(s.rstrip(".!?") for s in sentences[target - 1 :]) + "."])


def paragraphs_of(text: str, count: int, separator: str, rng: random.Random) -> str:
    """The text's sentences spread over `count` paragraphs (filler when too few) joined by `separator`."""
    sentences = padded(prose_sentences(text, rng), count, rng)
    return separator.join(" ".join(part) for part in group(sentences, count))


def as_list(text: str, count: int, marker: Callable[[int], str], rng: random.Random) -> str:
    """The text's last paragraph as its leading sentences (if it has some to spare) and `count` list lines, line
    i prefixed by `marker(i)` (filler lines when it has too few sentences); earlier paragraphs are kept."""
    breaks = list(_PARAGRAPH_BREAK.finditer(text))
    head, last = (text[: breaks[-1].end()], text[breaks[-1].end() :]) if breaks else ("", text)
    sentences = padded(prose_sentences(last, rng), count, rng)
    intro, items = sentences[: len(sentences) - count], sentences[len(sentences) - count :]
    listed = "\n".join(marker(i) + item for i, item in enumerate(items))
    return head + (f"{' '.join(intro)}\n{listed}" if intro else listed)


def with_first_word(text: str, word: str, rng: random.Random) -> str:
    """The text with `word` put before its first word (that word then starts lower-case unless it is `I`)."""
    text = ensure_words(text, rng)
    first = _WORD.search(text)
    assert first is not None
    old = first.group(0)
    kept = old if old == "I" or old.isupper() and len(old) > 1 else old[0].lower() + old[1:]
    return f"{text[: first.start()]}{word} {kept}{text[first.end() :]}"
