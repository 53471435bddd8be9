"""How long does the default CPU demo take: wall time of the tiny GRPO recipe, and its time per step.

Runs `recipes/grpo_lsrm.py --config recipes/tiny/grpo_lsrm.yaml` in a fresh output folder (the tiny model and
the builder's data are made first when missing, as `make train` does) and prints:
- wall time of the whole run (process start to exit: imports, data, model, training, saving, card, plot);
- per-step time from TRL's `step_time` log (median, mean, min, max over the steps) and the steps per run;
- the machine's load average before and after, because other processes on a shared 2-core box slow every step.

Run: `python benchmarks/bench_tiny_train.py [--max-steps 30] [ARGS passed to the recipe ...]`. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-steps", type=int, default=None, help="override the recipe's max_steps")
    args, recipe_args = parser.parse_known_args()
    if args.max_steps is not None:
        recipe_args += ["--max_steps", str(args.max_steps)]
    with tempfile.TemporaryDirectory() as tmp:
        output_dir = Path(tmp) / "run"
        command = [
            sys.executable,
            str(REPO_ROOT / "recipes/grpo_lsrm.py"),
            "--config",
            str(REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml"),
            "--output_dir",
            str(output_dir),
            *recipe_args,
        ]
        load_before = os.getloadavg()
        start = time.perf_counter()
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        load_after = os.getloadavg()
        if done.returncode != 0:
            sys.exit(f"the recipe failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        history = json.loads((output_dir / "trainer_state.json").read_text())["log_history"]
    steps = [entry["step_time"] for entry in history if "step_time" in entry]
    print(f"wall time of the tiny recipe:  {wall:.1f} s for {len(steps)} steps")
    print(
        f"step time (TRL step_time):     median {statistics.median(steps):.2f} s, mean {statistics.mean(steps):.2f} s, "
        f"min {min(steps):.2f} s, max {max(steps):.2f} s"
    )
    print(f"load average (1 min):          {load_before[0]:.2f} before, {load_after[0]:.2f} after (2 cores)")


if __name__ == "__main__":
    main()
