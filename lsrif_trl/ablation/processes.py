"""How the ablation's stages run: in process with one intra-op thread, or as a recipe script's process (each with
`OMP_NUM_THREADS=1`, see `ablation.driver`) that marks its folder finished with DONE."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lsrif_trl.training.config import REPO_ROOT

DONE = "ablation_done.json"  # written into a stage's folder once its process has finished


@contextmanager
def one_thread() -> Iterator[None]:
    """torch's intra-op threads set to 1 inside the block (in-process stages, as the training processes run)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def recipe_command(script: str, recipe: Path, model: Path, dataset: Path, out: Path) -> list[str]:
    """The command line of one of the project's recipe scripts on `recipe`, with its model, data and output."""
    return [
        sys.executable, str(REPO_ROOT / "recipes" / script), "--config", str(recipe),
        "--model_name_or_path", str(model), "--dataset_name", str(dataset), "--output_dir", str(out),
    ]  # fmt: skip
