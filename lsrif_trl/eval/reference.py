"""RAIF's offline reference column (`lsrif data reference`): what a model's answers reach without reasoning.

Each row is answered once, the way the RAIF trainer (`training.raif_trainer`) shows a direct sample its prompt: the
recipe's system prompt first, the chat template with the generation prompt, then the empty think block
(`rewards.think.no_cot_prompt`). The answers are appended to a resumable responses file (`eval.generation`), then
scored as the trainer's contrast scores a sample, on the completion the rewards read (the prefill, then the answer):

    reference = sum_f w_f * r_f     over the recipe's rewards f that scored it, the format rule left out

with the recipe's reward functions, weights and answer policy (`rewards.registry.answer_reward`). That is the scale
`superior_cot_reference: column NAME` compares a reasoning sample's answer reward with; RAIF's own column counts
satisfied constraints, which is not on the scale of its +2/-2/fraction reward. A row that no answer reward scored
(its tree imposes nothing on the answer, a soft verdict is missing) holds NaN, which no sample reaches.
The openai backend sends the rendered text to the server's `/v1/completions` (raw continuation), rendered with the
tokenizer `tokenizer` names (default: the model name): a chat endpoint would apply its own template and is not
bound to continue a prefilled assistant turn.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lsrif_trl.data.loading import (
    DatasetValidationError,
    load_training_dataset,
    output_problem,
    save_dataset,
    saved_format,
    with_system_prompt,
)
from lsrif_trl.eval.generation import (
    GenerationStats,
    SamplingParams,
    check_model,
    create_generator,
    read_responses,
    run_generation,
)
from lsrif_trl.rewards.registry import FORMAT_REWARD_FUNCS, answer_reward
from lsrif_trl.rewards.think import (
    WHOLE_TEXT,
    AnswerPolicy,
    no_cot_prefill,
    no_cot_prompt,
    template_think_opener,
    with_prefill,
)

SUMMARY_FILE = "reference.json"
SCORE_BATCH = 256  # rows per reward call: bounds what one call holds (a judge gets them in flight at once)


class ReferenceError(ValueError):
    """A reference job that cannot run as asked; the message names the file, field or option to fix."""


@dataclass(frozen=True)
class ReferenceScorer:
    """The recipe's rewards as the contrast reads them, and what the trainer puts around each prompt.

    `policy` is the recipe's answer policy before the tokenizer is known (`template` when the chat template opens
    the think block, as in the recipe); `settings` records what built the rewards (recipe, options) in the summary."""

    funcs: tuple[Callable[..., list[float | None]], ...]
    weights: tuple[float, ...]
    policy: AnswerPolicy
    system_prompt: str | None = None
    chat_template_kwargs: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            answer_reward(self.names, self.weights, [])
        except ValueError as err:
            raise ReferenceError(f"reward functions: {err}") from None

    @property
    def names(self) -> list[str]:
        """The reward functions' names, as the trainer reads them (`__name__`)."""
        return [f.__name__ for f in self.funcs]


@dataclass(frozen=True)
class ReferenceJob:
    """Which rows to answer with which model and backend, and where the rows with their new column go."""

    data: str
    output: Path
    model: str
    backend: str
    sampling: SamplingParams
    column: str = "reference"
    split: str = "train"
    data_config: str | None = None  # a Hub dataset's configuration
    fmt: str | None = None  # default: the input's own format (`data.loading.saved_format`)
    responses: Path | None = None  # default: OUTPUT.responses.jsonl beside the output
    tokenizer: str | None = None  # openai: whose chat template renders the prompts (default: `model`)
    backend_options: Mapping[str, Any] = field(default_factory=dict)
    overwrite: bool = False

    @property
    def responses_path(self) -> Path:
        """The resumable responses file: one JSON line per answered prompt."""
        return self.responses or self.output.with_name(f"{self.output.name}.responses.jsonl")

    @property
    def output_format(self) -> str:
        """The `save_dataset` format of the output: `fmt`, else the input's."""
        return self.fmt or saved_format(self.data)


@dataclass
class ReferenceSummary:
    """What one job wrote: the column's statistics and everything that produced it (`reference.json`)."""

    column: str
    rows: int
    mean: float | None  # over the rows an answer reward scored
    unscored_rows: list[int]
    data: str
    split: str
    output: str
    responses: str
    model: str
    backend: str
    sampling: dict[str, Any]
    rewards: dict[str, Any]
    prompts: dict[str, Any]
    generation: dict[str, Any]


def check_job(job: ReferenceJob, scorer: ReferenceScorer) -> Any:
    """The validated rows, or a ReferenceError naming what to fix; loads no tokenizer and no model."""
    if job.backend == "openai" and not job.backend_options.get("base_url"):
        raise ReferenceError(
            "--base-url: the openai backend needs the server's /v1 URL (e.g. http://localhost:8000/v1)"
        )
    if job.tokenizer and job.backend != "openai":
        raise ReferenceError(f"--tokenizer: only for --backend openai; {job.backend} renders with the model's own")
    if not job.column or any(ch.isspace() or ch == ":" for ch in job.column):
        raise ReferenceError(
            f"--column: {job.column!r} cannot be named in `superior_cot_reference: column NAME`; use a name without "
            "spaces or colons"
        )
    problem = output_problem(job.output, job.data, job.overwrite)
    if problem:
        raise ReferenceError(problem)
    try:
        dataset = load_training_dataset(job.data, split=job.split, config=job.data_config)
    except DatasetValidationError as err:
        raise ReferenceError(f"{err}\nfix those rows (`lsrif data validate {job.data}` lists them)") from None
    except (ValueError, FileNotFoundError) as err:
        raise ReferenceError(f"--data: {err}") from None
    if len(dataset) == 0:
        raise ReferenceError(f"--data: {job.data} has no rows in split {job.split!r}")
    if job.column in dataset.column_names:
        raise ReferenceError(
            f"--column: {job.data} already has a column {job.column!r}; name the new one with --column, or drop the "
            "old one first"
        )
    if scorer.system_prompt and isinstance(dataset[0]["prompt"], str):
        raise ReferenceError("system_prompt: needs conversational prompts (lists of messages), got plain strings")
    try:
        check_model(job.model, job.backend)
    except ValueError as err:
        raise ReferenceError(f"--model: {err}") from None
    if job.backend == "openai":
        try:  # the served model's tokenizer must be here to render its chat template
            check_model(job.tokenizer or job.model, "transformers")
        except ValueError as err:
            raise ReferenceError(f"--tokenizer (default: --model): {err}") from None
    return dataset


def trainer_prompts(dataset: Any, scorer: ReferenceScorer) -> list[Any]:
    """Each row's prompt as the trainer holds it: with the recipe's system prompt first when it has none."""
    prompts = list(dataset["prompt"])
    if not scorer.system_prompt:
        return prompts
    return [with_system_prompt(p, scorer.system_prompt) for p in prompts]


def score_answers(
    scorer: ReferenceScorer, dataset: Any, prompts: Sequence[Any], answers: Sequence[str], prefill: str, policy: Any
) -> list[float]:
    """The answer reward of each row's direct answer, read as the trainer's rewards read it (prefill first)."""
    funcs = [f.with_policy(policy) if hasattr(f, "with_policy") else f for f in scorer.funcs]
    extra = [c for c in dataset.column_names if c not in ("prompt", "completion")]
    references: list[float] = []
    for start in range(0, len(answers), SCORE_BATCH):
        stop = min(start + SCORE_BATCH, len(answers))
        batch_prompts = list(prompts[start:stop])
        completions = [
            with_prefill(answer if isinstance(prompt, str) else [{"role": "assistant", "content": answer}], prefill)
            for prompt, answer in zip(batch_prompts, answers[start:stop], strict=True)
        ]
        rows = dataset[start:stop]
        columns = {c: rows[c] for c in extra}
        scores = [func(prompts=batch_prompts, completions=completions, **columns) for func in funcs]
        references += answer_reward(scorer.names, scorer.weights, [list(row) for row in zip(*scores, strict=True)])
    return references


def compute_reference(job: ReferenceJob, scorer: ReferenceScorer, dataset: Any) -> ReferenceSummary:
    """Answer every row of `dataset` (from `check_job`) without reasoning, score it, save rows + column + summary.

    Answers already in the responses file (same model, sampling and prompt) are reused; the output is written
    whole under a temporary name and then renamed, so a kill leaves no half dataset. GenerationError when the
    backend fails (the answers so far stay for a re-run); ReferenceError when the column cannot be saved."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(job.tokenizer or job.model)
    kwargs = dict(scorer.chat_template_kwargs)
    prefill = no_cot_prefill(template_think_opener(tokenizer, kwargs))
    prompts = trainer_prompts(dataset, scorer)
    texts = [no_cot_prompt(tokenizer, p, kwargs) for p in prompts]
    policy = scorer.policy.for_template(tokenizer, kwargs)  # as the recipe reads its answers
    # The generator keeps each answer's whole text; the rewards then read it behind the prefill, under `policy`.
    generator = create_generator(
        job.backend, job.model, job.sampling, answer_policy=WHOLE_TEXT, rendered_prompts=True, **job.backend_options
    )
    stats = run_generation(generator, texts, job.responses_path)
    done = read_responses(job.responses_path)
    answers = [done[t]["response"] for t in texts]
    references = score_answers(scorer, dataset, prompts, answers, prefill, policy)
    unscored = [i for i, r in enumerate(references) if math.isnan(r)]
    if unscored and job.output_format == "jsonl":
        raise ReferenceError(
            f"rows {unscored[:10]}: no answer reward scored the direct answer (NaN), which JSON Lines would store as "
            f"null and the trainer refuses; save with --format disk or parquet (the answers in {job.responses_path} "
            "are reused)"
        )
    summary = _summary(job, scorer, references, unscored, stats, policy, prefill)
    _save(dataset.add_column(job.column, references), job, summary)
    return summary


def _summary(
    job: ReferenceJob,
    scorer: ReferenceScorer,
    references: list[float],
    unscored: list[int],
    stats: GenerationStats,
    policy: AnswerPolicy,
    prefill: str,
) -> ReferenceSummary:
    scored = [r for r in references if not math.isnan(r)]
    return ReferenceSummary(
        column=job.column,
        rows=len(references),
        mean=math.fsum(scored) / len(scored) if scored else None,
        unscored_rows=unscored,
        data=job.data,
        split=job.split,
        output=str(job.output),
        responses=str(job.responses_path),
        model=job.model,
        backend=job.backend,
        sampling=asdict(job.sampling),
        rewards={
            "functions": scorer.names,
            "weights": list(scorer.weights),
            "summed": [n for n in scorer.names if n not in FORMAT_REWARD_FUNCS],
            "answer_policy": asdict(policy),
            **scorer.settings,
        },
        prompts={
            "system_prompt": scorer.system_prompt,
            "chat_template_kwargs": dict(scorer.chat_template_kwargs),
            "prefill": prefill,
        },
        generation={
            k: stats.to_dict()[k] for k in ("prompts", "resumed", "generated", "completion_tokens", "seconds")
        },
    )


def _save(dataset: Any, job: ReferenceJob, summary: ReferenceSummary) -> None:
    staging = job.output.with_name(f".{job.output.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    save_dataset(dataset, staging, job.output_format)
    (staging / SUMMARY_FILE).write_text(json.dumps(asdict(summary), indent=2) + "\n", encoding="utf-8")
    if job.output.exists():  # output_problem allowed it: --overwrite of a saved dataset
        shutil.rmtree(job.output)
    staging.rename(job.output)
