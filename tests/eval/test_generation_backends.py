"""What every backend shares: answer/reasoning split, sampling validation, and vLLM wiring (faked module)."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field

import pytest

from lsrif_trl.eval.generation import GenerationError, SamplingParams, VLLMGenerator, make_result
from lsrif_trl.eval.ifeval import IFEvalExample, score_example
from lsrif_trl.rewards.think import AnswerPolicy


def test_inline_reasoning_is_kept_and_only_the_text_after_it_is_the_answer() -> None:
    result = make_result("p", "<think>plan it</think>\nThe answer.", 9, "stop")
    assert result.response == "\nThe answer."
    assert result.reasoning == "<think>plan it</think>"
    assert result.reasoning + result.response == "<think>plan it</think>\nThe answer."


def test_an_unclosed_think_has_an_empty_answer_and_keeps_the_text_as_reasoning() -> None:
    result = make_result("p", "<think>still thinking when the budget ran out", 4, "length")
    assert result.response == ""
    assert result.reasoning == "<think>still thinking when the budget ran out"


def test_a_plain_answer_has_no_reasoning() -> None:
    assert make_result("p", "Just this.", 3, "stop").reasoning is None


def test_junk_before_a_bare_closing_think_is_filed_as_answer_and_fails_ifeval() -> None:
    honest = "A calm reply about the garden"
    hack = "Kitchen, kitchen, KITCHEN!!! ...\n</think>\n" + honest
    example = IFEvalExample(
        0, "p", ["punctuation:no_comma", "keywords:forbidden_words"], [{}, {"forbidden_words": ["kitchen"]}]
    )
    for policy in (AnswerPolicy("none"), AnswerPolicy("completion")):
        result = make_result("p", hack, 20, "stop", policy)
        assert (result.response, result.reasoning) == (hack, None)
        strict, _ = score_example(example, result.response)  # (loose drops the first line, as the reference does)
        assert strict.follow_instruction_list == [False, False]
        assert score_example(example, make_result("p", honest, 6, "stop", policy).response)[0].follow_all_instructions
    # Only a template that opened the block makes the junk reasoning.
    assert make_result("p", hack, 20, "stop", AnswerPolicy("template")).response == "\n" + honest


def test_a_separate_reasoning_field_is_kept_and_the_content_is_the_answer() -> None:
    message = {"role": "assistant", "content": "Done.", "reasoning_content": "thought"}
    result = make_result("p", message, 3, "stop")
    assert (result.response, result.reasoning) == ("Done.", "thought")


@pytest.mark.parametrize(
    ("field_name", "value", "message"),
    [("max_new_tokens", 0, "max_new_tokens"), ("temperature", -1.0, "temperature"), ("top_p", 0.0, "top_p")],
)
def test_invalid_sampling_settings_are_rejected(field_name: str, value: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SamplingParams(**{field_name: value})


def test_vllm_backend_without_vllm_installed_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` fail even where it is installed
    with pytest.raises(GenerationError, match=r"pip install 'lsrif-trl\[vllm\]'"):
        VLLMGenerator("some/model", SamplingParams())


@dataclass
class FakeCompletion:
    text: str
    token_ids: list[int]
    finish_reason: str = "stop"


@dataclass
class FakeOutput:
    outputs: list[FakeCompletion]


@dataclass
class FakeLLM:
    """Records how the backend drives vLLM's offline `LLM` (constructor, chat and generate calls)."""

    model: str
    seed: int
    tensor_parallel_size: int
    gpu_memory_utilization: float
    chat_calls: list = field(default_factory=list)
    chat_template: str | None = "template"

    def get_tokenizer(self):
        return types.SimpleNamespace(
            chat_template=self.chat_template, apply_chat_template=lambda *args, **kwargs: "<user>hi</user>"
        )

    def chat(self, conversations, params, use_tqdm, chat_template_kwargs):
        self.chat_calls.append((conversations, params, chat_template_kwargs))
        return [
            FakeOutput([FakeCompletion(f"<think>t</think>re: {c[0]['content']}", [1, 2, 3])]) for c in conversations
        ]


def test_vllm_backend_chats_in_chunks_with_the_sampling_settings(monkeypatch) -> None:
    fake = types.ModuleType("vllm")
    fake.LLM = FakeLLM
    fake.SamplingParams = lambda **kwargs: kwargs
    monkeypatch.setitem(sys.modules, "vllm", fake)
    sampling = SamplingParams(max_new_tokens=64, temperature=0.6, top_p=0.95, seed=7, enable_thinking=True)
    generator = VLLMGenerator("org/model", sampling, chunk_size=2)
    results = list(generator.generate(["a", "b", "c"]))
    assert [r.response for r in results] == ["re: a", "re: b", "re: c"]
    assert [r.reasoning for r in results] == ["<think>t</think>"] * 3
    assert all(r.completion_tokens == 3 for r in results)
    assert [len(call[0]) for call in generator.llm.chat_calls] == [2, 1]
    _, params, template_kwargs = generator.llm.chat_calls[0]
    assert params == {"max_tokens": 64, "temperature": 0.6, "top_p": 0.95, "seed": 7}
    assert template_kwargs == {"enable_thinking": True}
