"""Build and run the libFuzzer targets of the generated loaders (clang only).

    python tests/fuzz/fuzz.py [--seconds N] [--workdir DIR]

One target per device of the schema lock (tests/fuzz/fuzz_device.c.j2: whole
blobs, from the device's test vectors in tests/vectors/devices), and one for
the section-level check/store/load of every section (tests/fuzz/fuzz_sections.c.j2:
a head picking section, version, start and end, then the payload buffer, from
every section vector in tests/vectors/<section>). Each is compiled with
-fsanitize=fuzzer,address,undefined together with generated/c/ and run for
its share of N seconds in all. CI runs it for about 60 s; give it --seconds
3600 for a longer campaign. Prints each target's executions and exits non-zero
if a target finds a crash.
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
from typing import Any

import jinja2
import yaml

ROOT = Path(__file__).resolve().parents[2]
C_DIR = ROOT / "generated" / "c"
VECTORS = ROOT / "tests" / "vectors" / "devices"
SECTION_VECTORS = ROOT / "tests" / "vectors"


def _hex(value: object) -> bytes:
    text = "".join(value) if isinstance(value, list) else str(value)
    return bytes.fromhex(re.sub(r"\s+", "", text))


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent),
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


def build(name: str, text: str, workdir: Path) -> Path:
    source = workdir / f"fuzz_{name}.c"
    source.write_text(text)
    binary = workdir / f"fuzz_{name}"
    flags = ["-std=c99", "-O1", "-g", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all",
             "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wconversion", "-Wshadow", "-Wcast-align",
             "-Wdeclaration-after-statement"]
    subprocess.run(["clang", *flags, "-I", str(C_DIR), str(source), *map(str, sorted(C_DIR.glob("*.c"))),
                    "-o", str(binary)], check=True)
    return binary


def _config_setup(device: str, config: dict[str, Any]) -> list[str]:
    """C statements that fill `cfg_value` with a vector's config and point `cfg` at it."""
    names = [use["section"] for use in json.loads((ROOT / "generated" / "schema.lock.json").read_text("utf-8"))
             ["devices"][device]["sections"]]
    present = sum(1 << names.index(n) for n in config.get("present", ()))
    lines = [f"cfg_value.present = 0x{present:x}u;"]
    lines += [f"cfg_value.params.{n} = (struct vfg_{n}_params)VFG_{n.upper()}_PARAMS_DEFAULT;" for n in names]
    lines += [f"cfg_value.params.{section}.{k} = {int(v)};"
              for section, values in sorted(config.get("params", {}).items()) for k, v in sorted(values.items())]
    return [*lines, "cfg = &cfg_value;"]


def device_target(device: str, workdir: Path) -> tuple[Path, Path]:
    """The device's binary and its corpus: the device's blob vectors as they are."""
    directory = workdir / f"corpus_{device}"
    directory.mkdir(exist_ok=True)
    setup: list[str] = []  # the C that fills the config the vectors give, if they give one
    for path in sorted((VECTORS / device).glob("*.yaml")):
        case = yaml.safe_load(path.read_text("utf-8"))
        (directory / path.stem).write_bytes(_hex(case["hex"]))
        if case.get("config") is not None and not setup:
            setup = _config_setup(device, case["config"])
    text = _environment().get_template("fuzz_device.c.j2").render(device=device, macro=f"VFG_{device.upper()}",
                                                                   setup=setup)
    return build(device, text, workdir), directory


def sections_target(sections: list[dict[str, object]], workdir: Path) -> tuple[Path, Path]:
    """The section-level binary and its corpus: each section vector behind a head that selects its section
    and version with start 0 and end its length."""
    text = _environment().get_template("fuzz_sections.c.j2").render(sections=sections)
    directory = workdir / "corpus_sections"
    directory.mkdir(exist_ok=True)
    for index, section in enumerate(sections):
        for path in sorted((SECTION_VECTORS / str(section["name"])).glob("*.yaml")):
            case = yaml.safe_load(path.read_text("utf-8"))
            payload = _hex(case["hex"])
            pick = int(case.get("version", section["min_version"])) - int(str(section["min_version"]))
            head = bytes([index, pick]) + (0).to_bytes(2, "big") + min(len(payload), 0xFFFF).to_bytes(2, "big")
            (directory / f"{section['name']}_{path.stem}").write_bytes(head + payload)
    return build("sections", text, workdir), directory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="total fuzzing time, split between the targets")
    parser.add_argument("--workdir", type=Path, help="keep builds, corpora and crashes here")
    args = parser.parse_args()
    if shutil.which("clang") is None:
        print("fuzz: clang is not installed; libFuzzer needs it", file=sys.stderr)
        return 2
    schema_lock = json.loads((ROOT / "generated" / "schema.lock.json").read_text("utf-8"))
    devices = sorted(schema_lock["devices"])
    sections: list[dict[str, object]] = [
        {"name": name, "macro": name.upper(), "min_version": section["min_version"]}
        for name, section in sorted(schema_lock["sections"].items())]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vfiogen-fuzz-"))
    workdir.mkdir(parents=True, exist_ok=True)
    targets = [(device, *device_target(device, workdir)) for device in devices]
    targets.append(("sections", *sections_target(sections, workdir)))
    seconds = max(1, args.seconds // len(targets))
    failed = False
    for name, binary, seeds in targets:
        run = subprocess.run([str(binary), f"-max_total_time={seconds}", "-max_len=70000", "-print_final_stats=1",
                              f"-artifact_prefix={workdir}/crash_{name}_", str(seeds)],
                             capture_output=True, text=True)
        executions = re.search(r"stat::number_of_executed_units:\s*(\d+)", run.stderr)
        print(f"{name}: {executions.group(1) if executions else '?'} executions in {seconds} s, "
              f"exit {run.returncode}")
        if run.returncode != 0:
            failed = True
            print(run.stderr[-4000:], file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
