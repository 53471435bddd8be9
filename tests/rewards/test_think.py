"""Which part of a completion is the answer (the answer policy), and RAIF's think-format rule."""

import pickle

import pytest

from lsrif_trl.rewards.think import (
    MODEL_REPLY,
    NO_COT_PREFILL,
    AnswerPolicy,
    CompletionTypeError,
    no_cot_prefill,
    no_cot_prompt,
    template_think_opener,
    think_format_score,
    with_prefill,
)

NONE, COMPLETION, TEMPLATE = AnswerPolicy("none"), AnswerPolicy("completion"), AnswerPolicy("template")
# The reward hack: junk, a bare closing tag, then an honest answer.
HACK = "Kitchen, kitchen, KITCHEN!!! ...\n</think>\nA calm reply about the garden"


def test_the_default_policy_lets_the_completion_open_a_think_block_and_nothing_else():
    assert AnswerPolicy() == COMPLETION
    assert AnswerPolicy().unclosed == "zero"


def test_a_think_block_the_completion_opens_is_reasoning_up_to_its_first_closing_tag():
    assert COMPLETION.answer("<think>plan it</think>The answer.") == "The answer."
    assert COMPLETION.answer("  \n<think>plan</think>\nanswer") == "\nanswer"
    # Later tags are answer text: nothing after the block's own close is hidden from the checks.
    assert COMPLETION.answer("<think>a</think>draft<think>b</think> final") == "draft<think>b</think> final"


@pytest.mark.parametrize("policy", [NONE, COMPLETION], ids=["none", "completion"])
def test_a_bare_closing_tag_hides_nothing_unless_the_template_opened_the_block(policy):
    assert policy.answer(HACK) == HACK
    assert policy.answer("intro <think>plan</think> answer") == "intro <think>plan</think> answer"


def test_instruct_policy_scores_the_whole_completion_even_a_leading_think_block():
    assert NONE.answer("<think>junk, junk!</think>honest") == "<think>junk, junk!</think>honest"


def test_a_think_block_the_template_opened_needs_only_the_closing_tag():
    assert TEMPLATE.answer("plan, with commas</think>\n\nThe answer") == "\n\nThe answer"
    assert TEMPLATE.answer("<think>plan</think>answer") == "answer"  # a re-written opener is the same block
    assert TEMPLATE.answer("still planning, never closed") == ""
    assert AnswerPolicy("template", "whole").answer("still planning") == "still planning"
    assert TEMPLATE.answer([{"role": "assistant", "content": "plan</think>ok"}]) == "ok"


def test_an_unclosed_think_has_no_answer_by_default_and_the_whole_text_when_configured():
    text = "<think>still thinking about commas, and more"
    assert COMPLETION.answer(text) == ""
    assert AnswerPolicy("completion", "whole").answer(text) == text


def test_a_completion_without_think_tags_is_all_answer_under_every_policy():
    for policy in (NONE, COMPLETION, MODEL_REPLY):
        assert policy.answer("Just an answer, no reasoning.") == "Just an answer, no reasoning."


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"think_opened_by": "prompt"}, "think_opened_by: expected one of"), ({"unclosed": "x"}, "unclosed_think")],
)
def test_an_unknown_choice_is_rejected_naming_the_key(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AnswerPolicy(**kwargs)


def test_conversational_completions_use_the_last_assistant_message():
    assert COMPLETION.answer([{"role": "assistant", "content": "<think>hm</think>Hello there"}]) == "Hello there"
    blocks = [
        {"role": "assistant", "content": [{"type": "text", "text": "part one "}, {"type": "text", "text": "two"}]}
    ]
    assert COMPLETION.answer(blocks) == "part one two"


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning", "thinking"])
def test_reasoning_in_a_separate_field_leaves_content_as_the_whole_answer(field):
    completion = [{"role": "assistant", "content": "The answer", field: "long reasoning"}]
    for policy in (NONE, COMPLETION, TEMPLATE):
        assert policy.answer(completion) == "The answer"
    assert think_format_score(completion) == 1.0


@pytest.mark.parametrize("completion", [None, 42, [{"role": "user", "content": "hi"}], [1, 2], {"content": 3}])
def test_unsupported_completions_raise_a_type_error_for_the_caller_to_count(completion):
    with pytest.raises(CompletionTypeError):
        COMPLETION.answer(completion)


def test_replies_of_served_models_skip_reasoning_however_it_was_opened():
    assert MODEL_REPLY.answer("<think>weigh it</think>YES") == "YES"
    assert MODEL_REPLY.answer("weigh it</think>NO") == "NO"
    assert MODEL_REPLY.answer("YES") == "YES"


class _Tokenizer:
    """A chat template that may end the generation prompt inside a think block (as DeepSeek-R1 distills do)."""

    chat_template = "set"

    def __init__(self, tail: str) -> None:
        self.tail = tail

    def apply_chat_template(self, messages, add_generation_prompt, tokenize, **kwargs):
        tail = "<think>\n\n</think>\n\n" if kwargs.get("enable_thinking") is False else self.tail
        return "<|user|>hi<|assistant|>" + (tail if add_generation_prompt else "")


def test_a_template_that_opens_think_turns_the_policy_to_template():
    opener = _Tokenizer("<think>\n")
    assert template_think_opener(opener) == "<think>\n"
    assert AnswerPolicy("none").for_template(opener) == AnswerPolicy("template")
    assert template_think_opener(opener, {"enable_thinking": False}) == ""  # a closed empty block opens nothing
    assert AnswerPolicy("none").for_template(_Tokenizer("")) == AnswerPolicy("none")
    assert template_think_opener(type("NoTemplate", (), {"chat_template": None})()) == ""


def test_a_direct_answers_prompt_ends_with_the_empty_think_block_whoever_opened_it():
    assert NO_COT_PREFILL == "<think>\n\n</think>\n"
    messages = [{"role": "user", "content": "hi"}]
    assert no_cot_prompt(_Tokenizer(""), messages) == "<|user|>hi<|assistant|>" + NO_COT_PREFILL
    # The template already wrote `<think>\n`: only the rest of the block follows, never a second opener.
    assert no_cot_prefill("<think>\n") == "\n</think>\n"
    assert no_cot_prompt(_Tokenizer("<think>\n"), messages) == "<|user|>hi<|assistant|><think>\n\n</think>\n"
    # A plain-string prompt is the model input as it is (TRL applies no template to it).
    assert no_cot_prompt(_Tokenizer(""), "Say hi.") == "Say hi." + NO_COT_PREFILL
    with pytest.raises(ValueError, match="cannot follow"):
        no_cot_prefill("<think>\nI will reason")


def test_the_rewards_read_a_direct_answer_behind_its_prefill_and_score_the_answer_alone():
    prefill = no_cot_prefill("<think>\n")
    assert with_prefill("Answer.", prefill) == "\n</think>\nAnswer."
    message = with_prefill([{"role": "assistant", "content": "Answer."}], NO_COT_PREFILL)
    assert message == [{"role": "assistant", "content": NO_COT_PREFILL + "Answer."}]
    assert TEMPLATE.answer(with_prefill("a </think> b", prefill)) == "\na </think> b"  # all of it is the answer
    assert COMPLETION.answer(message) == "\nAnswer."
    assert think_format_score(message, COMPLETION) == -1.0  # an empty block is a placeholder: the format fails


def test_the_policy_pickles():
    assert pickle.loads(pickle.dumps(TEMPLATE)) == TEMPLATE


@pytest.mark.parametrize(
    "completion",
    [
        "<think>I should avoid commas.</think>Sure thing",
        "  \n<think>\nplan: 3 bullets\n</think>\n\n* a\n* b\n* c",
    ],
)
def test_think_format_rewards_one_real_think_block_before_a_non_empty_answer(completion):
    assert think_format_score(completion) == 1.0


@pytest.mark.parametrize(
    ("completion", "why"),
    [
        ("No reasoning at all.", "no think block"),
        ("<think>plan</think>", "empty answer"),
        ("<think>plan</think>   \n", "whitespace answer"),
        ("<think></think>answer", "empty think"),
        ("<think> ... </think>answer", "placeholder think"),
        ("<think>a</think><think>b</think>answer", "two think blocks"),
        ("<think>a<think>b</think>answer", "opened twice"),
        ("intro <think>plan</think>answer", "answer text before the think block"),
        ("</think>answer<think>plan", "tags in the wrong order"),
        (HACK, "a bare closing tag opens nothing"),
        ("<think>never closed, answer", "unclosed"),
        (None, "not a completion"),
        ([{"role": "assistant", "content": "answer", "reasoning_content": "..."}], "placeholder reasoning field"),
        ([{"role": "assistant", "content": "<think>x</think>y", "reasoning_content": "r"}], "tags in content too"),
    ],
)
def test_think_format_fails_everything_else(completion, why):
    assert think_format_score(completion) == -1.0, why


def test_think_format_with_a_template_opened_think_needs_only_the_closing_tag():
    assert think_format_score("a real plan</think>answer", TEMPLATE) == 1.0
    assert think_format_score("<think>a real plan</think>answer", TEMPLATE) == 1.0  # the same block, restated
    assert think_format_score("answer without reasoning", TEMPLATE) == -1.0
    separate = [{"role": "assistant", "content": "answer", "reasoning_content": "a plan"}]
    assert think_format_score(separate, TEMPLATE) == 1.0
