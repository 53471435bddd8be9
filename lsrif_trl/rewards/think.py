"""Reasoning traces: which part of a completion is the answer, and RAIF's think-format rule.

The answer is the text after the last `</think>`. A completion whose last `<think>` is never closed has no
answer: `unclosed="zero"` (default) makes it score 0 on every constraint, `unclosed="whole"` scores the whole
text instead. Completions may be strings or TRL conversational messages; a message may carry its reasoning in
a separate field (`reasoning_content`, `reasoning`, `thinking`), in which case `content` is the answer.
Chat templates that end the prompt with `<think>` (DeepSeek-R1 distills) produce completions that only close
it: pass `opened_in_prompt=True` so the completion is read as if it began with `<think>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

OPEN, CLOSE = "<think>", "</think>"
UnclosedPolicy = Literal["zero", "whole"]
UNCLOSED_POLICIES: tuple[str, ...] = get_args(UnclosedPolicy)
REASONING_FIELDS = ("reasoning_content", "reasoning", "thinking")


class CompletionTypeError(TypeError):
    """A completion that is neither a string nor a list of chat messages (the reward scores it 0)."""


def message_text(content: Any) -> str:
    """The text of a message's `content`: a string, or a list of content blocks whose text parts are joined."""
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    if isinstance(content, list):
        parts = [b.get("text") for b in content if isinstance(b, Mapping) and isinstance(b.get("text"), str)]
        if len(parts) == len(content):
            return "".join(parts)
    raise CompletionTypeError(f"unsupported message content of type {type(content).__name__}")


def split_completion(completion: Any, opened_in_prompt: bool = False) -> tuple[str | None, str]:
    """`(reasoning, text)`: a separate reasoning field (None if absent) and the visible text of the completion.

    Conversational completions use their last assistant message (TRL passes `[{"role": "assistant", ...}]`).
    With `opened_in_prompt`, text without a separate reasoning field is returned with `<think>` prepended."""
    if isinstance(completion, str):
        return None, OPEN + completion if opened_in_prompt else completion
    if isinstance(completion, Mapping):
        completion = [completion]
    if not isinstance(completion, list) or not all(isinstance(m, Mapping) for m in completion):
        raise CompletionTypeError(f"expected a string or a list of messages, got {type(completion).__name__}")
    replies = [m for m in completion if m.get("role", "assistant") == "assistant"]
    if not replies:
        raise CompletionTypeError("the completion has no assistant message")
    message = replies[-1]
    if "content" not in message:
        raise CompletionTypeError("the assistant message has no `content`")
    reasoning = next((message[f] for f in REASONING_FIELDS if isinstance(message.get(f), str)), None)
    text = message_text(message.get("content"))
    return reasoning, OPEN + text if opened_in_prompt and reasoning is None else text


def is_unclosed(text: str) -> bool:
    """Whether the text opens a `<think>` that is never closed (its last `<think>` follows its last `</think>`)."""
    last_open = text.rfind(OPEN)
    return last_open != -1 and last_open > text.rfind(CLOSE)


def extract_answer(completion: Any, unclosed: str = "zero", opened_in_prompt: bool = False) -> str:
    """The part of a completion that constraints are checked on ('' when an unclosed think scores zero).

    Raises CompletionTypeError for a completion of an unsupported type."""
    if unclosed not in UNCLOSED_POLICIES:
        raise ValueError(f"unclosed: expected one of {list(UNCLOSED_POLICIES)}, got {unclosed!r}")
    _, text = split_completion(completion, opened_in_prompt)
    if is_unclosed(text):
        if unclosed == "zero":
            return ""
        return text.removeprefix(OPEN) if opened_in_prompt else text
    cut = text.rfind(CLOSE)
    return text[cut + len(CLOSE) :] if cut != -1 else text


def is_placeholder(reasoning: str) -> bool:
    """A think block that reasons about nothing: no letter or digit at all (empty, '...', '-')."""
    return not any(ch.isalnum() for ch in reasoning)


def think_format_score(completion: Any, opened_in_prompt: bool = False) -> float:
    """RAIF's format rule: +1 for exactly one non-placeholder `<think>...</think>` before a non-empty answer.

    Only whitespace may precede `<think>`. With a separate reasoning field, that field is the think block and
    the content must be a non-empty answer without think tags. Anything else, unsupported types included, is -1."""
    try:
        reasoning, text = split_completion(completion, opened_in_prompt)
    except CompletionTypeError:
        return -1.0
    if reasoning is not None:
        ok = not is_placeholder(reasoning) and bool(text.strip()) and OPEN not in text and CLOSE not in text
        return 1.0 if ok else -1.0
    if text.count(OPEN) != 1 or text.count(CLOSE) != 1:
        return -1.0
    before, _, rest = text.partition(OPEN)
    thought, _, answer = rest.partition(CLOSE)
    ok = not before.strip() and not is_placeholder(thought) and bool(answer.strip())
    return 1.0 if ok else -1.0
