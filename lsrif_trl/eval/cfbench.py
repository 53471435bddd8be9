"""CFBench (Zhang et al., 2024): 1,000 Chinese instructions from real scenarios, each with a checklist of criteria
marked primary (主需) or secondary (次需), scored 0/1 by a judge in one call per instruction.

Prompt and parsing follow the official `code/evalaute.py`: the judge gets the instruction, the reference answer
(`gold`, often empty), the response and the criteria joined by blank lines, and must answer one `criterion<TAB>0|1`
line per criterion, in order, split by blank lines, each criterion repeated verbatim. A reply that breaks that form
is read leniently as the official script does after its retries (only lines scoring 1 are kept; none kept = one 0).
Per instruction: CSR = the mean criterion score (rounded to 2 places as officially), ISR = 1 iff CSR is 1, PSR = 0 if
any primary criterion fails, else 1 when only primary criteria exist, else 1 iff 0.5 + 0.5 * mean(secondary) > 0.8
(only secondary: iff CSR > 0.8; leniently read replies: iff CSR > 0.8; unreadable replies: 0). Reported: the means
over instructions, overall and per split (easy / hard).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsrif_trl.eval import judging
from lsrif_trl.eval.runner import FileBenchmark, Scores
from lsrif_trl.jsonl import read_array

BENCHMARK = "cfbench"
SOURCE = "github.com/PKU-Baichuan-MLSystemLab/CFBench, data/cfbench_data.json"
HEADLINE = ["csr", "isr", "psr", "easy/csr", "hard/csr"]
CARD = {"dataset_name": "CFBench", "dataset_type": "cfbench", "dataset_split": "full"}
PRIMARY, SECONDARY = "主需", "次需"
JUDGE_TEMPLATE = (
    "\n"
    "我想让你扮演一个质量评估器的角色。你需要结合 [用户指令],[参考答案],[模型答案],[考察点]对于模型答案进行评估,按照0或1打分.\n"
    "具体而言:[参考答案]和[模型答案]都是对[用户指令]的回复,[考察点]中定义了模型答案应该满足、需要被考察的点。你需要严格按照[考察点]中的每条考察点，对[于模型答案]进行打分。如果完全满足则为1，如果不满足则为0.\n"
    "需要注意: [参考答案]如果为空,则[考察点]的满足不考虑[参考答案].\n"
    '输出格式: 1.严格按照[考察点]中的考察点的顺序,每行输出一条，行与行之间使用"\n'
    "\n"
    '"切割;  \n'
    "        2.每行首先输出[考察点]中对应内容，然后用'\t'分割，在后面输出对应[评估打分],0或1。 \n"
    "        3.请直接输出你的评估,不要输出其他任何内容。\n"
    "\n"
    "可参考下面样例。\n"
    "\n"
    "[样例1]:\n"
    '    [用户指令]: 请对给定的句子"我爱吃苹果"做以下编辑步骤\n'
    "\n"
    "1.将句子中的“我”改成“小明”。\n"
    "\n"
    "只输出编辑后的句子。\n"
    "    \n"
    '    [参考答案]: "小明爱吃苹果"\n'
    "    \n"
    '    [模型答案]: "好的，修改后为：小明爱吃苹果"\n'
    "\n"
    "    [评估标准]:\n"
    "    和参考答案结果一致，替换准确\n"
    "\n"
    "不存在其他冗余信息，引号可忽略\n"
    "    \n"
    "    [你的评估]: \n"
    "    和参考答案结果一致，替换准确\t1\n"
    "\n"
    "不存在其他冗余信息，引号可忽略\t0\n"
    "\n"
    "[样例2]:\n"
    '    [用户指令]: 给我生成一些唐代诗人李白的诗句，主题是友情。输出结果应为JSON格式，包含两个key："诗句"和"诗名"。提供三组不同的诗句，每个诗句控制在5个字，一组10个字。\n'
    "\n"
    '    [参考答案]: ""\n'
    "    \n"
    '    [模型答案]: \'"诗句": ["诗句": "明月照友心", "诗名": "友情如月","诗句": "高山流水情", "诗名": "知音难觅","诗句": "酒逢知己饮", "诗名": "醉卧沙场笑"]\'\n'
    "\n"
    "    [评估标准]: \n"
    "    生成唐代诗人李白的诗句。\n"
    "\n"
    "诗句主题是友情。\n"
    "\n"
    '输出结果应为JSON格式，JSON格式包含两个key：""诗句""和""诗名""。\n'
    "\n"
    "提供三组不同的诗句。\n"
    "\n"
    "每个诗句控制在5个字，一组10个字。\n"
    "\n"
    "    [你的评估]: \n"
    "    生成唐代诗人李白的诗句。\t0\n"
    "\n"
    "诗句主题是友情。\t1\n"
    "\n"
    '输出结果应为JSON格式，JSON格式包含两个key：""诗句""和""诗名""。\t0\n'
    "\n"
    "提供三组不同的诗句。\t1\n"
    "\n"
    "每个诗句控制在5个字，一组10个字。\t0\n"
    "\n"
    "[用户指令]: {prompt}\n"
    "\n"
    "[参考答案]: {gold}\n"
    "\n"
    "[模型答案]: {response}\n"
    "\n"
    "[评估标准]: {criteria}\n"
    "\n"
    "[你的评估]: \n"
)  # the official judge prompt (code/evalaute.py), verbatim


class CFBenchInputError(ValueError):
    """Data or responses that cannot be scored; the message names the file, row and field."""


@dataclass(frozen=True)
class Criterion:
    """One checklist item: its text and whether it is a primary need."""

    text: str
    primary: bool


@dataclass(frozen=True)
class CFBenchExample:
    """One instruction with its reference answer, split and criteria."""

    id: str
    prompt: str
    gold: str
    split: str
    criteria: tuple[Criterion, ...]


def parse_example(row: Any, where: str) -> CFBenchExample:
    """One data row; CFBenchInputError naming `where` and the field otherwise."""
    if not isinstance(row, dict):
        raise CFBenchInputError(f"{where}: expected a JSON object, got {type(row).__name__}")
    if not isinstance(row.get("prompt"), str) or not row["prompt"]:
        raise CFBenchInputError(f"{where}: field 'prompt' must be a non-empty string")
    criteria = row.get("criteria")
    if not isinstance(criteria, list) or not criteria:
        raise CFBenchInputError(f"{where}: field 'criteria' must be a non-empty list")
    parsed = []
    for index, item in enumerate(criteria):
        if not (
            isinstance(item, list) and len(item) >= 2 and isinstance(item[0], str) and item[1] in (PRIMARY, SECONDARY)
        ):
            raise CFBenchInputError(f"{where}: criteria[{index}] must be [text, {PRIMARY!r} or {SECONDARY!r}, ...]")
        parsed.append(Criterion(item[0], item[1] == PRIMARY))
    gold = row.get("gold") or ""
    return CFBenchExample(
        str(row.get("idx", where)), row["prompt"], str(gold), str(row.get("split", "")), tuple(parsed)
    )


def load_input_data(path: Path | None) -> list[CFBenchExample]:
    """The instructions of the official JSON array (`cfbench_data.json`)."""
    if path is None:
        raise CFBenchInputError(f"CFBench is not on the Hub: pass --input-data with the official file ({SOURCE})")
    rows = read_array(path, CFBenchInputError)
    return [parse_example(row, f"{path} row {index}") for index, row in enumerate(rows)]


def judge_prompt(example: CFBenchExample, response: str) -> str:
    """The official judge prompt for one response."""
    criteria = "\n\n".join(c.text for c in example.criteria)
    return JUDGE_TEMPLATE.format(prompt=example.prompt, gold=example.gold, response=response, criteria=criteria)


def parse_scores(reply: str, example: CFBenchExample) -> list[float] | None:
    """The criterion scores of a well-formed reply (one `criterion<TAB>0|1` per criterion, in order), else None."""
    judged = reply.split("\n\n")
    if len(judged) != len(example.criteria):
        return None
    scores = []
    for criterion, line in zip(example.criteria, judged, strict=True):
        parts = line.split("\t")
        if len(parts) != 2 or parts[0] != criterion.text or parts[1].strip() not in ("0", "1", "0.0", "1.0"):
            return None
        scores.append(float(parts[1]))
    return scores


def lenient_scores(reply: str) -> list[float]:
    """The official fallback reading: every `text<TAB>score` line scoring 1 (lines scoring 0 are dropped by it)."""
    kept = []
    for line in reply.split("\n"):
        parts = line.split("\t")
        if len(parts) == 2:
            try:
                value = float(parts[1])
            except ValueError:
                continue
            if value == 1.0:
                kept.append(value)
    return kept


def instruction_metrics(example: CFBenchExample, reply: str) -> tuple[dict[str, float], str]:
    """CSR, ISR and PSR of one instruction, and how its reply was read ("strict", "lenient" or "unreadable")."""
    scores = parse_scores(reply, example)
    reading = "strict"
    if scores is None:
        scores, reading = lenient_scores(reply), "lenient"
        if not scores:
            scores, reading = [0.0], "unreadable"
    csr = round(sum(scores) / len(scores), 2)
    isr = float(csr >= 1)
    if reading == "unreadable":
        psr = 0.0
    elif reading == "lenient":
        psr = float(csr > 0.8)
    else:
        primary = [s for c, s in zip(example.criteria, scores, strict=True) if c.primary]
        secondary = [s for c, s in zip(example.criteria, scores, strict=True) if not c.primary]
        if 0.0 in primary:
            psr = 0.0
        elif not primary:
            psr = float(csr > 0.8)
        elif not secondary:
            psr = 1.0
        else:
            psr = float(0.5 + 0.5 * round(sum(secondary) / len(secondary), 2) > 0.8)
    return {"csr": csr, "isr": isr, "psr": psr}, reading


def summarize(examples: list[CFBenchExample], results: dict[str, dict[str, float]], readings: dict[str, str],
              missing: int) -> dict[str, Any]:  # fmt: skip
    """Mean CSR / ISR / PSR over instructions, overall and per split, and how the replies were read."""

    def means(rows: list[CFBenchExample], prefix: str) -> dict[str, float | None]:
        return {f"{prefix}{m}": (sum(results[e.id][m] for e in rows) / len(rows) if rows else None)
                for m in ("csr", "isr", "psr")}  # fmt: skip

    metrics: dict[str, Any] = means(examples, "")
    for split in ("easy", "hard"):
        metrics |= means([e for e in examples if e.split == split], f"{split}/")
    metrics |= {
        "num_prompts": len(examples),
        "judge_lenient": sum(r == "lenient" for r in readings.values()),
        "judge_unreadable": sum(r == "unreadable" for r in readings.values()),
        "missing_responses": missing,
    }
    return metrics


class CFBenchBenchmark(FileBenchmark):
    """`lsrif eval cfbench`: per-instruction scores in `cfbench_results.jsonl`, CSR / ISR / PSR in `metrics.json`."""

    name = BENCHMARK
    headline = HEADLINE
    card = CARD
    help = "CFBench CSR / ISR / PSR (judge-scored checklists, Chinese)"
    description = (
        "Score responses on CFBench (generating them first with --model) with a judge (any OpenAI-compatible "
        "server); writes judge_replies.jsonl, cfbench_results.jsonl, metrics.json, results.json and results.md."
    )
    input_help = f"the official cfbench_data.json (required: {SOURCE})"
    judge_use = "required"

    def load(self) -> list[CFBenchExample]:
        return load_input_data(self.input_data)

    def score(self, examples, everything, responses, output_dir, allow_missing):
        answers, missing = self.answers(examples, everything, responses, allow_missing, CFBenchInputError)
        prompts = {e.id: judge_prompt(e, answers[e.id]) for e in examples}
        replies = judging.judge_replies(list(dict.fromkeys(prompts.values())), self.judge, output_dir)
        results, readings = {}, {}
        for e in examples:
            results[e.id], readings[e.id] = instruction_metrics(e, replies[prompts[e.id]])
        rows = [{"id": e.id, "split": e.split, **results[e.id], "reading": readings[e.id]} for e in examples]
        metrics = summarize(examples, results, readings, missing)
        self.write_outputs(output_dir, rows, metrics)
        return Scores(metrics, self.details(), {e.id: results[e.id]["csr"] for e in examples})
