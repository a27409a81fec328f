"""Instructions per whole-blob save and load in Python, generated against hand-written, under callgrind.

Not a test: run `python tests/bench/bench_python_instructions.py [--base DIR] [--calls N]` (valgrind on PATH;
about two minutes). On a machine shared with other work, wall-clock figures move by 2x between runs while the
number of instructions a call executes does not, so this gives ratios a noisy machine cannot: each figure is
(instructions of a process making `calls` + 3 calls) - (the same process making 3), divided by `calls`, with
the hash seed fixed and the garbage collector off. It counts work, not time: cache misses and memory copies
weigh more in time than here (a 33 KB copy is a few thousand instructions).

The candidates are device_python.py's: the generated example_nic save and load, and the hand-written struct
codec of the same blob, at 1, 64 and 2048 MSI-X vectors. `--base DIR` also counts the generated code of
another checkout (DIR/generated/python, with DIR's device_python.py), to compare before and after.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import gc, sys
gc.disable()
sys.path.insert(0, {bench!r})
import device_python as dp
from vfiogen_state import example_nic as en
s = dp.make_state({vectors}); d = dp.descriptor_of(s); blob = en.save(s, d)
descriptor = blob[20:20 + dp.FRAME_HEAD.unpack_from(blob, 8)[3]]
hand = dp.hand_state(s)
call = {{"save": lambda: en.save(s, d), "load": lambda: en.load(blob),
        "hand save": lambda: dp.hand_save(hand, descriptor), "hand load": lambda: dp.hand_load(blob, descriptor)}}[{op!r}]
for _ in range(3 + {calls}):  # 3 to warm up: specialised byte code, remembered mask-list shapes, enum imports
    call()
"""


def instructions(tree: Path, op: str, vectors: int, calls: int) -> int:
    code = CHILD.format(bench=str(tree / "tests" / "bench"), vectors=vectors, op=op, calls=calls)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", code],
                         env=env, check=True, capture_output=True, text=True).stderr
    match = re.search(r"Collected : (\d+)", out)
    assert match, out
    return int(match.group(1))


def per_call(tree: Path, op: str, vectors: int, calls: int) -> float:
    return (instructions(tree, op, vectors, calls) - instructions(tree, op, vectors, 0)) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, help="another checkout to count too (its generated/python)")
    parser.add_argument("--calls", type=int, default=300, help="calls counted at 1 and 64 vectors (2048: a tenth)")
    args = parser.parse_args()
    trees = {"this tree": ROOT, **({"base": args.base.resolve()} if args.base else {})}
    print("| vectors | op | " + " | ".join(f"{name}: generated | hand | generated / hand" for name in trees) + " |")
    print("|---:|---|" + "---:|---:|---:|" * len(trees))
    for vectors in (1, 64, 2048):
        calls = args.calls if vectors < 2048 else max(args.calls // 10, 5)
        for op in ("save", "load"):
            cells = []
            for tree in trees.values():
                generated, hand = per_call(tree, op, vectors, calls), per_call(tree, f"hand {op}", vectors, calls)
                cells.append(f"{generated / 1e3:.0f}k | {hand / 1e3:.0f}k | {generated / hand:.2f}")
            print(f"| {vectors} | {op} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
