"""ComplexBench's rule-checked questions, as the official `evaluation/con_rule.py` and `rule_based_evaluation.py`
check them, without running anything from the data: a rule string (`model_length:[300,10000]`, `keyword:[a, b]`,
`Json:["k"]`, ...) is read once into a `Rule` (its kind found by the official substring tests, in the official
order; its arguments by the official regular expressions; number and key lists by a literal parser, never `eval`),
and checks the targets a judge extracted from the response (`extraction_targets`).

A rule the official code would not score (it returns 2 there, which its aggregation counts as met) or whose
arguments cannot be read is `None` here: its question goes to the yes/no judge instead (`complexbench.py`).
"""

from __future__ import annotations

import ast
import json
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EXTRACTION_HEADING = "【模型回复中评分问题的评测对象】\n"
TARGET_MARKERS = ("评分对象：", "评测对象：")
_CN_PUNCTUATION = "！\"＃＄％＆'（）＊+，-。/：；<=>？@[＼]＾_`{|}~"  # the official table: string.punctuation mapped position by position
_TO_CN = str.maketrans(string.punctuation, _CN_PUNCTUATION)
_MAX_RULE_CHARS = 2000


def to_cn_punctuation(text: str) -> str:
    """The official `extract_and_replace_punctuation_zh`: ASCII punctuation to its Chinese form, curly quotes to `"`."""
    return text.translate(_TO_CN).replace("“", '"').replace("”", '"')


def unquote(text: str) -> str:
    """The official `decom`: leading newlines dropped, then one pair of surrounding quotes or backticks."""
    text = text.lstrip("\n")
    if text and text[0] in '"“`' and text[-1] in '"”`':
        return text[1:-1]
    return text


def first_json_object(text: str) -> str:
    """The first balanced `{...}` of `text` (the official `extract_json`), or ""."""
    depth, start = 0, 0
    for index, char in enumerate(text):
        if char == "{":
            if depth == 0:
                start = index
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start : index + 1]
    return ""


def extraction_targets(response: str, reply: str) -> tuple[list[str], bool]:
    """The evaluated objects an extraction reply names (the official `preprocess`): the whole response for `all`,
    none for `None`, else the `||`-separated pieces after the last `评分对象：`; and whether the reply is in the
    asked format (the result heading or a `评分对象：` / `评测对象：` marker)."""
    marked = EXTRACTION_HEADING in reply
    text = reply.rsplit(EXTRACTION_HEADING, maxsplit=1)[1] if marked else reply
    for tail in ("\n\n请注意", "\n\n**注意", "\n\n注意"):
        text = text.rsplit(tail, maxsplit=1)[0]
    for marker in (*TARGET_MARKERS, "："):
        if marker in text:
            text, marked = text.rsplit(marker, maxsplit=1)[1], marked or marker != "："
            break
    if text.startswith("all"):
        return [response], marked
    if "None" in text:
        return [], marked
    return [piece.strip() for piece in text.split("||")], marked


# ---- the official checks ---------------------------------------------------------------------------------------
def has_keywords(text: str, keywords: list[str]) -> bool:
    return all(to_cn_punctuation(k) in text for k in keywords)


def has_no_words(text: str, words: list[str]) -> bool:
    return not any(to_cn_punctuation(w) in text for w in words)


def starts_with(text: str, start: str) -> bool:
    return text.startswith(to_cn_punctuation(start))


def ends_with(text: str, end: str) -> bool:
    end = to_cn_punctuation(end)
    return text.endswith(end) or text.endswith(end + "。") or text.endswith(end + "？")


def in_range(value: int, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


def json_with_keys(text: str, keys: list[str]) -> bool:
    """The official `check_json`: the first `{...}` parses to an object with exactly these keys (any, if none)."""
    keys = [k for k in keys if k != ""]
    try:
        value = json.loads(first_json_object(text))
    except (json.JSONDecodeError, RecursionError):
        return False
    if not isinstance(value, dict) or any(k not in value for k in keys):
        return False
    return len(value) == len(keys) or not keys


def only_punctuation(text: str, allowed: list[str]) -> bool:
    """The official `constraint_punc`: no punctuation mark outside `allowed` (both in their Chinese form)."""
    allowed = [to_cn_punctuation(p) for p in allowed]
    return not any((p := to_cn_punctuation(mark)) in text and p not in allowed for mark in string.punctuation)


# ---- reading a rule --------------------------------------------------------------------------------------------
Targets = list[str]


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.strip("[]").split(",")]


def _bounds(text: str) -> tuple[float, float]:
    value = _literal(text)
    if not (isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, int | float) for v in value)):
        raise ValueError(f"expected [low, high], got {text!r:.60}")
    return value[0], value[1]


def _literal(text: str) -> Any:
    if len(text) > _MAX_RULE_CHARS:
        raise ValueError("argument too long")
    return ast.literal_eval(text)  # a literal parser: numbers, strings, lists; nothing is run


def _string_list(text: str) -> list[str]:
    value = _literal(text)
    if not (isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)):
        raise ValueError(f"expected a list of strings, got {text!r:.60}")
    return list(value)


def _first(pattern: str, rule: str, flags: int = 0) -> str:
    found = re.findall(pattern, rule, flags)
    if not found:
        raise ValueError(f"no argument matches {pattern!r}")
    return found[0]


def _groups(pattern: str, rule: str) -> tuple[str, ...]:
    match = re.search(pattern, rule, re.DOTALL)
    if match is None:
        raise ValueError(f"no arguments match {pattern!r}")
    return match.groups()


def _counts(text: str) -> tuple[tuple[float, float], list[str]]:
    parts = text.strip("[]").split(",")
    if len(parts) < 2:
        raise ValueError(f"expected [low, high, keyword, ...], got {text!r:.60}")
    return (int(parts[0]), int(parts[1])), parts[2:]


def _empty(targets: Targets) -> bool:
    return not targets or (len(targets) == 1 and targets[0] == "")


def _each(targets: Targets) -> list[str]:
    return [t for t in targets if t != ""]


def _count_in(text: str, words: list[str]) -> int:
    return sum(has_keywords(text, [w]) for w in words)


def _model_rule(rule: str) -> Callable[[Targets], bool] | None:
    """The check of a `model_*` rule (the official `decompose_judge` branches, in their order), or None."""
    cn = to_cn_punctuation
    if "model_keyword_each" in rule:
        keys = _items(_first(r"model_keyword_each:(\[.*?\])$", rule))
        return lambda ts: not _empty(ts) and all(has_keywords(cn(t), keys) for t in _each(ts))
    if "model_keyword_num_each" in rule and "model_forbidden_word_each" in rule:
        counts, forbidden = _groups(r"model_keyword_num_each:(\[.*?\])\nmodel_forbidden_word_each:(\[.*?\])$", rule)
        bounds, keys = _counts(counts)
        words = forbidden.strip("[]").split(",")
        return lambda ts: (
            not _empty(ts)
            and all(in_range(_count_in(t, keys), bounds) and _count_in(t, words) == 0 for t in _each(ts))
        )
    if "model_keyword_num_each" in rule:
        bounds, keys = _counts(_groups(r"model_keyword_num_each:(\[.*?\])$", rule)[0])
        return lambda ts: not _empty(ts) and all(in_range(_count_in(t, keys), bounds) for t in _each(ts))
    if "model_keyword_num" in rule:
        items = _items(_first(r"model_keyword_num:(\[.*?\])$", rule))
        if len(items) < 2:
            raise ValueError("expected [low, high, keyword, ...]")
        bounds, keys = (int(items[0]), int(items[1])), items[2:]
        return lambda ts: not _empty(ts) and in_range(_count_in(ts[0], keys), bounds)
    if "model_keyword" in rule:
        keys = _items(_first(r"model_keyword:(\[.*?\])$", rule))
        return lambda ts: not _empty(ts) and has_keywords(ts[0], keys)
    if "model_forbidden_word_each" in rule:
        words = _items(_first(r"model_forbidden_word_each:(\[.*?\])$", rule))
        return lambda ts: _empty(ts) or all(has_no_words(cn(t), words) for t in _each(ts))
    if "model_forbidden_word" in rule:
        words = _items(_first(r"model_forbidden_word:(\[.*?\])$", rule))
        return lambda ts: _empty(ts) or has_no_words(ts[0], words)
    if "model_number_each" in rule:
        bounds = _bounds(_first(r"model_number_each:(\[.*?\])$", rule))
        return lambda ts: not _empty(ts) and in_range(len(ts), bounds)
    if "model_length_each" in rule:
        bounds = _bounds(_first(r"model_length_each:(\[.*?\])$", rule))
        return lambda ts: (
            not _empty(ts) and all(in_range(len(t), bounds) or in_range(len(unquote(t)), bounds) for t in _each(ts))
        )
    if "model_length_word_each" in rule:
        bounds = _bounds(_first(r"model_length_word_each:(\[.*?\])$", rule))
        return lambda ts: (
            not _empty(ts)
            and all(in_range(len(t.split()), bounds) or in_range(len(unquote(t).split()), bounds) for t in _each(ts))
        )
    if "model_length_word" in rule:
        bounds = _bounds(_first(r"model_length_word:(\[.*?\])$", rule))
        return lambda ts: (
            not _empty(ts) and (in_range(len(ts[0].split()), bounds) or in_range(len(unquote(ts[0]).split()), bounds))
        )
    if "model_length:" in rule:
        bounds = _bounds(_first(r"model_length:(\[.*?\])$", rule))
        return lambda ts: not _empty(ts) and (in_range(len(unquote(ts[0])), bounds) or in_range(len(ts[0]), bounds))
    if "model_startswith_each" in rule:
        start = _first(r"model_startswith_each:(.*?)$", rule, re.DOTALL)
        return lambda ts: not _empty(ts) and all(starts_with(cn(t), start) for t in _each(ts))
    if "model_starts_with_list_each" in rule:
        starts = _items(_first(r"model_starts_with_list_each:(\[.*?\])$", rule))
        return lambda ts: (
            not _empty(ts)
            and len(ts) == len(starts)
            and all(starts_with(cn(t), s) for t, s in zip(ts, starts, strict=True) if t != "")
        )
    if "model_startswith" in rule and "model_endswith" in rule:
        start, end = _groups(r"model_startswith:(.*?)\nmodel_endswith:(.*?)$", rule)
        return lambda ts: not _empty(ts) and starts_with(cn(ts[0]), start) and ends_with(cn(ts[0]), end)
    if "model_startswith" in rule:
        start = _first(r"model_startswith:(.*?)$", rule, re.DOTALL)
        return lambda ts: not _empty(ts) and starts_with(cn(ts[0]), start)
    if "model_endswith_each" in rule:
        end = _first(r"model_endswith_each:(.*?)$", rule, re.DOTALL)
        return lambda ts: (
            not _empty(ts)
            and all(
                ends_with(unquote(cn(t)), end) or ends_with(cn(t), end) for t in _each(ts if len(ts) == 1 else ts[:-1])
            )
        )
    if "model_endswith" in rule:
        end = _first(r"model_endswith:(.*?)$", rule, re.DOTALL)
        return lambda ts: not _empty(ts) and ends_with(cn(ts[0]), end)
    if "model_constraint_punc_each" in rule:
        marks = _items(_first(r"model_constraint_punc_each:(\[.*?\])$", rule))
        return lambda ts: (
            not _empty(ts)
            and all(only_punctuation(unquote(cn(t)), marks) or only_punctuation(cn(t), marks) for t in _each(ts))
        )
    if "model_constraint_punc" in rule:
        marks = _items(_first(r"model_constraint_punc:(\[.*?\])$", rule))
        return lambda ts: not _empty(ts) and only_punctuation(unquote(ts[0]), marks)
    if "model_not_startswith" in rule:
        start = _first(r"model_not_startswith:(.*?)$", rule, re.DOTALL)
        return lambda ts: _empty(ts) or not starts_with(cn(ts[0]), start)
    if "model_not_endswith_each" in rule:
        end = _first(r"model_not_endswith_each:(.*?)$", rule, re.DOTALL)
        return lambda ts: _empty(ts) or all(not ends_with(cn(t), end) for t in _each(ts))
    if "model_not_endswith" in rule:
        end = _first(r"model_not_endswith:(.*?)$", rule, re.DOTALL)
        return lambda ts: _empty(ts) or not ends_with(cn(ts[0]), end)
    return None


def _text_rule(rule: str) -> Callable[[str], bool] | None:
    """The check of one text by a plain rule (the official `rule` branches, in their order), or None."""
    cn = to_cn_punctuation

    def present(check: Callable[[str], bool], if_absent: bool = False) -> Callable[[str], bool]:
        return lambda s: if_absent if s == "" or "None" in s else check(cn(s))

    if "keyword" in rule and "forbidden_word" in rule:
        keys = _items(_first(r"keyword:(\[.*?\])$", rule))
        words = _items(_first(r"forbidden_word:(\[.*?\])$", rule))
        return present(lambda s: has_keywords(s, keys) and has_no_words(s, words))
    if "keyword" in rule and "keyword_num" not in rule:
        keys = _items(_first(r"keyword:(\[.*?\])$", rule))
        return present(lambda s: has_keywords(s, keys))
    if "match" in rule:
        wanted = _first(r"match:(.*?)$", rule)
        return present(lambda s: s in (wanted, wanted + "。", wanted + "."))
    if "constraint_punc" in rule:
        marks = _items(_first(r"constraint_punc:(\[.*?\])$", rule))
        return present(lambda s: only_punctuation(s, marks))
    if "forbidden_word" in rule:
        words = _items(_first(r"forbidden_word:(\[.*?\])$", rule))
        return present(lambda s: has_no_words(s, words), if_absent=True)
    if "startswith" in rule and "endswith" in rule:
        start, end = _groups(r"startswith:(.*?)\nendswith:(.*?)$", rule)
        return present(lambda s: starts_with(s, start) and ends_with(s, end))
    if "startswith" in rule:
        start = _first(r"startswith:(.*?)$", rule, re.DOTALL)
        return present(lambda s: starts_with(s, start))
    if "not endswith" in rule:
        end = _first(r"not endswith:(.*?)$", rule, re.DOTALL)
        return present(lambda s: not ends_with(s, end), if_absent=True)
    if "endswith" in rule:
        end = _first(r"endswith:(.*?)$", rule, re.DOTALL)
        return present(lambda s: ends_with(s, end))
    if "length_word:" in rule:
        bounds = _bounds(_first(r"length_word:(\[.*?\])$", rule, re.DOTALL))
        return present(lambda s: in_range(len(s.split()), bounds))
    if "length:" in rule:
        bounds = _bounds(_first(r"length:(\[.*?\])$", rule, re.DOTALL))
        return present(lambda s: in_range(len(s), bounds))
    if "Json" in rule:
        keys = _string_list(_first(r"Json:(\[.*?\])$", rule.strip(), re.DOTALL))
        return lambda s: False if s == "" or "None" in s else json_with_keys(s, keys)
    return None


@dataclass(frozen=True)
class Rule:
    """One scoring question's rule, read once: `check(targets)` is the official verdict on the extracted targets."""

    text: str
    check_targets: Callable[[Targets], bool]

    @property
    def each(self) -> bool:
        """Whether the rule checks every item (the official `each` extraction prompt then asks for `||` pieces)."""
        return "each" in self.text

    def check(self, targets: Targets) -> bool:
        """True iff the targets meet the rule."""
        return self.check_targets(list(targets))


def parse_rule(text: str) -> Rule | None:
    """The rule a question's `rule` string states, or None when the official code would not score it (it returns 2
    there) or its arguments cannot be read."""
    if len(text) > _MAX_RULE_CHARS:
        return None
    try:
        model = _model_rule(text)
        if model is not None:
            return Rule(text, model)
        if "model" in text or "each" in text:
            return None
        plain = _text_rule(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if plain is None:
        return None
    return Rule(text, lambda ts: plain("") if not ts else plain(unquote(ts[0])) or plain(ts[0]))
