"""The one place that knows the pass order.

`PASSES` runs front end and checks in order; the driver stops after the
first pass that reported an error (warnings never stop it), so later passes
may assume earlier guarantees. Back ends then render, and only `write_outputs`
touches the file system on the output side.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typing import TYPE_CHECKING

from vfiogen.context import Context
from vfiogen.diagnostics import Reporter
from vfiogen.frontend.lower import lower
from vfiogen.frontend.schema_check import check_meta_schema
from vfiogen.frontend.yaml_loader import Node, load_yaml
from vfiogen.ir.checked import CheckedModule
from vfiogen.ir.dump import dump
from vfiogen.passes.layout import compute_layout
from vfiogen.passes.normalize import normalize
from vfiogen.passes.resolve import resolve_names
from vfiogen.passes.semantics import check_semantics
from vfiogen.passes.typecheck import check_expressions
from vfiogen.source import file_span

if TYPE_CHECKING:
    from vfiogen.backends.base import Backend


@dataclasses.dataclass(frozen=True)
class SchemaInput:
    """A schema file to compile: where to show it, its canonical name, its bytes."""

    display_path: str
    """As diagnostics show it: relative to the working directory when possible."""
    source_name: str
    """Canonical and machine-independent: '<root dir name>/<path under root>'."""
    data: bytes


@dataclasses.dataclass(frozen=True)
class Document:
    source_name: str
    root: Node


def discover(paths: list[str], reporter: Reporter) -> list[SchemaInput]:
    """Every *.yaml/*.yml under `paths`, sorted by canonical name (never by filesystem order).

    Two different files with one canonical name are an error rather than one
    silently replacing the other.
    """
    found: dict[str, SchemaInput] = {}
    origin: dict[str, Path] = {}
    for given in paths:
        root = Path(given)
        if root.is_dir():
            files = _schema_files(root, reporter)
            base_name = root.resolve().name
            names = [(p, f"{base_name}/{p.relative_to(root).as_posix()}") for p in files]
        elif root.is_file():
            names = [(root, root.name)]
        else:
            reporter.report("VG0110", file_span(given), f"'{given}' is neither a schema file nor a directory")
            continue
        for path, name in names:
            try:
                with path.open("rb") as stream:
                    data = stream.read(MAX_SCHEMA_BYTES + 1)
            except OSError as exc:
                reporter.report("VG0110", file_span(str(path)), f"cannot read '{path}': {exc.strerror}")
                continue
            if len(data) > MAX_SCHEMA_BYTES:
                reporter.report("VG0113", file_span(_display(path)), f"'{_display(path)}' is over "
                                f"{MAX_SCHEMA_BYTES // 1024} KiB; a schema is a few KiB (the largest shipped one "
                                "is about 20), so this is not one")
                continue
            if name in origin and origin[name].resolve() != path.resolve():
                reporter.report("VG0110", file_span(_display(path)),
                                f"'{_display(path)}' and '{_display(origin[name])}' would both be named '{name}' "
                                "in the outputs; give their directory instead, or rename one")
                continue
            origin[name] = path
            found[name] = SchemaInput(_display(path), name, data)
    return [found[name] for name in sorted(found)]


MAX_SCHEMA_BYTES = 128 * 1024
"""The largest schema file read: six times the largest shipped one, and small enough that checking even a
hostile file of this size takes seconds, not minutes."""


def _schema_files(root: Path, reporter: Reporter) -> list[Path]:
    """The *.yaml/*.yml files under `root`, following directory links but never round a loop (reported)."""
    found: list[Path] = []
    visited = {os.path.realpath(root)}
    for directory, subdirectories, files in os.walk(root, followlinks=True):
        for sub in sorted(subdirectories):
            target = os.path.realpath(os.path.join(directory, sub))
            if target in visited:
                link = Path(directory, sub)
                reporter.report("VG0110", file_span(_display(link)), f"'{_display(link)}' links back to "
                                f"'{_display(Path(target))}', a directory already read (a loop); not followed")
                subdirectories.remove(sub)
            else:
                visited.add(target)
        found.extend(Path(directory, f) for f in files if f.endswith((".yaml", ".yml"))
                     and Path(directory, f).is_file())
    return found


def _display(path: Path) -> str:
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def load_files(inputs: list[SchemaInput], ctx: Context) -> list[Document]:
    documents = []
    for schema in inputs:
        source, root = load_yaml(schema.display_path, schema.data, ctx.reporter)
        if source is not None:
            ctx.sources.files[schema.display_path] = source
        if root is not None:
            documents.append(Document(schema.source_name, root))
    return documents


def check_documents(documents: list[Document], ctx: Context) -> list[Document]:
    return [d for d in documents if check_meta_schema(d.root, ctx.reporter)]


def lower_documents(documents: list[Document], ctx: Context) -> Any:
    return lower([(d.source_name, d.root) for d in documents], ctx.reporter)


PASSES: tuple[tuple[str, Callable[[Any, Context], Any]], ...] = (
    ("load_yaml", load_files),
    ("check_meta_schema", check_documents),
    ("lower", lower_documents),
    ("resolve", resolve_names),
    ("typecheck", check_expressions),
    ("layout", compute_layout),
    ("semantics", check_semantics),
    ("normalize", normalize),
)
PASS_NAMES = tuple(name for name, _ in PASSES)
FREEZE_PASS = "normalize"
"""The last pass reports nothing: it freezes the checked module with its derived layouts and plans for the
back ends. `vfiogen check` stops before it (a third of its time), unless asked to dump its IR."""



def backends() -> tuple[Backend, ...]:
    """The back ends `render` runs, in order; imported here, so that `vfiogen check` never loads them."""
    from vfiogen.backends.c.emit import CBackend
    from vfiogen.backends.docs.emit import DocsBackend
    from vfiogen.backends.lock.emit import LockBackend
    from vfiogen.backends.python.emit import PythonBackend

    return (LockBackend(), DocsBackend(), PythonBackend(), CBackend())


class PassNameError(ValueError):
    """`--stop-before` or `--dump-ir-after` named no pass."""


@dataclasses.dataclass
class Result:
    module: CheckedModule | None
    """None when a pass reported errors or `stop_before` stopped the run."""
    dumps: list[str]


def compile_schemas(inputs: list[SchemaInput], ctx: Context, *, stop_before: str | None = None,
                    dump_after: str | None = None) -> Result:
    """Run `PASSES` over `inputs`.

    Raises:
        PassNameError: when `stop_before` or `dump_after` is not a pass name.
    """
    for name in (stop_before, dump_after):
        if name is not None and name not in PASS_NAMES:
            raise PassNameError(f"unknown pass '{name}'; passes are: {', '.join(PASS_NAMES)}")
    value: Any = inputs
    dumps: list[str] = []
    # The located YAML trees and the IR hold no reference cycles (nodes refer
    # to each other by name), so reference counting frees them; the cyclic
    # collector would only re-walk every live node again and again, which
    # tests/bench measured as a super-linear 25% of a 10,000-field check.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run_passes(value, dumps, ctx, stop_before, dump_after)
    finally:
        if collecting:
            gc.enable()


def _run_passes(value: Any, dumps: list[str], ctx: Context, stop_before: str | None,
                dump_after: str | None) -> Result:
    for name, run in PASSES:
        if name == stop_before:
            return Result(None, dumps)
        ctx.focus = None
        ctx.pass_name = name
        value = run(value, ctx)
        if name == dump_after:
            dumps.append(dump(value))
        if ctx.reporter.error_count:
            return Result(None, dumps)
    assert isinstance(value, CheckedModule)
    return Result(value, dumps)


def render(module: CheckedModule, ctx: Context, *, license: str | None = None) -> dict[str, str]:
    """Every back end's files, keyed by path relative to the output directory.

    Args:
        module: the checked module.
        ctx: the compilation's context.
        license: `vfiogen build --license`, already checked; it wins over the options file.
    """
    if license is not None:
        module = dataclasses.replace(module, license=license)
    outputs: dict[str, str] = {}
    chosen = backends()
    for backend in chosen:
        backend.check(module, ctx)
    if ctx.reporter.error_count:
        return {}
    for backend in chosen:
        ctx.pass_name, ctx.focus = f"render {backend.name}", None
        for path, text in backend.render(module).items():
            assert path not in outputs, f"two back ends write {path}"
            outputs[path] = text
    return outputs


def check_previous_lock(module: CheckedModule, out_dir: Path, ctx: Context) -> None:
    """Hold `module` to the lock a previous build left in `out_dir` (none there: a first build, nothing to hold)."""
    from vfiogen.backends.lock.emit import LOCK_PATH
    from vfiogen.passes.lock_check import check_lock

    lock_file = out_dir / LOCK_PATH
    if not lock_file.is_file():
        return
    shown = _display(lock_file)
    ctx.pass_name, ctx.focus = "lock_check", None
    try:
        previous = json.loads(lock_file.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        ctx.reporter.report("VG0802", file_span(shown), f"cannot read the previous lock '{shown}': {exc}; "
                            "restore it from version control, or delete it to start a new lock")
        return
    if not isinstance(previous, dict) or not isinstance(previous.get("sections", {}), dict):
        ctx.reporter.report("VG0802", file_span(shown), f"'{shown}' is not a vfiogen schema lock (no 'sections' "
                            "object); restore it from version control, or delete it to start a new lock")
        return
    check_lock(module, previous, shown, ctx)


MANIFEST = "MANIFEST"


def with_manifest(outputs: dict[str, str]) -> dict[str, str]:
    """Add the manifest that marks the output directory as vfiogen's and lists its files."""
    listing = "".join(f"{path}\n" for path in sorted(outputs))
    return {**outputs, MANIFEST: "# Files generated by vfiogen build; do not edit.\n" + listing}


def stale_files(out_dir: Path, outputs: dict[str, str]) -> list[tuple[str, str]]:
    """What makes `out_dir` differ from `outputs`, as (path, what to do) pairs.

    A file that differs or is missing is stale, and so is one an earlier
    build listed in the manifest but no longer generates (`build` deletes
    it). A file no manifest ever listed is not vfiogen's, so `build` never
    deletes it: it is reported for the user to remove.
    """
    problems = []
    for path, text in outputs.items():
        target = out_dir / path
        if not target.is_file() or target.read_bytes() != text.encode("utf-8"):
            problems.append((path, "stale; run 'vfiogen build'"))
    previous = _manifest_listing(out_dir)
    if out_dir.is_dir():
        for existing in out_dir.rglob("*"):
            relative = existing.relative_to(out_dir).as_posix()
            if existing.is_file() and relative not in outputs and not _is_cache(relative):
                action = ("no longer generated; run 'vfiogen build' to delete it" if relative in previous
                          else "not generated by vfiogen; remove it from the output directory")
                problems.append((relative, action))
    return sorted(problems)


def _is_cache(relative: str) -> bool:
    """Byte-code and tool caches (`__pycache__`, `.mypy_cache`...) that running the outputs leaves behind."""
    return any(part == "__pycache__" or part.startswith(".") for part in relative.split("/"))


def _manifest_listing(out_dir: Path) -> set[str]:
    manifest = out_dir / MANIFEST
    if not manifest.is_file():
        return set()
    return {line for line in manifest.read_text("utf-8").splitlines() if line and not line.startswith("#")}


def write_outputs(out_dir: Path, outputs: dict[str, str]) -> list[str]:
    """Write changed files and delete the ones a previous build wrote that no longer exist.

    Deletion only happens when `out_dir` holds a vfiogen manifest, so pointing
    `-o` at a directory with other files never loses them.

    Returns:
        The paths written or deleted.
    """
    changed = []
    previous = _manifest_listing(out_dir)
    for path, text in sorted(outputs.items()):
        target = out_dir / path
        data = text.encode("utf-8")
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        changed.append(path)
    for path in sorted(previous - set(outputs)):
        target = out_dir / path
        if target.is_file():
            target.unlink()
            changed.append(path)
    return changed
