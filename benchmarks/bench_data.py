"""How long and how much memory does building the LSRIF-sized training set (38,519 examples) take offline?

Times `build_dataset` (sampling, rendering, Arrow table; wall and CPU time, with the load average, since other
work on a shared machine stretches wall time), then `validate_rows` and `save_to_disk` separately, and reports
the peak resident memory of this process and of its worker processes (`resource.getrusage`).
Targets: build under 60 s and under 2 GB on this machine (2 cores).

Run: `python benchmarks/bench_data.py [--num-examples 38519] [--num-proc 1] [--max-depth 1]`. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

from lsrif_trl.data.builder import build_dataset
from lsrif_trl.data.loading import validate_rows

TARGET_SECONDS = 60.0
TARGET_BYTES = 2 * 1024**3


def peak_rss_bytes() -> tuple[int, int]:
    """Peak resident set size of this process and of its largest finished child (Linux reports KiB)."""
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
    )


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--num-examples", type=int, default=38519)
    parser.add_argument("--num-proc", type=int, default=1)
    parser.add_argument("--max-depth", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start_rss, _ = peak_rss_bytes()
    load_before = os.getloadavg()[0]  # other work on the machine stretches wall time, not CPU time
    start, start_cpu = time.perf_counter(), time.process_time()
    dataset = build_dataset(args.num_examples, seed=args.seed, max_depth=args.max_depth, num_proc=args.num_proc)
    build_seconds, build_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    build_rss, child_rss = peak_rss_bytes()

    start = time.perf_counter()
    validate_rows(dataset)
    validate_seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        dataset.save_to_disk(os.path.join(tmp, "lsr"))
        save_seconds = time.perf_counter() - start
    end_rss, _ = peak_rss_bytes()

    mib = 1024**2
    print(f"examples: {len(dataset)} (max_depth={args.max_depth}, num_proc={args.num_proc}, cores={os.cpu_count()})")
    print(f"build: {build_seconds:.1f} s ({len(dataset) / build_seconds:,.0f} examples/s); "
          f"{build_seconds / TARGET_SECONDS:.2f} of the 60 s target; CPU time of this process {build_cpu:.1f} s; "
          f"load average before/after {load_before:.1f}/{os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"validate_rows: {validate_seconds:.1f} s; save_to_disk: {save_seconds:.1f} s")
    print(f"peak RSS: {start_rss / mib:.0f} MiB after imports, {build_rss / mib:.0f} MiB after the build "
          f"({build_rss / TARGET_BYTES:.2f} of the 2 GB target), {end_rss / mib:.0f} MiB at the end; "
          f"largest worker: {child_rss / mib:.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
