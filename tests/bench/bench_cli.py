"""`vfiogen check` and `vfiogen build` as whole processes, cold and warm, side by side with a baseline tree.

Run from the repository root with the virtualenv's interpreter:

    .venv/bin/python tests/bench/bench_cli.py --baseline ../base/.venv/bin/vfiogen
    .venv/bin/python tests/bench/bench_cli.py --runs 5 --schemas schemas --schemas examples/hv-schemas

The baseline is another checkout's console script (a worktree of the commit to compare against, with its own
virtualenv); without one, only this tree is timed. The two are run in turn, A B A B ..., so that a machine
whose speed drifts (a shared one) slows both alike, and each figure is reported as the median of the runs
and as the median [min-max] of the A/B ratios pair by pair, which is the figure to quote on a busy machine.

Timed, per command: the child's CPU time (user + system, from `resource.getrusage(RUSAGE_CHILDREN)`) and
its wall time, for

* `check, cold`: `vfiogen check SCHEMAS...` with the result cache off (`VFIOGEN_NO_CACHE=1`, see
  `vfiogen.cache`; a tree without that cache ignores the variable);
* `check, warm`: the same with the result cache on, holding this check (the warm-up run saved it);
* `build, cold`: `vfiogen build SCHEMAS... -o FRESH_DIR` with the result cache off and no store of laid-out C
  statements (the files `vfiogen-c-wrap-*.marshal` in the per-user cache directory are deleted before each run;
  the compiled-template cache, which both trees keep, is left warm);
* `build, store`: the same with the statement store the previous run left (the result cache still off);
* `build, warm`: the same with the result cache on, holding this build (every file is still written: the
  output directory is fresh each run).

Byte code is compiled first (`compileall`), as an installed package has it: the sessions' environment
sets PYTHONDONTWRITEBYTECODE, which this script unsets for its children. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _store_files() -> list[Path]:
    """The C statement stores `build` keeps between runs (any version of the rules), if any."""
    chosen = os.environ.get("VFIOGEN_CACHE_DIR") or (str(Path(tempfile.gettempdir(), f"_jinja2-cache-{os.getuid()}"))
                                                     if hasattr(os, "getuid") else None)
    directory = Path(chosen) if chosen else None
    return sorted(directory.glob("vfiogen-c-wrap-*.marshal")) if directory and directory.is_dir() else []


def _run(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run of `argv`, which must exit 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr.decode(errors='replace')}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def _command(script: str, kind: str, schemas: list[str], out: Path) -> list[str]:
    if kind.startswith("check"):
        return [script, "check", *schemas]
    return [script, "build", *schemas, "-o", str(out)]


def _bench(kind: str, scripts: list[str], schemas: list[str], runs: int, env: dict[str, str],
           work: Path) -> list[list[tuple[float, float]]]:
    """Per script, `runs` (CPU, wall) pairs, the scripts taking turns; one uncounted warm-up each."""
    def once(index: int, script: str) -> tuple[float, float]:
        out = work / f"out{index}"
        shutil.rmtree(out, ignore_errors=True)  # a fresh output directory: every file is written
        if kind == "build, cold":
            for stale in _store_files():
                stale.unlink(missing_ok=True)
        cached = kind.endswith("warm")
        return _run(_command(script, kind, schemas, out), {**env, "VFIOGEN_NO_CACHE": "0" if cached else "1"})

    for index, script in enumerate(scripts):
        once(index, script)
    results: list[list[tuple[float, float]]] = [[] for _ in scripts]
    for _ in range(runs):
        for index, script in enumerate(scripts):
            results[index].append(once(index, script))
    return results


def _ratio(a: list[float], b: list[float]) -> str:
    pairs = [x / y for x, y in zip(a, b, strict=True)]
    return f"{statistics.median(pairs):.2f} [{min(pairs):.2f}-{max(pairs):.2f}]"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="another tree's vfiogen console script, timed in turn with this one")
    parser.add_argument("--schemas", action="append", help="schema directories (default: schemas)")
    parser.add_argument("--runs", type=int, default=7, help="counted runs of each command (default: %(default)s)")
    args = parser.parse_args(argv)
    schemas = args.schemas or ["schemas"]
    this = str(Path(sys.executable).parent / "vfiogen")
    scripts = [this] + ([args.baseline] if args.baseline else [])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for script in scripts:
        python = Path(script).parent / "python"
        tree = subprocess.run([str(python), "-c", "import vfiogen, pathlib; print(pathlib.Path(vfiogen.__file__)"
                               ".parent)"], capture_output=True, text=True, check=True).stdout.strip()
        compileall.compile_dir(tree, quiet=1)
    print(f"python {sys.version.split()[0]}, {args.runs} runs per figure (medians), schemas {' '.join(schemas)}")
    print(f"A = {this}" + (f"\nB = {args.baseline}" if args.baseline else ""))
    header = "| command | A CPU s | A wall s |" + (" B CPU s | B wall s | A/B CPU | A/B wall |" if args.baseline else "")
    print("\n" + header)
    print("|---|" + "---:|" * (header.count("|") - 2))
    with tempfile.TemporaryDirectory(prefix="vfiogen-bench-cli-") as temp:
        for kind in ("check, cold", "check, warm", "build, cold", "build, store", "build, warm"):
            results = _bench(kind, scripts, schemas, args.runs, env, Path(temp))
            cpu = [[r[0] for r in runs] for runs in results]
            wall = [[r[1] for r in runs] for runs in results]
            row = f"| {kind} | {statistics.median(cpu[0]):.3f} | {statistics.median(wall[0]):.3f} |"
            if args.baseline:
                row += (f" {statistics.median(cpu[1]):.3f} | {statistics.median(wall[1]):.3f} |"
                        f" {_ratio(cpu[0], cpu[1])} | {_ratio(wall[0], wall[1])} |")
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
