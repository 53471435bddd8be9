"""What a constraint fixes about an answer, declared on its class and read by the composer (`data/compose.py`).

Aspects a constraint may fix (`Constraint.fixes`); two constraints that fix the same aspect contradict each other:
- CASE: the letter case of the whole answer (all lowercase, all capitals, a count of capital words);
- JSON: the whole answer is one JSON document, which leaves no room for any LAYOUT (or other JSON) constraint;
- LAYOUT: lines, paragraphs or markup (lists, sections, titles, wrappers, postscripts, ...);
- OPENING / CLOSING: how the answer starts / ends (a title line or a postscript moves the first or last word);
- LANGUAGE: the language of the answer, which excludes constraints whose kwargs hold English words.
Words: `Constraint.word_params` name the kwargs holding words or text the answer must contain, and
`forbidden_params` those holding words it must not contain; `Constraint.word_bounds(kwargs)` says how many words
an answer needs at least and allows at most; `forbidden_characters` are characters the answer may not hold at all,
so no other constraint may require a word or phrase holding one.
"""

from __future__ import annotations

CASE, JSON, LAYOUT, OPENING, CLOSING, LANGUAGE = "case", "json", "layout", "opening", "closing", "language"
ASPECTS = (CASE, JSON, LAYOUT, OPENING, CLOSING, LANGUAGE)

# Words an answer needs per unit of a counted element; a rough floor, not an estimate of style.
WORDS_PER_SENTENCE = 5
WORDS_PER_PARAGRAPH = 10  # also per section
WORDS_PER_BULLET = 3
WORDS_PER_HIGHLIGHT = 2
WORDS_PER_PLACEHOLDER = 1

NO_WORD_BOUNDS: tuple[int, int | None] = (0, None)
