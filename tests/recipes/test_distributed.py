"""The tiny recipe on two CPU processes: one data build, rewards on both ranks' slices, gathered metrics, one
checkpoint, and a second run that resumes from it.

The processes are started by torchrun (`torch.distributed.run`), which Accelerate's state reads as a multi-CPU
run with the gloo backend. `accelerate launch --cpu --num_processes 2` starts one process unless an MPI hostfile
is given (accelerate 1.x's simple launcher), so it would not test anything distributed."""

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from lsrif_trl.training.config import REPO_ROOT

pytestmark = pytest.mark.slow

# A reward function by import path (as TRL's scripts allow): it records which rank scored how many completions.
PROBE = """
import os


def probe_reward(prompts, completions, **columns):
    with open(os.environ["RANK_PROBE_FILE"], "a") as f:
        f.write(f"{os.environ.get('RANK', '0')} {len(completions)}\\n")
    return [0.0] * len(completions)
"""


def launch(tmp_path, max_steps: int) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(tmp_path)]),
        "RANK_PROBE_FILE": str(tmp_path / "ranks.txt"),
        "OMP_NUM_THREADS": "1",
    }
    command = [
        *(sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"),
        *(str(REPO_ROOT / "recipes/grpo_lsrm.py"), "--config", str(REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml")),
        *("--model_name_or_path", str(tmp_path / "tiny"), "--dataset_name", str(tmp_path / "data")),
        *("--output_dir", str(tmp_path / "run"), "--max_steps", str(max_steps), "--save_steps", "2"),
        *("--reward_funcs", "lsrm", "rank_probe.probe_reward", "--reward_weights", "1.0", "0.0"),
        *("--max_completion_length", "12"),
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd=tmp_path)


def test_two_processes_build_once_score_their_slices_gather_metrics_checkpoint_once_and_resume(tmp_path):
    (tmp_path / "rank_probe.py").write_text(PROBE)
    first = launch(tmp_path, max_steps=2)
    assert first.returncode == 0, first.stderr[-3000:]
    output = first.stdout + first.stderr
    assert output.count("built 64 rows into") == 1  # main_process_first: one process built, the other reused it

    # 2 prompts x 4 generations per process and step: each rank scores its own 8 completions, every step.
    assert Counter((tmp_path / "ranks.txt").read_text().split("\n")[:-1]) == {"0 8": 2, "1 8": 2}
    state = json.loads((tmp_path / "run" / "trainer_state.json").read_text())
    steps = [entry for entry in state["log_history"] if "rewards/lsrm_reward/mean" in entry]
    assert [entry["step"] for entry in steps] == [1, 2]  # one gathered entry per step, not one per rank
    assert all("lsrif/lsrm_reward/all_satisfied" in entry for entry in steps)
    assert sorted(p.name for p in (tmp_path / "run").glob("*checkpoint-*")) == ["checkpoint-2"]

    second = launch(tmp_path, max_steps=4)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "checkpoint-2" in second.stdout + second.stderr  # the resume message names what it resumed from
    assert "built 64 rows into" not in second.stdout + second.stderr
    state = json.loads((tmp_path / "run" / "trainer_state.json").read_text())
    assert state["global_step"] == 4
    assert [e["step"] for e in state["log_history"] if "rewards/lsrm_reward/mean" in e] == [1, 2, 3, 4]
    assert Counter((tmp_path / "ranks.txt").read_text().split("\n")[:-1]) == {"0 8": 4, "1 8": 4}
