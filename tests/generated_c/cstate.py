"""The generated C structs as ctypes, built from a schema lock alone, and a Python state written into one.

The layout follows the lock (member names and types, registers as uintN_t,
arrays at their maximum) and the platform's C ABI as ctypes knows it, not the
generated headers; test_c_layout.py checks the two agree member by member.
So `c_bytes` gives the bytes of the C state that holds what a generated
Python state holds, which the C driver can take as a state of its own.
"""

from __future__ import annotations

import ctypes
from typing import Any

from vfiogen.backends.python import naming as py_naming

SCALARS = {"u8": ctypes.c_uint8, "u16": ctypes.c_uint16, "u32": ctypes.c_uint32, "u64": ctypes.c_uint64,
           "s8": ctypes.c_int8, "s16": ctypes.c_int16, "s32": ctypes.c_int32, "s64": ctypes.c_int64,
           "bool": ctypes.c_bool}
C_KEYWORDS = {"default", "register", "struct", "union", "int", "char"}


def ident(name: str) -> str:
    return f"{name}_" if name in C_KEYWORDS else name


def ctype(field_type: dict[str, Any], name: str) -> Any:
    kind = field_type["kind"]
    if kind in SCALARS:
        return SCALARS[kind]
    if kind == "bytes":
        return ctypes.c_uint8 * field_type["size"]
    if kind == "array":
        return ctype(field_type["element"], name) * field_type["max"]
    members = [(ident(m["name"]), ctype(m["type"], m["name"])) for m in field_type["members"]]
    return type(name, (ctypes.Structure,), {"_fields_": members})


def carried(item: dict[str, Any], version: int) -> bool:
    return bool(item["since"] <= version and (item["until"] is None or version < item["until"]))


def state_members(section: dict[str, Any]) -> list[tuple[str, Any]]:
    """(member, ctypes type) of a section's C state struct, in declaration order."""
    version = section["version"]
    members = [(ident(r["name"]), SCALARS[f"u{r['width']}"]) for r in section["registers"] if carried(r, version)]
    members += [(ident(s["name"]), ctype(s["type"], s["name"])) for s in section["state"] if carried(s, version)]
    return members or [("unused_", ctypes.c_uint8)]


def _put(target: Any, name: str, field_type: dict[str, Any], value: Any) -> None:
    """Write Python `value` of `field_type` into member `name` of ctypes struct `target` (arrays past their
    maximum are cut: the C cannot hold them)."""
    kind = field_type["kind"]
    if kind in SCALARS:
        setattr(target, name, bool(value) if kind == "bool" else int(value))
    elif kind == "bytes":
        ctypes.memmove(getattr(target, name), bytes(value), field_type["size"])
    elif kind == "array":
        array = getattr(target, name)
        element = field_type["element"]
        for index, item in enumerate(value[:field_type["max"]]):
            if element["kind"] in SCALARS:
                array[index] = bool(item) if element["kind"] == "bool" else int(item)
            elif element["kind"] == "bytes":
                ctypes.memmove(array[index], bytes(item), element["size"])
            else:
                _put_struct(array[index], element, item)
    else:
        _put_struct(getattr(target, name), field_type, value)


def _put_struct(target: Any, field_type: dict[str, Any], value: Any) -> None:
    for member in field_type["members"]:
        _put(target, ident(member["name"]), member["type"], getattr(value, py_naming.attr(member["name"])))


def c_bytes(section: dict[str, Any], state: Any) -> bytes:
    """The bytes of the C state of `section` (from the lock) that holds what the Python `state` holds."""
    layout = type("State", (ctypes.Structure,), {"_fields_": state_members(section)})
    target = layout()
    version = section["version"]
    for register in section["registers"]:
        if carried(register, version):
            value = getattr(state, py_naming.attr(register["name"]))
            setattr(target, ident(register["name"]), int(value) if isinstance(value, int) else value.value())
    for field in section["state"]:
        if carried(field, version):
            _put(target, ident(field["name"]), field["type"], getattr(state, py_naming.attr(field["name"])))
    return bytes(target)
