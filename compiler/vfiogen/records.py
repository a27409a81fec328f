"""`dataclass` as the compiler's modules use it, without compiling source text for every class at import.

The standard decorator writes each class's `__init__`, `__repr__`, `__eq__`, `__hash__`, `__setattr__` and
`__delattr__` as source and compiles it: about 0.45 ms a class, 38 ms of the 65 ms `vfiogen check` spent
importing the compiler (81 classes; 116 with the back ends). Here the standard decorator still finds the fields
(annotations, defaults, `field()`, base classes, `ClassVar`, `kw_only`, `__match_args__`, `__slots__`) with
every generated method turned off, and the methods are then made without compiling:

* `__init__` from a template compiled once per shape (how many positional and keyword-only parameters, and
  which fields have a default factory), its variable and constant names replaced by the class's own
  (`CodeType.replace`), its defaults set as a function's are: the same signature, the same assignments in the
  same order as the standard one, and as fast;
* `__eq__` and `__hash__` over the tuple of the fields that compare (`operator.attrgetter`), so equal to the
  standard ones value for value; `__repr__` over the fields that show; the frozen `__setattr__` and
  `__delattr__`, and `__getstate__`/`__setstate__` for frozen classes with slots, as closures.

Anything else (`order`, `unsafe_hash`, `__post_init__`, `InitVar`, an `init=False` field, a class that writes
one of these methods itself, a base the standard decorator froze) goes to the standard decorator unchanged.
Type checkers see the standard decorator (`TYPE_CHECKING`), so mypy checks every use as before.
tests/unit/test_records.py holds the two decorators to the same behaviour.
"""

from __future__ import annotations

import builtins
import dataclasses
import operator
from collections.abc import Callable
from types import CodeType, FunctionType
from typing import TYPE_CHECKING, Any

class _Factory:
    def __repr__(self) -> str:
        return "<factory>"  # as the standard `__init__`'s signature shows it


_FACTORY: Any = _Factory()
"""The default of a field with a default factory: the factory is called when the argument is this."""

_TEMPLATES: dict[tuple[tuple[bool, ...], tuple[bool, ...]], CodeType] = {}
_METHODS = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__post_init__")


def _template(positional: tuple[bool, ...], keyword: tuple[bool, ...]) -> CodeType:
    """`__init__` for parameters `positional` then keyword-only `keyword` (True: the field has a factory), with
    placeholder names: variable `_vI` and attribute name `_nI` for field I, factory `_fI`."""
    shape = (positional, keyword)
    code = _TEMPLATES.get(shape)
    if code is None:
        count = len(positional) + len(keyword)
        parameters = [f"_v{i}" for i in range(len(positional))]
        if keyword:
            parameters += ["*", *(f"_v{i}" for i in range(len(positional), count))]
        lines = [f"    _set(self, '_n{i}', _f{i}() if _v{i} is _FACTORY else _v{i})" if factory
                 else f"    _set(self, '_n{i}', _v{i})" for i, factory in enumerate(positional + keyword)]
        source = f"def __init__(self, {', '.join(parameters)}):\n" + "\n".join(lines or ["    pass"]) + "\n"
        namespace: dict[str, Any] = {}
        exec(compile(source, "<vfiogen.records>", "exec"), namespace)  # noqa: S102 - our own template
        code = namespace["__init__"].__code__
        _TEMPLATES[shape] = code
    return code


def _init(cls: type, fields: list[dataclasses.Field[Any]]) -> Callable[..., None]:
    positional = [f for f in fields if f.init and not f.kw_only]
    keyword = [f for f in fields if f.init and f.kw_only]
    ordered = positional + keyword
    has_factory = [f.default_factory is not dataclasses.MISSING for f in ordered]
    template = _template(tuple(has_factory[:len(positional)]), tuple(has_factory[len(positional):]))
    names = [f.name for f in ordered]
    constants = tuple(names[int(c[2:])] if isinstance(c, str) and c.startswith("_n") else c
                      for c in template.co_consts)
    code = template.replace(co_varnames=("self", *names), co_consts=constants,
                            co_qualname=f"{cls.__qualname__}.__init__")
    namespace: dict[str, Any] = {"__builtins__": builtins, "_set": object.__setattr__, "_FACTORY": _FACTORY}
    for i, f in enumerate(ordered):
        if has_factory[i]:
            namespace[f"_f{i}"] = f.default_factory
    function = FunctionType(code, namespace, "__init__")

    def default(f: dataclasses.Field[Any]) -> Any:
        return _FACTORY if f.default_factory is not dataclasses.MISSING else f.default

    defaults = [default(f) for f in positional if default(f) is not dataclasses.MISSING]
    function.__defaults__ = tuple(defaults) or None
    function.__kwdefaults__ = {f.name: default(f) for f in keyword if default(f) is not dataclasses.MISSING} or None
    function.__module__ = cls.__module__
    function.__annotations__ = {**{f.name: f.type for f in ordered}, "return": None}
    return function


def _put(cls: type, name: str, value: Any) -> None:
    setattr(cls, name, value)


def _key(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of the attributes `names` of an object (the standard `__eq__` and `__hash__` compare it)."""
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda self: (one(self),)
    if not names:
        return lambda self: ()
    return operator.attrgetter(*names)  # a tuple for two names or more


def _methods(cls: type, frozen: bool, eq: bool, repr_: bool) -> None:
    fields = list(dataclasses.fields(cls))
    cls.__init__ = _init(cls, fields)  # type: ignore[misc]
    if repr_:
        shown = [f.name for f in fields if f.repr]

        def __repr__(self: Any) -> str:
            return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in shown)})"

        _put(cls, "__repr__", __repr__)
    if eq:
        key = _key([f.name for f in fields if f.compare])

        def __eq__(self: Any, other: Any) -> Any:
            if other.__class__ is self.__class__:
                return key(self) == key(other)
            return NotImplemented

        _put(cls, "__eq__", __eq__)
        if frozen:
            hashed = _key([f.name for f in fields if (f.compare if f.hash is None else f.hash)])

            def __hash__(self: Any) -> int:
                return hash(hashed(self))

            _put(cls, "__hash__", __hash__)
        else:
            _put(cls, "__hash__", None)  # as the standard decorator: eq without frozen
    if frozen:
        _freeze(cls, frozenset(f.name for f in fields))


def _freeze(owner: Any, names: frozenset[str]) -> None:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is owner or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(owner, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is owner or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(owner, self).__delattr__(name)

    cls = owner

    _put(cls, "__setattr__", __setattr__)
    _put(cls, "__delattr__", __delattr__)
    if "__slots__" in cls.__dict__:  # pickling and copying set the slots through `__setstate__`
        ordered = [f.name for f in dataclasses.fields(cls)]

        def __getstate__(self: Any) -> list[Any]:
            return [getattr(self, name) for name in ordered]

        def __setstate__(self: Any, state: list[Any]) -> None:
            for name, value in zip(ordered, state, strict=True):
                object.__setattr__(self, name, value)

        _put(cls, "__getstate__", __getstate__)
        _put(cls, "__setstate__", __setstate__)


def _standard_only(cls: type, order: bool, unsafe_hash: bool, init: bool) -> bool:
    """Whether `cls` needs what only the standard decorator does."""
    if order or unsafe_hash or not init or any(name in cls.__dict__ for name in _METHODS):
        return True
    if hasattr(cls, "__post_init__") or any("InitVar" in str(annotation)
                                            for annotation in cls.__dict__.get("__annotations__", {}).values()):
        return True
    if any(getattr(getattr(base, "__dataclass_params__", None), "frozen", False) for base in cls.__mro__[1:]):
        return True  # a standard frozen base: the standard decorator checks the subclass against it
    return any(isinstance(value, dataclasses.Field) and not value.init for value in cls.__dict__.values())


def _dataclass(cls: type | None = None, /, *, init: bool = True, repr: bool = True, eq: bool = True,
               order: bool = False, unsafe_hash: bool = False, frozen: bool = False, match_args: bool = True,
               kw_only: bool = False, slots: bool = False) -> Any:
    def wrap(cls: type) -> type:
        if _standard_only(cls, order, unsafe_hash, init):
            return dataclasses.dataclass(cls, init=init, repr=repr, eq=eq, order=order, unsafe_hash=unsafe_hash,
                                         frozen=frozen, match_args=match_args, kw_only=kw_only, slots=slots)
        if cls.__doc__ is None:  # the standard decorator would ask `inspect.signature` for one: slow, unused
            cls.__doc__ = f"{cls.__name__}(...)"
        made: type = dataclasses.dataclass(cls, init=False, repr=False, eq=False, frozen=False,
                                           match_args=match_args, kw_only=kw_only, slots=slots)
        _methods(made, frozen, eq, repr)
        return made

    return wrap if cls is None else wrap(cls)


if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
else:
    dataclass = _dataclass
