"""The generated C's CRC-32C by implementation, and the bulk passes of a 2048-vector load.

Not a test: run `python tests/bench/bench_c_crc.py [--rounds N] [--compilers gcc,clang] [--cflags "-O2"]`.

For each compiler it builds tests/bench/c_crc.c with the generated runtime (with -DVFG_CRC_TESTING, so that
`vfg_crc32c_force` can pin each implementation) and prints, median ns per call over the rounds (and GB/s):
every implementation this CPU runs at lengths from 16 bytes to a 33,763-byte blob, and the passes c_crc.c
describes (memcpy, the table's byte swap, the CRC, the two in turn and interleaved by 4 KiB blocks).
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
C_DIR = ROOT / "generated" / "c"
PATHS = {-1: "chosen", 0: "slicing-by-8", 1: "SSE4.2 crc32", 2: "PCLMULQDQ", 3: "VPCLMULQDQ 256", 4: "VPCLMULQDQ 512"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--compilers", default="gcc,clang")
    parser.add_argument("--cflags", default="-O2")
    args = parser.parse_args()
    for compiler in args.compilers.split(","):
        with tempfile.TemporaryDirectory() as work:
            binary = Path(work) / "c_crc"
            subprocess.run([compiler, "-std=c99", *shlex.split(args.cflags), "-DVFG_CRC_TESTING", "-I",
                            str(C_DIR), str(ROOT / "tests" / "bench" / "c_crc.c"), str(C_DIR / "vfg_runtime.c"),
                            "-o", str(binary)], check=True)
            out = subprocess.run([str(binary), str(args.rounds)], check=True, capture_output=True,
                                 text=True).stdout
        medians: dict[tuple[str, str, int], float] = {}
        for line in out.splitlines():
            key, values = line.split("\t")
            kind, what, size = key.split(" ")
            medians[kind, what, int(size)] = statistics.median(float(v) for v in values.split(","))
        print(f"### {compiler} {args.cflags}: CRC-32C, median ns per call over {args.rounds} rounds\n")
        paths = sorted({int(what) for kind, what, _ in medians if kind == "crc"}, key=lambda p: (p < 0, p))
        sizes = sorted({size for kind, _, size in medians if kind == "crc"})
        print("| bytes | " + " | ".join(PATHS[p] for p in paths) + " |")
        print("|---:|" + "---:|" * len(paths))
        for size in sizes:
            print(f"| {size} | " + " | ".join(f"{medians['crc', str(p), size]:.1f}" for p in paths) + " |")
        big = sizes[-1]
        print(f"| GB/s at {big} | " + " | ".join(f"{big / medians['crc', str(p), big]:.1f}" for p in paths) + " |")
        print("\nBulk passes over the 2048-vector blob, median ns per call:\n")
        print("| pass | ns | / memcpy |")
        print("|---|---:|---:|")
        memcpy = medians["pass", "memcpy", 33763]
        for (kind, what, _), value in medians.items():
            if kind == "pass":
                print(f"| {what} | {value:.0f} | {value / memcpy:.2f} |")
        print()


if __name__ == "__main__":
    main()
