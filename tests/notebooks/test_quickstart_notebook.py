"""notebooks/quickstart.ipynb: stored without outputs, never guesses a repository URL, and runs end to end offline.

The notebook runs in a real Jupyter kernel started from this interpreter (`execute_notebook` in conftest.py), with
the working directory a temporary folder: everything it writes lands there. Its last cell saves `lsrif-quickstart/summary.json`, which
these tests read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from datasets import load_from_disk

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO_ROOT / "notebooks" / "quickstart.ipynb"
IFEVAL_INPUT = REPO_ROOT.parent / "shared" / "data" / "ifeval" / "input_data.jsonl"
IFEVAL_HEADLINE = ("prompt_level_strict", "instruction_level_strict", "prompt_level_loose", "instruction_level_loose")


def read_notebook():
    return nbformat.read(NOTEBOOK, as_version=4)


def code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_notebook_is_stored_without_outputs_and_starts_with_a_tiny_parameters_cell():
    notebook = read_notebook()
    nbformat.validate(notebook)
    cells = code_cells(notebook)
    assert all(cell.outputs == [] and cell.execution_count is None for cell in cells)
    parameters = cells[0]
    assert "parameters" in parameters.metadata.get("tags", [])
    assert "TINY = True" in parameters.source


def test_colab_setup_without_a_checkout_or_lsrif_repo_url_stops_with_a_message_naming_the_variable(
    tmp_path, monkeypatch, execute_notebook
):
    monkeypatch.delenv("LSRIF_REPO_URL", raising=False)
    notebook = read_notebook()
    setup = next(cell for cell in notebook.cells if cell.get("id") == "setup")
    fake_colab = nbformat.v4.new_code_cell(
        "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')"
    )
    notebook.cells = [fake_colab, code_cells(notebook)[0], setup]
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="LSRIF_REPO_URL is not set"):
        execute_notebook(notebook, tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing cloned, installed or written


def test_gpu_mode_hands_the_recipe_arguments_that_parse_for_the_hub_model(tmp_path, execute_notebook):
    from lsrif_trl.training.config import KINDS, parse_recipe_args
    from lsrif_trl.training.rewards import check_rewards

    notebook = read_notebook()
    by_id = {cell.get("id"): cell for cell in notebook.cells}
    as_papermill_would = nbformat.v4.new_code_cell("TINY = False")  # injected right after the parameters cell
    dump = nbformat.v4.new_code_cell("Path('argv.json').write_text(json.dumps({'argv': argv, 'hub': HUB_MODEL}))")
    notebook.cells = [
        by_id["parameters"],
        as_papermill_would,
        by_id["sizes"],
        by_id["setup"],
        nbformat.v4.new_code_cell("import json"),
        by_id["train-args"],
        dump,
    ]
    execute_notebook(notebook, tmp_path)
    handed = json.loads((tmp_path / "argv.json").read_text())
    # force_cpu as `lsrif config validate` does: GPU-only settings (bf16) parse on this CPU machine.
    script_args, training_args, model_args = parse_recipe_args(KINDS["grpo"], handed["argv"], force_cpu=True)
    check_rewards(script_args, training_args)
    assert model_args.model_name_or_path == handed["hub"]
    assert not script_args.build_tiny_model
    assert training_args.bf16 and model_args.dtype == "bfloat16"
    assert training_args.max_steps > 3 and training_args.max_completion_length > 24  # not the CPU smoke sizes
    assert Path(training_args.output_dir).is_relative_to(tmp_path)


@pytest.fixture(scope="session")
def executed(tmp_path_factory, execute_notebook) -> tuple[Path, dict]:
    """The working directory of one full run of the notebook and the summary its last cell wrote.

    Under pytest-xdist the workers share one run (the session's base temp folder and a lock), so the notebook
    executes once per session however the tests are distributed."""
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # one base folder per session, common to every worker
    cwd = shared / "quickstart-run"
    summary = cwd / "lsrif-quickstart" / "summary.json"
    with FileLock(str(shared / "quickstart-run.lock")):
        if not summary.is_file():
            cwd.mkdir(exist_ok=True)
            execute_notebook(read_notebook(), cwd)
    return cwd, json.loads(summary.read_text())


@pytest.mark.slow
def test_hand_written_answers_score_as_design_section_4_defines(executed):
    _, summary = executed
    scores = summary["example_scores"]
    # steps: title | (no comma, < 40 words) | lowercase (active branch; its else branch asks for capitals)
    expected = {
        "follows everything": (1.0, 4 / 5, 1.0),  # flat also scores the inactive capitals leaf, which fails
        "no title (step 1 fails)": (1 / 3, 3 / 5, 0.0),  # steps 0, 1*0.5, 1*0.5 -> mean 1/3
        "mixed case (step 3 fails)": (2 / 3, 3 / 5, 0.0),  # steps 1, 1, 0 -> mean 2/3
        "reasoning, then the answer": (1.0, 4 / 5, 1.0),  # the text before </think> is not scored
        "empty": (0.0, 0.0, 0.0),
    }
    assert set(scores) == set(expected)
    for answer, (lsrm, flat, all_) in expected.items():
        row = scores[answer]
        assert (row["lsrm_reward"], row["flat_reward"], row["all_reward"]) == pytest.approx((lsrm, flat, all_)), answer


@pytest.mark.slow
def test_gamma_one_makes_step_order_irrelevant_and_gamma_zero_voids_steps_after_a_failure(executed):
    _, summary = executed
    early, late = (
        summary["gamma_sweep"]["no title (step 1 fails)"],
        summary["gamma_sweep"]["mixed case (step 3 fails)"],
    )
    assert early["gamma=1.0"] == pytest.approx(late["gamma=1.0"]) == pytest.approx(2 / 3)
    assert early["gamma=0.0"] == pytest.approx(0.0)
    assert early["gamma=0.5"] < late["gamma=0.5"]


@pytest.mark.slow
def test_notebook_builds_data_and_trains_the_requested_grpo_steps_in_its_working_directory(executed):
    cwd, summary = executed
    params = summary["parameters"]
    assert params["TINY"] is True
    assert summary["dataset"]["rows"] == params["NUM_TRAIN_ROWS"]
    assert set(summary["dataset"]["structure_type"]) <= {"parallel", "sequential", "conditional", "nested"}
    built = load_from_disk(str(cwd / "lsrif-quickstart" / "data" / "train"))
    families = {family for row in built["families"] for family in row}
    assert families and all(f.startswith("train:") for f in families)  # IFEval's are held out for its evaluation
    assert summary["trained_steps"] == params["TRAIN_STEPS"] > 0
    assert len(summary["reward_history"]) == params["TRAIN_STEPS"]
    assert all(0.0 <= reward <= 1.0 for reward in summary["reward_history"])  # lsrm alone: rewards in [0, 1]
    assert {"rewards/lsrm_reward/mean", "lsrif/lsrm_reward/all_satisfied", "kl"} <= set(summary["train_metric_keys"])
    train_dir = Path(summary["train_dir"])
    assert train_dir.is_relative_to(cwd)
    for produced in ("model.safetensors", "trainer_state.json", "reward_curve.png", "README.md"):
        assert (train_dir / produced).is_file(), produced


@pytest.mark.slow
def test_notebook_evaluates_the_trained_model_on_ifeval_prompts_or_says_why_not(executed):
    cwd, summary = executed
    if not IFEVAL_INPUT.is_file():
        assert summary["eval_metrics"] is None
        assert "skipped" in summary["eval_skipped"]
        return
    metrics, prompts = summary["eval_metrics"], summary["parameters"]["EVAL_PROMPTS"]
    assert summary["eval_skipped"] is None
    assert all(0.0 <= metrics[key] <= 1.0 for key in IFEVAL_HEADLINE)
    assert metrics["num_prompts"] == prompts
    strict = (cwd / "lsrif-quickstart" / "eval-ifeval" / "eval_results_strict.jsonl").read_text().splitlines()
    assert len(strict) == prompts
