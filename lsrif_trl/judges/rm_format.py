"""The conversation a soft-constraint reward model reads: shared by its training data and its scorer.

The user turn holds the request the answer was written for and the one requirement to check; the assistant
turn is the answer. `rm_data` writes pairs in this form and `classifier` scores in this form, so the model
is always asked the question it was trained on. A pair row is what TRL's `RewardTrainer` reads: `chosen` and
`rejected` (strings, or lists of chat messages) and an optional `prompt` of the same kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RM_TEMPLATE = "{prompt}\n\n---\nRequirement to check: {text}"


def rm_prompt(prompt: str, text: str) -> list[dict[str, str]]:
    """The user turn of the reward model's input, as chat messages."""
    return [{"role": "user", "content": RM_TEMPLATE.format(prompt=prompt.strip(), text=text.strip())}]


def rm_conversation(prompt: str, text: str, answer: str) -> list[dict[str, str]]:
    """The reward model's whole input: the user turn and the answer."""
    return [*rm_prompt(prompt, text), {"role": "assistant", "content": answer}]


def _message_problem(value: Any) -> str | None:
    """Why `value` is not a non-empty list of `{role, content: str}` messages, or None."""
    if not isinstance(value, list) or not value:
        return "expected a non-empty list of chat messages"
    for i, message in enumerate(value):
        if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
            return f"message {i}: expected an object with a `role`"
        if not isinstance(message.get("content"), str):
            return f"message {i}: `content` must be a string"
    return None


def row_problem(row: Mapping[str, Any]) -> str | None:
    """`field: problem` for the first thing wrong with one preference row, or None when it is usable."""
    conversational = isinstance(row.get("chosen"), list)
    for name in ("prompt", "chosen", "rejected"):
        value = row.get(name)
        if value is None:
            if name == "prompt":
                continue
            return f"{name}: missing"
        if conversational:
            problem = _message_problem(value)
            if problem:
                return f"{name}: {problem} (chosen is conversational, so every column must be)"
        elif not isinstance(value, str) or not value.strip():
            return f"{name}: expected a non-empty string (chosen is a string, so every column must be)"
    if row["chosen"] == row["rejected"]:
        return "chosen/rejected: identical, so the pair teaches nothing; drop the row"
    return None
