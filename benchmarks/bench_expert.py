"""How many built rows does the tree expert answer exactly, and how fast?

For each family selection and depth, builds `--num-examples` rows (seed 0), answers them with `answer_rows`
(noise off), and prints the share of rows whose every active leaf passes its strict verifier, the time taken
(wall, with the load average: the machine is shared), and the constraints that fail most often. A last line
shows what noise does (the share falls as rewrites are dropped and branches misread).

Run: `python benchmarks/bench_expert.py [--num-examples 1000]`. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

from lsrif_trl.constraints import follows_strict
from lsrif_trl.data.builder import build_dataset
from lsrif_trl.data.expert import ExpertConfig, answer_rows
from lsrif_trl.structure import active_leaves
from lsrif_trl.trees import row_tree

SETTINGS = ((("train",), 1), (("train",), 2), (("ifeval",), 1), (None, 1), (None, 3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-examples", type=int, default=1000)
    args = parser.parse_args()
    for families, depth in SETTINGS:
        rows = build_dataset(args.num_examples, 0, families=families, max_depth=depth)
        start = time.perf_counter()
        answers, report = answer_rows(rows, 0)
        seconds = time.perf_counter() - start
        failing = Counter(
            leaf.id
            for row, text in zip(rows, answers, strict=True)
            for leaf in active_leaves(row_tree(row).tree)
            if not follows_strict(text, leaf.id, leaf.kwargs)
        )
        name = ",".join(families) if families else "all"
        print(
            f"families={name} max_depth={depth}: {report.all_satisfied}/{report.rows} answered exactly, "
            f"{seconds:.1f} s ({1000 * seconds / report.rows:.0f} ms/row, load {os.getloadavg()[0]:.1f}); "
            f"most failing: {failing.most_common(5)}"
        )
    rows = build_dataset(args.num_examples, 0, families=("train",), max_depth=2)
    print("noise 0.2, wrong branch 0.2:", answer_rows(rows, 0, ExpertConfig(noise=0.2, wrong_branch=0.2))[1].summary())


if __name__ == "__main__":
    main()
