"""Build and run the libFuzzer targets of the generated C loaders (clang only).

    python tests/fuzz/fuzz.py [--seconds N] [--jobs J] [--workdir DIR] [--only NAME ...] [--runs N]

Every entry point an attacker's bytes reach has a target (see tests/fuzz/README.md):

* `device_<device>`, one per device of the schema lock (fuzz_device.c.j2): whole blobs through
  vfg_<device>_load, with and without the target's own descriptor, seeded from the device's vectors in
  tests/vectors/devices/<device>;
* `compat_<device>` (fuzz_compat.c.j2): the descriptor frame reader and check_compat over a descriptor
  taken from the stream, against a fuzzed target descriptor, with an oracle written in the target;
  seeded from the valid vectors and tests/migration_vectors/;
* `sections` (fuzz_sections.c.j2): every section's check/store/load at any version, start and end,
  seeded from every section vector in tests/vectors/<section>;
* `py_<target>`, when atheris is installed (`pip install -e '.[fuzz]'`; `--c-only` leaves them out): the
  Python entry points of tests/python_fuzz_targets.py (each section's load, each device's load and
  compat check, `vfiogen decode`, `vfiogen inspect`) through fuzz_python.py, seeded by the same module.

Each is linked with -fsanitize=fuzzer,address,undefined (-fno-sanitize-recover) against generated/c/,
which is compiled once for all of them (-fsanitize=fuzzer-no-link,address,undefined), given a dictionary
of the magic, the section ids, frame heads and descriptor record heads, and run with
ASAN_OPTIONS=detect_stack_use_after_return=1 for its share of N seconds (or N runs). J targets (one per
CPU by default) run at once, so each gets J shares and the whole takes about N seconds. CI runs it for
about 60 s; give it --seconds 3600 for a campaign. Prints per target the executions, the edge
coverage (libFuzzer's `cov`), the features (`ft`) and the crashes (0 or 1: libFuzzer stops at the first),
and exits non-zero if any target crashed. `--json FILE` writes the same figures as JSON.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jinja2
import yaml

ROOT = Path(__file__).resolve().parents[2]
C_DIR = ROOT / "generated" / "c"
VECTORS = ROOT / "tests" / "vectors" / "devices"
SECTION_VECTORS = ROOT / "tests" / "vectors"
sys.path[:0] = [str(ROOT / "generated" / "python"), str(ROOT / "tests")]

import object_cache  # noqa: E402 - from tests/, just put on the path


def _hex(value: object) -> bytes:
    text = "".join(value) if isinstance(value, list) else str(value)
    return bytes.fromhex(re.sub(r"\s+", "", text))


def _lock() -> dict[str, Any]:
    return json.loads((ROOT / "generated" / "schema.lock.json").read_text("utf-8"))  # type: ignore[no-any-return]


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent),
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


FLAGS = ["-std=c99", "-O1", "-g", "-fno-sanitize-recover=all", "-Wall", "-Wextra", "-Werror", "-pedantic",
         "-Wconversion", "-Wshadow", "-Wcast-align", "-Wdeclaration-after-statement", "-Wno-overlength-strings"]


def generated_objects(workdir: Path, jobs: int) -> list[str]:
    """generated/c/ compiled once for every target, instrumented for libFuzzer (`fuzzer-no-link`) and under
    ASan/UBSan; `jobs` compilers at a time (object_cache shares the sources out between them)."""
    from object_cache import compiled

    object_cache.root = workdir / "objects"
    flags = [*FLAGS, "-fsanitize=fuzzer-no-link,address,undefined"]
    with ThreadPoolExecutor(jobs) as pool:
        done = list(pool.map(lambda _: compiled("clang", flags, C_DIR), range(jobs)))
    return [str(p) for p in done[0]]


def build(name: str, text: str, workdir: Path, objects: list[str]) -> Path:
    source = workdir / f"fuzz_{name}.c"
    source.write_text(text)
    binary = workdir / f"fuzz_{name}"
    subprocess.run(["clang", *FLAGS, "-fsanitize=fuzzer,address,undefined", "-I", str(C_DIR), str(source),
                    *objects, "-o", str(binary)], check=True)
    return binary


def _config_setup(device: str, config: dict[str, Any]) -> list[str]:
    """C statements that fill `cfg_value` with a vector's config and point `cfg` at it."""
    names = [use["section"] for use in _lock()["devices"][device]["sections"]]
    present = sum(1 << names.index(n) for n in config.get("present", ()))
    lines = [f"cfg_value.present = 0x{present:x}u;"]
    lines += [f"cfg_value.params.{n} = (struct vfg_{n}_params)VFG_{n.upper()}_PARAMS_DEFAULT;" for n in names]
    lines += [f"cfg_value.params.{section}.{k} = {int(v)};"
              for section, values in sorted(config.get("params", {}).items()) for k, v in sorted(values.items())]
    return [*lines, "cfg = &cfg_value;"]


def _device_vectors(device: str) -> tuple[list[tuple[str, bytes]], list[str], bytes]:
    """The device's blob vectors (name, bytes), the C that fills the config they give (if any), and the
    bytes of its valid vector (the first that expects a state)."""
    blobs, setup, valid = [], [], b""
    for path in sorted((VECTORS / device).glob("*.yaml")):
        case = yaml.safe_load(path.read_text("utf-8"))
        blobs.append((path.stem, _hex(case["hex"])))
        if case.get("config") is not None and not setup:
            setup = _config_setup(device, case["config"])
        if "expect" in case and not valid:
            valid = _hex(case["hex"])
    return blobs, setup, valid


def device_target(device: str, workdir: Path, objects: list[str]) -> tuple[Path, Path]:
    """The device's binary and its corpus: the device's blob vectors as they are."""
    directory = workdir / f"corpus_device_{device}"
    directory.mkdir(exist_ok=True)
    blobs, setup, valid = _device_vectors(device)
    for name, blob in blobs:
        (directory / name).write_bytes(blob)
    text = _environment().get_template("fuzz_device.c.j2").render(
        device=device, macro=f"VFG_{device.upper()}", setup=setup, valid=", ".join(f"0x{b:02x}" for b in valid))
    return build(f"device_{device}", text, workdir, objects), directory


def _descriptor_payload(blob: bytes) -> bytes:
    """The descriptor frame's payload of a blob (the frame after the 8-byte header)."""
    length = int.from_bytes(blob[16:20], "big")
    return blob[20:20 + length]


def compat_seeds(device: str) -> list[tuple[str, bytes]]:
    """Inputs of the compat target: the valid vector as both sides, and each migration vector's two sides."""
    names = [use["section"] for use in _lock()["devices"][device]["sections"]]
    sections = [importlib.import_module(f"vfiogen_state.{name}") for name in names]

    def target_bytes(descriptor: Any) -> bytes:
        # the fixed fields only: the target's masks are 0, so a source's entries are compared to something
        return descriptor.present.to_bytes(4, "big") + b"".join(
            s.pack_descriptor(getattr(descriptor, name))[:s.DESCRIPTOR_FIXED]
            for name, s in zip(names, sections, strict=True))

    def frame_payload(descriptor: Any) -> bytes:
        records = (s.pack_descriptor(getattr(descriptor, name)) if descriptor.present >> bit & 1 else None
                   for bit, (name, s) in enumerate(zip(names, sections, strict=True)))
        return b"".join(s.SECTION_ID.to_bytes(2, "big") + len(packed).to_bytes(2, "big") + packed
                        for s, packed in zip(sections, records, strict=True) if packed is not None)

    seeds = []
    _, _, valid = _device_vectors(device)
    if valid:  # the valid blob's descriptor as both sides, read record by record
        payload, o, records = _descriptor_payload(valid), 0, {}
        while o + 4 <= len(payload):
            size = int.from_bytes(payload[o + 2:o + 4], "big")
            records[int.from_bytes(payload[o:o + 2], "big")] = payload[o + 4:o + 4 + size]
            o += 4 + size
        present = sum(1 << bit for bit, s in enumerate(sections) if s.SECTION_ID in records)
        own = present.to_bytes(4, "big") + b"".join(records.get(s.SECTION_ID, bytes(s.DESCRIPTOR_FIXED))[:s.DESCRIPTOR_FIXED]
                                                    for s in sections)
        seeds.append(("valid", own + payload))
    from migration_cases import case_files, case_id, descriptors, read_case
    for path in case_files():
        case = read_case(path)
        if case["device"] == device:
            source, target = descriptors(case)
            seeds.append((case_id(path).replace("/", "_"), target_bytes(target) + frame_payload(source)))
    return seeds


def compat_target(device: str, workdir: Path, objects: list[str]) -> tuple[Path, Path]:
    names = [use["section"] for use in _lock()["devices"][device]["sections"]]
    _, setup, _ = _device_vectors(device)
    target_size = sum(importlib.import_module(f"vfiogen_state.{n}").DESCRIPTOR_FIXED for n in names)
    directory = workdir / f"corpus_compat_{device}"
    directory.mkdir(exist_ok=True)
    for name, data in compat_seeds(device):
        (directory / name).write_bytes(data)
    text = _environment().get_template("fuzz_compat.c.j2").render(
        device=device, macro=device.upper(), setup=setup, target_bytes=target_size,
        sections=[{"name": n, "macro": n.upper(), "member": n,
                   "repeated": "instances" in _lock()["sections"][n]["location"]} for n in names])
    return build(f"compat_{device}", text, workdir, objects), directory


def sections_target(sections: list[dict[str, object]], workdir: Path, objects: list[str]) -> tuple[Path, Path]:
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
    return build("sections", text, workdir, objects), directory


def dictionary(workdir: Path) -> Path:
    """libFuzzer's dictionary: the magic and header, and per section its id, its frame heads (each version,
    required or not) and its descriptor record head."""
    entries = [b"VFGS", b"VFGS\x00\x01", b"\x00\x00\x00\x01\x00\x00\x00\x01", b"\xff\xff\xff\xff"]
    for name in sorted(_lock()["sections"]):
        module = importlib.import_module(f"vfiogen_state.{name}")
        ident = module.SECTION_ID.to_bytes(2, "big")
        entries.append(ident)
        entries.append(ident + module.DESCRIPTOR_FIXED.to_bytes(2, "big"))
        for version in range(module.MIN_VERSION, module.VERSION + 2):
            for flags in (0, 1):
                entries.append(ident + version.to_bytes(2, "big") + flags.to_bytes(4, "big"))
    path = workdir / "vfiogen.dict"
    path.write_text("".join('"' + "".join(f"\\x{b:02x}" for b in entry) + '"\n' for entry in entries))
    return path


def python_targets(workdir: Path) -> list[tuple[str, Path]]:
    """The atheris targets (fuzz_python.py), each with its corpus of tests/python_fuzz_targets.py's seeds;
    none when atheris is not installed."""
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("fuzz: atheris is not installed; the Python targets are skipped (pip install atheris)",
              file=sys.stderr)
        return []
    from python_fuzz_targets import seeds, targets

    found = []
    for name in sorted(targets()):
        directory = workdir / f"corpus_py_{name}"
        directory.mkdir(exist_ok=True)
        for index, data in enumerate(seeds(name)):
            (directory / f"seed_{index}").write_bytes(data)
        found.append((f"py_{name}", directory))
    return found


ENV = dict(os.environ, ASAN_OPTIONS="detect_stack_use_after_return=1:detect_leaks=1",
           UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")


def _options(name: str, seeds: Path, workdir: Path, dictionary_path: Path, seconds: int, runs: int | None) -> list[str]:
    """libFuzzer's options and corpus for one target."""
    limit = f"-runs={runs}" if runs is not None else f"-max_total_time={seconds}"
    return [limit, "-max_len=70000", "-print_final_stats=1", f"-dict={dictionary_path}",
            f"-artifact_prefix={workdir}/crash_{name}_", str(seeds)]


def _figures(name: str, log: str, status: int, workdir: Path, seconds: int | None) -> dict[str, Any]:
    """A target's figures (executions, edge coverage, features, crashes, exit status) from libFuzzer's log."""
    executions = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    coverage = re.findall(r"\bcov: (\d+) ft: (\d+)", log)
    crashes = sorted(workdir.glob(f"crash_{name}_*"))
    return {"target": name, "executions": int(executions.group(1)) if executions else None,
            "edges": int(coverage[-1][0]) if coverage else None, "features": int(coverage[-1][1]) if coverage else None,
            "crashes": len(crashes), "artifacts": [str(p) for p in crashes], "exit": status,
            "seconds": seconds, "log_tail": log[-4000:]}


def run(name: str, command: list[str], seeds: Path, workdir: Path, dictionary_path: Path, seconds: int,
        runs: int | None) -> dict[str, Any]:
    """Run one C target; its figures."""
    result = subprocess.run([*command, *_options(name, seeds, workdir, dictionary_path, seconds, runs)],
                            capture_output=True, text=True, env=ENV)
    return _figures(name, result.stderr, result.returncode, workdir, seconds if runs is None else None)


def run_python(targets: list[tuple[str, Path]], workdir: Path, dictionary_path: Path, seconds: int,
               runs: int | None, jobs: int) -> list[dict[str, Any]]:
    """Run the atheris targets through one fuzz_python.py --batch, which instruments the generated package
    once (some 9 s) and forks a process per target, `jobs` at a time; their figures, in `targets`' order."""
    batch = [{"target": name.removeprefix("py_"), "log": str(workdir / f"{name}.log"),
              "options": _options(name, seeds, workdir, dictionary_path, seconds, runs)} for name, seeds in targets]
    spec = workdir / "python_batch.json"
    spec.write_text(json.dumps(batch))
    done = subprocess.run([sys.executable, str(Path(__file__).parent / "fuzz_python.py"), "--batch", str(spec),
                           str(jobs)], capture_output=True, text=True, env=ENV)
    if done.returncode != 0:
        print(done.stderr[-4000:], file=sys.stderr)
    figures = []
    for (name, _), item in zip(targets, batch, strict=True):
        log, exit_file = Path(item["log"]), Path(item["log"] + ".exit")
        status = int(exit_file.read_text()) if exit_file.exists() else -1
        figures.append(_figures(name, log.read_text(errors="replace") if log.exists() else "", status, workdir,
                                seconds if runs is None else None))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60,
                        help="fuzzing time in all (wall clock), split between the targets")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="targets fuzzed at once (and compilers run at once); default: one per CPU")
    parser.add_argument("--runs", type=int, help="a number of inputs per target instead of a time")
    parser.add_argument("--workdir", type=Path, help="keep builds, corpora and crashes here")
    parser.add_argument("--only", nargs="*", help="run only these targets (device_<d>, compat_<d>, sections, "
                        "py_<python target>)")
    parser.add_argument("--c-only", action="store_true", help="leave out the Python (atheris) targets")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    if shutil.which("clang") is None:
        print("fuzz: clang is not installed; libFuzzer needs it", file=sys.stderr)
        return 2
    schema_lock = _lock()
    devices = sorted(schema_lock["devices"])
    sections: list[dict[str, object]] = [
        {"name": name, "macro": name.upper(), "min_version": section["min_version"]}
        for name, section in sorted(schema_lock["sections"].items())]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vfiogen-fuzz-"))
    workdir.mkdir(parents=True, exist_ok=True)
    wanted = set(args.only) if args.only else None
    builders = [(f"device_{d}", lambda o, d=d: device_target(d, workdir, o)) for d in devices]
    builders += [(f"compat_{d}", lambda o, d=d: compat_target(d, workdir, o)) for d in devices]
    builders.append(("sections", lambda o: sections_target(sections, workdir, o)))
    builders = [(name, make) for name, make in builders if wanted is None or name in wanted]
    jobs = max(1, args.jobs)
    targets = []
    if builders:
        objects = generated_objects(workdir, jobs)
        with ThreadPoolExecutor(jobs) as pool:  # each build is a clang subprocess: the threads only wait
            built = list(pool.map(lambda b: b[1](objects), builders))
        targets = [(name, [str(binary)], corpus) for (name, _), (binary, corpus) in zip(builders, built, strict=True)]
    python = [] if args.c_only else [t for t in python_targets(workdir) if wanted is None or t[0] in wanted]
    if not targets and not python:
        print(f"fuzz: no target named {sorted(wanted or ())}", file=sys.stderr)
        return 2
    words = dictionary(workdir)
    # `jobs` targets run at once, so each gets `jobs` shares of the time and the whole takes about --seconds.
    seconds = max(1, min(args.seconds, args.seconds * jobs // (len(targets) + len(python))))
    figures = []

    def report(figure: dict[str, Any]) -> None:
        figures.append(figure)
        print(f"{figure['target']}: {figure['executions']} executions, {figure['edges']} edges, "
              f"{figure['features']} features, {figure['crashes']} crashes, exit {figure['exit']}", flush=True)
        if figure["exit"] != 0:
            print(figure["log_tail"], file=sys.stderr)

    with ThreadPoolExecutor(jobs) as pool:
        for figure in pool.map(lambda t: run(*t, workdir, words, seconds, args.runs), targets):
            report(figure)
    if python:
        for figure in run_python(python, workdir, words, seconds, args.runs, jobs):
            report(figure)
    if args.json:
        args.json.write_text(json.dumps([{k: v for k, v in f.items() if k != "log_tail"} for f in figures],
                                        indent=2) + "\n")
    return 1 if any(f["exit"] != 0 for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
