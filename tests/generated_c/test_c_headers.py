"""The generated C headers: strict compilation with every compiler present, and the bit-field
accessors and masks checked, by compiling and running a program, against the schema lock."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
from conftest import GENERATED

C_DIR = GENERATED / "c"
STRICT = ["-Wall", "-Wextra", "-Werror", "-pedantic", "-Wconversion", "-Wshadow", "-Wcast-align"]
COMPILERS = [c for c in ("gcc", "clang") if shutil.which(c)]
HERE = Path(__file__).resolve().parent


def headers() -> list[Path]:
    return sorted(C_DIR.glob("vfg_*.h"))


@pytest.mark.parametrize("std", ["c99", "c11"])
@pytest.mark.parametrize("compiler", COMPILERS or [pytest.param("cc", marks=pytest.mark.skip("no C compiler"))])
def test_headers_compile_warning_free(tmp_path: Path, compiler: str, std: str) -> None:
    assert headers(), "no generated headers"
    unit = tmp_path / "all.c"
    unit.write_text("".join(f'#include "{h.name}"\n' for h in headers()) + "int main(void) { return 0; }\n")
    result = subprocess.run([compiler, f"-std={std}", *STRICT, "-I", str(C_DIR), "-c", str(unit), "-o",
                             str(tmp_path / "all.o")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _c_literal(value: int, width: int) -> str:
    return f"0x{value:x}ull" if width > 32 else f"0x{value:x}u"


def _program() -> str:
    lock = json.loads((GENERATED / "schema.lock.json").read_text("utf-8"))
    sections = []
    for name, section in sorted(lock["sections"].items()):
        registers = []
        for register in section["registers"]:
            width = register["width"]
            ctype = f"uint{width}_t"
            noise = 0xA5A5A5A5A5A5A5A5 & ((1 << width) - 1)   # other bits must survive a setter
            layout = register["field_set"] or register["name"]
            fields = []
            for field in register["fields"]:
                if field["access"] in ("rsvdp", "rsvdz"):
                    continue
                bits = field["hi"] - field["lo"] + 1
                fields.append({
                    "name": field["name"], "is_bool": bits == 1 and field["enum"] is None,
                    "getter": f"vfg_{name}_{layout}_{field['name']}", "setter": f"vfg_{name}_{layout}_set_{field['name']}",
                    "max": _c_literal((1 << bits) - 1, width), "too_big": _c_literal(1 << bits, width),
                    "in_place": f"(({ctype}){_c_literal(int(field['mask'], 16), width)})"})
            registers.append({"name": register["name"], "macro": f"VFG_{name}_{register['name']}".upper(),
                              "ctype": ctype, "noise": f"(({ctype}){_c_literal(noise, width)})",
                              "writable": _c_literal(int(register["masks"]["writable"], 16), width),
                              "reserved": _c_literal(int(register["masks"]["reserved"], 16), width),
                              "fields": fields})
        sections.append({"name": name, "registers": registers})
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env.get_template("accessors_test.c.j2").render(sections=sections)


@pytest.mark.parametrize("compiler", COMPILERS or [pytest.param("cc", marks=pytest.mark.skip("no C compiler"))])
def test_accessors_agree_with_the_lock(tmp_path: Path, compiler: str) -> None:
    source = tmp_path / "accessors.c"
    source.write_text(_program())
    binary = tmp_path / "accessors"
    flags = ["-std=c99", *STRICT, "-O1", "-g", "-fno-omit-frame-pointer"]
    sanitized = flags + ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    build = subprocess.run([compiler, *sanitized, "-I", str(C_DIR), str(source), "-o", str(binary)],
                           capture_output=True, text=True)
    if build.returncode != 0 and "sanitize" in build.stderr:
        build = subprocess.run([compiler, *flags, "-I", str(C_DIR), str(source), "-o", str(binary)],
                               capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(binary)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    checks = int(run.stdout.split()[0])
    assert run.stdout == f"{checks} checks, 0 failures\n"
    assert checks > 500  # every non-reserved field of every register of every section
