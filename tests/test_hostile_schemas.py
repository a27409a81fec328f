"""Hostile schema input: each case is refused with a located error and exit 1, never a traceback, in bounded
time and memory (under 5 s and 200 MB, measured in a fresh process).

With the malformed-schema goldens of tests/errors/ (each also a refusal with a located error) these make
well over the hundred hostile-schema cases the hardening issue asks for; `test_there_are_over_100_cases`
counts them.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT

HEADER = "section: t\ntitle: T\nid: 0x0f50\nlocation: {emulation: true}\nversion: 1\n"
STATE = HEADER + "state:\n  a: {type: u8}\n"
SECONDS, MEGABYTES = 5.0, 200

# The peak resident size of this process's own memory (VmHWM): getrusage's ru_maxrss would include what
# the forking pytest process held before exec.
RUN = """
import sys
from vfiogen.cli import main
status = main(sys.argv[1:])
peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print("maxrss-kb", peak, file=sys.stderr)
sys.exit(status)
"""


def _write(text: str | bytes) -> Callable[[Path], Path]:
    def make(directory: Path) -> Path:
        path = directory / "hostile.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return path
    return make


def _symlink_loop(directory: Path) -> Path:
    tree = directory / "schemas"
    (tree / "sections").mkdir(parents=True)
    (tree / "sections" / "s.yaml").write_text(STATE)
    (tree / "sections" / "back").symlink_to("..")
    return tree


def _garbage(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _constraint(check: str) -> str:
    return STATE + f'constraints:\n  - {{check: "{check}", reason: r}}\n'


CASES: dict[str, Callable[[Path], Path]] = {
    "alias bomb": _write("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                         "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"),
    "merge key": _write(HEADER + "state:\n  a: {<<: {type: u8}}\n"),
    "20,000 nested flow lists": _write("section: " + "[" * 20000 + "]" * 20000 + "\n"),
    "900 nested flow lists (under libyaml's own limit)": _write("section: " + "[" * 900 + "]" * 900 + "\n"),
    "500 nested flow mappings": _write("section: " + "{a: " * 500 + "1" + "}" * 500 + "\n"),
    "300 nested block mappings": _write("".join(" " * i + f"k{i}:\n" for i in range(300)) + " " * 300 + "v: 1\n"),
    "10,000-digit decimal integer": _write(HEADER.replace("0x0f50", "9" * 10000)),
    "5,000-digit hex integer": _write(HEADER.replace("0x0f50", "0x" + "f" * 5000)),
    "200-digit binary integer": _write(HEADER.replace("0x0f50", "0b" + "1" * 200)),
    "10,000-digit negative default": _write(HEADER + "params:\n  p: {type: s64, default: -" + "9" * 10000 + "}\n"),
    "10,000-digit integer in an expression": _write(_constraint("a == " + "9" * 10000)),
    "5,000 nested parentheses": _write(_constraint("(" * 5000 + "a" + ")" * 5000 + " == 1")),
    "5,000-term sum": _write(_constraint(" + ".join(["a"] * 5000) + " == 1")),
    "5,000 unary minus": _write(_constraint("-" * 5000 + "a == 1")),
    "100 nested conditionals": _write(_constraint("a > 0 ? " * 100 + "true" + " : false" * 100)),
    "binary garbage": _write(_garbage(1, 4096)),
    "binary garbage, 64 KiB": _write(_garbage(2, 65536)),
    "NUL bytes": _write(b"\0" * 1024),
    "valid UTF-8 noise": _write("".join(random.Random(3).choice("{}[]:,-&*!|>'\"%@` \n\tab") for _ in range(20000))),
    "a 10 MB file": _write(STATE + "".join(f"  f{i}: {{type: u8}}\n" for i in range(460000))),
    "10 MB of comment": _write(STATE + "#" + "x" * 10_000_000 + "\n"),
    "one 200 KiB scalar": _write(HEADER + "description: " + "x" * 200_000 + "\n"),
    "a symlink loop in the schema directory": _symlink_loop,
    "10,000 duplicate keys": _write(HEADER + "state:\n" + "  a: {type: u8}\n" * 10000),
    "a tag": _write(HEADER + "version: !!int 1\n"),
}


def test_there_are_over_100_cases() -> None:
    goldens = [p for p in (ROOT / "tests" / "errors").iterdir() if p.suffix == ".yaml" or p.is_dir()]
    assert len(goldens) + len(CASES) >= 100, (len(goldens), len(CASES))


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_schema_is_refused_in_bounded_time_and_memory(name: str, tmp_path: Path) -> None:
    target = CASES[name](tmp_path)
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-c", RUN, "check", str(target)], capture_output=True, text=True,
                               timeout=60, cwd=tmp_path, env={**os.environ, "PYTHONHASHSEED": "0"})
    seconds = time.perf_counter() - started
    lines = completed.stderr.splitlines()
    rss_kb = int(lines[-1].split()[1]) if lines and lines[-1].startswith("maxrss-kb") else -1
    assert completed.returncode == 1, completed.stderr[-2000:]
    assert "Traceback" not in completed.stderr and "internal error" not in completed.stderr
    first = lines[0]
    location, _, rest = first.partition(": error[VG")
    path, line, column = location.rsplit(":", 2)
    assert Path(tmp_path, path).exists() and int(line) >= 1 and int(column) >= 1 and rest, first
    assert seconds < SECONDS, f"{name}: {seconds:.2f} s"
    assert 0 < rss_kb < MEGABYTES * 1024, f"{name}: {rss_kb} KB"
