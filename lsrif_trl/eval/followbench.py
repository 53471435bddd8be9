"""FollowBench (Jiang et al., ACL 2024), English: each base instruction grown one constraint per level (1-5), in six
constraint categories. 350 rows are scored by the official rules (`followbench_rules`), offline; with a judge
(`--judge-base-url`, `--judge-model`) the other 470 are scored as the official code does with GPT-4: the judge sees
the instruction at levels 0..L and the answer and lists YES/NO for each added constraint.

Metrics as the paper defines them, over the rows scored: HSR at level L is the share of level-L rows whose every
constraint is met, SSR the mean share of constraints met (a rule row counts 0 or 1 in both); `hsr` and `ssr` average
the five levels. CSL is, over the example groups whose five levels were all scored, the mean number of consecutive
levels met from level 1. A judge reply the official parser rejects counts as not met (the official script marks it
-1 and asks for a manual fix); `judge_unparsed` counts them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsrif_trl.eval import generation, judging
from lsrif_trl.eval.followbench_rules import is_rule_row, rule_verdict
from lsrif_trl.eval.runner import FileBenchmark, Scores, check_answers
from lsrif_trl.rewards.think import DEFAULT_POLICY

BENCHMARK = "followbench"
HUB_DATASET = "YuxinJiang/FollowBench"
OFFLINE_HINT = "pass --input-data ../shared/data/followbench (the folder of the six English files) when offline"
CATEGORIES = ("content", "situation", "style", "format", "example", "mixed")
LEVELS = (1, 2, 3, 4, 5)
HEADLINE = ["hsr", "ssr", "csl", *(f"level {level}/hsr" for level in LEVELS)]
CARD = {"dataset_name": "FollowBench", "dataset_type": HUB_DATASET, "dataset_split": "English"}
# How the official judge prompt names the constraint added at each level, per category.
CONSTRAINT_NAMES = {
    "content": "content constraint",
    "situation": "situation constraint (information to describe a specific situation/background)",
    "style": "style constraint",
    "format": "format constraint",
    "mixed": "constraint",
}
NOT_MET = ("NO", "PARTIAL", "MAYBE", "UNKNOWN", "N/A")  # the list items the official parser reads as "not met"
_FIELDS = {"example_id": int, "category": str, "source": str, "level": int, "instruction": str, "target": str}


class FollowBenchInputError(ValueError):
    """Data or responses that cannot be scored; the message names the file, row and field."""


@dataclass(frozen=True)
class FollowBenchRow:
    """One row of a category file; `history` holds the instructions of levels 0..level of its example."""

    category: str
    example_id: int
    level: int
    source: str
    instruction: str
    target: str
    rule: bool
    history: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.category}-{self.example_id}-{self.level}"

    @property
    def prompt(self) -> str:
        return self.instruction


def _parse_file(category: str, rows: Any, where: str) -> list[FollowBenchRow]:
    if not isinstance(rows, list):
        raise FollowBenchInputError(f"{where}: expected a JSON array of rows, got {type(rows).__name__}")
    parsed, history, current = [], [], None
    for index, row in enumerate(rows):
        here = f"{where} row {index}"
        if not isinstance(row, dict):
            raise FollowBenchInputError(f"{here}: expected an object, got {type(row).__name__}")
        for name, kind in _FIELDS.items():
            if not isinstance(row.get(name), kind):
                raise FollowBenchInputError(
                    f"{here}: field {name!r} must be a {kind.__name__}, got {row.get(name)!r:.60}"
                )
        if not 0 <= row["level"] <= 5:
            raise FollowBenchInputError(f"{here}: field 'level' must be 0-5, got {row['level']}")
        if category != "example" and row["level"] != index % 6:  # the official code asserts this layout
            raise FollowBenchInputError(
                f"{here}: level {row['level']}, but row {index} of a {category} file is level {index % 6}"
            )
        if row["example_id"] != current:
            current, history = row["example_id"], []
        history.append(row["instruction"])
        if row["level"] >= 1:
            if not row["instruction"]:
                raise FollowBenchInputError(f"{here}: field 'instruction' is empty at level {row['level']}")
            rule = is_rule_row(category, row["example_id"], row["level"], row["source"])
            fields = {name: row[name] for name in _FIELDS if name != "category"}
            parsed.append(FollowBenchRow(category=category, rule=rule, history=tuple(history), **fields))
    return parsed


def load_rows(path: str | Path | None = None) -> list[FollowBenchRow]:
    """Every level >= 1 row of the six English files in `path` (a folder), or of the Hub dataset when None."""
    folder = Path(path) if path is not None else _hub_folder()
    if not folder.is_dir():
        raise FollowBenchInputError(f"--input-data {folder}: expected the folder holding the *_constraints.json files")
    rows = []
    for category in CATEGORIES:
        file = folder / f"{category}_constraints.json"
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FollowBenchInputError(f"{file}: missing; {OFFLINE_HINT}") from None
        except json.JSONDecodeError as err:
            raise FollowBenchInputError(f"{file}: not valid JSON ({err})") from None
        rows += _parse_file(category, data, str(file))
    return rows


def _hub_folder() -> Path:
    from huggingface_hub import snapshot_download  # deferred: only needed when no local folder is given

    try:
        root = Path(snapshot_download(HUB_DATASET, repo_type="dataset", allow_patterns=["*_constraints.json"]))
    except Exception as err:  # noqa: BLE001 - offline mode, missing cache, network and auth errors all land here
        raise FollowBenchInputError(f"could not download {HUB_DATASET} ({err}); {OFFLINE_HINT}") from err
    english = [p.parent for p in root.rglob("content_constraints.json") if "zh" not in str(p.relative_to(root))]
    if not english:
        raise FollowBenchInputError(f"{HUB_DATASET} holds no English content_constraints.json; {OFFLINE_HINT}")
    return english[0]


def judge_prompt(row: FollowBenchRow, answer: str) -> str:
    """The official judge prompt of a row: its category's wording, the instructions of levels 0..L, the answer."""
    level, name, steps = row.level, CONSTRAINT_NAMES[row.category], row.history
    if level == 1:
        return (
            f"Given an initial instruction, we add one {name} and obtain the final instruction with 1 additional "
            f"constraint.\n\n#Initial Instruction#\n{steps[0]}\n\n#Initial Instruction + 1 constraint#\n{steps[1]}\n\n"
            f"#Answer of Initial Instruction + 1 constraint#\n{answer}\n\n#System#\n1) Please identify the 1 added "
            "constraint.\n2) Please descriminate if the #Answer of Initial Instruction + 1 constraint# satisfies the "
            "1 added constraint.\n3) In the final line, only output a Python LIST with 1 element ('YES' or 'NO') "
            "indicating whether the answer satisfies the 1 added constraint."
        )
    text = (
        f"Given an initial instruction, we add one {name} per time and obtain the final instruction with {level} "
        f"additional constraints.\n\n#Initial Instruction#\n{steps[0]}\n\n#Initial Instruction + 1 constraint#\n"
        f"{steps[1]}\n\n"
    )
    text += "".join(f"#Initial Instruction + {i} constraints#\n{steps[i]}\n\n" for i in range(2, level + 1))
    return text + (
        f"#Answer of Initial Instruction + {level} constraints#\n{answer}\n\n#System#\n1) Please identify all {level} "
        f"added constraints.\n2) For the {level} added constraints, discriminate if the #Answer of Initial "
        f"Instruction + {level} constraints# satisfies each constraint.\n3) In the final line, only output a Python "
        f"LIST with {level} elements ('YES' or 'NO') indicating whether the answer satisfies each constraint."
    )


def parse_verdicts(reply: str, level: int) -> tuple[float, float] | None:
    """(hard, soft) satisfaction from a judge reply's last line, as the official parser reads it; None when it
    rejects the reply. Level 1: YES anywhere in the line (checked before NO); else a list of `level` quoted items."""
    last = reply.strip("`").strip().split("\n")[-1]
    if level == 1:
        return (1.0, 1.0) if "YES" in last else (0.0, 0.0) if "NO" in last else None
    found = re.search(r"\[.*\]", last)
    if found is None:
        return None
    inner = found.group()[1:-1]
    items = re.findall(r"""'([^']*)'|"([^"]*)\"""", inner)
    leftover = re.sub(r"""'[^']*'|"[^"]*\"""", "", inner)
    if leftover.replace(",", "").strip() or len(items) != level:
        return None
    values = [single or double for single, double in items]
    if any(v != "YES" and v not in NOT_MET for v in values):
        return None
    met = sum(v == "YES" for v in values)
    return float(met == level), met / level


@dataclass(frozen=True)
class RowScore:
    """One row's hard and soft satisfaction, and how it was scored."""

    row: FollowBenchRow
    hard: float
    soft: float
    scored_by: str  # "rule", "judge" or "judge-unparsed"

    def to_json(self) -> dict[str, Any]:
        row = self.row
        return {"id": row.id, "category": row.category, "level": row.level, "source": row.source,
                "hard": self.hard, "soft": self.soft, "scored_by": self.scored_by}  # fmt: skip


def score_rows(
    rows: list[FollowBenchRow], responses: dict[str, str], judge: judging.JudgeConfig | None, output_dir: Path
) -> list[RowScore]:
    """Rule rows by the official rules; judge rows through `judge` (which must then be given)."""
    answers = {row.id: DEFAULT_POLICY.answer(responses.get(row.prompt, "")) for row in rows}
    scores = [RowScore(r, *(float(rule_verdict(r, answers[r.id])),) * 2, "rule") for r in rows if r.rule]
    judged = [r for r in rows if not r.rule]
    if judged:
        if judge is None:
            raise FollowBenchInputError("judge rows need --judge-base-url and --judge-model")
        prompts = {r.id: judge_prompt(r, answers[r.id]) for r in judged}
        replies = judging.judge_replies(list(dict.fromkeys(prompts.values())), judge, output_dir)
        for row in judged:
            verdict = parse_verdicts(replies[prompts[row.id]], row.level)
            scores.append(RowScore(row, *(verdict or (0.0, 0.0)), "judge" if verdict else "judge-unparsed"))
    order = {row.id: index for index, row in enumerate(rows)}
    return sorted(scores, key=lambda s: order[s.row.id])


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def consistent_levels(scores: list[RowScore]) -> dict[tuple[str, int], int]:
    """For each example whose five levels were all scored: how many levels in a row, from level 1, were met."""
    by_example: dict[tuple[str, int], dict[int, float]] = {}
    for s in scores:
        by_example.setdefault((s.row.category, s.row.example_id), {})[s.row.level] = s.hard
    result = {}
    for key, levels in by_example.items():
        if set(levels) == set(LEVELS):
            met = 0
            while met < 5 and levels[met + 1] == 1.0:
                met += 1
            result[key] = met
    return result


def summarize(scores: list[RowScore], missing: int) -> dict[str, Any]:
    """HSR / SSR per level and their five-level averages, CSL, the same per category, and counts."""

    def block(rows: list[RowScore], prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for level in LEVELS:
            at = [s for s in rows if s.row.level == level]
            out[f"{prefix}level {level}/hsr"] = _mean([s.hard for s in at])
            out[f"{prefix}level {level}/ssr"] = _mean([s.soft for s in at])
        for measure in ("hsr", "ssr"):
            levels = [out[f"{prefix}level {level}/{measure}"] for level in LEVELS]
            out[f"{prefix}{measure}"] = None if None in levels else sum(levels) / len(levels)
        out[f"{prefix}csl"] = _mean([float(v) for v in consistent_levels(rows).values()])
        return out

    metrics = block(scores, "")
    for category in CATEGORIES:
        rows = [s for s in scores if s.row.category == category]
        if rows:
            metrics |= {key: value for key, value in block(rows, f"{category} ").items() if "level" not in key}
    metrics |= {
        "num_prompts": len(scores),
        "rule_rows": sum(s.scored_by == "rule" for s in scores),
        "judge_rows": sum(s.scored_by != "rule" for s in scores),
        "judge_unparsed": sum(s.scored_by == "judge-unparsed" for s in scores),
        "csl_groups": len(consistent_levels(scores)),
        "missing_responses": missing,
    }
    return metrics


class FollowBenchBenchmark(FileBenchmark):
    """`lsrif eval followbench`: the 350 rule rows, or all 820 rows with a judge."""

    name = BENCHMARK
    headline = HEADLINE
    card = CARD
    help = "FollowBench English: HSR / SSR per level and CSL (350 rule rows; all 820 with --judge-model)"
    description = (
        "Score responses on FollowBench (generating them first with --model); writes followbench_results.jsonl, "
        "metrics.json, results.json and results.md to --output-dir. Without a judge only the 350 rows the "
        "official code scores by rules are used; with --judge-base-url and --judge-model all 820."
    )
    input_help = f"the folder of the six English *_constraints.json files (default: the Hub dataset {HUB_DATASET}); {OFFLINE_HINT}"
    judge_use = "optional"

    def load(self) -> list[FollowBenchRow]:
        rows = load_rows(self.input_data)
        return rows if self.judge else [r for r in rows if r.rule]

    def score(self, examples, everything, responses, output_dir, allow_missing):
        answers = generation.load_responses(
            responses, {e.prompt for e in everything}, "FollowBench", FollowBenchInputError
        )
        missing = check_answers(examples, answers, "FollowBench", allow_missing)
        scores = score_rows(examples, answers, self.judge, output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        with (output_dir / "followbench_results.jsonl").open("w", encoding="utf-8") as handle:
            for s in scores:
                handle.write(json.dumps(s.to_json()) + "\n")
        metrics = summarize(scores, len(missing))
        (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        return Scores(metrics, self.details(), {s.row.id: s.hard for s in scores})
