"""Finding and reading the schema files a command is given, with nothing else imported.

`scan` is the whole of it: the driver reports what it found wrong (`driver.discover`), and the command line's
result cache (`vfiogen.cache`) keys a run by what it read before importing the compiler, so a run the cache
answers costs no more than reading the files.
"""

from __future__ import annotations

import os
from collections import namedtuple
from pathlib import Path

TYPE_CHECKING = False  # not `typing`'s: see the module docstring
if TYPE_CHECKING:
    from typing import NamedTuple

    class SchemaInput(NamedTuple):
        """A schema file to compile: where to show it, its canonical name, its bytes."""

        display_path: str
        """As diagnostics show it: relative to the working directory when possible."""
        source_name: str
        """Canonical and machine-independent: '<root dir name>/<path under root>'."""
        data: bytes
else:  # the same, without importing `typing` or `dataclasses` (about 9 ms) for a run the cache answers
    SchemaInput = namedtuple("SchemaInput", ("display_path", "source_name", "data"))


MAX_SCHEMA_BYTES = 128 * 1024
"""The largest schema file read: six times the largest shipped one, and small enough that checking even a
hostile file of this size takes seconds, not minutes."""


Problem = tuple[str, str, str]
"""(diagnostic code, path to show, message) of a path that could not be read."""


def scan(paths: list[str]) -> tuple[list[SchemaInput], list[Problem]]:
    """Every *.yaml/*.yml under `paths`, sorted by canonical name (never by filesystem order), and what was wrong.

    Two different files with one canonical name are a problem rather than one silently replacing the other.
    """
    found: dict[str, SchemaInput] = {}
    origin: dict[str, Path] = {}
    problems: list[Problem] = []
    for given in paths:
        root = Path(given)
        if root.is_dir():
            files = _schema_files(root, problems)
            base_name = root.resolve().name
            names = [(p, f"{base_name}/{p.relative_to(root).as_posix()}") for p in files]
        elif root.is_file():
            names = [(root, root.name)]
        else:
            problems.append(("VG0110", given, f"'{given}' is neither a schema file nor a directory"))
            continue
        for path, name in names:
            try:
                with path.open("rb") as stream:
                    data = stream.read(MAX_SCHEMA_BYTES + 1)
            except OSError as exc:
                problems.append(("VG0110", str(path), f"cannot read '{path}': {exc.strerror}"))
                continue
            if len(data) > MAX_SCHEMA_BYTES:
                problems.append(("VG0113", display(path), f"'{display(path)}' is over "
                                 f"{MAX_SCHEMA_BYTES // 1024} KiB; a schema is a few KiB (the largest shipped one "
                                 "is about 20), so this is not one"))
                continue
            if name in origin and origin[name].resolve() != path.resolve():
                problems.append(("VG0110", display(path), f"'{display(path)}' and '{display(origin[name])}' would "
                                 f"both be named '{name}' in the outputs; give their directory instead, or rename one"))
                continue
            origin[name] = path
            found[name] = SchemaInput(display(path), name, data)
    return [found[name] for name in sorted(found)], problems


def _schema_files(root: Path, problems: list[Problem]) -> list[Path]:
    """The *.yaml/*.yml files under `root`, following directory links but never round a loop (a problem)."""
    found: list[Path] = []
    visited = {os.path.realpath(root)}
    for directory, subdirectories, files in os.walk(root, followlinks=True):
        for sub in sorted(subdirectories):
            target = os.path.realpath(os.path.join(directory, sub))
            if target in visited:
                link = Path(directory, sub)
                problems.append(("VG0110", display(link), f"'{display(link)}' links back to "
                                 f"'{display(Path(target))}', a directory already read (a loop); not followed"))
                subdirectories.remove(sub)
            else:
                visited.add(target)
        found.extend(Path(directory, f) for f in files if f.endswith((".yaml", ".yml"))
                     and Path(directory, f).is_file())
    return found


def display(path: Path) -> str:
    """`path` as diagnostics show it: relative to the working directory when it can be."""
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()
