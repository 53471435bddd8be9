"""The dataset card of a built dataset, and pushing both to the Hugging Face Hub."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datasets import Dataset

from lsrif_trl import __version__

LICENSE = "apache-2.0"


def _table(counts: dict[str, int]) -> str:
    total = sum(counts.values()) or 1
    rows = "\n".join(f"| {k} | {v} | {v / total:.1%} |" for k, v in counts.items())
    return f"| value | count | share |\n|---|---|---|\n{rows}"


def dataset_card(stats: dict[str, Any], build_info: dict[str, Any]) -> str:
    """The README.md of a built dataset: YAML metadata, how it was built (exact command, seed), stats, licence."""
    options = json.dumps(build_info.get("options", {}), indent=2, sort_keys=True)
    families = ", ".join(f"`{f}` ({n})" for f, n in stats["family_leaf_counts"].items())
    return f"""---
license: {LICENSE}
language:
- en
task_categories:
- text-generation
tags:
- instruction-following
- reinforcement-learning
- lsrif-trl
size_categories:
- {_size_category(stats["rows"])}
---

# Structured instruction-following prompts (LSRInstruct-style)

{stats["rows"]} prompts, each with the logic tree of its constraints (parallel, sequential and conditional
nodes over verifiable or soft constraints) in the `structure` column, built offline by
lsrif-trl {__version__}. The tree is the ground truth the LSRM reward scores against.

## How it was built

```
{build_info.get("command", "(built from Python)")}
```

Seed: `{build_info.get("seed")}`. The same command and seed give the same rows, byte for byte.
Options:

```json
{options}
```

{_seed_note(build_info)} Constraints are drawn with compatibility rules, the structure from the
mix above, and conditions are properties of the seed task's passage, so the active branch is known.
{build_info.get("rewrite_note", "The wording was not rewritten by an LLM.")}

## Columns

`id`, `prompt` (chat messages), `structure` (JSON string, see docs/structure.md in the lsrif-trl repository),
`structure_type`, `depth`, `level` (number of constraints; the curriculum level), `n_constraints`,
`source` (`lsrif-builder:<seed task id>`), `families`, `spans` (JSON string: character ranges of the user message per
category, `connector` / `constraint` / `verb` / `task`, as the builder wrote them; null for LLM-reworded prompts).

## Statistics

Structure type:

{_table(stats["structure_type"])}

Constraints per instruction:

{_table(stats["n_constraints"])}

Depth:

{_table(stats["depth"])}

Constraint families (leaf counts): {families}.

## Licence

{LICENSE}: the templates and constraints were written for lsrif-trl under the same licence. {_seed_note(build_info)}
"""


def _seed_note(build_info: dict[str, Any]) -> str:
    source = build_info.get("options", {}).get("seed_source", "builtin")
    if source == "builtin":
        return "The seed tasks were written for lsrif-trl."
    return f"The seed tasks come from `{source}`; their licence applies to the prompts."


def _size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if rows < limit:
            return name
    return "1M<n<10M"


def write_card(card: str, out_dir: str | Path) -> Path:
    """Save the card as `README.md` in `out_dir`."""
    path = Path(out_dir) / "README.md"
    path.write_text(card)
    return path


def push_to_hub(dataset: Dataset, repo_id: str, card: str, private: bool = False) -> None:
    """Upload the rows and the card to the Hub dataset `repo_id` (token from the usual HF login or HF_TOKEN)."""
    from huggingface_hub import DatasetCard

    dataset.push_to_hub(repo_id, private=private)
    DatasetCard(card).push_to_hub(repo_id, repo_type="dataset")
