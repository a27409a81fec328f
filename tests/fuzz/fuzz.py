"""Build and run the libFuzzer target of every generated device loader (clang only).

    python tests/fuzz/fuzz.py [--seconds N] [--workdir DIR]

Each target is tests/fuzz/fuzz_device.c.j2 rendered for one device of the
schema lock, compiled with -fsanitize=fuzzer,address,undefined together with
generated/c/, and run for N seconds in all (split between the devices),
starting from a corpus of the device's test vectors (tests/vectors/devices).
CI runs it for about 60 s; give it --seconds 3600 for a longer campaign.
Prints each target's executions and exits non-zero if a target finds a crash.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jinja2
import yaml

ROOT = Path(__file__).resolve().parents[2]
C_DIR = ROOT / "generated" / "c"
VECTORS = ROOT / "tests" / "vectors" / "devices"


def _hex(value: object) -> bytes:
    text = "".join(value) if isinstance(value, list) else str(value)
    return bytes.fromhex(re.sub(r"\s+", "", text))


def build(device: str, workdir: Path) -> Path:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    source = workdir / f"fuzz_{device}.c"
    source.write_text(env.get_template("fuzz_device.c.j2").render(device=device, macro=f"VFG_{device.upper()}"))
    binary = workdir / f"fuzz_{device}"
    flags = ["-std=c99", "-O1", "-g", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all",
             "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wconversion", "-Wshadow", "-Wcast-align",
             "-Wdeclaration-after-statement"]
    subprocess.run(["clang", *flags, "-I", str(C_DIR), str(source), *map(str, sorted(C_DIR.glob("*.c"))),
                    "-o", str(binary)], check=True)
    return binary


def corpus(device: str, workdir: Path) -> Path:
    directory = workdir / f"corpus_{device}"
    directory.mkdir(exist_ok=True)
    for path in sorted((VECTORS / device).glob("*.yaml")):
        case = yaml.safe_load(path.read_text("utf-8"))
        (directory / path.stem).write_bytes(_hex(case["hex"]))
    return directory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="total fuzzing time, split between the devices")
    parser.add_argument("--workdir", type=Path, help="keep builds, corpora and crashes here")
    args = parser.parse_args()
    if shutil.which("clang") is None:
        print("fuzz: clang is not installed; libFuzzer needs it", file=sys.stderr)
        return 2
    devices = sorted(json.loads((ROOT / "generated" / "schema.lock.json").read_text("utf-8"))["devices"])
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vfiogen-fuzz-"))
    workdir.mkdir(parents=True, exist_ok=True)
    seconds = max(1, args.seconds // max(1, len(devices)))
    failed = False
    for device in devices:
        binary = build(device, workdir)
        seeds = corpus(device, workdir)
        run = subprocess.run([str(binary), f"-max_total_time={seconds}", "-max_len=70000", "-print_final_stats=1",
                              f"-artifact_prefix={workdir}/crash_{device}_", str(seeds)],
                             capture_output=True, text=True)
        executions = re.search(r"stat::number_of_executed_units:\s*(\d+)", run.stderr)
        print(f"{device}: {executions.group(1) if executions else '?'} executions in {seconds} s, "
              f"exit {run.returncode}")
        if run.returncode != 0:
            failed = True
            print(run.stderr[-4000:], file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
