"""ComplexBench (Wen et al., NeurIPS 2024): 1,150 Chinese instructions composing constraints with And, Chain and
Selection, each with yes/no scoring questions, some of which depend on others; scored as the official `eval.sh`
scores them (github.com/thu-coai/ComplexBench, `evaluation/`).

- A question with a `rule` is rule-checked: the judge first extracts the evaluated object from the response (the
  official extraction prompt, its `each` variant for rules on every item), then the rule checks it
  (`complexbench_rules`). A rule the official code would not score (it returns 2 there, counted as met) or cannot
  read goes to the yes/no judge instead (`rules_to_judge` counts them); an extraction reply with neither the result
  heading nor a `评分对象：` / `评测对象：` marker is not met (`extraction_unparsed`; officially the raw reply is
  checked).
- Every other question goes to the judge with the official evaluation prompt; a reply with exactly one `答案：是` /
  `答案：否` is that verdict, else it is met iff it holds `是` and no `否` (`judge_lenient`); a reply holding both or
  neither is not met (`judge_unparsed`). Instruction and response are cut to 6,000 and 4,000 characters, as there.
- Dependency-aware aggregation: question i counts as met iff it is met and every question in its `dep` is met
  (their own verdicts, one level, as `get_rely_judgment` does). DRFR = met questions / all questions, overall and
  per constraint type (Lexical, Structure, Semantic, Utility, Others; per question mention), composition type, each
  dimension, category, category family, task type and nesting (sorted composition types joined by `_`). The
  Selection coherent test: per task group of depth 1 (`single`) or >= 2 (`multiple`), `origin` = instructions with
  every question met / instructions, `coherent` = groups with every instruction so / groups, `relative_drop` =
  (origin - coherent) / origin.
`complexbench` asks the Chinese instruction and questions, `complexbench-en` the English translation (the prompts
stay Chinese in both, as officially).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsrif_trl.eval import judging
from lsrif_trl.eval.complexbench_prompts import EVALUATION_PROMPT, EXTRACTION_PROMPT, EXTRACTION_PROMPT_EACH
from lsrif_trl.eval.complexbench_rules import Rule, extraction_targets, parse_rule
from lsrif_trl.eval.runner import FileBenchmark, Scores
from lsrif_trl.jsonl import read_array

BENCHMARK = "complexbench"
SOURCE = "github.com/thu-coai/ComplexBench, data/data_final.json"
HEADLINE = ["drfr", "lexical/drfr", "structure/drfr", "semantic/drfr", "utility/drfr", "and/drfr", "chain/drfr",
            "selection/drfr"]  # fmt: skip
CONSTRAINT_TYPES = {
    "lexical": ("Word Matching", "Keywords"),
    "structure": ("JSON Format", "Markdown Format", "Bullets Format", "Length", "Start with", "End with",
                  "Punctuation", "Template"),
    "semantic": ("Language Style", "Personalization", "Topic", "Sentiment"),
    "utility": ("Helpfulness", "Target Language", "Supportiveness", "Consistency", "Factuality"),
}  # fmt: skip  # the official `aggregation.py` lists (its "Utillity" spelled right); anything else is "others"
INSTRUCTION_CHARS, RESPONSE_CHARS = 6000, 4000
_ANSWER = re.compile(r"答案：是|答案：否")


class ComplexBenchInputError(ValueError):
    """Data or responses that cannot be scored; the message names the file, row and field."""


@dataclass(frozen=True)
class Question:
    """One scoring question: its text, its rule (None: judged), what it checks and the questions it depends on."""

    text: str
    rule_text: str | None
    rule: Rule | None
    dimensions: tuple[str, ...]
    compositions: tuple[str, ...]
    deps: tuple[int, ...]


@dataclass(frozen=True)
class ComplexBenchExample:
    """One instruction (in the language asked) with its questions and labels."""

    id: str
    prompt: str
    questions: tuple[Question, ...]
    category: str
    task_type: str
    compositions: tuple[str, ...]
    group: str | None


def _strings(value: Any, where: str, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ComplexBenchInputError(f"{where}: field {name!r} must be a list of strings, got {value!r:.60}")
    return tuple(value)


def _text(row: dict[str, Any], name: str, where: str) -> str:
    value = row.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ComplexBenchInputError(f"{where}: field {name!r} must be a non-empty string")
    return value


def parse_question(row: Any, index: int, count: int, where: str, language: str) -> Question:
    """One scoring question; ComplexBenchInputError naming `where` and the field otherwise."""
    if not isinstance(row, dict):
        raise ComplexBenchInputError(f"{where}: expected a JSON object, got {type(row).__name__}")
    text = _text(row, "question" if language == "zh" else "question_en", where)
    rule_text = row.get("rule")
    if rule_text is not None and not isinstance(rule_text, str):
        raise ComplexBenchInputError(f"{where}: field 'rule' must be a string or null, got {rule_text!r:.60}")
    deps = row.get("dep") or []
    if not isinstance(deps, list) or not all(isinstance(d, int) and 0 <= d < count and d != index for d in deps):
        raise ComplexBenchInputError(
            f"{where}: field 'dep' must list other questions' positions (0-{count - 1}), got {deps!r:.60}"
        )
    return Question(
        text,
        rule_text,
        parse_rule(rule_text) if rule_text else None,
        _strings(row.get("constraint_dimensions") or [], where, "constraint_dimensions"),
        _strings(row.get("composition_types") or [], where, "composition_types"),
        tuple(deps),
    )


def parse_example(row: Any, where: str, language: str = "zh") -> ComplexBenchExample:
    """One data row; ComplexBenchInputError naming `where` and the field otherwise."""
    if not isinstance(row, dict):
        raise ComplexBenchInputError(f"{where}: expected a JSON object, got {type(row).__name__}")
    prompt = _text(row, "instruction" if language == "zh" else "instruction_en", where)
    questions = row.get("scoring_questions")
    if not isinstance(questions, list) or not questions:
        raise ComplexBenchInputError(f"{where}: field 'scoring_questions' must be a non-empty list")
    parsed = tuple(
        parse_question(q, i, len(questions), f"{where} scoring_questions[{i}]", language)
        for i, q in enumerate(questions)
    )
    group = row.get("group")
    return ComplexBenchExample(
        str(row.get("main_id", where)),
        prompt,
        parsed,
        str(row.get("category", "")),
        str(row.get("task_types", "")),
        _strings(row.get("composition_types") or [], where, "composition_types"),
        str(group) if group else None,
    )


def load_input_data(path: Path | None, language: str = "zh") -> list[ComplexBenchExample]:
    """The instructions of the official JSON array (`data_final.json`)."""
    if path is None:
        raise ComplexBenchInputError(
            f"ComplexBench is not on the Hub: pass --input-data with the official file ({SOURCE})"
        )
    rows = read_array(path, ComplexBenchInputError)
    examples = [parse_example(row, f"{path} row {index}", language) for index, row in enumerate(rows)]
    seen: dict[str, int] = {}
    for index, example in enumerate(examples):
        if example.id in seen:
            raise ComplexBenchInputError(f"{path} row {index}: main_id {example.id} repeats row {seen[example.id]}")
        seen[example.id] = index
    return examples


# ---- asking the judge ------------------------------------------------------------------------------------------
def question_prompt(example: ComplexBenchExample, question: Question, answer: str) -> str:
    """The official prompt for one question: extraction for a readable rule, else the yes/no evaluation."""
    instruction, response = example.prompt[:INSTRUCTION_CHARS], answer[:RESPONSE_CHARS]
    if question.rule is not None:
        template = EXTRACTION_PROMPT_EACH if question.rule.each else EXTRACTION_PROMPT
        return template.format(instruction=instruction, response=response, question=question.text)
    return EVALUATION_PROMPT.format(input=instruction, output=response, question=question.text)


def parse_verdict(reply: str) -> tuple[bool, str]:
    """A yes/no reply read as the official script reads it, and how ("answer", "lenient" or "unparsed")."""
    found = _ANSWER.findall(reply)
    if len(found) == 1:
        return "是" in found[0], "answer"
    yes, no = "是" in reply, "否" in reply
    if yes != no:
        return yes, "lenient"
    return False, "unparsed"


def question_verdict(question: Question, answer: str, reply: str) -> tuple[bool, str]:
    """One question's verdict from the judge's reply to its prompt, and how it was reached: "rule", or
    "extraction-unparsed" (not met: an extraction reply in none of the asked forms), else as `parse_verdict`."""
    if question.rule is None:
        return parse_verdict(reply)
    targets, marked = extraction_targets(answer, reply)
    return (question.rule.check(targets), "rule") if marked else (False, "extraction-unparsed")


def dependent_verdicts(example: ComplexBenchExample, verdicts: list[bool]) -> list[bool]:
    """The official `get_rely_judgment`: a question counts as met iff it and every question it depends on are."""
    return [v and all(verdicts[d] for d in q.deps) for q, v in zip(example.questions, verdicts, strict=True)]


# ---- DRFR ------------------------------------------------------------------------------------------------------
def constraint_type(dimension: str) -> str:
    """The official constraint type of a dimension (`get_type`)."""
    return next((name for name, members in CONSTRAINT_TYPES.items() if dimension in members), "others")


class _Tally:
    """Met / all counts per key, in first-seen order."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}

    def add(self, key: str, met: bool) -> None:
        entry = self.counts.setdefault(key, [0, 0])
        entry[0] += met
        entry[1] += 1

    def ratios(self, prefix: str = "", order: bool = False) -> dict[str, float]:
        keys = sorted(self.counts) if order else self.counts
        return {f"{prefix}{k}/drfr": self.counts[k][0] / self.counts[k][1] for k in keys}


def _coherent(groups: list[list[bool]]) -> dict[str, float | None]:
    """The coherent test of groups (each a list: whether each instruction had every question met)."""
    instructions = [ok for group in groups for ok in group]
    if not instructions:
        return {"origin": None, "coherent": None, "relative_drop": None}
    origin = sum(instructions) / len(instructions)
    coherent = sum(all(group) for group in groups) / len(groups)
    return {"origin": origin, "coherent": coherent, "relative_drop": (origin - coherent) / origin if origin else None}


def summarize(examples: list[ComplexBenchExample], met: dict[str, list[bool]], how: dict[str, list[str]],
              missing: int) -> dict[str, Any]:  # fmt: skip
    """DRFR over the dependency-aware verdicts `met`, overall and per label; the coherent test; how verdicts came."""
    types, each = _Tally(), _Tally()
    category, family, task, nesting = _Tally(), _Tally(), _Tally(), _Tally()
    for e in examples:
        for q, ok in zip(e.questions, met[e.id], strict=True):
            for dimension in q.dimensions:
                types.add(constraint_type(dimension), ok)
                each.add(dimension, ok)
            for composition in q.compositions:
                types.add(composition.lower(), ok)
                each.add(composition, ok)
            category.add(e.category, ok)
            family.add(e.category.split("_")[0], ok)
            task.add(e.task_type, ok)
            nesting.add("_".join(sorted(e.compositions)), ok)
    flat = [ok for e in examples for ok in met[e.id]]
    metrics: dict[str, Any] = {"drfr": sum(flat) / len(flat) if flat else None}
    metrics |= types.ratios() | category.ratios("category/", True) | family.ratios("category_family/", True)
    metrics |= nesting.ratios("nesting/", True) | task.ratios("task/") | each.ratios("each/")
    groups: dict[str, list[ComplexBenchExample]] = {}
    for e in examples:
        if e.group is not None:
            groups.setdefault(e.group, []).append(e)
    for name, deep in (("single", lambda d: d == 1), ("multiple", lambda d: d >= 2)):
        chosen = [g for g in groups.values() if deep(sum("Selection" in q.compositions for q in g[0].questions))]
        for key, value in _coherent([[all(met[e.id]) for e in g] for g in chosen]).items():
            metrics[f"coherent/{name}/{key}"] = value
    readings = [h for e in examples for h in how[e.id]]
    metrics |= {
        "num_prompts": len(examples),
        "num_questions": len(readings),
        "questions_by_rule": sum(q.rule is not None for e in examples for q in e.questions),
        "rules_to_judge": sum(q.rule_text is not None and q.rule is None for e in examples for q in e.questions),
        "extraction_unparsed": readings.count("extraction-unparsed"),
        "judge_lenient": readings.count("lenient"),
        "judge_unparsed": readings.count("unparsed"),
        "missing_responses": missing,
    }
    return metrics


class ComplexBenchBenchmark(FileBenchmark):
    """`lsrif eval complexbench`: per-question verdicts in `complexbench_results.jsonl`, DRFR in `metrics.json`."""

    name = BENCHMARK
    language = "zh"
    headline = HEADLINE
    card = {"dataset_name": "ComplexBench", "dataset_type": "complexbench", "dataset_split": "full"}
    help = "ComplexBench DRFR (rule-augmented judge, dependency-aware; Chinese)"
    description = (
        "Score responses on ComplexBench (generating them first with --model) with a judge (any OpenAI-compatible "
        "server) and the official rules; writes judge_replies.jsonl, complexbench_results.jsonl, metrics.json, "
        "results.json and results.md."
    )
    input_help = f"the official data_final.json (required: {SOURCE})"
    judge_use = "required"

    def load(self) -> list[ComplexBenchExample]:
        return load_input_data(self.input_data, self.language)

    def score(self, examples, everything, responses, output_dir, allow_missing):
        answers, missing = self.answers(examples, everything, responses, allow_missing, ComplexBenchInputError)
        prompts = {e.id: [question_prompt(e, q, answers[e.id]) for q in e.questions] for e in examples}
        unique = list(dict.fromkeys(p for e in examples for p in prompts[e.id]))
        replies = judging.judge_replies(unique, self.judge, output_dir)
        met, how, rows = {}, {}, []
        for e in examples:
            judged = [question_verdict(q, answers[e.id], replies[p]) for q, p in zip(e.questions, prompts[e.id],
                                                                                     strict=True)]  # fmt: skip
            verdicts = [verdict for verdict, _ in judged]
            met[e.id], how[e.id] = dependent_verdicts(e, verdicts), [reading for _, reading in judged]
            rows.append({"id": e.id, "category": e.category, "point_judges": verdicts, "point_judges_rely": met[e.id],
                         "how": how[e.id]})  # fmt: skip
        metrics = summarize(examples, met, how, missing)
        self.write_outputs(output_dir, rows, metrics)
        return Scores(metrics, self.details(), {e.id: sum(met[e.id]) / len(e.questions) for e in examples})


class ComplexBenchEnglishBenchmark(ComplexBenchBenchmark):
    """`lsrif eval complexbench-en`: the same, on the English translation (`instruction_en`, `question_en`)."""

    name = f"{BENCHMARK}-en"
    language = "en"
    card = {"dataset_name": "ComplexBench (English)", "dataset_type": "complexbench-en", "dataset_split": "full"}
    help = "ComplexBench DRFR on the official English translation"
