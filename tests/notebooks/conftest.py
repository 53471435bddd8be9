"""Running a notebook in tests: a real Jupyter kernel started from this interpreter, in a chosen working folder.

The kernelspec is written into a temporary folder, so a user-level `python3` kernel pointing elsewhere cannot be
picked up; the working directory is the folder the test passes, so everything a notebook writes lands there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

KERNEL_NAME = "lsrif-notebook-test"
CELL_TIMEOUT = 300  # seconds per cell: generous for a loaded 2-core machine


@pytest.fixture(scope="session")
def kernel_spec_manager(tmp_path_factory):
    """A kernelspec folder holding one kernel: this very interpreter running ipykernel."""
    pytest.importorskip("ipykernel", reason="no Jupyter kernel can be started: ipykernel is not installed here")
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager

    kernels = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(kernels / KERNEL_NAME)  # argv[0] is sys.executable
    return KernelSpecManager(kernel_dirs=[str(kernels)])


@pytest.fixture(scope="session")
def execute_notebook(kernel_spec_manager):
    """`execute_notebook(notebook, cwd)` runs every cell of `notebook` in a fresh kernel working in `cwd`."""
    nbclient = pytest.importorskip("nbclient")
    from jupyter_client.manager import KernelManager

    def execute(notebook, cwd: Path) -> None:
        kernel = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=kernel_spec_manager)
        client = nbclient.NotebookClient(
            notebook, km=kernel, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(cwd)}}
        )
        client.execute()

    return execute
