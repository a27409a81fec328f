"""sizeof and offsetof of every generated struct, against ctypes' layout of the same members.

The expected layout is built from the schema lock alone (member names and
types, registers as uintN_t, arrays at their maximum), laid out by ctypes,
which follows the platform's C ABI independently of the generated headers.
A compiled program prints what the compiler made of the headers; the two
must agree member by member, so a reordered, retyped or missing member fails.
"""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import GENERATED
from cstate import SCALARS as _SCALARS
from cstate import ctype as _ctype
from cstate import ident as _ident
from cstate import state_members
from harness import COMPILERS, STRICT, lock

pytestmark = pytest.mark.skipif(not COMPILERS, reason="no C compiler (gcc or clang) on PATH")

def structs(generated: Path = GENERATED) -> dict[str, list[tuple[str, Any]]]:
    """C struct name -> [(member, ctypes type)] for every section's state, descriptor and params."""
    result: dict[str, list[tuple[str, Any]]] = {}
    for name, section in sorted(lock(generated)["sections"].items()):
        result[f"vfg_{name}_state"] = state_members(section)
        widths = {r["name"]: r["width"] for r in section["registers"]}
        # a field from a byte-string register is uint8_t[max]
        strings = {s["name"]: s["type"]["max"] for s in section["state"] if "byte_string" in s}
        descriptor = [(_ident(d["name"]), _ctype(d["type"], d["name"]) if d["type"] else
                       ctypes.c_uint8 * strings[d["from"]] if d["from"] in strings else _SCALARS[f"u{widths[d['from']]}"])
                      for d in section["descriptor"]]
        # Then the fields the compiler adds (versions, register count): the descriptor layout's items past the
        # schema's, each an unsigned integer whose type text starts with its width ("u16 oldest version ...");
        # then the mask arrays, one element per register of the mask list, at the widest register's width.
        added = section["descriptor_layout"][len(section["descriptor"]):]
        descriptor += [(_ident(item["path"]), _SCALARS[item["type"].split()[0]]) for item in added]
        if section["mask_list"]:
            word = _SCALARS[f"u{max(widths.values())}"]
            descriptor += [(array, word * len(section["mask_list"])) for array in ("emulated_masks", "write_masks")]
        result[f"vfg_{name}_descriptor"] = descriptor or [("unused_", ctypes.c_uint8)]
        params = [(_ident(p["name"]), _SCALARS[p["type"]]) for p in section["params"]]
        result[f"vfg_{name}_params"] = params or [("unused_", ctypes.c_uint8)]
    return result


def _expected(members: list[tuple[str, Any]]) -> list[tuple[str, int, int]]:
    layout = type("S", (ctypes.Structure,), {"_fields_": members})
    return [(name, getattr(layout, name).offset, getattr(layout, name).size) for name, _ in members] + [
        ("sizeof", 0, ctypes.sizeof(layout))]


@pytest.mark.parametrize("compiler", COMPILERS or ["none"])
def test_struct_layout_matches_ctypes(tmp_path: Path, compiler: str) -> None:
    assert check_layout(tmp_path, compiler, GENERATED) >= 15


def check_layout(tmp_path: Path, compiler: str, generated: Path) -> int:
    """Compile and run a program printing every struct's layout; assert it is ctypes'. Returns the struct count."""
    all_structs = structs(generated)
    c_dir = generated / "c"
    lines = ['#include <stddef.h>', '#include <stdio.h>']
    lines += [f'#include "{h.name}"' for h in sorted(c_dir.glob("vfg_*.h")) if h.name != "vfg_qemu.h"]
    lines += ["int main(void)", "{"]
    for struct, members in all_structs.items():
        for member, _ in members:
            lines.append(f'    printf("{struct} {member} %zu %zu\\n", offsetof(struct {struct}, {member}), '
                         f'sizeof(((struct {struct} *)0)->{member}));')
        lines.append(f'    printf("{struct} sizeof 0 %zu\\n", sizeof(struct {struct}));')
    lines += ["    return 0;", "}"]
    source = tmp_path / "layout.c"
    source.write_text("\n".join(lines) + "\n")
    binary = tmp_path / "layout"
    built = subprocess.run([compiler, "-std=c99", *STRICT, "-I", str(c_dir), str(source), "-o", str(binary)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    printed = subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout.split("\n")
    got: dict[str, list[tuple[str, int, int]]] = {}
    for row in filter(None, printed):
        struct, member, offset, size = row.split()
        got.setdefault(struct, []).append((member, int(offset), int(size)))
    assert len(got) == len(all_structs)
    for struct, members in all_structs.items():
        assert got[struct] == _expected(members), struct
    return len(got)
