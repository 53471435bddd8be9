"""The toy world learns: a fixed-seed short GRPO run from a small SFT checkpoint raises the batch reward.

A small toy-world set is answered by the noisy expert, the `tiny` preset model is warmed up on it with
`recipes/sft.py --config recipes/toy/sft.yaml`, then `recipes/grpo_lsrm.py --config recipes/toy/grpo_lsrm.yaml`
trains it for STEPS steps on 4 fixed prompts (the toy world's own recipes, shortened). The mean LSRM batch
reward of the last WINDOW steps must exceed that of the first WINDOW steps by at least the margin recorded in
`tests/recipes/expected/toy_grpo_learning.json`, and the sampled metrics must match that file step for step
(one CPU thread: bit-identical, as in test_tiny_regression.py). A change that stops the world from learning (a
reward misaligned with its completion, a broken expert or SFT data, a lost conditional label) fails here. If a
change is meant, rewrite the file with `LSRIF_UPDATE_EXPECTED=1 pytest tests/recipes/test_toy_learning.py`.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lsrif_trl.data.builder import build_dataset
from lsrif_trl.data.expert import ExpertConfig, answer_rows
from lsrif_trl.tiny import build_tiny_model
from lsrif_trl.training.config import REPO_ROOT

EXPECTED = Path(__file__).parent / "expected" / "toy_grpo_learning.json"
UPDATE_COMMAND = "LSRIF_UPDATE_EXPECTED=1 pytest tests/recipes/test_toy_learning.py"
ROWS = 256
SFT_ARGS = ["--max_steps", "60", "--learning_rate", "3e-3", "--per_device_train_batch_size", "16"]
STEPS = 12
WINDOW = 4
# The same 4 prompts (8 completions each) at every step, so the batch reward tracks the policy, not which
# prompts a step happened to draw.
GRPO_ARGS = [
    "--max_steps", str(STEPS), "--logging_steps", "1", "--learning_rate", "5e-4", "--max_train_samples", "4",
    "--per_device_train_batch_size", "32", "--max_completion_length", "40",
]  # fmt: skip
SAMPLED_METRICS = ("reward", "reward_std", "completions/mean_length", "num_tokens", "lsrif/lsrm_reward/all_satisfied")
SAMPLED_REL_TOL = 1e-6
MARGIN_SHARE = 0.5  # the run must keep at least half of the rise it had when the file was recorded


def _run(script: str, args: list[str]) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, script, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    """SFT then GRPO in temporary folders; return the GRPO log history."""
    root = tmp_path_factory.mktemp("toy-learning")
    train = build_dataset(ROWS, seed=0, world="toy")
    train.save_to_disk(str(root / "train"))
    answers, _ = answer_rows(train, 0, ExpertConfig(noise=0.3, wrong_branch=0.3), base_sentences=(1, 2))
    train.add_column("completion", answers).save_to_disk(str(root / "sft-data"))
    model = build_tiny_model(root / "model", seed=0)  # the 2-layer preset keeps the test short
    _run(
        "recipes/sft.py",
        ["--config", "recipes/toy/sft.yaml", "--model_name_or_path", str(model), "--build_tiny_model", "false",
         "--dataset_name", str(root / "sft-data"), "--output_dir", str(root / "sft"), *SFT_ARGS],
    )  # fmt: skip
    _run(
        "recipes/grpo_lsrm.py",
        ["--config", "recipes/toy/grpo_lsrm.yaml", "--model_name_or_path", str(root / "sft"),
         "--dataset_name", str(root / "train"), "--output_dir", str(root / "grpo"), *GRPO_ARGS],
    )  # fmt: skip
    history = json.loads((root / "grpo" / "trainer_state.json").read_text())["log_history"]
    return [{"step": e["step"], **{k: e[k] for k in SAMPLED_METRICS}} for e in history if "reward" in e]


def rise(steps: list[dict]) -> float:
    """Mean batch reward of the last WINDOW steps minus that of the first WINDOW steps."""
    rewards = [s["reward"] for s in steps]
    return sum(rewards[-WINDOW:]) / WINDOW - sum(rewards[:WINDOW]) / WINDOW


@pytest.mark.slow
def test_a_short_grpo_run_from_a_small_sft_checkpoint_raises_the_batch_reward(toy_run):
    if os.environ.get("LSRIF_UPDATE_EXPECTED") == "1":
        assert rise(toy_run) > 0, f"the run did not learn (rise {rise(toy_run):.4f}); not recording it"
        record = {"sft_args": SFT_ARGS, "grpo_args": GRPO_ARGS, "rise": rise(toy_run), "steps": toy_run}
        EXPECTED.write_text(json.dumps(record, indent=2) + "\n")
        return
    recorded = json.loads(EXPECTED.read_text())
    assert rise(toy_run) >= MARGIN_SHARE * recorded["rise"] > 0, (
        f"batch reward rose {rise(toy_run):.4f} over {STEPS} steps, below {MARGIN_SHARE} x the recorded "
        f"{recorded['rise']:.4f}; if the change is meant, `{UPDATE_COMMAND}`"
    )
    problems = [
        f"step {want['step']} {name}: expected {want[name]!r}, logged {got[name]!r}"
        for want, got in zip(recorded["steps"], toy_run, strict=True)
        for name in SAMPLED_METRICS
        if not math.isclose(got[name], want[name], rel_tol=SAMPLED_REL_TOL)
    ]
    assert not problems, "\n".join(problems) + f"\nif the change is meant, `{UPDATE_COMMAND}`"
