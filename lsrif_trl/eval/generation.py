"""Generation backends behind one interface (transformers, vLLM, OpenAI-compatible) and a resumable runner.

Every backend turns user prompts into `GenerationResult`s; `run_generation` appends each one to a JSONL file
as it arrives, so a run that stops (crash, dead server, Ctrl-C) resumes with the prompts not yet answered.
With `rendered_prompts=True` a prompt is the model's whole input text, chat template already applied (e.g.
`rewards.think.no_cot_prompt`), sent without adding special tokens (the OpenAI backend: to `/v1/completions`, with
vLLM's `add_special_tokens: false`), and the answer policy is used as given.
"""

from __future__ import annotations

import functools
import json
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from lsrif_trl.chat.client import DEFAULT_API_KEY_ENV, ChatClient, ChatError, MalformedReply, reply_message
from lsrif_trl.chat.retry import RetryPolicy
from lsrif_trl.jsonl import json_object
from lsrif_trl.rewards.think import DEFAULT_POLICY, AnswerPolicy, split_completion
from lsrif_trl.sources import is_local, looks_like_hub_id

BACKENDS = ("transformers", "vllm", "openai")
# Retries of one evaluation request: a long evaluation rides out a busy server longer than a training-time judge.
GENERATION_RETRIES = 5


class GenerationError(RuntimeError):
    """Generation could not finish; whatever was written before the error is kept for a resumed run."""


@dataclass(frozen=True)
class SamplingParams:
    """Decoding settings, recorded with every result file so runs can be compared honestly."""

    max_new_tokens: int = 1024
    temperature: float = 0.0  # 0 means greedy decoding
    top_p: float = 1.0
    seed: int = 42
    enable_thinking: bool | None = None  # passed to chat templates that read it (Qwen3 style); None = default

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")

    @property
    def chat_template_kwargs(self) -> dict[str, Any]:
        """Extra variables for the chat template (only those the user set)."""
        return {} if self.enable_thinking is None else {"enable_thinking": self.enable_thinking}


@dataclass
class GenerationResult:
    """One answered prompt: the scored answer, the reasoning kept beside it, and its token count."""

    prompt: str
    response: str  # the answer after any reasoning; this is what benchmarks score
    reasoning: str | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None


def make_result(
    prompt: str,
    completion: str | dict[str, Any],
    completion_tokens: int | None,
    finish_reason: str | None,
    policy: AnswerPolicy = DEFAULT_POLICY,
) -> GenerationResult:
    """Split a completion (raw text or an assistant message) into reasoning and answer as the rewards do.

    The answer is what `policy` scores (empty for an unclosed think block); everything before it is kept as
    reasoning, so reasoning + response always reproduce the generated text. Text before a `</think>` is reasoning
    only when the policy says a block was opened."""
    separate, text = split_completion(completion)
    answer = policy.answer(text)
    inline = text[: len(text) - len(answer)] if text.endswith(answer) else text
    reasoning = "\n".join(part for part in (separate, inline) if part) or None
    return GenerationResult(prompt, answer, reasoning, completion_tokens, finish_reason)


class Generator(ABC):
    """A model that answers user prompts; `generate` yields results as soon as each is ready (any order)."""

    backend: ClassVar[str]

    def __init__(self, model: str, sampling: SamplingParams, answer_policy: AnswerPolicy = DEFAULT_POLICY) -> None:
        self.model_name = model
        self.sampling = sampling
        self._answer_policy = answer_policy

    @property
    def answer_policy(self) -> AnswerPolicy:
        """How each completion is split into reasoning and the scored answer."""
        return self._answer_policy

    @abstractmethod
    def generate(self, prompts: Sequence[str]) -> Iterator[GenerationResult]:
        """Answer every prompt once, yielding each result when it is done."""

    def describe(self) -> dict[str, Any]:
        """What produced the results: backend, model, sampling settings and the answer policy."""
        return {
            "backend": self.backend,
            "model": self.model_name,
            "sampling": asdict(self.sampling),
            "answer_policy": asdict(self.answer_policy),
        }


def _batches(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class TransformersGenerator(Generator):
    """Batched `model.generate` with left padding; works on CPU and GPU."""

    backend = "transformers"

    def __init__(
        self,
        model: str,
        sampling: SamplingParams,
        answer_policy: AnswerPolicy = DEFAULT_POLICY,
        batch_size: int = 8,
        device: str | None = None,
        dtype: str = "auto",
        rendered_prompts: bool = False,
    ) -> None:
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model, padding_side="left")
        self.rendered_prompts = rendered_prompts
        if not rendered_prompts:
            answer_policy = answer_policy.for_template(self.tokenizer, sampling.chat_template_kwargs)
        super().__init__(model, sampling, answer_policy)
        self.batch_size = batch_size
        self.device, self.dtype = device, dtype
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    @functools.cached_property
    def model(self) -> Any:
        """The weights, loaded on first use: a fully resumed run never loads them."""
        import torch
        from transformers import AutoModelForCausalLM, set_seed

        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        if is_adapter(Path(self.model_name)):  # a LoRA run's output: its base model with the adapter merged in
            from peft import AutoPeftModelForCausalLM

            peft_model = AutoPeftModelForCausalLM.from_pretrained(self.model_name, dtype=self.dtype)
            model = peft_model.merge_and_unload().to(device).eval()
        else:
            model = AutoModelForCausalLM.from_pretrained(self.model_name, dtype=self.dtype).to(device).eval()
        set_seed(self.sampling.seed)
        return model

    @functools.cached_property
    def stop_ids(self) -> set[int]:
        """Token ids that end an answer (the model's eos ids and the tokenizer's)."""
        eos = self.model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos]
        return {i for i in [*eos, self.tokenizer.eos_token_id] if i is not None}

    def _format(self, prompt: str) -> str:
        if self.rendered_prompts or not self.tokenizer.chat_template:  # the prompt is the model input as it is
            return prompt
        return self.tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}],
            tokenize=False,
            add_generation_prompt=True,
            **self.sampling.chat_template_kwargs,
        )

    def _completion_length(self, tokens: list[int]) -> tuple[int, str]:
        for position, token in enumerate(tokens):
            if token in self.stop_ids:
                return position + 1, "stop"
        return len(tokens), "length"

    def generate(self, prompts: Sequence[str]) -> Iterator[GenerationResult]:
        import torch

        s = self.sampling
        sampling_kwargs = {"do_sample": True, "temperature": s.temperature, "top_p": s.top_p}
        if s.temperature == 0:
            sampling_kwargs = {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        formatted = {p: self._format(p) for p in prompts}
        # Similar lengths in one batch waste less compute on padding.
        ordered = sorted(formatted, key=lambda p: len(formatted[p]))
        for batch in _batches(ordered, self.batch_size):
            texts = [formatted[p] for p in batch]
            # A chat template already writes the special tokens the model expects.
            encoded = self.tokenizer(
                texts, return_tensors="pt", padding=True, add_special_tokens=not self.tokenizer.chat_template
            ).to(self.model.device)
            with torch.inference_mode():
                output = self.model.generate(
                    **encoded,
                    max_new_tokens=s.max_new_tokens,
                    pad_token_id=self.tokenizer.pad_token_id,
                    **sampling_kwargs,
                )
            new_tokens = output[:, encoded["input_ids"].shape[1] :].tolist()
            for prompt, tokens in zip(batch, new_tokens, strict=True):
                length, finish = self._completion_length(tokens)
                text = self.tokenizer.decode(tokens[:length], skip_special_tokens=True)
                yield make_result(prompt, text, length, finish, self.answer_policy)


class VLLMGenerator(Generator):
    """vLLM offline inference (GPU); the `vllm` package is imported only when this backend is chosen."""

    backend = "vllm"

    def __init__(
        self,
        model: str,
        sampling: SamplingParams,
        answer_policy: AnswerPolicy = DEFAULT_POLICY,
        chunk_size: int = 256,
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.9,
        rendered_prompts: bool = False,
    ) -> None:
        try:
            import vllm
        except ImportError as error:
            raise GenerationError(
                "the vllm backend needs the vllm package: pip install 'lsrif-trl[vllm]' (GPU machines), "
                "or use --backend transformers"
            ) from error
        super().__init__(model, sampling, answer_policy)
        self.chunk_size = chunk_size  # results are written after each chunk, so a crash loses at most one
        self.rendered_prompts = rendered_prompts
        self._vllm = vllm
        self.engine_args = {
            "tensor_parallel_size": tensor_parallel_size,
            "gpu_memory_utilization": gpu_memory_utilization,
        }
        self.params = vllm.SamplingParams(
            max_tokens=sampling.max_new_tokens,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            seed=sampling.seed,
        )

    @functools.cached_property
    def llm(self) -> Any:
        """The engine, started on first use: a fully resumed run never starts it."""
        return self._vllm.LLM(model=self.model_name, seed=self.sampling.seed, **self.engine_args)

    @functools.cached_property
    def answer_policy(self) -> AnswerPolicy:
        """The requested policy, with `template` when the engine's chat template opens the think block."""
        if self.rendered_prompts:
            return self._answer_policy
        return self._answer_policy.for_template(self.llm.get_tokenizer(), self.sampling.chat_template_kwargs)

    def generate(self, prompts: Sequence[str]) -> Iterator[GenerationResult]:
        tokenizer = self.llm.get_tokenizer()
        for chunk in _batches(prompts, self.chunk_size):
            if self.rendered_prompts and tokenizer.chat_template:  # the template wrote the special tokens already
                inputs = [{"prompt_token_ids": tokenizer.encode(p, add_special_tokens=False)} for p in chunk]
                outputs = self.llm.generate(inputs, self.params, use_tqdm=False)
            elif tokenizer.chat_template:
                outputs = self.llm.chat(
                    [[{"role": "user", "content": p}] for p in chunk],
                    self.params,
                    use_tqdm=False,
                    chat_template_kwargs=self.sampling.chat_template_kwargs or None,
                )
            else:
                outputs = self.llm.generate(chunk, self.params, use_tqdm=False)
            for prompt, output in zip(chunk, outputs, strict=True):
                completion = output.outputs[0]
                yield make_result(
                    prompt, completion.text, len(completion.token_ids), completion.finish_reason, self.answer_policy
                )


class OpenAIGenerator(Generator):
    """Any server speaking `/v1/chat/completions` (vLLM serve, SGLang, hosted APIs) through `chat.ChatClient`:
    at most `concurrency` requests in flight, each attempt cut after `timeout` seconds wall-clock (reply
    included), the whole request after `deadline` seconds (None: attempts x timeout + backoff bound it).
    `rendered_prompts`: `/v1/completions` continues each prompt's text as it is."""

    backend = "openai"

    def __init__(
        self,
        model: str,
        sampling: SamplingParams,
        base_url: str,
        answer_policy: AnswerPolicy = DEFAULT_POLICY,
        api_key_env: str = DEFAULT_API_KEY_ENV,
        concurrency: int = 8,
        timeout: float = 300.0,
        deadline: float | None = None,
        retry: RetryPolicy | None = None,
        rendered_prompts: bool = False,
    ) -> None:
        super().__init__(model, sampling, answer_policy)  # the server's template is not visible from here
        self.rendered_prompts = rendered_prompts
        self.endpoint = "completions" if rendered_prompts else "chat/completions"
        self.client = ChatClient(
            base_url,
            api_key_env=api_key_env,
            concurrency=concurrency,
            timeout=timeout,
            deadline=deadline,
            retry=retry or RetryPolicy(max_retries=GENERATION_RETRIES),
            endpoint=self.endpoint,
        )

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "base_url": self.client.url.removesuffix(f"/{self.endpoint}")}

    def _messages(self, prompt: str) -> list[dict[str, str]]:
        """The chat messages one request sends (a single user turn; judges of multi-turn benchmarks send more)."""
        return [{"role": "user", "content": prompt}]

    def _payload(self, prompt: str) -> dict[str, Any]:
        s = self.sampling
        sampling = {"max_tokens": s.max_new_tokens, "temperature": s.temperature, "top_p": s.top_p, "seed": s.seed}
        if self.rendered_prompts:  # the template already wrote the special tokens (a vLLM extension says so)
            return {"model": self.model_name, "prompt": prompt, **sampling, "add_special_tokens": False}
        payload: dict[str, Any] = {"model": self.model_name, "messages": self._messages(prompt), **sampling}
        if s.chat_template_kwargs:  # a vLLM / SGLang extension; sent only when asked for
            payload["chat_template_kwargs"] = s.chat_template_kwargs
        return payload

    def generate(self, prompts: Sequence[str]) -> Iterator[GenerationResult]:
        """All prompts in flight at once (bounded by the client); the first failure cancels the rest."""
        parse = _parse_text_reply if self.rendered_prompts else _parse_reply
        submitted = self.client.submit_all([self._payload(p) for p in prompts], parse)
        futures: dict[Future[Reply], str] = dict(zip(submitted, prompts, strict=True))
        try:
            for future in as_completed(futures):
                if future.cancelled():
                    continue
                error = future.exception()
                if error is None:
                    yield make_result(futures[future], *future.result(), self.answer_policy)
                    continue
                for pending in futures:
                    pending.cancel()
                if isinstance(error, ChatError):
                    raise GenerationError(f"a request failed; rerun to resume. {error}") from None
                raise error
        finally:
            for pending in futures:
                pending.cancel()


Reply = tuple[dict[str, Any], int | None, str | None]  # assistant message, completion tokens, finish reason


def _parse_reply(body: Any) -> Reply:
    """What `make_result` needs from a chat-completions body; MalformedReply when the message is not there."""
    # Reasoning servers may return the thinking in its own message field; make_result keeps it.
    message = {**reply_message(body), "role": "assistant"}
    if not isinstance(message.get("content"), str | None):
        raise MalformedReply("the reply's message content is not text")
    return message, *_usage(body)


def _parse_text_reply(body: Any) -> Reply:
    """The same from a `/v1/completions` body, whose first choice holds the continued `text`."""
    choices = body.get("choices") if isinstance(body, dict) else None
    text = choices[0].get("text") if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None
    if not isinstance(text, str):
        raise MalformedReply("the reply has no choices[0].text")
    return {"role": "assistant", "content": text}, *_usage(body)


def _usage(body: dict[str, Any]) -> tuple[int | None, str | None]:
    """(completion tokens, finish reason) of a reply, each None when the server did not say."""
    usage = body.get("usage")
    tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
    finish = body["choices"][0].get("finish_reason")
    return tokens if isinstance(tokens, int) else None, finish if isinstance(finish, str) else None


@dataclass
class GenerationStats:
    """What one generation session did, with throughput, stored in the results file."""

    backend: str
    model: str
    sampling: dict[str, Any]
    answer_policy: dict[str, str]
    prompts: int
    resumed: int  # answers already in the file from an earlier, interrupted run
    generated: int
    completion_tokens: int
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float | None:
        return self.completion_tokens / self.seconds if self.seconds > 0 and self.generated else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record, throughput included."""
        return {**asdict(self), "tokens_per_second": self.tokens_per_second}


def read_responses(path: Path) -> dict[str, dict[str, Any]]:
    """Responses already written, by prompt; a last line cut off by a crash is removed so appends stay valid."""
    if not path.exists():
        return {}
    raw = path.read_bytes()
    *complete, tail = raw.split(b"\n")  # `tail` follows the last newline: b"" unless a write was cut short
    done: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(complete, start=1):
        if line.strip():
            _add_response(done, line, path, number)
    if tail.strip():
        try:
            _add_response(done, tail, path, len(complete) + 1)
        except ValueError:  # a write interrupted mid-line: drop it, the prompt will be generated again
            with path.open("r+b") as handle:
                handle.truncate(len(raw) - len(tail))
        else:  # a whole answer without its newline: add it, or the next append would join the line
            with path.open("ab") as handle:
                handle.write(b"\n")
    return done


def _add_response(done: dict[str, dict[str, Any]], line: bytes, path: Path, number: int) -> None:
    row = json_object(line.decode("utf-8", errors="replace"), f"{path}: line {number} (fix or delete the line)")
    if not isinstance(row.get("prompt"), str) or "response" not in row:
        raise ValueError(f"{path}: line {number} needs a string 'prompt' and a 'response'")
    done[row["prompt"]] = row


def load_responses(
    path: str | Path, known_prompts: set[str], benchmark: str, error: type[ValueError] = ValueError
) -> dict[str, str]:
    """Responses by prompt from a JSONL of string `prompt` and `response`; `error` names the line of bad JSON, a
    non-string field, a duplicate prompt or a prompt that is not in `benchmark`."""
    path = Path(path)
    responses: dict[str, str] = {}
    first_line: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path} line {number}"
            row = json_object(line, where, error)
            prompt, response = row.get("prompt"), row.get("response")
            if not isinstance(prompt, str):
                raise error(f"{where}: field 'prompt' must be a string, got {prompt!r:.80}")
            if not isinstance(response, str):
                raise error(f"{where}: field 'response' must be a string, got {response!r:.80}")
            if prompt in first_line:
                raise error(f"{where}: duplicate response for the prompt of line {first_line[prompt]}")
            if prompt not in known_prompts:
                raise error(f"{where}: prompt is not in {benchmark}: {prompt!r:.100}")
            first_line[prompt] = number
            responses[prompt] = response
    return responses


def settings_path(output_path: Path) -> Path:
    """Where the model and sampling settings of a responses file are kept (`responses.settings.json`)."""
    return output_path.with_name(output_path.stem + ".settings.json")


def check_resume_settings(output_path: Path, settings: dict[str, Any]) -> None:
    """Refuse to add answers made with other settings to an existing responses file; record them for a new one."""
    path = settings_path(output_path)
    if path.exists():
        try:
            before = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(
                f"{path}: not a readable settings file ({type(err).__name__}: {err}; a write cut short?); it records "
                f"the model and sampling settings of {output_path}. delete it to record the current settings, or use "
                "another --output-dir"
            ) from None
        if not isinstance(before, dict):
            raise ValueError(f"{path}: expected a JSON object of settings, got {type(before).__name__}; delete it")
        if before != settings:
            was = {k: v for k, v in before.items() if settings.get(k) != v}
            now = {k: settings.get(k) for k in was}
            raise ValueError(
                f"{output_path} holds answers generated with other settings (before: {was}; now: {now}); "
                "use another --output-dir, or delete the file to start over"
            )
    else:  # written whole and renamed into place, so a kill cannot leave it torn
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        partial.replace(path)


def run_generation(generator: Generator, prompts: Iterable[str], output_path: Path) -> GenerationStats:
    """Answer the prompts not yet in `output_path`, appending (and flushing) each answer as it arrives.

    Raises ValueError before generating if the file was started with another model or other sampling settings."""
    output_path.parent.mkdir(parents=True, exist_ok=True)
    info = generator.describe()
    # The answers of one file must come from one model, one set of sampling settings and one answer policy.
    check_resume_settings(
        output_path, {"model": info["model"], "sampling": info["sampling"], "answer_policy": info["answer_policy"]}
    )
    unique = list(dict.fromkeys(prompts))
    done = read_responses(output_path)
    todo = [p for p in unique if p not in done]
    stats = GenerationStats(
        backend=info.pop("backend"),
        model=info.pop("model"),
        sampling=info.pop("sampling"),
        answer_policy=info.pop("answer_policy"),
        prompts=len(unique),
        resumed=len(unique) - len(todo),
        generated=0,
        completion_tokens=0,
        seconds=0.0,
        extra=info,
    )
    from tqdm.auto import tqdm

    start = time.perf_counter()
    answers = tqdm(generator.generate(todo), total=len(todo), desc=f"generating ({stats.backend})", unit="answer")
    with output_path.open("a", encoding="utf-8") as handle:
        try:
            for result in answers:
                handle.write(json.dumps(asdict(result), ensure_ascii=False) + "\n")
                handle.flush()
                stats.generated += 1
                stats.completion_tokens += result.completion_tokens or 0
        finally:
            stats.seconds = time.perf_counter() - start
            answers.close()
    return stats


def is_adapter(folder: Path) -> bool:
    """A folder `trainer.save_model` wrote for a LoRA run: the adapter only (adapter_config.json, no config.json)."""
    return (folder / "adapter_config.json").is_file() and not (folder / "config.json").is_file()


def check_model(model: str, backend: str) -> None:
    """Fail before any loading if `model` cannot be found: a missing local path, or a Hub id not cached offline."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "openai":  # the server owns the model name; nothing to check locally
        return
    if is_local(model):
        folder = Path(model).expanduser()
        if folder.is_dir() and is_adapter(folder):
            if backend != "transformers":
                raise ValueError(
                    f"{model} is a LoRA adapter: --backend transformers loads its base model with it; for "
                    f"{backend}, merge it first (peft's merge_and_unload) and save the merged model"
                )
            return
        if folder.is_dir() and not (folder / "config.json").exists():
            raise ValueError(f"model directory {model} has no config.json; pass a saved model folder or a Hub id")
        return
    if not looks_like_hub_id(model):
        raise ValueError(f"model path {model!r} does not exist; pass a saved model folder or a Hub id (org/name)")
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}:
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(model, "config.json"), str):
            raise ValueError(
                f"model {model!r} is not a local folder and is not in the Hub cache, and HF_HUB_OFFLINE is set; "
                "download it first (huggingface-cli download) or unset HF_HUB_OFFLINE"
            )


def create_generator(backend: str, model: str, sampling: SamplingParams, **options: Any) -> Generator:
    """The generator for `backend`; `options` go to its constructor (batch_size, base_url, concurrency, ...)."""
    check_model(model, backend)
    if backend == "transformers":
        return TransformersGenerator(model, sampling, **options)
    if backend == "vllm":
        return VLLMGenerator(model, sampling, **options)
    if not options.get("base_url"):
        raise ValueError("the openai backend needs --base-url (e.g. http://localhost:8000/v1)")
    return OpenAIGenerator(model, sampling, **options)
