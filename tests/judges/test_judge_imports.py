"""Importing the judge loads no data builder and no table libraries (it runs inside every training process)."""

import subprocess
import sys


def test_importing_the_judge_loads_neither_the_data_builder_nor_datasets_pyarrow_or_pandas():
    code = (
        "import sys; import lsrif_trl.judges.openai_judge, lsrif_trl.judges.scorer_args, lsrif_trl.chat.client; "
        "heavy = ['datasets', 'pyarrow', 'pandas', 'lsrif_trl.data.builder', 'lsrif_trl.data.loading']; "
        "print([m for m in heavy if m in sys.modules])"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
