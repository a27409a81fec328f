"""Whole-blob save and load of the example_nic device, Python and C side by side in one run.

Not a test: run `python tests/bench/bench_device.py [--rounds N] [--py-rounds N] [--compilers gcc,clang]
[--cflags "-O2"] [--no-python] [--no-c]`.

Python (tests/bench/device_python.py): vfiogen_state.example_nic save/load against a hand-written struct
codec of the same blob with plain objects of its own and its CRC-32C, and the five section codecs alone
(no frames, descriptor or CRC), at 1, 64 and 2048 MSI-X vectors (464 B, 1.4 KB, 33 KB blobs).

C (tests/bench/c_device.c): vfg_example_nic_save/load built as shipped and with -DVFG_NO_SIMD, both linked
into one process (their entry points and vfg_crc32c renamed with objcopy), against a hand-written
__builtin_bswap32 codec with the same checks (see c_device.c) using each build's vfg_crc32c, memcpy of
the blob, and the CRC-32C of every frame alone.

With `--baseline DIR` (another tree's generated/c, e.g. `git archive <commit> generated/c`, whose state and
descriptor structs are laid out as this tree's) its save/load, as shipped and with -DVFG_NO_SIMD, are linked
in as well (they must save the same bytes): a before/after comparison within one run.

Every candidate is timed interleaved, round by round with the order rotating, and each ratio is taken
per round: the tables give medians and, for ratios, `median [p25-p75]` over rounds.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
C_DIR = ROOT / "generated" / "c"
BENCH = ROOT / "tests" / "bench" / "c_device.c"
UNITS = ("runtime", "header", "msi", "msix", "rebar", "sriov", "example_nic")
RENAMED = ("example_nic_save", "example_nic_load", "crc32c")
KEPT = tuple(f"vfg_{n}_init" for n in ("rebar", "header", "msi", "msix", "sriov")) + (
    "vfg_example_nic_derive_descriptor",)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402
import device_python  # noqa: E402
from bench_common import ratio  # noqa: E402


def build(compiler: str, cflags: list[str], work: Path, baseline: Path | None = None) -> Path:
    variants: list[tuple[str, list[str], Path]] = [("simd", [], C_DIR), ("portable", ["-DVFG_NO_SIMD"], C_DIR)]
    if baseline is not None:
        variants += [("base_simd", [], baseline), ("base_portable", ["-DVFG_NO_SIMD"], baseline)]
    objects = [str(bench_common.link_variant(compiler, [*cflags, *extra], c_dir, UNITS, variant, RENAMED,
                                             KEPT if variant == "simd" else (), work))
               for variant, extra, c_dir in variants]
    binary = work / "c_device"
    defines = ["-DVFG_BENCH_BASELINE"] if baseline is not None else []
    subprocess.run([compiler, "-std=gnu99", *cflags, *defines, "-I", str(C_DIR), str(BENCH), *objects, "-o",
                    str(binary)], check=True)
    return binary


def c_report(compiler: str, cflags: list[str], rounds: int, work: Path, baseline: Path | None = None) -> None:
    binary = build(compiler, cflags, work, baseline)
    lines = subprocess.run([str(binary), str(rounds)], check=True, stdout=subprocess.PIPE, text=True).stdout
    samples: dict[tuple[str, str, str, str], list[float]] = {}
    for line in lines.splitlines():
        vectors, size, op, impl, values = line.split("\t")
        samples[(vectors, size, op, impl)] = [float(v) for v in values.split(",")]
    print(f"### C, {compiler} {' '.join(cflags)}: {rounds} interleaved rounds, ns per call (median), "
          "ratios per round: median [p25-p75]\n")
    print("| vectors | blob bytes | op | generated | hand | memcpy | CRC of the frames | generated / memcpy "
          "| generated / hand | VFG_NO_SIMD: generated | hand | CRC | generated / memcpy | generated / hand |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    keys = sorted({k[:3] for k in samples}, key=lambda k: (int(k[0]), k[2] != "save"))
    for key in keys:
        s = {impl: samples[key + (impl,)] for impl in ("generated", "generated-no-simd", "hand", "hand-no-simd",
                                                        "memcpy", "crc32c", "crc32c-no-simd")}
        m = {impl: statistics.median(v) for impl, v in s.items()}
        print(f"| {key[0]} | {key[1]} | {key[2]} | {m['generated']:.0f} | {m['hand']:.0f} | {m['memcpy']:.0f} "
              f"| {m['crc32c']:.0f} | {ratio(s['generated'], s['memcpy'])} | {ratio(s['generated'], s['hand'])} "
              f"| {m['generated-no-simd']:.0f} | {m['hand-no-simd']:.0f} | {m['crc32c-no-simd']:.0f} "
              f"| {ratio(s['generated-no-simd'], s['memcpy'])} "
              f"| {ratio(s['generated-no-simd'], s['hand-no-simd'])} |")
    print()
    if baseline is None:
        return
    print(f"### C, {compiler}: this tree against the baseline {baseline}, same rounds, ns per call (median)\n")
    print("| vectors | op | baseline | generated | generated / baseline | baseline / hand | generated / hand "
          "| VFG_NO_SIMD: baseline | generated | generated / baseline | baseline / hand | generated / hand |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key in keys:
        s = {impl: samples[key + (impl,)] for impl in ("generated", "generated-no-simd", "baseline",
                                                        "baseline-no-simd", "hand", "hand-no-simd")}
        m = {impl: statistics.median(v) for impl, v in s.items()}
        print(f"| {key[0]} | {key[2]} | {m['baseline']:.0f} | {m['generated']:.0f} "
              f"| {ratio(s['generated'], s['baseline'])} | {ratio(s['baseline'], s['hand'])} "
              f"| {ratio(s['generated'], s['hand'])} | {m['baseline-no-simd']:.0f} | {m['generated-no-simd']:.0f} "
              f"| {ratio(s['generated-no-simd'], s['baseline-no-simd'])} "
              f"| {ratio(s['baseline-no-simd'], s['hand-no-simd'])} "
              f"| {ratio(s['generated-no-simd'], s['hand-no-simd'])} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench_common.add_run_arguments(parser, rounds=101, py_rounds=15)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="C: another tree's generated/c directory to time side by side (same struct layouts)")
    args = parser.parse_args()
    print(f"CPU: {bench_common.cpu_model()}\n")
    if not args.no_python:
        device_python.main(args.py_rounds, args.portable_crc)
    if not args.no_c:
        for compiler in bench_common.installed(args.compilers):
            with tempfile.TemporaryDirectory() as tmp:
                c_report(compiler, shlex.split(args.cflags), args.rounds, Path(tmp), args.baseline)


if __name__ == "__main__":
    main()
