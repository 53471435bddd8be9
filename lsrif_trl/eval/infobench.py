"""InFoBench (Qin et al., 2024): 500 instructions, each decomposed into yes/no requirement questions (2,250 in all),
answered by a judge; the metric is DRFR, the Decomposed Requirements Following Ratio = questions answered YES /
all questions.

The judge is asked as the official `evaluation.py` asks GPT-4: one conversation per instruction, its first turn
the official system text, the input (if any), the generated text and the first question, every later question a
new user turn after the judge's previous reply. A reply starting with yes/no (any case) is that verdict, else one
holding only YES or only NO; any other reply ends the conversation, and it and the unasked questions count as not
met (`judge_unparsed` counts those instructions; the official script drops them from the ratio instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsrif_trl.eval import judging
from lsrif_trl.eval.runner import FileBenchmark, Scores
from lsrif_trl.jsonl import read_objects

BENCHMARK = "infobench"
HUB_DATASET = "kqsong/InFoBench"
HEADLINE = ["drfr", "easy/drfr", "hard/drfr"]
CARD = {"dataset_name": "InFoBench", "dataset_type": HUB_DATASET, "dataset_split": "train"}
SYSTEM_TEXT = (
    "Based on the provided Input (if any) and Generated Text, answer the ensuing Questions with either a YES or NO "
    "choice. Your selection should be based on your judgment as well as the following rules:\n\n- YES: Select 'YES' "
    "if the generated text entirely fulfills the condition specified in the question. However, note that even minor "
    "inaccuracies exclude the text from receiving a 'YES' rating. As an illustration. consider a question that asks. "
    '"Does each sentence in the generated text use a second person?” If even one sentence does not use the second '
    "person, the answer should NOT be 'YES'. To qualify for a 'YES' rating, the generated text must be entirely "
    "accurate and relevant to the question\n\n- NO: Opt for 'NO' if the generated text fails to meet the question's "
    "requirements or provides no information that could be utilized to answer the question. For instance, if the "
    'question asks. "Is the second sentence in the generated text a compound sentence?" and the generated text only '
    "has one sentence. it offers no relevant information to answer the question. Consequently, the answer should be "
    "'NO'.'''"
)  # the official text, its typos and stray quotes included


class InFoBenchInputError(ValueError):
    """Data or responses that cannot be scored; the message names the file, row and field."""


@dataclass(frozen=True)
class InFoBenchExample:
    """One instruction, its input and its decomposed questions."""

    id: str
    instruction: str
    input: str
    questions: tuple[str, ...]
    subset: str

    @property
    def prompt(self) -> str:
        """The model's prompt: the instruction, then the input on the next line when there is one."""
        return f"{self.instruction}\n{self.input}" if self.input else self.instruction


def parse_example(row: Any, where: str) -> InFoBenchExample:
    """One data row; InFoBenchInputError naming `where` and the field otherwise."""
    if not isinstance(row, dict):
        raise InFoBenchInputError(f"{where}: expected a JSON object, got {type(row).__name__}")
    for name in ("instruction", "input"):
        if not isinstance(row.get(name, ""), str):
            raise InFoBenchInputError(f"{where}: field {name!r} must be a string, got {row.get(name)!r:.60}")
    questions = row.get("decomposed_questions")
    if not isinstance(questions, list) or not questions or not all(isinstance(q, str) for q in questions):
        raise InFoBenchInputError(f"{where}: field 'decomposed_questions' must be a non-empty list of strings")
    if not row.get("instruction"):
        raise InFoBenchInputError(f"{where}: field 'instruction' is empty")
    subset = str(row.get("subset", "")).lower()
    return InFoBenchExample(
        str(row.get("id", where)), row["instruction"], row.get("input") or "", tuple(questions), subset
    )


def load_input_data(path: str | Path | None = None) -> list[InFoBenchExample]:
    """The instructions from a JSONL (the official fields), or from the Hub dataset when `path` is None."""
    if path is not None:
        path = Path(path)
        rows = [(f"{path} line {n}", row) for n, row in read_objects(path, InFoBenchInputError)]
    else:
        rows = [(f"{HUB_DATASET} row {i}", row) for i, row in enumerate(_hub_rows())]
    examples = [parse_example(row, where) for where, row in rows]
    if not examples:
        raise InFoBenchInputError(f"{path or HUB_DATASET}: no instructions found")
    return examples


def _hub_rows() -> list[dict[str, Any]]:
    import datasets  # deferred: only needed when no local input file is given

    try:
        return list(datasets.load_dataset(HUB_DATASET, split="train"))
    except Exception as err:  # noqa: BLE001 - offline mode, missing cache, network and auth errors all land here
        raise InFoBenchInputError(
            f"could not load {HUB_DATASET} from the Hub ({err}); pass --input-data FILE"
        ) from err


def first_turn(example: InFoBenchExample, answer: str, question: str) -> str:
    """The conversation's first user message, as the official script writes it."""
    if example.input:
        return f'{SYSTEM_TEXT}\n\nInput:\n"{example.input}"\n\nGenerated Text:\n"{answer}"\n\nQuestion:\n{question}\n'
    return f'{SYSTEM_TEXT}\n\nGenerated Text:\n"{answer}"\n\nQuestion:\n{question}\n'


def parse_verdict(reply: str) -> bool | None:
    """YES/NO from a judge reply as the official script reads it; None when it cannot tell."""
    lowered = reply.lower()
    if lowered.startswith("yes"):
        return True
    if lowered.startswith("no"):
        return False
    if "YES" in reply and "NO" not in reply:
        return True
    if "NO" in reply and "YES" not in reply:
        return False
    return None


def judge_examples(
    examples: list[InFoBenchExample], answers: dict[str, str], judge: judging.JudgeConfig, output_dir: Path
) -> dict[str, list[bool | None]]:
    """Each instruction's verdicts, question by question; asked in rounds (question k of every conversation)."""
    conversations: dict[str, list[judging.Message]] = {e.id: [] for e in examples}
    verdicts: dict[str, list[bool | None]] = {e.id: [] for e in examples}
    for turn in range(max(len(e.questions) for e in examples)):
        asking = [e for e in examples if turn < len(e.questions) and None not in verdicts[e.id]]
        if not asking:
            break
        for e in asking:
            question = e.questions[turn]
            content = first_turn(e, answers[e.id], question) if turn == 0 else f"{question}\n"
            conversations[e.id] = [*conversations[e.id], {"role": "user", "content": content}]
        replies = judging.judge_conversations([conversations[e.id] for e in asking], judge, output_dir)
        for e, reply in zip(asking, replies, strict=True):
            conversations[e.id] = [*conversations[e.id], {"role": "assistant", "content": reply}]
            verdicts[e.id].append(parse_verdict(reply))
    return verdicts


def summarize(
    examples: list[InFoBenchExample], verdicts: dict[str, list[bool | None]], missing: int
) -> dict[str, Any]:
    """DRFR over every question (unasked and unparsed ones count as not met), overall and per subset."""

    def drfr(rows: list[InFoBenchExample]) -> float | None:
        total = sum(len(e.questions) for e in rows)
        return sum(sum(v is True for v in verdicts[e.id]) for e in rows) / total if total else None

    metrics: dict[str, Any] = {"drfr": drfr(examples)}
    for subset in sorted({e.subset for e in examples if e.subset}):
        metrics[f"{subset}/drfr"] = drfr([e for e in examples if e.subset == subset])
    metrics |= {
        "num_prompts": len(examples),
        "num_questions": sum(len(e.questions) for e in examples),
        "judge_unparsed": sum(None in verdicts[e.id] for e in examples),
        "missing_responses": missing,
    }
    return metrics


class InFoBenchBenchmark(FileBenchmark):
    """`lsrif eval infobench`: per-instruction verdicts in `infobench_results.jsonl`, DRFR in `metrics.json`."""

    name = BENCHMARK
    headline = HEADLINE
    card = CARD
    help = "InFoBench DRFR (judge-scored decomposed yes/no questions)"
    description = (
        "Score responses on InFoBench (generating them first with --model) with a judge (any OpenAI-compatible "
        "server); writes judge_replies.jsonl, infobench_results.jsonl, metrics.json, results.json and results.md."
    )
    input_help = f"the instructions as JSONL (official fields; default: the Hub dataset {HUB_DATASET})"
    judge_use = "required"

    def load(self) -> list[InFoBenchExample]:
        return load_input_data(self.input_data)

    def score(self, examples, everything, responses, output_dir, allow_missing):
        answers, missing = self.answers(examples, everything, responses, allow_missing, InFoBenchInputError)
        verdicts = judge_examples(examples, answers, self.judge, output_dir)
        rows = [{"id": e.id, "subset": e.subset, "eval": verdicts[e.id]} for e in examples]
        metrics = summarize(examples, verdicts, missing)
        self.write_outputs(output_dir, rows, metrics)
        per_prompt = {e.id: sum(v is True for v in verdicts[e.id]) / len(e.questions) for e in examples}
        return Scores(metrics, self.details(), per_prompt)
