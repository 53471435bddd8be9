"""Print one top-level value of a recipe YAML with a plain `python3` (standard library only).

    python3 recipes/recipe_value.py recipes/qwen2.5-7b/grpo_lsrm.yaml model_name_or_path

`make train` and `slurm/train.slurm` read the model, data and vLLM settings with it before any virtualenv exists
(so `make -n train MODEL=...` on a fresh clone prints them). It reads the recipes' own form only: `key: value` lines
at the top level, a trailing `# comment` dropped, quotes removed; `null`, `~` or nothing prints `null`, and a key the
file does not set prints nothing (exit 1). Everything else reads recipes with PyYAML (`lsrif config get`), and
tests/recipes/test_recipe_value.py checks this reader against it on every shipped recipe.
"""

from __future__ import annotations

import re
import sys

_TOP_LEVEL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):(?:\s+(.*?))?\s*$")
_COMMENT = re.compile(r"(?:^|\s+)#.*$")
_NULLS = {"", "~", "null", "Null", "NULL"}


def scalar(text: str) -> str:
    """A YAML scalar as make should see it: a quoted one unquoted, otherwise its comment dropped; nulls as `null`."""
    if text[:1] in ("'", '"') and text.find(text[0], 1) != -1:
        return text[1 : text.find(text[0], 1)]
    text = _COMMENT.sub("", text)
    return "null" if text in _NULLS else text


def recipe_value(path: str, key: str) -> str | None:
    """The value of top-level `key` in the recipe at `path`, or None when the file does not set it."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            match = _TOP_LEVEL.match(line)
            if match and match.group(1) == key:
                return scalar(match.group(2) or "")
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python3 recipes/recipe_value.py RECIPE.yaml KEY", file=sys.stderr)
        return 2
    try:
        value = recipe_value(*argv)
    except OSError as err:
        print(f"{argv[0]}: {err.strerror}", file=sys.stderr)
        return 2
    if value is None:
        return 1
    print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
