"""What the whole-blob benchmarks share: interleaved timing, per-round ratios and linking two builds of the
generated C into one process.

Not a test. bench_device.py (example_nic) and bench_vfio_pci.py (vfio_pci) import it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import timeit
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def cpu_model() -> str:
    """The CPU's model name and core count, as the tables' heading gives them."""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    except OSError:
        model = "?"
    return f"{model}, {os.cpu_count()} cores"


def add_run_arguments(parser: argparse.ArgumentParser, rounds: int, py_rounds: int) -> None:
    """The options both whole-blob benchmarks take: rounds, compilers and flags, which halves to run."""
    parser.add_argument("--rounds", type=int, default=rounds, help="C rounds")
    parser.add_argument("--py-rounds", type=int, default=py_rounds, help="Python rounds")
    parser.add_argument("--compilers", default="gcc,clang")
    parser.add_argument("--cflags", default="-O2")
    parser.add_argument("--no-python", action="store_true")
    parser.add_argument("--no-c", action="store_true")
    parser.add_argument("--portable-crc", action="store_true",
                        help="Python: the pure-Python CRC-32C even where the crc32c package is installed")


def installed(compilers: str) -> Iterator[str]:
    """Each of the comma-separated compilers that is on PATH; a line in the output for each that is not."""
    for compiler in compilers.split(","):
        if shutil.which(compiler) is None:
            print(f"### {compiler}: not installed, skipped\n")
        else:
            yield compiler


def quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 4:
        return min(values), statistics.median(values), max(values)
    q = statistics.quantiles(values, n=4)
    return q[0], statistics.median(values), q[2]


def ratio(a: list[float], b: list[float]) -> str:
    """a / b round by round (both timed in the same rounds): `median [p25-p75]`."""
    lo, mid, hi = quartiles([x / y for x, y in zip(a, b, strict=True)])
    return f"{mid:.2f} [{lo:.2f}-{hi:.2f}]"


def interleave(candidates: Mapping[K, Callable[[], object]], rounds: int, number: int,
               samples: dict[K, list[float]]) -> None:
    """Seconds per call of each candidate, one sample per round appended to samples[key]; the candidates
    take turns within each round, the order rotating by one each round, so a slow stretch of the machine
    falls on all of them and a ratio taken per round cancels it."""
    keys = list(candidates)
    for r in range(rounds):
        for key in keys[r % len(keys):] + keys[:r % len(keys)]:
            samples.setdefault(key, []).append(timeit.timeit(candidates[key], number=number) / number)


def link_variant(compiler: str, cflags: Sequence[str], c_dir: Path, units: Sequence[str], variant: str,
                 renamed: Sequence[str], kept: Sequence[str], work: Path) -> Path:
    """One build of the generated C as a single relocatable object: the `vfg_<unit>.c` of `units` compiled
    with `cflags`, linked with `ld -r`, `vfg_<name>` renamed `<variant>_<name>` for each of `renamed`, and
    every global symbol made local but those and `kept`. Two builds (e.g. as shipped and -DVFG_NO_SIMD)
    then link into one benchmark process without clashing."""
    objects = []
    for unit in units:
        obj = work / f"{variant}_{unit}.o"
        subprocess.run([compiler, "-std=gnu99", *cflags, "-I", str(c_dir), "-c", str(c_dir / f"vfg_{unit}.c"),
                        "-o", str(obj)], check=True)
        objects.append(str(obj))
    merged = work / f"{variant}.o"
    subprocess.run(["ld", "-r", "-o", str(merged), *objects], check=True)
    subprocess.run(["objcopy", *[f"--redefine-sym=vfg_{n}={variant}_{n}" for n in renamed], str(merged)],
                   check=True)
    keep = [f"{variant}_{n}" for n in renamed] + list(kept)
    subprocess.run(["objcopy", *[f"--keep-global-symbol={k}" for k in keep], str(merged)], check=True)
    return merged
