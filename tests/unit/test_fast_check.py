"""vfiogen.frontend.fast_check: the yes/no meta-schema check agrees with jsonschema.

The fast check decides whether jsonschema runs at all, so a document it
accepts must be one jsonschema accepts. Checked on every YAML file in the
repository (the library, the goldens, every error case) and on mutated copies
of them: keys dropped, added, renamed, values replaced by values of other
kinds or by values taken from elsewhere in the file, list items repeated.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from vfiogen.diagnostics import Reporter
from vfiogen.frontend.fast_check import Unsure, compile_meta_schema
from vfiogen.frontend.schema_check import meta_schema
from vfiogen.frontend.yaml_loader import load_yaml

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(p for d in ("schemas", "tests") for p in (ROOT / d).rglob("*.yaml")
               if "bench" not in p.parts)


def _documents() -> list[tuple[str, Any]]:
    documents = []
    for path in FILES:
        _, root = load_yaml(str(path), path.read_bytes(), Reporter())
        if root is not None:
            documents.append((path.relative_to(ROOT).as_posix(), root.plain()))
    return documents


DOCUMENTS = _documents()
FAST = compile_meta_schema(meta_schema())
SLOW = jsonschema.Draft202012Validator(meta_schema())


def _fast(value: Any) -> bool | None:
    try:
        return FAST(value)
    except Unsure:
        return None


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, prefix + (key,)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, prefix + (index,)))
    return found


def _scalars(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _scalars(item)] + list(value)
    if isinstance(value, list):
        return [s for item in value for s in _scalars(item)]
    return [value]


def _mutate(document: Any, rng: random.Random) -> Any:
    mutated = copy.deepcopy(document)
    path = rng.choice(_paths(mutated))
    parent, key = None, None
    node = mutated
    for step in path:
        parent, key, node = node, step, node[step]
    pool = _scalars(document) or [0]
    replacements = [0, 1, -1, 7, 2 ** 64, True, False, None, "", "x", "Bad-Name", "u8", "u128", [], {},
                    [1], {"x": 1}, rng.choice(pool), rng.choice(pool)]
    choice = rng.randrange(6)
    if choice == 0 and isinstance(node, dict) and node:
        del node[rng.choice(list(node))]
    elif choice == 1 and isinstance(node, dict):
        node[str(rng.choice(pool))] = rng.choice(replacements)
    elif choice == 2 and isinstance(node, dict) and node:
        old = rng.choice(list(node))
        node[str(rng.choice(pool))] = node.pop(old)
    elif choice == 3 and isinstance(node, list) and node:
        node.append(copy.deepcopy(rng.choice(node)))
    elif choice == 4 and parent is not None:
        same_kind = [v for v in pool if type(v) is type(node)]  # often still valid: exercises acceptance
        parent[key] = rng.choice(same_kind or replacements)
    elif parent is not None:
        parent[key] = rng.choice(replacements)
    return mutated


def test_every_file_is_judged_as_jsonschema_judges_it() -> None:
    assert len(DOCUMENTS) > 150
    valid = 0
    for name, document in DOCUMENTS:
        expected = SLOW.is_valid(document)
        assert _fast(document) is expected, name
        valid += expected
    assert 40 < valid < len(DOCUMENTS)  # both answers occur


@pytest.mark.parametrize("seed", range(4))
def test_mutated_files_are_never_accepted_when_jsonschema_refuses_them(seed: int) -> None:
    rng = random.Random(seed)
    refused = accepted = 0
    bases = [(name, d) for name, d in DOCUMENTS if SLOW.is_valid(d)] + DOCUMENTS[:20]
    for _ in range(1500):
        name, document = rng.choice(bases)
        mutated = _mutate(document, rng)
        for _ in range(rng.randrange(2)):
            mutated = _mutate(mutated, rng)
        expected = SLOW.is_valid(mutated)
        fast = _fast(mutated)
        assert fast in (expected, None), (name, mutated)
        refused += not expected
        accepted += expected
    assert refused > 300 and accepted > 150


@pytest.mark.parametrize(("value", "expected"), [
    ({"section": "t", "title": "T", "id": 1.0, "location": {"capability": {"id": 5, "size": 24}}, "version": 1},
     None),  # jsonschema takes 1.0 as an integer; the fast check does not guess
    ({"section": "t", "title": "T", "id": True, "location": {"capability": {"id": 5, "size": 24}}, "version": 1},
     False),  # a bool is not an integer
])
def test_values_whose_meaning_differs_between_python_and_json(value: Any, expected: bool | None) -> None:
    assert _fast(value) is expected
    if expected is None:
        assert SLOW.is_valid(value)


def test_an_unknown_keyword_is_refused_when_compiling() -> None:
    with pytest.raises(ValueError, match="contains"):
        compile_meta_schema({"type": "array", "contains": {"type": "string"}})
