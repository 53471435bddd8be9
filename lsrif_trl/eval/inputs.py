"""A benchmark's input rows, from its official JSONL file or, when no file is given, from its Hub dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsrif_trl.jsonl import read_objects


def input_rows(
    path: str | Path | None,
    hub_dataset: str,
    error: type[ValueError],
    offline_hint: str,
    config: str | None = None,
    split: str = "train",
) -> list[tuple[str, dict[str, Any]]]:
    """`(where, row)` per row, `where` naming the file and line or the dataset and row. `error` for a bad line, a Hub
    dataset that cannot be loaded (with `offline_hint`) or no rows at all."""
    if path is not None:
        rows = [(f"{path} line {n}", row) for n, row in read_objects(Path(path), error)]
    else:
        import datasets  # deferred: only needed when no local input file is given

        try:
            hub_rows = datasets.load_dataset(hub_dataset, config, split=split)
        except Exception as err:  # noqa: BLE001 - offline mode, missing cache, network and auth errors all land here
            raise error(f"could not load {hub_dataset} from the Hub ({err}); {offline_hint}") from err
        rows = [(f"{hub_dataset} row {i}", row) for i, row in enumerate(hub_rows)]
    if not rows:
        raise error(f"{path or hub_dataset}: no rows found")
    return rows
