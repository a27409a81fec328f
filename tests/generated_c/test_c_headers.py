"""The generated C headers: strict compilation with every compiler present, and the bit-field
accessors and masks checked, by compiling and running a program, against the schema lock."""

from __future__ import annotations

import json
import os
import shutil
import sys
import subprocess
from pathlib import Path

import jinja2
import pytest
from conftest import GENERATED
from harness import C_DIR, COMPILERS, CROSS, HERE, STRICT

from vfiogen.backends.c import naming as c_naming


def headers() -> list[Path]:
    """The standalone build's headers: vfg_qemu.h needs QEMU's (test_c_qemu_shim.py builds it)."""
    return sorted(h for h in C_DIR.glob("vfg_*.h") if h.name != "vfg_qemu.h")


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
                    "member": c_naming.ident(field["name"]), "narrower": bits < width,
                    "getter": f"vfg_{name}_{layout}_{field['name']}", "setter": f"vfg_{name}_{layout}_set_{field['name']}",
                    "max": _c_literal((1 << bits) - 1, width), "too_big": _c_literal(1 << bits, width),
                    "in_place": f"(({ctype}){_c_literal(int(field['mask'], 16), width)})"})
            named = 0
            for field in register["fields"]:
                if field["access"] not in ("rsvdp", "rsvdz"):
                    named |= int(field["mask"], 16)
            registers.append({"name": register["name"], "macro": f"VFG_{name}_{register['name']}".upper(),
                              "fields_struct": f"struct vfg_{name}_{layout}_fields",
                              "unpack": f"vfg_{name}_unpack_{layout}", "pack": f"vfg_{name}_pack_{layout}",
                              "named": f"(({ctype}){_c_literal(named, width)})",
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


@pytest.mark.parametrize("std", ["c99", "c11"])
@pytest.mark.parametrize("compiler", [*COMPILERS, *(c.compiler for c in CROSS)]
                         or [pytest.param("cc", marks=pytest.mark.skip("no C compiler"))])
def test_sources_compile_warning_free(tmp_path: Path, compiler: str, std: str) -> None:
    sources = sorted(C_DIR.glob("*.c"))
    assert len(sources) >= 7  # the runtime, five sections and a device
    for source in sources:
        result = subprocess.run([compiler, f"-std={std}", *STRICT, "-O2", "-I", str(C_DIR), "-c", str(source), "-o",
                                 str(tmp_path / f"{source.stem}.o")], capture_output=True, text=True)
        assert result.returncode == 0, f"{source.name}:\n{result.stderr}"


# A program that links the device loader and exits 0 only if it answers an empty blob as truncated.
MAIN_C = ('#include "vfg_example_nic.h"\n'
          "int main(void) { struct vfg_error err; return vfg_example_nic_check((const uint8_t *)\"\", 0, NULL, NULL, NULL, &err)"
          " == VFG_ERR_TRUNCATED ? 0 : 1; }\n")


@pytest.mark.skipif(shutil.which("make") is None or not COMPILERS, reason="needs make and a C compiler")
def test_makefile_fragment_builds_the_sources(tmp_path: Path) -> None:
    """A project including vfiogen.mk as its README says builds every object and links them."""
    main = tmp_path / "main.c"
    main.write_text(MAIN_C)
    work = tmp_path / "vendored"
    shutil.copytree(C_DIR, work)
    (tmp_path / "Makefile").write_text(
        f"VFIOGEN_DIR := {work}\ninclude $(VFIOGEN_DIR)/vfiogen.mk\nCFLAGS := -std=c99 {' '.join(STRICT)}\n"
        "app: main.c $(VFIOGEN_OBJS)\n\t$(CC) $(CFLAGS) $(VFIOGEN_CFLAGS) -o $@ $^\n")
    built = subprocess.run(["make", "-C", str(tmp_path), f"CC={COMPILERS[0]}", "app"], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    assert subprocess.run([str(tmp_path / "app")]).returncode == 0


# The two ways the README says a Meson project consumes the directory: the declared dependency, and
# QEMU's way, the sources added to a source set under a config symbol.
MESON_CONSUMERS = {
    "dependency": "executable('app', 'main.c', dependencies: [vfiogen_dep])\n",
    "qemu-source-set": ("ss = import('sourceset')\n"
                        "vfio_ss = ss.source_set()\n"
                        "vfio_ss.add(when: 'CONFIG_VFIO_PCI', if_true: [vfiogen_sources])\n"
                        "vfio_inc = include_directories('vfiogen')\n"
                        "selected = vfio_ss.apply({'CONFIG_VFIO_PCI': true})\n"
                        "executable('app', 'main.c', selected.sources(), include_directories: vfio_inc)\n"),
}


def _tool(name: str) -> str | None:
    """`name` beside the interpreter first (CI runs the venv's python without the venv on PATH), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


MESON, NINJA = _tool("meson"), _tool("ninja")


@pytest.mark.skipif(MESON is None or NINJA is None, reason="meson and ninja are not installed (test extras)")
@pytest.mark.parametrize("consumer", sorted(MESON_CONSUMERS))
def test_meson_build_builds_the_sources(tmp_path: Path, consumer: str) -> None:
    """The vendored directory as a Meson subdir, at warning_level 3 with -Werror and the strict flags."""
    assert MESON is not None and NINJA is not None
    shutil.copytree(C_DIR, tmp_path / "vfiogen")
    (tmp_path / "main.c").write_text(MAIN_C)
    strict = ", ".join(f"'{flag}'" for flag in STRICT if flag not in ("-Wall", "-Wextra", "-Werror", "-pedantic"))
    (tmp_path / "meson.build").write_text(
        "project('hypervisor', 'c', default_options: ['c_std=c99', 'warning_level=3', 'werror=true'])\n"
        f"add_project_arguments({strict}, language: 'c')\n"
        "subdir('vfiogen')\n" + MESON_CONSUMERS[consumer])
    build = tmp_path / "build"
    env = {**os.environ, "NINJA": NINJA, "PATH": f"{Path(NINJA).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for command in ([MESON, "setup", str(build), str(tmp_path)], [MESON, "compile", "-C", str(build)]):
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert subprocess.run([str(build / "app")]).returncode == 0


# QEMU's own warning set (its meson.build, gnu11), and a few stricter ones a reviewer may turn on; gcc and clang
# spell two of them differently.
QEMU_WARNINGS = ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Wundef", "-Wwrite-strings", "-Wmissing-prototypes",
                 "-Wstrict-prototypes", "-Wredundant-decls", "-Wold-style-definition", "-Wtype-limits",
                 "-Wformat-security", "-Winit-self", "-Wignored-qualifiers", "-Wempty-body", "-Wnested-externs",
                 "-Wendif-labels", "-Wexpansion-to-defined", "-Wmissing-format-attribute", "-Wvla",
                 "-Wsign-conversion", "-Wcast-qual", "-Wpointer-arith", "-Wswitch-enum"]
QEMU_ONLY = {"gcc": ["-Wold-style-declaration", "-Wimplicit-fallthrough=2", "-Wduplicated-cond", "-Wlogical-op",
                     "-Wjump-misses-init"],
             "clang": ["-Wimplicit-fallthrough", "-Wmissing-variable-declarations", "-Wcomma",
                       "-Wshorten-64-to-32"]}


@pytest.mark.parametrize("compiler", COMPILERS or [pytest.param("cc", marks=pytest.mark.skip("no C compiler"))])
def test_sources_compile_under_qemu_warnings(tmp_path: Path, compiler: str) -> None:
    for source in sorted(C_DIR.glob("*.c")):
        result = subprocess.run([compiler, *QEMU_WARNINGS, *QEMU_ONLY.get(compiler, []), "-O2", "-I", str(C_DIR),
                                 "-c", str(source), "-o", str(tmp_path / f"{source.stem}.o")],
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{source.name}:\n{result.stderr}"
