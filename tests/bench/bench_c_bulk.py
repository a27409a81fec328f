"""Does the AVX2 path of the generated C's byte-swapping bulk copy pay, at the sizes a device has?

Not a test: run `python tests/bench/bench_c_bulk.py [--rounds N] [--compilers gcc,clang] [--cflags "-O2"]
[--callgrind]`.

For each compiler it builds the generated C twice, as shipped (the AVX2 path, chosen at run time with
`__builtin_cpu_supports`) and with -DVFG_NO_SIMD (the portable loop), renames the two copies' entry
points with objcopy so that both link into one process with tests/bench/c_bulk.c, and times in that
process, interleaved round by round (the order rotating each round):

* `vfg_get_be_array` / `vfg_put_be_array` of each build, a plain `__builtin_bswap32`/`64` loop and
  memcpy, on the MSI-X table at 1, 4, 16, 64, 256 and 2048 vectors (16 bytes each, 4-byte words) and
  the PBA at 1, 4 and 32 quadwords (8, 32, 256 bytes);
* the whole `vfg_example_nic_save` / `vfg_example_nic_load` of each build at 1, 64 and 2048 vectors,
  and memcpy of the same blob.

It prints the median ns per call and, per round, the ratios avx2 / portable and each / memcpy (median
and the 25th-75th percentile over rounds, as `median [p25-p75]`). With --callgrind it also runs the
same calls under `valgrind --tool=callgrind` and prints instructions per call, which no other load on
the machine changes.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
C_DIR = ROOT / "generated" / "c"
BENCH = ROOT / "tests" / "bench" / "c_bulk.c"
UNITS = ("runtime", "header", "msi", "msix", "rebar", "sriov", "example_nic")
RENAMED = ("get_be_array", "put_be_array", "example_nic_save", "example_nic_load")
KEPT = tuple(f"vfg_{n}_init" for n in ("rebar", "header", "msi", "msix", "sriov")) + ("vfg_crc32c",)


def build(compiler: str, cflags: list[str], work: Path) -> Path:
    """The benchmark binary for one compiler, with the shipped and the VFG_NO_SIMD build side by side."""
    objects = []
    for variant, extra in (("simd", []), ("portable", ["-DVFG_NO_SIMD"])):
        units = []
        for unit in UNITS:
            obj = work / f"{variant}_{unit}.o"
            subprocess.run([compiler, "-std=gnu99", *cflags, *extra, "-I", str(C_DIR), "-c",
                            str(C_DIR / f"vfg_{unit}.c"), "-o", str(obj)], check=True)
            units.append(str(obj))
        merged = work / f"{variant}.o"
        subprocess.run(["ld", "-r", "-o", str(merged), *units], check=True)
        renames = [f"--redefine-sym=vfg_{name}={variant}_{name}" for name in RENAMED]
        subprocess.run(["objcopy", *renames, str(merged)], check=True)
        keep = [f"{variant}_{name}" for name in RENAMED] + (list(KEPT) if variant == "simd" else [])
        subprocess.run(["objcopy", *[f"--keep-global-symbol={k}" for k in keep], str(merged)], check=True)
        objects.append(str(merged))
    binary = work / "c_bulk"
    callgrind = ["-DHAVE_CALLGRIND"] if Path("/usr/include/valgrind/callgrind.h").exists() else []
    subprocess.run([compiler, "-std=gnu99", *cflags, *callgrind, "-I", str(C_DIR), str(BENCH), *objects,
                    "-o", str(binary)], check=True)
    return binary


def quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 4:
        m = statistics.median(values)
        return min(values), m, max(values)
    q = statistics.quantiles(values, n=4)
    return q[0], statistics.median(values), q[2]


def ratio(a: list[float], b: list[float]) -> str:
    lo, mid, hi = quartiles([x / y for x, y in zip(a, b, strict=True)])
    return f"{mid:.2f} [{lo:.2f}-{hi:.2f}]"


def run_times(binary: Path, rounds: int) -> dict[tuple[str, ...], list[float]]:
    """Every round's ns per call, by (kind, what, n, bytes, operation, codec)."""
    out = subprocess.run([str(binary), "time", str(rounds)], check=True, stdout=subprocess.PIPE, text=True).stdout
    samples: dict[tuple[str, ...], list[float]] = {}
    for line in out.splitlines():
        *key, values = line.split("\t")
        samples[tuple(key)] = [float(v) for v in values.split(",")]
    return samples


def run_callgrind(binary: Path, reps: int, work: Path) -> dict[tuple[str, ...], float]:
    """Instructions per call of each (kind, what, n, size, op, codec), from one callgrind dump each."""
    out = work / "callgrind.out"
    subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=yes", f"--callgrind-out-file={out}",
                    str(binary), "count", str(reps)], check=True, capture_output=True)
    counts: dict[tuple[str, ...], float] = {}
    for path in work.glob("callgrind.out*"):
        text = path.read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: Client Request: (.*)$", text, re.M)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if trigger and total and trigger.group(1) not in ("skip", "start"):
            counts[tuple(trigger.group(1).split(" "))] = int(total.group(1)) / reps
    return counts


def report(compiler: str, cflags: list[str], rounds: int, samples: dict[tuple[str, ...], list[float]],
           counts: dict[tuple[str, ...], float]) -> None:
    med = {k: statistics.median(v) for k, v in samples.items()}
    print(f"### {compiler} {' '.join(cflags)}: {rounds} interleaved rounds\n")
    print("Bulk copy, median ns per call; ratios per round, median [p25-p75]:\n")
    print("| array | n | bytes | op | avx2 | portable | bswap loop | memcpy | avx2 / portable | avx2 / memcpy "
          "| portable / memcpy | bswap / memcpy |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    keys = sorted({k[:5] for k in samples if k[0] == "bulk"}, key=lambda k: (k[1] != "table", int(k[3]), k[4]))
    for key in keys:
        s = {impl: samples[key + (impl,)] for impl in ("avx2", "portable", "bswap", "memcpy")}
        m = {impl: med[key + (impl,)] for impl in s}
        print(f"| {key[1]} | {key[2]} | {key[3]} | {key[4]} | {m['avx2']:.1f} | {m['portable']:.1f} "
              f"| {m['bswap']:.1f} | {m['memcpy']:.1f} | {ratio(s['avx2'], s['portable'])} "
              f"| {ratio(s['avx2'], s['memcpy'])} | {ratio(s['portable'], s['memcpy'])} "
              f"| {ratio(s['bswap'], s['memcpy'])} |")
    print("\nWhole example_nic blob, median ns per call:\n")
    print("| vectors | blob bytes | op | avx2 build | VFG_NO_SIMD build | memcpy | crc32c of the blob "
          "| avx2 / portable | avx2 / memcpy | portable / memcpy | (portable - avx2) / portable |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    keys = sorted({k[:5] for k in samples if k[0] == "device"}, key=lambda k: (int(k[2]), k[4]))
    for key in keys:
        s = {impl: samples[key + (impl,)] for impl in ("avx2", "portable", "memcpy", "crc32c")}
        m = {impl: med[key + (impl,)] for impl in s}
        saved = 1 - statistics.median(a / p for a, p in zip(s["avx2"], s["portable"], strict=True))
        print(f"| {key[2]} | {key[3]} | {key[4]} | {m['avx2']:.0f} | {m['portable']:.0f} | {m['memcpy']:.0f} "
              f"| {m['crc32c']:.0f} | {ratio(s['avx2'], s['portable'])} | {ratio(s['avx2'], s['memcpy'])} "
              f"| {ratio(s['portable'], s['memcpy'])} | {saved:.1%} |")
    if counts:
        print("\nInstructions per call (callgrind):\n")
        print("| what | n | bytes | op | avx2 | portable | bswap loop / crc32c | memcpy (rep movsb: see c_bulk.c) "
              "| avx2 / portable | portable - avx2 |")
        print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
        keys = sorted({k[:5] for k in counts}, key=lambda k: (k[0], k[1] != "table", int(k[2]), k[4]))
        for key in keys:
            c = {impl: counts.get(key + (impl,), 0.0) for impl in ("avx2", "portable", "bswap", "memcpy", "crc32c")}
            third = c["bswap"] if key[0] == "bulk" else c["crc32c"]
            print(f"| {key[1]} | {key[2]} | {key[3]} | {key[4]} | {c['avx2']:.0f} | {c['portable']:.0f} "
                  f"| {third:.0f} | {c['memcpy']:.0f} | {c['avx2'] / c['portable']:.2f} "
                  f"| {c['portable'] - c['avx2']:.0f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=201)
    parser.add_argument("--compilers", default="gcc,clang")
    parser.add_argument("--cflags", default="-O2")
    parser.add_argument("--callgrind", action="store_true", help="also count instructions under callgrind")
    parser.add_argument("--callgrind-reps", type=int, default=200)
    args = parser.parse_args()
    cflags = shlex.split(args.cflags)
    with open("/proc/cpuinfo") as f:
        model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    print(f"CPU: {model}, {os.cpu_count()} cores\n")
    for compiler in args.compilers.split(","):
        if shutil.which(compiler) is None:
            print(f"### {compiler}: not installed, skipped\n")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            binary = build(compiler, cflags, work)
            samples = run_times(binary, args.rounds)
            counts = run_callgrind(binary, args.callgrind_reps, work) if args.callgrind else {}
            report(compiler, cflags, args.rounds, samples, counts)


if __name__ == "__main__":
    main()
