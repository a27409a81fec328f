"""Generated C save/load of the header + MSI-X record against hand-written C and memcpy, side by side.

Not a test: run `python tests/bench/bench_c_codec.py [--rounds N] [--cflags "-O2"]`.
It compiles tests/bench/c_codec.c with the generated header and MSI-X
sources (gcc, -O2 by default), runs it at 64 and 2048 vectors, and prints
the median nanoseconds per call of each codec (every codec timed in the same
process, interleaved round by round) and the ratios the issue sets targets
for: generated / hand-written, and generated / memcpy of the same bytes.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
C_DIR = ROOT / "generated" / "c"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--compiler", default="gcc")
    parser.add_argument("--cflags", default="-O2")
    args = parser.parse_args()
    binary = Path(tempfile.mkdtemp()) / "c_codec"
    sources = [ROOT / "tests" / "bench" / "c_codec.c"] + [C_DIR / f"vfg_{n}.c" for n in ("header", "msix", "runtime")]
    subprocess.run([args.compiler, "-std=gnu99", *shlex.split(args.cflags), "-I", str(C_DIR), *map(str, sources),
                    "-o", str(binary)], check=True)
    print(f"{args.compiler} {args.cflags}, {args.rounds} interleaved rounds, median ns per call\n")
    print("| vectors | operation | generated | hand-written | memcpy | generated / hand | generated / memcpy |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for vectors in (64, 2048):
        out = subprocess.run([str(binary), str(vectors), str(args.rounds)], check=True, capture_output=True,
                             text=True).stdout.splitlines()
        times = dict(line.split("\t") for line in out[1:])
        for op in ("save", "load"):
            gen, hand, copy = (float(times[k]) for k in (f"generated {op}", f"hand {op}", f"memcpy ({op})"))
            print(f"| {vectors} | {op} | {gen:.0f} | {hand:.0f} | {copy:.0f} | {gen / hand:.2f} | {gen / copy:.1f} |")


if __name__ == "__main__":
    main()
