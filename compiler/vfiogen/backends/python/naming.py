"""Python names for schema names: keyword escaping and class-name casing, in one place."""

from __future__ import annotations

import keyword

from vfiogen.ir.nodes import Register

PACKAGE = "vfiogen_state"


# Besides keywords: the methods' own parameters, the builtins the annotations name (a class attribute
# `int` would make a later `x: int` in the same class body mean that attribute to a type checker), and the
# method every generated class inherits from `_runtime` (`Register` and `Record` both have `to_dict`).
_RESERVED = frozenset({"self", "cls", "int", "bool", "bytes", "str", "list", "dict", "tuple", "type", "object",
                       "to_dict"})

# `_runtime.Register`'s own methods: a bit field of that name would hide them (the class attribute is the
# field's descriptor), so `reg.value()` would call the field. Only bit fields live on a register class;
# a state field, param or struct member may be called `value`.
_REGISTER_METHODS = frozenset({"value", "from_value"})


def raw(register: str) -> str:
    """Generated code reads a register object's integer as its `_raw` slot, not through `value()`: an attribute
    load instead of a method call, on every register a load, save or descriptor check reads (a bit field
    cannot be called `_raw`: schema names start with a letter)."""
    return f"{register}._raw"


def attr(name: str) -> str:
    """An attribute or local name: schema names are snake_case already; keywords and `_RESERVED` get a '_'."""
    return f"{name}_" if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in _RESERVED else name


def bit_field_attr(name: str) -> str:
    """A bit field's attribute on its register class: as `attr`, and the base's methods get a '_' too."""
    return f"{name}_" if name in _REGISTER_METHODS else attr(name)


def camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


LAZY_ENUMS = "_E."
"""How section modules reach their enum classes: a module imported on first use."""


def enum_class(name: str) -> str:
    return camel(name)


def enum_ref(name: str) -> str:
    """The enum class as the section module's code refers to it at run time."""
    return LAZY_ENUMS + camel(name)


def enums_module(section: str) -> str:
    return f"_{section}_enums"


def register_class(name: str) -> str:
    return f"{camel(name)}Register"


def register_class_of(register: Register) -> str:
    """Registers that share a field set share one class, named after the set."""
    return register_class(register.field_set or register.name)


def struct_class(path: str) -> str:
    """`vectors` (an array's element) -> VectorsEntry; `a.b` -> ABStruct."""
    return "".join(camel(part) for part in path.split(".")) + "Entry"


def state_class(section: str) -> str:
    return f"{camel(section)}State"


def descriptor_class(section: str) -> str:
    return f"{camel(section)}Descriptor"


def enum_member(name: str) -> str:
    return name.upper()
