"""Import cost of the generated Python package against a bare interpreter, side by side.

Not a test: run `python tests/bench/bench_import.py`. Each command runs as a
fresh process (byte-code cached first, as an installed package would be),
interleaved with `python -c pass`, 41 times; the table gives medians and
the difference. It also shows what the enum module alone costs, since
IntEnum is what the sections with enums pay for.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON_DIR = ROOT / "generated" / "python"
RUNS = 41

CASES = {
    "import vfiogen_state": "import vfiogen_state",
    "import vfiogen_state.msix (no enums)": "import vfiogen_state.msix",
    "import vfiogen_state.header (IntEnums)": "import vfiogen_state.header",
    "import vfiogen_state.example_nic (all five sections)": "import vfiogen_state.example_nic",
    "import enum (stdlib, for reference)": "import enum",
}


def run(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=PYTHON_DIR)
    return time.perf_counter() - start


def main() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(PYTHON_DIR)
    for code in CASES.values():
        run(code, env)  # write the byte-code caches once
    print(f"python {sys.version.split()[0]}, {RUNS} runs each, interleaved with `python -c pass`, medians\n")
    print("| command | median ms | bare ms | added ms |")
    print("|---|---:|---:|---:|")
    for label, code in CASES.items():
        mine, bare = [], []
        for _ in range(RUNS):
            mine.append(run(code, env))
            bare.append(run("pass", env))
        m, b = statistics.median(mine) * 1e3, statistics.median(bare) * 1e3
        print(f"| `{label}` | {m:.1f} | {b:.1f} | {m - b:+.1f} |")


if __name__ == "__main__":
    main()
