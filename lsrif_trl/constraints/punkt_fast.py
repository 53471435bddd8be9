"""NLTK's punkt sentence tokenizer with its two per-candidate costs removed and its sentences unchanged.

Punkt looks at every `.`, `?` and `!` followed by whitespace or punctuation. For each one it scans the text
before it backwards, character by character in Python, for the last whitespace, then tokenizes and annotates
the short context around it (`text_contains_sentbreak`). Both are pure functions of their string argument (the
model's parameters are only read), so here the scan is done by `str.rfind` and the decision is remembered per
context: GRPO batches repeat the same "word. Next" contexts across completions. The sentences equal
`PunktSentenceTokenizer`'s on the same parameters; tests/constraints/test_punkt_fast.py compares the two on random
and adversarial text.
"""

from __future__ import annotations

import functools
import string

from nltk.tokenize.punkt import PunktSentenceTokenizer

# Decisions remembered. A context is the word before a candidate end, the candidate and the next
# token, so it is short; longer ones (a degenerate megabyte "word") are decided without being stored.
DECISION_CACHE_SIZE = 1 << 16
_LONGEST_CACHED_CONTEXT = 256


class FastPunktTokenizer(PunktSentenceTokenizer):
    """`PunktSentenceTokenizer` whose whitespace scan runs in C and whose break decisions are memoised per context."""

    def _get_last_whitespace_index(self, text: str) -> int:
        # Same answer as punkt's backward loop over `string.whitespace`: the last index, or 0 when there is none.
        return max(0, max(text.rfind(char) for char in string.whitespace))

    def text_contains_sentbreak(self, text: str) -> bool:
        if len(text) > _LONGEST_CACHED_CONTEXT:
            return super().text_contains_sentbreak(text)
        return remembered_decision(self, text)


@functools.lru_cache(maxsize=DECISION_CACHE_SIZE)
def remembered_decision(tokenizer: FastPunktTokenizer, context: str) -> bool:
    """Punkt's own `text_contains_sentbreak` for one context, remembered (per tokenizer, by identity)."""
    return PunktSentenceTokenizer.text_contains_sentbreak(tokenizer, context)
