"""How `vfiogen check` time grows with schema size, and what `vfiogen build` costs end to end.

Run from the repository root with the virtualenv's interpreter:

    .venv/bin/python tests/bench/bench_check.py               # the full run (a few minutes)
    .venv/bin/python tests/bench/bench_check.py --runs 3 --sizes 100,1000 --no-profile
    .venv/bin/python tests/bench/bench_check.py --sizes 1x,4x,16x     # multiples of the standard library

For each N it generates a schema tree with N fields (`gen_schemas.py`), checks
that `vfiogen check` accepts it with exit 0 and no output, then times

* `vfiogen check DIR` as a whole process (interpreter start, imports, compile);
* the in-process compile, `driver.compile_schemas` on already-read inputs,
  with a breakdown by pass and the time the cyclic garbage collector took.

It prints, per N: the median seconds, seconds per 1000 fields, the ratio to
the smallest N and the growth exponent (the slope of log(time) against
log(N)) between successive sizes and over the whole range. Then it times
`vfiogen build schemas/ -o TMP` next to `python -c pass`, and profiles the
largest N with cProfile. Standard library only (plus vfiogen itself).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import math
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import gen_schemas
from vfiogen import driver
from vfiogen.context import Context
from vfiogen.diagnostics import Reporter

DEFAULT_SIZES = (100, 300, 1000, 3000, 10000)


def vfiogen_command() -> list[str]:
    """The `vfiogen` console script of this interpreter's environment (else the module through it)."""
    script = Path(sys.executable).parent / "vfiogen"
    if script.is_file():
        return [str(script)]
    found = shutil.which("vfiogen")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from vfiogen.cli import main; sys.exit(main())"]


def time_process(argv: Sequence[str], *, cwd: Path = ROOT) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr.decode(errors='replace')}")
    return elapsed


def median_process(argv: Sequence[str], runs: int, **kwargs: Path) -> float:
    return statistics.median(time_process(argv, **kwargs) for _ in range(runs))


class GcTimer:
    """Wall time spent inside the cyclic garbage collector (via gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full_collections = 0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.full_collections += info["generation"] == 2

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


CHECK_STOPS_BEFORE = getattr(driver, "FREEZE_PASS", None)
"""`vfiogen check` runs every pass but this one (which reports nothing); None in a tree where it runs them all."""


def compile_once(inputs: list[driver.SchemaInput]) -> tuple[float, float, int]:
    """Seconds of one `driver.compile_schemas` as `vfiogen check` runs it, seconds of GC inside it, full
    collections."""
    gc.collect()
    ctx = Context(reporter=Reporter())
    with GcTimer() as gc_timer:
        start = time.perf_counter()
        result = driver.compile_schemas(inputs, ctx, stop_before=CHECK_STOPS_BEFORE)
        elapsed = time.perf_counter() - start
    if (result.module is None and CHECK_STOPS_BEFORE is None) or ctx.reporter.diagnostics:
        raise SystemExit(f"in-process compile reported {len(ctx.reporter.diagnostics)} diagnostics")
    return elapsed, gc_timer.seconds, gc_timer.full_collections


def pass_times(inputs: list[driver.SchemaInput]) -> dict[str, float]:
    """Seconds per pass of one compile (`driver.PASSES` in the driver's order), each without the time the
    garbage collector took inside it, plus that GC time summed under "(garbage collector)".

    A full collection scans every live object and lands in whichever pass happens to trigger it, so
    per-pass times with GC included jump around between runs and sizes.
    """
    gc.collect()
    ctx = Context(reporter=Reporter())
    value: object = inputs
    times: dict[str, float] = {}
    collected = 0.0
    for name, run in driver.PASSES:
        with GcTimer() as gc_timer:
            start = time.perf_counter()
            value = run(value, ctx)
            elapsed = time.perf_counter() - start
        times[name] = elapsed - gc_timer.seconds
        collected += gc_timer.seconds
    times["(garbage collector)"] = collected
    assert not ctx.reporter.diagnostics
    return times


def read_inputs(tree: Path) -> list[driver.SchemaInput]:
    reporter = Reporter()
    inputs: list[driver.SchemaInput] = driver.discover([str(tree)], reporter)
    assert inputs and not reporter.diagnostics
    return inputs


@dataclass
class Row:
    n: int
    files: int
    process: float
    compile: float
    gc: float
    full_collections: int
    passes: dict[str, float] = field(default_factory=dict)


def exponent(n0: int, t0: float, n1: int, t1: float) -> float:
    return math.log(t1 / t0) / math.log(n1 / n0)


def fitted_exponent(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of log(time) against log(N)."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def growth_table(title: str, rows: list[Row], value: Callable[[Row], float], extra: str = "",
                 extra_value: Callable[[Row], str] | None = None) -> str:
    out = [f"\n{title}", "",
           f"| N | files | median s | s / 1000 fields | x N={rows[0].n} | exponent vs previous |{extra}",
           f"|---:|---:|---:|---:|---:|---:|{'---:|' if extra else ''}"]
    base = value(rows[0])
    previous: Row | None = None
    for row in rows:
        t = value(row)
        slope = f"{exponent(previous.n, value(previous), row.n, t):.2f}" if previous is not None else "-"
        cell = f" {extra_value(row)} |" if extra_value is not None else ""
        out.append(f"| {row.n} | {row.files} | {t:.3f} | {t / row.n * 1000:.4f} | {t / base:.1f} | {slope} |{cell}")
        previous = row
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        overall = exponent(first.n, value(first), last.n, value(last))
        fitted = fitted_exponent([(r.n, value(r)) for r in rows])
        out.append("")
        out.append(f"exponent overall (N={first.n}..{last.n}): {overall:.2f}; least-squares fit over all sizes: "
                   f"{fitted:.2f}; at the large end (N={rows[-2].n}..{last.n}): "
                   f"{exponent(rows[-2].n, value(rows[-2]), last.n, value(last)):.2f}")
    return "\n".join(out)


def pass_table(rows: list[Row]) -> str:
    names = list(rows[0].passes)
    out = ["\nIn-process time by pass, excluding the garbage collector, which has its own row (median of runs, "
           "seconds; last column: exponent between the two largest N)", "",
           "| pass | " + " | ".join(f"N={r.n}" for r in rows) + " | exponent |",
           "|---|" + "---:|" * (len(rows) + 1)]
    for name in names:
        cells = " | ".join(f"{r.passes[name]:.4f}" for r in rows)
        slope = "-"
        if len(rows) > 1 and rows[-2].passes[name] > 0:
            slope = f"{exponent(rows[-2].n, rows[-2].passes[name], rows[-1].n, rows[-1].passes[name]):.2f}"
        out.append(f"| {name} | {cells} | {slope} |")
    return "\n".join(out)


def bench_sizes(sizes: list[int], runs: int, command: list[str], work: Path, profile: bool) -> list[Row]:
    rows: list[Row] = []
    # Warm-up: the first compile in a process builds the meta-schema validator and imports lazily.
    warm = work / "warmup"
    gen_schemas.generate(100, warm)
    compile_once(read_inputs(warm))
    for n in sizes:
        tree = work / f"n{n}"
        stats = gen_schemas.generate(n, tree)
        check = subprocess.run([*command, "check", str(tree)], cwd=ROOT, capture_output=True, check=False)
        if check.returncode != 0 or check.stdout or check.stderr:
            raise SystemExit(f"vfiogen check rejects the generated tree for N={n} (exit {check.returncode}):\n"
                             f"{check.stdout.decode(errors='replace')}{check.stderr.decode(errors='replace')}")
        print(f"N={n}: {stats.sections} sections ({stats.ext_sections} extended capabilities, {stats.emu_sections} "
              f"emulation), {stats.registers} registers, {stats.state_fields} state fields, {stats.arrays} arrays, "
              f"{stats.presence} presence expressions, {stats.restore_steps} restore steps; check exit 0 ...",
              end="", flush=True)
        process = median_process([*command, "check", str(tree)], runs)
        inputs = read_inputs(tree)
        compiles = [compile_once(inputs) for _ in range(runs)]
        per_pass = [pass_times(inputs) for _ in range(runs)]
        rows.append(Row(n=n, files=stats.files, process=process,
                        compile=statistics.median(c[0] for c in compiles),
                        gc=statistics.median(c[1] for c in compiles),
                        full_collections=compiles[0][2],
                        passes={name: statistics.median(p[name] for p in per_pass) for name in per_pass[0]}))
        print(f" process {process:.3f} s, in-process {rows[-1].compile:.3f} s")
    if profile:
        inputs = read_inputs(work / f"n{sizes[-1]}")
        profiler = cProfile.Profile()
        ctx = Context(reporter=Reporter())
        profiler.enable()
        driver.compile_schemas(inputs, ctx)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("cumulative").print_stats(15)
        print(f"\ncProfile of driver.compile_schemas at N={sizes[-1]}, top 15 by cumulative time:")
        print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[:6000])
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("tottime").print_stats(10)
        print("\n... and top 10 by own (total) time:")
        print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[:4000])
    return rows


def bench_build(runs: int, command: list[str], work: Path) -> None:
    target = "schemas"
    check = subprocess.run([*command, "check", "schemas"], cwd=ROOT, capture_output=True, check=False)
    if check.returncode != 0:
        target = "schemas/sections/msi.yaml"
        first_line = check.stderr.decode(errors="replace").splitlines()[:1]
        print(f"\nNOTE: `vfiogen check schemas/` exits {check.returncode} right now ({first_line[0] if first_line else ''}"
              f"); timing `build` on {target} only.")
    files = [target] if target.endswith(".yaml") else sorted(
        p.relative_to(ROOT).as_posix() for p in (ROOT / target).rglob("*.yaml"))

    def build_once(index: int) -> float:
        shutil.rmtree(work / f"build{index}", ignore_errors=True)
        return time_process([*command, "build", target, "-o", str(work / f"build{index}")])

    build = statistics.median(build_once(i) for i in range(runs))  # a fresh output directory every run
    baseline = median_process([sys.executable, "-c", "pass"], runs)
    imports = median_process([sys.executable, "-c", "import vfiogen.cli, vfiogen.driver"], runs)
    outputs = sum(1 for p in (work / "build0").rglob("*") if p.is_file())
    print(f"\nEnd-to-end `vfiogen build {target} -o TMP` ({len(files)} schema files, {outputs} output files), "
          f"median of {runs}:\n")
    print("| command | median s | x `python -c pass` |")
    print("|---|---:|---:|")
    print(f"| `python -c pass` | {baseline:.3f} | 1.0 |")
    print(f"| `python -c 'import vfiogen.cli, vfiogen.driver'` | {imports:.3f} | {imports / baseline:.1f} |")
    print(f"| `vfiogen build {target} -o TMP` | {build:.3f} | {build / baseline:.1f} |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated field counts, or multiples of the standard library's ('1x,4x,16x') "
                        "(default: %(default)s)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement; medians are reported")
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="skip cProfile at the largest N")
    parser.add_argument("--no-build", dest="build", action="store_false", help="skip timing `vfiogen build schemas/`")
    parser.add_argument("--keep", type=Path, help="generate into this directory and keep it (default: a temp dir)")
    args = parser.parse_args(argv)
    library = gen_schemas.count_fields(ROOT / "schemas")
    sizes = sorted({round(float(s.strip()[:-1]) * library) if s.strip().endswith("x") else int(s)
                    for s in args.sizes.split(",") if s.strip()})
    # Every figure is a compile: the result cache (vfiogen.cache) would answer the repeated runs.
    os.environ["VFIOGEN_NO_CACHE"] = "1"
    print(f"the standard library (schemas/) has {library} fields")
    command = vfiogen_command()
    print(f"python {sys.version.split()[0]}, {' '.join(command)}, {args.runs} runs per measurement (medians)")
    with tempfile.TemporaryDirectory(prefix="vfiogen-bench-") as temp:
        work = args.keep or Path(temp)
        work.mkdir(parents=True, exist_ok=True)
        rows = bench_sizes(sizes, args.runs, command, work, args.profile)
        print(growth_table("`vfiogen check DIR` as a whole process", rows, lambda r: r.process))
        print(growth_table("In-process `driver.compile_schemas` as `vfiogen check` runs it (inputs already read)",
                           rows, lambda r: r.compile,
                           " GC s (full collections) |", lambda r: f"{r.gc:.3f} ({r.full_collections})"))
        print(growth_table("In-process compile minus time in the garbage collector", rows,
                           lambda r: r.compile - r.gc))
        print(pass_table(rows))
        if args.build:
            bench_build(args.runs, command, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
