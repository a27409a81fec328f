"""Whole-blob save and load of the real-device file (vfio_pci) on a real function, Python and C in one run.

Not a test: run `python tests/bench/bench_vfio_pci.py [--rounds N] [--py-rounds N] [--compilers gcc,clang]
[--cflags "-O2"] [--no-python] [--no-c] [--dump NAME --function ADDR]`.

The state (vfio_pci_python.py): a function of the pciutils dumps, captured through the generated Python and
checked against `vfiogen capture`'s blob, then at 1, 64 and 2048 MSI-X vectors (resized with the generated
helper; the counts are synthetic on the real function's other sections) with the vfio_irq section added.

Python (vfio_pci_python.py): vfio_pci save/load of the whole blob against the present sections' codecs alone,
the MSI-X section's alone and the CRC-32C of the frames, and example_nic's whole blob at the same count.

C (c_vfio_pci.c): vfg_vfio_pci_save/load and vfg_example_nic_save/load built as shipped and with
-DVFG_NO_SIMD, linked into one process (entry points and vfg_crc32c renamed with objcopy), against memcpy
of the blob and the CRC-32C of its frames with each build's vfg_crc32c. The C state is the Python state's
bytes (tests/generated_c/cstate.py); both builds must save it to the Python's blob, load it back and refuse a
corrupted CRC, or nothing is timed. There is no hand-written codec of this device (see c_vfio_pci.c).

Every candidate is timed interleaved, round by round with the order rotating, and each ratio is taken
per round: the tables give medians and, for ratios, `median [p25-p75]` over rounds.
"""

from __future__ import annotations

import argparse
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
C_DIR = ROOT / "generated" / "c"
BENCH = ROOT / "tests" / "bench" / "c_vfio_pci.c"
RENAMED = ("vfio_pci_save", "vfio_pci_load", "example_nic_save", "example_nic_load", "crc32c")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402
import vfio_pci_python  # noqa: E402
from bench_common import ratio  # noqa: E402


def units(header: str) -> list[str]:
    """The generated C units the two devices need: the runtime's, every vfio_pci section (example_nic's five
    are among them) and the two device files."""
    sections = re.findall(r"X\((\w+),", header)
    runtime = sorted(p.stem.removeprefix("vfg_") for p in C_DIR.glob("vfg_runtime*.c"))
    return runtime + sections + ["vfio_pci", "example_nic"]


def build(compiler: str, cflags: list[str], work: Path, header: str) -> Path:
    (work / "vfio_pci_sections.h").write_text(header, "utf-8")
    objects = [str(bench_common.link_variant(compiler, [*cflags, *extra], C_DIR, units(header), variant, RENAMED,
                                             (), work))
               for variant, extra in (("simd", []), ("portable", ["-DVFG_NO_SIMD"]))]
    binary = work / "c_vfio_pci"
    subprocess.run([compiler, "-std=gnu99", *cflags, "-I", str(C_DIR), "-I", str(work), str(BENCH), *objects,
                    "-o", str(binary)], check=True)
    return binary


def c_report(compiler: str, cflags: list[str], rounds: int, work: Path, captured: vfio_pci_python.Captured) -> None:
    data, header = vfio_pci_python.c_input(captured)
    binary = build(compiler, cflags, work, header)
    run = subprocess.run([str(binary), str(rounds)], input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if run.returncode != 0:
        sys.exit(f"c_vfio_pci ({compiler}) stopped: {run.stderr.decode(errors='replace').strip()}")
    samples: dict[tuple[str, ...], list[float]] = {}
    for line in run.stdout.decode().splitlines():
        device, count, length, op, impl, values = line.split("\t")
        samples[(device, count, op, impl)] = [float(v) for v in values.split(",")]
        samples[(device, count, "bytes", length)] = []
    print(f"### C, {compiler} {' '.join(cflags)}, vfio_pci of {captured.where}: {rounds} interleaved rounds, "
          "ns per call (median), ratios per round: median [p25-p75]\n")
    print("| vectors | blob bytes | op | generated | memcpy | CRC of the frames | generated / memcpy "
          "| CRC / generated | example_nic | generated / example_nic | VFG_NO_SIMD: generated | CRC "
          "| generated / memcpy | CRC / generated | example_nic | generated / example_nic |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for vectors in vfio_pci_python.VECTORS:
        size = next(k[3] for k in samples if k[:3] == ("vfio_pci", str(vectors), "bytes"))
        for op in ("save", "load"):
            s = {impl: samples[("vfio_pci", str(vectors), op, impl)] for impl in (
                "generated", "generated-no-simd", "memcpy", "crc32c", "crc32c-no-simd")}
            e = {impl: samples[("example_nic", str(vectors), op, impl)] for impl in ("generated", "generated-no-simd")}
            m = {impl: statistics.median(v) for impl, v in s.items()}
            em = {impl: statistics.median(v) for impl, v in e.items()}
            print(f"| {vectors} | {size} | {op} | {m['generated']:.0f} | {m['memcpy']:.0f} | {m['crc32c']:.0f} "
                  f"| {ratio(s['generated'], s['memcpy'])} | {ratio(s['crc32c'], s['generated'])} "
                  f"| {em['generated']:.0f} | {ratio(s['generated'], e['generated'])} "
                  f"| {m['generated-no-simd']:.0f} | {m['crc32c-no-simd']:.0f} "
                  f"| {ratio(s['generated-no-simd'], s['memcpy'])} "
                  f"| {ratio(s['crc32c-no-simd'], s['generated-no-simd'])} | {em['generated-no-simd']:.0f} "
                  f"| {ratio(s['generated-no-simd'], e['generated-no-simd'])} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench_common.add_run_arguments(parser, rounds=51, py_rounds=11)
    parser.add_argument("--dump", default=vfio_pci_python.DUMP,
                        help="which pciutils dump (its name without .lspci-xxxx.txt)")
    parser.add_argument("--function", default=vfio_pci_python.FUNCTION, help="the function's address in it")
    args = parser.parse_args()
    try:
        captured = vfio_pci_python.capture(args.dump, args.function)
    except vfio_pci_python.SetupError as exc:
        sys.exit(f"bench_vfio_pci: {exc}")
    print(f"CPU: {bench_common.cpu_model()}\n")
    print(f"Function: {captured.where}, captured sections {', '.join(captured.sections)} (+ vfio_irq)\n")
    if not args.no_python:
        vfio_pci_python.main(args.py_rounds, args.portable_crc, captured)
    if not args.no_c:
        for compiler in bench_common.installed(args.compilers):
            with tempfile.TemporaryDirectory() as tmp:
                c_report(compiler, shlex.split(args.cflags), args.rounds, Path(tmp), captured)


if __name__ == "__main__":
    main()
