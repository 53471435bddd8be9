"""Seed tasks: the prompts the builder attaches constraints to, and the passage properties conditions key on.

`load_seed_tasks(source, split)` reads one of:
- `"builtin"`: the tasks written for this project (`lsrif_trl/resources/seed_tasks.jsonl`);
- `"toy"`: the one-line scenes of the toy world (`lsrif_trl/resources/toy_seed_tasks.jsonl`, see `data.worlds`);
- `"hub:NAME:SPLIT:COLUMN"` or `"hub:NAME:CONFIG:SPLIT:COLUMN"`: one text column of a Hugging Face dataset
  (NAME may also be a local dataset directory); `passage_column=` adds an input passage per row;
- a local `.jsonl` file in the builtin schema (`task` required; `id`, `domain`, `genre`, `passage` optional),
  or a `.txt` file with one task per line.
`split="train"` or `"eval"` keeps the tasks whose id hashes below / above `eval_fraction`, so a held-out
evaluation set never shares a seed task with training, whatever order or subset the tasks are read in.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsrif_trl.jsonl import json_object

logger = logging.getLogger(__name__)

SPLITS = ("all", "train", "eval")
DEFAULT_EVAL_FRACTION = 0.1
UNSPECIFIED = "unspecified"  # domain/genre of tasks whose source does not say
_JSONL_FIELDS = {"id", "task", "domain", "genre", "passage"}
# Seed sources shipped with the package: name -> file in lsrif_trl/resources.
RESOURCE_SOURCES = {"builtin": "seed_tasks.jsonl", "toy": "toy_seed_tasks.jsonl"}


@dataclass(frozen=True)
class SeedTask:
    """One task prompt, where it comes from, and an optional input passage the task operates on."""

    id: str
    task: str
    domain: str = UNSPECIFIED
    genre: str = UNSPECIFIED
    passage: str | None = None

    def prompt(self) -> str:
        """The task followed by its passage (if any), as the user turn shows them."""
        return f"{self.task}\n\n{self.passage}" if self.passage else self.task


def content_id(task: str, passage: str | None = None) -> str:
    """A stable id for a task that has none: a hash of its prompt, so duplicates share it whatever the source."""
    prompt = SeedTask("", task, passage=passage).prompt()
    return "task-" + hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:16]


def seed_split(task_id: str, eval_fraction: float = DEFAULT_EVAL_FRACTION) -> str:
    """'eval' for the ~`eval_fraction` of ids whose SHA-256 falls lowest, 'train' for the rest."""
    position = int.from_bytes(hashlib.sha256(task_id.encode("utf-8")).digest()[:8], "big") / 2**64
    return "eval" if position < eval_fraction else "train"


def load_seed_tasks(
    source: str = "builtin",
    split: str = "all",
    eval_fraction: float = DEFAULT_EVAL_FRACTION,
    passage_column: str | None = None,
    limit: int | None = None,
) -> list[SeedTask]:
    """Seed tasks from `source` (see the module docstring), filtered to `split`, at most `limit` of them."""
    if split not in SPLITS:
        raise ValueError(f"split={split!r}: expected one of {list(SPLITS)}")
    if not 0.0 < eval_fraction < 1.0:
        raise ValueError(f"eval_fraction={eval_fraction}: expected a fraction strictly between 0 and 1")
    if limit is not None and limit < 1:
        raise ValueError(f"limit={limit}: expected a positive number of tasks")
    if passage_column is not None and not source.startswith("hub:"):
        raise ValueError("passage_column applies to hub:... sources only; a .jsonl file carries `passage` itself")
    if source in RESOURCE_SOURCES:
        resource = importlib.resources.files("lsrif_trl") / "resources" / RESOURCE_SOURCES[source]
        tasks = _parse_jsonl(resource.read_text(encoding="utf-8").splitlines(), f"{source} {RESOURCE_SOURCES[source]}")
    elif source.startswith("hub:"):
        tasks = _load_hub(source, passage_column)
    else:
        tasks = _load_file(Path(source))
    if split != "all":
        tasks = [t for t in tasks if seed_split(t.id, eval_fraction) == split]
    if not tasks:
        raise ValueError(f"{source}: no seed tasks in split {split!r}")
    return tasks[:limit] if limit is not None else tasks


def _load_file(path: Path) -> list[SeedTask]:
    if not path.is_file():
        raise ValueError(
            f"seed source {str(path)!r}: no such file; use {' or '.join(map(repr, RESOURCE_SOURCES))}, "
            "'hub:NAME:SPLIT:COLUMN', a .jsonl or a .txt file"
        )
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix == ".jsonl":
        return _parse_jsonl(lines, str(path))
    if path.suffix == ".txt":
        return _dedupe((SeedTask(content_id(line.strip()), line.strip()) for line in lines if line.strip()), path)
    raise ValueError(f"seed source {str(path)!r}: expected a .jsonl or .txt file, got {path.suffix or 'no suffix'!r}")


def _parse_jsonl(lines: list[str], where: str) -> list[SeedTask]:
    """Rows of the builtin schema; any malformed row raises an error naming its line and field."""
    tasks: list[SeedTask] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        at = f"{where} line {number}"
        row = json_object(line, at)
        unknown = sorted(set(row) - _JSONL_FIELDS)
        if unknown:
            raise ValueError(f"{at}: unknown field {unknown[0]!r}; allowed fields are {sorted(_JSONL_FIELDS)}")
        task = _text_field(row, "task", at, required=True)
        passage = _text_field(row, "passage", at)
        task_id = _text_field(row, "id", at) or content_id(task, passage)
        if task_id in seen:
            raise ValueError(f"{at}: field 'id': {task_id!r} already used on line {seen[task_id]}; ids must be unique")
        seen[task_id] = number
        tasks.append(
            SeedTask(
                id=task_id,
                task=task,
                domain=_text_field(row, "domain", at) or UNSPECIFIED,
                genre=_text_field(row, "genre", at) or UNSPECIFIED,
                passage=passage,
            )
        )
    return tasks


def _text_field(row: dict[str, Any], field: str, at: str, required: bool = False) -> str | None:
    value = row.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{at}: field {field!r}: expected a non-empty string, got {value!r:.80}")
    return value.strip()


def _load_hub(source: str, passage_column: str | None) -> list[SeedTask]:
    """One text column of a Hub (or local directory) dataset; rows with an empty cell are skipped and counted."""
    parts = source.split(":")[1:]
    if len(parts) == 3:
        (name, split, column), config = parts, None
    elif len(parts) == 4:
        name, config, split, column = parts
    else:
        raise ValueError(f"seed source {source!r}: expected 'hub:NAME:SPLIT:COLUMN' or 'hub:NAME:CONFIG:SPLIT:COLUMN'")
    import datasets  # heavy; only the Hub path needs it

    dataset = datasets.load_dataset(name, config, split=split)
    for needed in (column, passage_column):
        if needed is not None and needed not in dataset.column_names:
            raise ValueError(f"{source}: no column {needed!r}; the dataset has {dataset.column_names}")
    passages = dataset[passage_column] if passage_column else [None] * len(dataset)
    rows: list[SeedTask] = []
    empty = 0
    for index, (text, passage) in enumerate(zip(dataset[column], passages, strict=True)):
        if text is None or (isinstance(text, str) and not text.strip()):
            empty += 1
            continue
        if not isinstance(text, str):
            raise ValueError(f"{source} row {index}: column {column!r}: expected text, got {type(text).__name__}")
        if passage is not None and not isinstance(passage, str):
            raise ValueError(
                f"{source} row {index}: column {passage_column!r}: expected text or null, got {type(passage).__name__}"
            )
        task_passage = passage.strip() if passage and passage.strip() else None
        rows.append(SeedTask(content_id(text.strip(), task_passage), text.strip(), passage=task_passage))
    if empty:
        logger.warning("%s: skipped %d rows whose %r cell is empty", source, empty, column)
    return _dedupe(rows, source)


def _dedupe(tasks: Iterable[SeedTask], where: object) -> list[SeedTask]:
    """The tasks with repeated ids dropped (the first occurrence stays); ValueError when none is left."""
    unique: dict[str, SeedTask] = {}
    for task in tasks:
        unique.setdefault(task.id, task)
    if not unique:
        raise ValueError(f"{where}: no non-empty tasks found")
    return list(unique.values())


# ---- passage properties: what a conditional can key on, computed from the passage by code -------------------


def _names(text: str, sep: str | None = None) -> frozenset[str]:
    return frozenset(name.strip() for name in text.split(sep))


_GIVEN_NAMES = _names(
    """
    Aaron Adam Ahmed Aisha Alan Alexander Alice Amara Amelia Ana Andrea Anna Antonio Arjun Ava Ben Benjamin Buzz
    Carla Carlos Charles Charlotte Chen Chloe Daniel David Diego Earl Elena Eleanor Elizabeth Emily Emma Ernst Fatima
    Felix George Grace Greta Hannah Hans Harriet Henry Howard Hugo Ibrahim Ingrid Isabel Isaac Jack Jacob James
    Jane Javier Jean John Jonas Jose Joseph Julia Kenji Laura Lena Leo Liam Lucas Lucy Luis Maria Marie Marco
    Mark Marta Martin Maya Mei Michael Mohammed Nadia Nelson Neil Nina Noah Olga Olivia Omar Oscar Pablo Paul
    Pedro Peter Pierre Priya Rahul Rosa Sam Samuel Sara Sarah Sofia Sophie Thomas Tim Tom Vincent Wei William
    Yuki Zoe Zara
    """
)
_FAMOUS_SINGLE_NAMES = _names(
    "Aristotle Cleopatra Confucius Copernicus Darwin Einstein Galileo Hippocrates Magellan Mozart Napoleon Newton "
    "Picasso Plato Shakespeare Socrates"
)
_CITIES = _names(
    "Alexandria, Amsterdam, Athens, Auckland, Bangkok, Barcelona, Beijing, Berlin, Birmingham, Bogota, Boston, "
    "Brussels, Budapest, Buenos Aires, Cairo, Cape Town, Chicago, Constantinople, Copenhagen, Delhi, Dubai, Dublin, "
    "Edinburgh, Florence, Geneva, Halifax, Hamburg, Helsinki, Hong Kong, Istanbul, Jakarta, Johannesburg, Kitty Hawk, "
    "Kyoto, Lagos, Lima, Lisbon, London, Los Angeles, Madrid, Manchester, Marseille, Melbourne, Mexico City, Milan, "
    "Montreal, Moscow, Mumbai, Munich, Nairobi, Nara, New York, Oslo, Paris, Prague, Rio de Janeiro, Rome, Rotterdam, "
    "San Francisco, Seoul, Shanghai, Singapore, Stockholm, Sydney, Tokyo, Toronto, Vancouver, Venice, Vienna, Warsaw, "
    "Zermatt, Zurich",
    sep=",",
)
_MONTHS = _names("January February March April May June July August September October November December")
_PATTERNS = {
    "mentions_year": re.compile(r"(?<![\d.,$€£])(?:1[5-9]|20)\d\d(?:s)?(?![\d,.]\d)"),
    "mentions_number": re.compile(r"\d"),
    "has_question": re.compile(r"\?"),
    "has_exclamation": re.compile(r"!(?!=)"),
    "has_list": re.compile(r"^[ \t]*(?:[-*•]|\d+[.)])[ \t]+\S", re.MULTILINE),
    "mentions_money": re.compile(
        r"[$€£¥]\s?\d|\d\s?(?:dollars?|euros?|pounds|pence|pesos?|yen|rupees?|francs?)\b|\b(?:USD|EUR|GBP)\b",
        re.IGNORECASE,
    ),
    "mentions_percentage": re.compile(r"\d\s?%|\bper ?cent\b", re.IGNORECASE),
    "has_quotation": re.compile(r"[\"“][^\"”\n]{2,}[.!?,][\"”]"),
    "mentions_month": re.compile(r"\b(?:" + "|".join(_MONTHS) + r")\b"),
    "mentions_city": re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, _CITIES), key=len, reverse=True)) + r")\b"),
    "contains_code": re.compile(
        r"^\s*(?:def|class)\s+\w+.*:\s*$"
        r"|^\s*(?:import|from)\s+[\w.]+(?:\s+import\s+[\w, ]+)?\s*$"
        r"|^\s*(?:for|while|if|elif|else|try|except)\b.*:\s*$"
        r"|(?:\bprint|console\.log|printf|println)\("
        r"|[;{}]\s*$|=>|==|!=|\+=|\*\*"
        r"|\bSELECT\b[\s\S]*\bFROM\b"
        r"|^=[A-Z]+\("
        r"|`[^`\n]+`",
        re.MULTILINE,
    ),
}
_HONORIFIC_NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|Sir|Dame|Lady|Lord)\.?\s+[A-Z][a-z]+")
_CAPITALISED_WORD = re.compile(r"\b[A-Z][a-z]+\b")

PASSAGE_CONDITIONS: dict[str, str] = {
    "mentions_year": "the passage mentions a year",
    "mentions_number": "the passage contains a number written in digits",
    "mentions_person": "the passage mentions a person by name",
    "has_question": "the passage contains a question",
    "has_exclamation": "the passage contains an exclamation mark",
    "has_list": "the passage contains a list",
    "mentions_city": "the passage mentions a city",
    "contains_code": "the passage contains code",
    "mentions_money": "the passage mentions an amount of money",
    "mentions_percentage": "the passage mentions a percentage",
    "has_quotation": "the passage contains a direct quotation",
    "mentions_month": "the passage mentions a month",
}


def passage_properties(passage: str | None) -> dict[str, bool]:
    """Each property of `PASSAGE_CONDITIONS` and whether `passage` has it (all False for no passage)."""
    text = passage if isinstance(passage, str) else ""
    props = {name: bool(pattern.search(text)) for name, pattern in _PATTERNS.items()}
    props["has_list"] = len(_PATTERNS["has_list"].findall(text)) >= 2  # one dash line is not a list
    props["mentions_person"] = bool(_HONORIFIC_NAME.search(text)) or any(
        word in _GIVEN_NAMES or word in _FAMOUS_SINGLE_NAMES for word in _CAPITALISED_WORD.findall(text)
    )
    return {name: props[name] for name in PASSAGE_CONDITIONS}
