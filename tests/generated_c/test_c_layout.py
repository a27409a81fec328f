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
from harness import C_DIR, COMPILERS, STRICT, lock

pytestmark = pytest.mark.skipif(not COMPILERS, reason="no C compiler (gcc or clang) on PATH")

_SCALARS = {"u8": ctypes.c_uint8, "u16": ctypes.c_uint16, "u32": ctypes.c_uint32, "u64": ctypes.c_uint64,
            "s8": ctypes.c_int8, "s16": ctypes.c_int16, "s32": ctypes.c_int32, "s64": ctypes.c_int64,
            "bool": ctypes.c_bool}
C_KEYWORDS = {"default", "register", "struct", "union", "int", "char"}


def _ident(name: str) -> str:
    return f"{name}_" if name in C_KEYWORDS else name


def _ctype(field_type: dict[str, Any], name: str) -> Any:
    kind = field_type["kind"]
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "bytes":
        return ctypes.c_uint8 * field_type["size"]
    if kind == "array":
        return _ctype(field_type["element"], name) * field_type["max"]
    members = [(_ident(m["name"]), _ctype(m["type"], m["name"])) for m in field_type["members"]]
    return type(name, (ctypes.Structure,), {"_fields_": members})


def _carried(item: dict[str, Any], version: int) -> bool:
    return item["since"] <= version and (item["until"] is None or version < item["until"])


def structs() -> dict[str, list[tuple[str, Any]]]:
    """C struct name -> [(member, ctypes type)] for every section's state, descriptor and params."""
    result: dict[str, list[tuple[str, Any]]] = {}
    for name, section in sorted(lock()["sections"].items()):
        version = section["version"]
        state = [(_ident(r["name"]), _SCALARS[f"u{r['width']}"]) for r in section["registers"] if _carried(r, version)]
        state += [(_ident(s["name"]), _ctype(s["type"], s["name"])) for s in section["state"] if _carried(s, version)]
        result[f"vfg_{name}_state"] = state or [("unused_", ctypes.c_uint8)]
        widths = {r["name"]: r["width"] for r in section["registers"]}
        descriptor = [(_ident(d["name"]), _ctype(d["type"], d["name"]) if d["type"] else _SCALARS[f"u{widths[d['from']]}"])
                      for d in section["descriptor"]]
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
    all_structs = structs()
    lines = ['#include <stddef.h>', '#include <stdio.h>']
    lines += [f'#include "{h.name}"' for h in sorted(C_DIR.glob("vfg_*.h"))]
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
    built = subprocess.run([compiler, "-std=c99", *STRICT, "-I", str(C_DIR), str(source), "-o", str(binary)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    printed = subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout.split("\n")
    got: dict[str, list[tuple[str, int, int]]] = {}
    for row in filter(None, printed):
        struct, member, offset, size = row.split()
        got.setdefault(struct, []).append((member, int(offset), int(size)))
    assert len(got) == len(all_structs) >= 15
    for struct, members in all_structs.items():
        assert got[struct] == _expected(members), struct
