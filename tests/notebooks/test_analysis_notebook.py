"""notebooks/analysis.ipynb: stored without outputs, and on the tiny model trains, freezes and analyses end to end.

Run in a real kernel (`execute_notebook` in conftest.py) inside a temporary folder; its last cell saves
`lsrif-analysis/summary.json`, which the test reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "analysis.ipynb"
ATTENTION = ("q", "k", "v", "o")


def test_notebook_is_stored_without_outputs_and_starts_with_a_tiny_parameters_cell():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in cells)
    assert "parameters" in cells[0].metadata.get("tags", []) and "TINY = True" in cells[0].source


@pytest.mark.slow
def test_notebook_freezes_attention_in_one_run_and_analyses_parameters_and_attention(tmp_path, execute_notebook):
    execute_notebook(nbformat.read(NOTEBOOK, as_version=4), tmp_path)
    summary = json.loads((tmp_path / "lsrif-analysis" / "summary.json").read_text())
    assert set(summary["runs"]) == {"all", "attention-frozen"}
    assert all(Path(path).is_relative_to(tmp_path) for path in summary["runs"].values())
    frozen, full = summary["params"]["attention-frozen"]["by_module"], summary["params"]["all"]["by_module"]
    assert all(frozen[t] == 0.0 for t in ATTENTION) and frozen["up"] > 0
    assert all(full[t] > 0 for t in (*ATTENTION, "gate", "up", "down"))
    attention = summary["attention"]
    assert attention["category_source"] == {"spans": summary["parameters"]["ATTENTION_PROMPTS"], "word_list": 0}
    for masses in attention["models"].values():
        assert sum(masses.values()) == pytest.approx(1.0)
    assert set(attention["change"]) == {"connector", "constraint", "verb", "task", "other", "answer"}
    for produced in ("params/all/params_heatmap.png", "attention/attention.json", "attention/attention_change.png"):
        assert (tmp_path / "lsrif-analysis" / produced).is_file(), produced
