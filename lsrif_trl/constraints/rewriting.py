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
_POSTSCRIPT_END = re.compile(r"((?:p\.\s?)+s\.)\s+(?=\w)", re.IGNORECASE)
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


def short_sentence(rng: random.Random) -> str:
    """A five-word filler sentence (`They like the good plans.`): what padding adds, so word budgets hold."""
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} the {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}."


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
    place and add no sentence), past the first sentence when there are two or more (a copy of the first
    sentence then adds no count); a text with none gets the phrase after its first word of two letters or more
    (so never inside a marker such as `P.S.`)."""
    text = ensure_words(text, rng)
    ends = list(_INTERIOR_END.finditer(text))
    ends = ends[1:] if len(ends) > 1 else ends
    if ends:
        at = rng.choice(ends).start()
        return f"{text[:at]} {phrase}{text[at:]}"
    found = list(_WORD.finditer(text))
    first = next((m for m in found if len(m.group(0)) > 1 and text[m.end() : m.end() + 1] != "."), found[0])
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
    extra = " ".join(short_sentence(rng) for _ in range(count))
    end = _INTERIOR_END.search(text)
    if end is None:
        stripped = text.rstrip()
        if not stripped or stripped[-1] not in ".!?":
            stripped += "."
        return f"{stripped} {extra}{text[len(text.rstrip()) :]}"
    at = end.end()
    return f"{text[:at]} {extra}{text[at:]}"


def drop_filler_sentence(text: str) -> str:
    """The text without one interior sentence made only of filler words (it holds nothing another constraint
    asked for), or unchanged."""
    for match in _INTERIOR_SENTENCE.finditer(text):
        if all(w.lower() in FILLER_WORDS for w in _WORD.findall(match.group(0))):
            return text[: match.start()] + text[match.end() :]
    return text


def merge_sentences(text: str, count: int) -> str:
    """The text with up to `count` interior sentence ends removed, so two sentences read as one.

    On one line, `plans. They` becomes `plans and they`; at a line break the mark is dropped, keeping the layout;
    after a postscript marker the space goes (`P.S.we`), the one end punkt makes there."""
    for _ in range(count):
        same_line = _SAME_LINE_END.search(text)
        if same_line:
            at = same_line.start()
            text = f"{text[:at]} and {text[at + 2].lower()}{text[at + 3 :]}"
            continue
        end = _INTERIOR_END.search(text)
        if end is not None:
            text = text[: end.start()] + text[end.end() :]
            continue
        marker = _POSTSCRIPT_END.search(text)  # punkt ends a sentence at `P.S. `, but not at `P.S.` + word
        if marker is None:
            break
        text = text[: marker.end(1)] + text[marker.end() :]
    return text


def prose_sentences(text: str, rng: random.Random) -> list[str]:
    """The text's sentences with line markers (bullets, numbers, `***` dividers) removed, one per item."""
    plain = _LINE_MARKER.sub("", text)
    pieces = [p.strip() for p in re.split(r"(?<=[.!?])\s+|\n\s*\n", plain) if p.strip()]
    return [p for p in pieces if has_words(p)] or [filler_sentence(rng)]


def padded(sentences: list[str], count: int, rng: random.Random) -> list[str]:
    """At least `count` sentences: the given ones, then short filler."""
    return sentences + [short_sentence(rng) for _ in range(count - len(sentences))]


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
            merged = drop_filler_sentence(text)
            merged = merged if merged != text else merge_sentences(text, count - target)
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
    sentences = padded(prose_sentences(last, rng), count + 1, rng)  # the paragraph keeps its opening sentence
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


_CLAUSE = re.compile(r" and (?:" + "|".join(PRONOUNS) + r") \w+ them with \w+(?=[.!?])", re.IGNORECASE)
_SPLIT_PARAGRAPHS = re.compile(
    r"(\n[ \t]*(?:\n[ \t]*)?\*\*\*[ \t]*\n(?:[ \t]*\n)?|\n[ \t]*\n(?:[ \t]*\n)*)"
)  # `***` dividers (with or without blank lines around them) or runs of blank lines


def clause(rng: random.Random) -> str:
    """A filler clause of six words that lengthens a sentence without adding one (`and they keep the calm maps`)."""
    return f"and {rng.choice(PRONOUNS)} {rng.choice(VERBS)} the {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"


def trim_clause(text: str) -> str:
    """The text without its first filler clause (`and they share them with care`), or unchanged."""
    return _CLAUSE.sub("", text, count=1)


def map_paragraphs(text: str, edit: Callable[[str], str]) -> str:
    """The text with `edit` applied to each non-blank paragraph (blank-line or `***` separated), separators kept."""
    parts = _SPLIT_PARAGRAPHS.split(text)
    return "".join(part if i % 2 or not part.strip() else edit(part) for i, part in enumerate(parts))


def map_sentences(text: str, edit: Callable[[int, str], str]) -> str:
    """The text with `edit(index, sentence)` applied to each punkt sentence in place (whitespace between kept)."""
    from lsrif_trl.constraints.text import sentences

    out, cursor = [], 0
    for index, sentence in enumerate(sentences(text) or ()):
        at = text.find(sentence, cursor)
        if at < 0:  # punkt hands back pieces of the text; this guards against a surprise
            continue
        out += [text[cursor:at], edit(index, sentence)]
        cursor = at + len(sentence)
    return "".join(out) + text[cursor:]


def replace_words(
    text: str,
    pattern: re.Pattern[str],
    replacement: Callable[[str], str],
    keep: int = 0,
    limit: int | None = None,
) -> str:
    """The text with the matches of `pattern` after the first `keep` (at most `limit` of them) replaced by
    `replacement(match)`."""
    seen = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        replace = seen > keep and (limit is None or seen <= keep + limit)
        return replacement(match.group(0)) if replace else match.group(0)

    return pattern.sub(swap, text)


def whole_word(word: str) -> re.Pattern[str]:
    """`word` as a whole word in any case (as the training constraints count words)."""
    return re.compile(r"(?<![^\W_])" + re.escape(word) + r"(?![^\W_]|['’][^\W_])", re.IGNORECASE)


# Distinct everyday words `new_word` adds to raise the share of distinct words (none holds a sampled keyword).
VARIETY = (
    "apple", "banana", "cherry", "olive", "pepper", "tomato", "carrot", "onion", "lemon", "melon", "grape", "peach",
    "tiger", "zebra", "horse", "eagle", "otter", "rabbit", "beaver", "turtle", "lizard", "parrot", "salmon", "spider",
    "violet", "indigo", "amber", "scarlet", "golden", "ivory", "azure", "crimson", "maroon", "teal", "lilac",
    "chair", "table", "spoon", "plate", "glass", "towel", "pillow", "carpet", "basket", "bottle", "button", "drawer",
    "cloud", "storm", "thunder", "rain", "snow", "fog", "dawn", "dusk", "noon", "midnight", "moon", "comet",
    "violin", "guitar", "drum", "flute", "piano", "trumpet", "cello", "harp", "banjo", "tuba", "organ", "bell",
)  # fmt: skip
_SPACE_BETWEEN = re.compile(r"(?<=[^\W_]) (?=[^\W_])")
_INTERIOR_SENTENCE = re.compile(r"(?<=[.!?] )[A-Z][^.!?\n]*[.!?] ")
MAX_EDITS = 2000  # grow/shrink steps before an expert gives up (its verifier then says it failed)


def new_word(text: str) -> str:
    """A word from `VARIETY` the text does not hold yet (compounds of two once every one is used)."""
    present = {w.casefold() for w in _WORD.findall(text)}
    for word in VARIETY:
        if word not in present:
            return word
    for first in VARIETY:
        for second in VARIETY:
            if first + second not in present:
                return first + second
    return "unique"


def grow_until(text: str, done: Callable[[str], bool], rng: random.Random) -> str:
    """The text lengthened by filler clauses inside its sentences (no sentence added) until `done(text)`."""
    for _ in range(MAX_EDITS):
        if done(text):
            break
        text = insert_words(text, clause(rng), rng)
    return text


def shrink_until(text: str, done: Callable[[str], bool], rng: random.Random) -> str:
    """The text shortened until `done(text)`: filler clauses first, then interior sentences, then its tail."""
    for _ in range(MAX_EDITS):
        if done(text):
            return text
        shorter = trim_clause(text)
        if shorter == text:
            shorter = _INTERIOR_SENTENCE.sub("", text, count=1)
        if shorter == text:
            break
        text = shorter
    words = _WORD.findall(text)
    while len(words) > 1 and not done(" ".join(words) + "."):
        words = words[: max(1, len(words) * 3 // 4)]
    return " ".join(words).capitalize() + "."


def words_at_least(text: str, count: int, rng: random.Random) -> str:
    """The text with at least `count` `\\w+` words (IFEval's count), grown by filler clauses."""
    from lsrif_trl.constraints.text import word_count

    return grow_until(ensure_words(text, rng), lambda t: word_count(t) >= count, rng)


def words_at_most(text: str, count: int, rng: random.Random) -> str:
    """The text with at most `count` `\\w+` words, shortened as `shrink_until` does."""
    from lsrif_trl.constraints.text import word_count

    return shrink_until(ensure_words(text, rng), lambda t: word_count(t) <= count, rng)


def split_sentence(sentence: str, limit: int) -> str:
    """The sentence cut (at spaces between words) into sentences of at most `limit` words each."""
    spaces = list(_SPACE_BETWEEN.finditer(sentence))
    if len(_WORD.findall(sentence)) <= limit or not spaces:
        return sentence
    pieces = -(-len(spaces) // limit) + 1
    size = -(-(len(spaces) + 1) // pieces)
    cuts = [spaces[i * size - 1].start() for i in range(1, pieces) if i * size - 1 < len(spaces)]
    out, start = [], 0
    for cut in cuts:
        out.append(sentence[start:cut] + ".")
        start = cut + 1
        out.append(" ")
        sentence = sentence[:start] + sentence[start].upper() + sentence[start + 1 :]
    out.append(sentence[start:])
    return "".join(out)


def ensure_sentence_ends(text: str, count: int, rng: random.Random) -> str:
    """The text with at least `count` sentence ends (`.` or `!` after a word), short filler sentences added."""
    have = len(re.findall(r"(?<=[^\W_])[.!](?=\s|$)", text))
    return add_sentences(text, count - have, rng) if have < count else text


def word_with(letter: str) -> str:
    """A word holding `letter` (the letter itself when no known word has it)."""
    folded = letter.lower()
    return next((w for w in (*sorted(FILLER_WORDS), *VARIETY, *_LETTER_WORDS) if folded in w), letter)


_LETTER_WORDS = ("jazz", "box", "quiz", "fox", "jump", "zip", "vex", "wax", "yak", "quay")


def without_letter(text: str, letter: str, most: int, rng: random.Random) -> str:
    """The text with at most `most` occurrences of `letter` (any case): words holding it, from the last one
    back, replaced by filler words that do not."""
    folded = letter.lower()
    spare = [w for w in (*sorted(FILLER_WORDS), *VARIETY) if folded not in w] or ["ok"]
    found = list(_WORD.finditer(text))
    for match in reversed(found):
        if text.lower().count(folded) <= most:
            break
        if folded in match.group(0).lower():
            word = rng.choice(spare)
            word = word.capitalize() if match.group(0)[0].isupper() else word
            text = text[: match.start()] + word + text[match.end() :]
    if text.lower().count(folded) > most:  # the letter sits outside words (a mark, a symbol): drop it there too
        text = text.replace(folded, "").replace(folded.upper(), "")
    return text if has_words(text) else filler_sentence(rng, avoid=folded)


def capitals_at_least(text: str, count: int, rng: random.Random) -> str:
    """The text with at least `count` all-capital words (IFEval's treebank count), words upper-cased in order."""
    from lsrif_trl.constraints.text import capital_word_count

    for _ in range(MAX_EDITS):
        have = capital_word_count(text) or 0
        if have >= count:
            break
        lower = [m for m in _WORD.finditer(text) if not m.group(0).isupper()]
        if not lower:
            text = insert_words(text, "OK", rng)
            continue
        for match in lower[: count - have]:
            text = text[: match.start()] + match.group(0).upper() + text[match.end() :]
    return text


def capitals_below(text: str, count: int) -> str:
    """The text with fewer than `count` all-capital words: capital words made title case, then single capitals
    lower case."""
    from lsrif_trl.constraints.text import capital_word_count

    text = re.sub(
        r"(?<![^\W_])[^\W\d_]{2,}(?![^\W_])",
        lambda m: m.group(0).capitalize() if m.group(0).isupper() else m.group(0),
        text,
    )
    have = capital_word_count(text)
    if have is not None and have >= count:
        text = re.sub(r"(?<![^\W_])[^\W\d_](?![^\W_])", lambda m: m.group(0).lower(), text)
    return text


def head_paragraphs(text: str, headers: list[str], rng: random.Random) -> str:
    """The text with header i on its own line above paragraph i; headers beyond the paragraphs get a short
    sentence each at the end (one section per header, no paragraph added)."""
    parts = _SPLIT_PARAGRAPHS.split(text)
    slots = [i for i, part in enumerate(parts) if i % 2 == 0 and part.strip()]
    for header, slot in zip(headers, slots, strict=False):
        parts[slot] = f"{header}\n{parts[slot].lstrip()}"
    extra = "".join(f"\n{header}\n{short_sentence(rng)}" for header in headers[len(slots) :])
    return "".join(parts).rstrip() + extra
