"""The benchmarks read from a file or the Hub that `lsrif eval NAME` offers beside IFEval and LSR-Eval."""

from __future__ import annotations

from lsrif_trl.eval.arithmetic import ArithmeticBenchmark
from lsrif_trl.eval.cfbench import CFBenchBenchmark
from lsrif_trl.eval.complexbench import ComplexBenchBenchmark, ComplexBenchEnglishBenchmark
from lsrif_trl.eval.followbench import FollowBenchBenchmark
from lsrif_trl.eval.gsm8k import GSM8KBenchmark
from lsrif_trl.eval.ifbench import IFBenchBenchmark
from lsrif_trl.eval.infobench import InFoBenchBenchmark
from lsrif_trl.eval.runner import FileBenchmark

FILE_BENCHMARKS: dict[str, type[FileBenchmark]] = {
    cls.name: cls
    for cls in (
        IFBenchBenchmark,
        FollowBenchBenchmark,
        GSM8KBenchmark,
        ArithmeticBenchmark,
        CFBenchBenchmark,
        InFoBenchBenchmark,
        ComplexBenchBenchmark,
        ComplexBenchEnglishBenchmark,
    )
}
