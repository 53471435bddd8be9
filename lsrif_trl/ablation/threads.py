"""One intra-op thread for the ablation's in-process stages, as its training processes run (`OMP_NUM_THREADS=1`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


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
