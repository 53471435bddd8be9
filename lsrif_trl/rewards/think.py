"""Reasoning traces: which part of a completion is the answer (`AnswerPolicy`), and RAIF's think-format rule.

A think block is reasoning only when it was really opened, and `think_opened_by` says who may open it:
- `none`: nobody (instruct models): the whole completion is the answer, tags included;
- `completion`: the completion itself, with `<think>` as its first non-blank text;
- `template`: the chat template, which ends the generation prompt with `<think>` (DeepSeek-R1 distills), so
  the completion starts inside the block (a leading `<think>` it writes again is the same block).
An opened block ends at its first `</think>`; everything after that is the answer, later tags included. A
`</think>` with no opened block is answer text like any other, so "junk </think> honest answer" is scored whole.
A block that never closes has no answer: `unclosed="zero"` (default) makes it satisfy nothing, `unclosed="whole"`
scores the completion's whole text instead. A message whose reasoning comes in a field of its own
(`reasoning_content`, `reasoning`, `thinking`, as reasoning servers return it) has a closed block: its `content`
is the answer. Completions may be strings or TRL conversational messages.

RAIF's direct (no-CoT) answer: the prompt ends with an empty think block, `NO_COT_PREFILL`, so the model answers at
once; what the chat template already opened is not written twice (`no_cot_prefill`), and the rewards read the
prefill in front of the completion (`with_prefill`). `no_cot_prompt` renders one such prompt as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

OPEN, CLOSE = "<think>", "</think>"
UnclosedPolicy = Literal["zero", "whole"]
ThinkOpener = Literal["none", "completion", "template"]
UNCLOSED_POLICIES: tuple[str, ...] = get_args(UnclosedPolicy)
THINK_OPENERS: tuple[str, ...] = get_args(ThinkOpener)
REASONING_FIELDS = ("reasoning_content", "reasoning", "thinking")
THINK_OPENED_BY_HELP = (
    "Who may open a think block, so that its text up to </think> is reasoning and not scored: none (instruct "
    "models: the whole completion is the answer), completion (a leading <think> the model writes) or template "
    "(the chat template; also chosen when the tokenizer's generation prompt ends with <think>)."
)
UNCLOSED_HELP = "What a completion whose think block never closes scores: zero (no answer), or the whole text."
NO_COT_PREFILL = f"{OPEN}\n\n{CLOSE}\n"  # RAIF's empty think block, prefilled so that the model answers directly


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


def split_completion(completion: Any) -> tuple[str | None, str]:
    """`(reasoning field, text)`: a separate reasoning field (None if absent) and the visible text of a completion.

    Conversational completions use their last assistant message (TRL passes `[{"role": "assistant", ...}]`)."""
    if isinstance(completion, str):
        return None, completion
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
    return reasoning, message_text(message.get("content"))


def template_think_opener(tokenizer: Any, chat_template_kwargs: Mapping[str, Any] | None = None) -> str:
    """The open think block the tokenizer's chat template ends a generation prompt with (`<think>\\n`), or ''."""
    if not getattr(tokenizer, "chat_template", None):
        return ""
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=False, **(chat_template_kwargs or {})
    )
    if not isinstance(rendered, str) or not rendered.rstrip().endswith(OPEN):
        return ""
    return rendered[rendered.rfind(OPEN) :]


def no_cot_prefill(template_opener: str = "") -> str:
    """What follows the think opener the chat template wrote (`template_think_opener`) in a direct answer's prompt:
    the rest of `NO_COT_PREFILL`; ValueError for an opener the empty block cannot follow."""
    if not NO_COT_PREFILL.startswith(template_opener):
        raise ValueError(f"the chat template opens {template_opener!r}, which the empty think block cannot follow")
    return NO_COT_PREFILL[len(template_opener) :]


def no_cot_prompt(tokenizer: Any, prompt: Any, chat_template_kwargs: Mapping[str, Any] | None = None) -> str:
    """A direct answer's prompt as text, as TRL's GRPO trainer renders a prompt plus `no_cot_prefill`: chat messages
    through the chat template with the generation prompt, a plain string as it is (TRL applies no template to it)."""
    kwargs = dict(chat_template_kwargs or {})
    text = prompt
    if not isinstance(prompt, str):
        text = tokenizer.apply_chat_template(list(prompt), add_generation_prompt=True, tokenize=False, **kwargs)
    return text + no_cot_prefill(template_think_opener(tokenizer, kwargs))


def with_prefill(completion: Any, prefill: str) -> Any:
    """A direct sample's completion as the rewards read it: the prefill its prompt ended with, then the answer."""
    if isinstance(completion, str):
        return prefill + completion
    message = completion[-1]
    return [*completion[:-1], {**message, "content": prefill + (message.get("content") or "")}]


@dataclass(frozen=True)
class AnswerPolicy:
    """Where the scored answer of a completion starts (the rule is in the module docstring)."""

    think_opened_by: ThinkOpener = "completion"
    unclosed: UnclosedPolicy = "zero"

    def __post_init__(self) -> None:
        if self.think_opened_by not in THINK_OPENERS:
            raise ValueError(f"think_opened_by: expected one of {list(THINK_OPENERS)}, got {self.think_opened_by!r}")
        if self.unclosed not in UNCLOSED_POLICIES:
            raise ValueError(f"unclosed_think: expected one of {list(UNCLOSED_POLICIES)}, got {self.unclosed!r}")

    def for_template(self, tokenizer: Any, chat_template_kwargs: Mapping[str, Any] | None = None) -> AnswerPolicy:
        """This policy, with `think_opened_by: template` when the tokenizer's template opens the block itself."""
        opened = template_think_opener(tokenizer, chat_template_kwargs)
        return replace(self, think_opened_by="template") if opened else self

    def thought_and_rest(self, text: str) -> tuple[str, str | None] | None:
        """`(reasoning, answer)` of a text whose think block was opened (answer None while it is unclosed), or
        None when no block was opened."""
        stripped = text.lstrip()
        if self.think_opened_by == "completion" and stripped.startswith(OPEN):
            body = stripped[len(OPEN) :]
        elif self.think_opened_by == "template":
            body = stripped[len(OPEN) :] if stripped.startswith(OPEN) else text
        else:
            return None
        reasoning, closed, answer = body.partition(CLOSE)
        return reasoning, answer if closed else None

    def answer(self, completion: Any) -> str:
        """The part of a completion that constraints are checked on ('' when an unclosed think scores zero).

        Raises CompletionTypeError for a completion of an unsupported type."""
        reasoning_field, text = split_completion(completion)
        split = None if reasoning_field is not None else self.thought_and_rest(text)
        if split is None:
            return text
        if split[1] is None:
            return "" if self.unclosed == "zero" else text
        return split[1]


DEFAULT_POLICY = AnswerPolicy()
# How the project reads replies of models it calls (the judge, the rewriter): a served reasoning model may have had
# its block opened by the template, and a reply that never closes it is read whole.
MODEL_REPLY = AnswerPolicy("template", "whole")
# A text that is already the answer (a responses file's `response`): scored whole.
WHOLE_TEXT = AnswerPolicy("none")


def is_placeholder(reasoning: str) -> bool:
    """A think block that reasons about nothing: no letter or digit at all (empty, '...', '-')."""
    return not any(ch.isalnum() for ch in reasoning)


def think_format_score(completion: Any, policy: AnswerPolicy = DEFAULT_POLICY) -> float:
    """RAIF's format rule: +1 for exactly one non-placeholder think block before a non-empty answer, else -1.

    The block is opened as `policy` allows (only whitespace may precede a `<think>` the completion writes), and
    neither the reasoning nor the answer may hold another think tag. With a separate reasoning field, that field
    is the block and the content must be a non-empty answer without think tags. Unsupported types score -1."""
    try:
        reasoning, text = split_completion(completion)
    except CompletionTypeError:
        return -1.0
    if reasoning is None:
        split = policy.thought_and_rest(text)
        if split is None or split[1] is None:
            return -1.0
        reasoning, text = split
        if OPEN in reasoning:
            return -1.0
    ok = not is_placeholder(reasoning) and bool(text.strip()) and OPEN not in text and CLOSE not in text
    return 1.0 if ok else -1.0
