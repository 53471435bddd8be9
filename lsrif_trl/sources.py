"""Where a dataset or model named in a recipe or on a command line comes from: a local path or a Hub id.

One rule for every reader (training data, `lsrif data`, evaluation models): a name that exists on disk is
local; otherwise it is a Hub id when it reads as one (`name` or `owner/name`, with the characters the Hub
allows) and not as a path: a path starts with `.`, `/` or `~`, has two or more `/`, ends in a data-file suffix,
or sits inside a folder that exists.
"""

from __future__ import annotations

import re
from pathlib import Path

HUB_ID = re.compile(r"^(?:[\w.-]+/)?[\w.-]+$")
FILE_SUFFIXES = (".parquet", ".jsonl", ".json")


def is_local(name: str) -> bool:
    """Whether `name` (`~` expanded) exists on disk."""
    return Path(name).expanduser().exists()


def looks_like_hub_id(name: str) -> bool:
    """Whether `name`, not found on disk, reads as a Hub id rather than a local path (see the module docstring)."""
    path = Path(name)
    local = name.startswith((".", "/", "~")) or name.count("/") > 1 or path.suffix.lower() in FILE_SUFFIXES
    return bool(HUB_ID.match(name)) and not (local or ("/" in name and path.parent.is_dir()))
