"""Every public entry point of the generated C, called with hostile arguments, compiled and run under ASan/UBSan.

tests/generated_c/hostile_test.c.j2, rendered from the schema lock, calls each function declared in
generated/c/*.h with NULL pointers, start after end, every [start, end) of buffers allocated exactly as
long, every capacity short of a save, bases at which offsets would wrap and failing callbacks, and checks
the status each header comment promises (and that a refused call leaves the caller's state as it was).
A read or write out of bounds, or undefined behaviour, stops the program under the sanitizers.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml
from conftest import standard_module
from harness import C_DIR, COMPILERS, HERE, SANITIZE, generated_flags, lock
from object_cache import compiled

from vfiogen.backends.c import naming as c_naming
from vfiogen.ir.evaluate import evaluate
from vfiogen.ir.expr import refs

VECTORS = HERE.parent / "vectors"


def _valid(directory: Path) -> tuple[str, int, str]:
    """(case, version, C initializer of its bytes) of the first valid vector in `directory` with default params."""
    for path in sorted(directory.glob("*.yaml")):
        case = yaml.safe_load(path.read_text("utf-8"))
        if "expect" in case and not case.get("params"):
            hex_text = "".join(case["hex"]) if isinstance(case["hex"], list) else str(case["hex"])
            data = bytes.fromhex(re.sub(r"\s+", "", hex_text))
            return path.stem, int(case.get("version", 0)), ", ".join(f"0x{b:02x}" for b in data)
    raise AssertionError(f"no valid vector with default params in {directory}")


def _blank_capture(name: str) -> str:
    """What capturing a blank (all-zero) config space gives: VFG_OK, unless a byte-string register's length
    over zero registers is outside 0..max (vendor_specific: cap_length 0, so cap_length - 3 is -3)."""
    checked = standard_module().section(name)
    for string in checked.plan.capture_bytes:
        count = int(evaluate(string.length, {ref.dotted: 0 for ref in refs(string.length)}))
        if not 0 <= count <= string.max:
            return "VFG_ERR_COUNT"
    return "VFG_OK"


def render() -> str:
    data = lock()

    def hooks(name: str) -> list[str]:
        return [c_naming.ident(h) for h in dict.fromkeys(
            step["hook"] for step in data["sections"][name]["restore"] if step.get("hook"))]

    sections = []
    for name, section in sorted(data["sections"].items()):
        case, version, initializer = _valid(VECTORS / name)
        writes = any(not step.get("hook") for step in section["restore"])  # dsn's restore writes nothing
        sections.append({"name": name, "macro": name.upper(), "registers": bool(section["registers"]),
                         "restore_writes": writes, "blank_capture": _blank_capture(name),
                         "restore_hooks": hooks(name), "valid_case": case, "valid_version": version,
                         "waits": any("wait_us" in step for step in section["restore"]),
                         "valid_bytes": initializer})
    devices = []
    for name, device in sorted(data["devices"].items()):
        case, _, initializer = _valid(VECTORS / "devices" / name)
        config = yaml.safe_load((VECTORS / "devices" / name / f"{case}.yaml").read_text("utf-8")).get("config")
        names = [use["section"] for use in device["sections"]]
        setup = []  # a generic device's config, as its valid vector gives it; a fixed device passes NULL
        if config is not None:
            present = sum(1 << names.index(n) for n in config.get("present", ()))
            setup.append(f"cfg_value.present = 0x{present:x}u;")
            for section in names:
                setup.append(f"cfg_value.params.{c_naming.ident(section)} = "
                             f"(struct vfg_{section}_params)VFG_{section.upper()}_PARAMS_DEFAULT;")
            for section, values in sorted(config.get("params", {}).items()):
                setup += [f"cfg_value.params.{c_naming.ident(section)}.{c_naming.ident(k)} = {int(v)};"
                          for k, v in sorted(values.items())]
            setup += [f"cfg_value.instances.{c_naming.ident(section)} = {int(count)};"
                      for section, count in sorted(config.get("instances", {}).items())]
            setup.append("cfg = &cfg_value;")
        devices.append({"name": name, "macro": name.upper(), "valid_case": case, "valid_bytes": initializer,
                        "generic": device["generic"], "config_setup": setup,
                        "sections": [{"name": use["section"], "member": c_naming.ident(use["section"]),
                                      "repeated": "instances" in data["sections"][use["section"]]["location"],
                                      "restore_hooks": hooks(use["section"]),
                                      "waits": any("wait_us" in step for step in
                                                   data["sections"][use["section"]]["restore"])}
                                     for use in device["sections"]]})
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env.get_template("hostile_test.c.j2").render(sections=sections, devices=devices)


@pytest.mark.parametrize("compiler", COMPILERS or [pytest.param("cc", marks=pytest.mark.skip("no C compiler"))])
def test_every_public_entry_point_survives_hostile_arguments(tmp_path: Path, compiler: str) -> None:
    source = tmp_path / "hostile.c"
    source.write_text(render())
    binary = tmp_path / "hostile"
    # The test program itself casts freely (it builds hostile values on purpose): only the generated code
    # gets -Werror, as in the other drivers.
    flags = ["-std=c99", "-O1", "-g", *SANITIZE]
    objects = map(str, compiled(compiler, generated_flags(), C_DIR))
    result = subprocess.run([compiler, *flags, "-Wall", "-Wextra", "-I", str(C_DIR), str(source), *objects,
                             "-o", str(binary)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    run = subprocess.run([str(binary)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    status, count = run.stdout.split()
    assert status == "ok" and int(count) >= 500, run.stdout
