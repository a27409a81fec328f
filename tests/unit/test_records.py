"""vfiogen.records.dataclass behaves as the standard `dataclasses.dataclass` for every option the compiler uses.

Each shape of class is declared twice, once with each decorator, and the two are compared: signature, fields,
match args, slots, construction with defaults and factories, equality and hashing (fields with
`compare=False` left out), repr, frozen assignment and deletion, `dataclasses.replace`, copy and pickle.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from typing import Any, ClassVar

import pytest
from vfiogen import records
from vfiogen.records import _dataclass

OPTIONS = [{}, {"frozen": True}, {"frozen": True, "slots": True}, {"frozen": True, "slots": True, "kw_only": True},
           {"eq": False}, {"slots": True}, {"frozen": True, "eq": False}, {"repr": False}]


def _declare(decorator: Any, options: dict[str, Any]) -> list[type]:
    """The same classes under `decorator(**options)`; module level, so that pickle finds them by name."""
    made = []

    class Plain:
        a: int
        b: str = "x"
        tags: list[int] = dataclasses.field(default_factory=list)
        span: int = dataclasses.field(default=0, compare=False)
        hidden: int = dataclasses.field(default=1, repr=False)
        LIMIT: ClassVar[int] = 3

    class Empty:
        pass

    class Factories:
        first: dict[str, int] = dataclasses.field(default_factory=dict)
        second: list[int] = dataclasses.field(default_factory=lambda: [1, 2])
        third: tuple[int, ...] = ()

    class Mixed:
        a: int
        _: dataclasses.KW_ONLY
        b: int
        c: list[int] = dataclasses.field(default_factory=list)

    class Hashless:
        a: int = dataclasses.field(hash=False)
        b: int = 0

    for cls in (Plain, Empty, Factories, Mixed, Hashless):
        cls.__qualname__ = cls.__name__ = f"{cls.__name__}_{decorator.__name__}_{len(_REGISTRY)}"
        globals()[cls.__name__] = decorated = decorator(**options)(cls)
        made.append(decorated)
        _REGISTRY.append(decorated)
    return made


_REGISTRY: list[type] = []


def _arguments(cls: type) -> list[dict[str, Any]]:
    name = cls.__name__.split("_")[0]
    return {"Plain": [{"a": 1}, {"a": 1, "b": "y", "tags": [2], "span": 5, "hidden": 7}, {"a": 1, "span": 9}],
            "Empty": [{}],
            "Factories": [{}, {"first": {"k": 1}}, {"third": (1,)}],
            "Mixed": [{"a": 1, "b": 2}, {"a": 1, "b": 2, "c": [3]}],
            "Hashless": [{"a": 1}, {"a": 2}, {"a": 1, "b": 1}]}[name]


def _shown(text: str) -> str:
    return text.replace("_dataclass_", "_").replace("_records_", "_")


def _outcome(function: Any, value: Any) -> Any:
    """What `function(value)` returns, or the type of what it raises."""
    try:
        return function(value)
    except Exception as exc:  # noqa: BLE001 - compared, not handled
        return type(exc)


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "default")
def test_the_two_decorators_make_the_same_classes(options: dict[str, Any]) -> None:
    ours = _declare(_dataclass, options)
    theirs = _declare(dataclasses.dataclass, options)
    for mine, standard in zip(ours, theirs, strict=True):
        assert str(inspect.signature(mine)) == str(inspect.signature(standard))
        assert [(f.name, f.type, f.default, f.compare, f.repr, f.kw_only) for f in dataclasses.fields(mine)] == [
            (f.name, f.type, f.default, f.compare, f.repr, f.kw_only) for f in dataclasses.fields(standard)]
        assert mine.__match_args__ == standard.__match_args__  # type: ignore[attr-defined]
        assert ("__slots__" in mine.__dict__) == ("__slots__" in standard.__dict__)
        assert (mine.__hash__ is None) == (standard.__hash__ is None)
        made = [(mine(**kwargs), standard(**kwargs)) for kwargs in _arguments(mine)]
        for left, right in made:
            assert [getattr(left, f.name) for f in dataclasses.fields(left)] == [
                getattr(right, f.name) for f in dataclasses.fields(right)]
            if options.get("repr", True):
                assert repr(left).replace(type(left).__qualname__, "C") == repr(right).replace(
                    type(right).__qualname__, "C")
            if options.get("eq", True):  # else both hash by identity
                assert _outcome(hash, left) == _outcome(hash, right)
            for changed in (dataclasses.replace(left), copy.copy(left), copy.deepcopy(left),
                            pickle.loads(pickle.dumps(left))):
                assert type(changed) is mine and (changed == left) == (dataclasses.replace(right) == right)
            if options.get("frozen"):
                first = dataclasses.fields(left)[0].name if dataclasses.fields(left) else "a"
                with pytest.raises(dataclasses.FrozenInstanceError, match=f"cannot assign to field '{first}'"):
                    setattr(left, first, 0)
                with pytest.raises(dataclasses.FrozenInstanceError, match=f"cannot delete field '{first}'"):
                    delattr(left, first)
        for (left1, right1) in made:  # equality over every pair, the same answer
            for (left2, right2) in made:
                assert (left1 == left2) == (right1 == right2)
                assert (left1 != left2) == (right1 != right2)
        if made:
            assert (made[0][0] == object()) == (made[0][1] == object())


def test_a_wrong_call_fails_as_the_standard_one_does() -> None:
    [ours, *_] = _declare(_dataclass, {"frozen": True, "kw_only": True})
    [theirs, *_] = _declare(dataclasses.dataclass, {"frozen": True, "kw_only": True})
    for bad in ({}, {"a": 1, "nope": 2}):
        with pytest.raises(TypeError) as mine:
            ours(**bad)
        with pytest.raises(TypeError) as standard:
            theirs(**bad)
        assert _shown(str(mine.value).replace(ours.__qualname__, "C")) == _shown(
            str(standard.value).replace(theirs.__qualname__, "C"))
    with pytest.raises(TypeError, match="positional"):
        ours(1)


def test_what_it_does_not_make_goes_to_the_standard_decorator() -> None:
    class Ordered:
        a: int

    class Posted:
        a: int

        def __post_init__(self) -> None:
            object.__setattr__(self, "a", self.a * 2)

    class Later:
        a: int
        b: int = dataclasses.field(init=False, default=5)

    ordered = _dataclass(order=True)(Ordered)
    assert ordered(1) < ordered(2)
    assert _dataclass(frozen=True)(Posted)(2).a == 4
    assert _dataclass(Later)(1).b == 5


def test_init_templates_are_shared_by_shape() -> None:
    before = len(records._TEMPLATES)
    _declare(_dataclass, {"frozen": True, "slots": True})
    after = len(records._TEMPLATES)
    _declare(_dataclass, {"frozen": True, "slots": True})
    assert len(records._TEMPLATES) == after >= before
