"""The one place that knows the pass order.

`PASSES` runs front end and checks in order; the driver stops after the
first pass that reported an error (warnings never stop it), so later passes
may assume earlier guarantees. Back ends then render, and only `outputs.write_outputs`
touches the file system on the output side.
"""

from __future__ import annotations

import dataclasses
import gc
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vfiogen.context import Context
from vfiogen.diagnostics import Reporter
from vfiogen.frontend.lower import lower
from vfiogen.frontend.schema_check import check_meta_schema
from vfiogen.frontend.yaml_loader import Node, load_yaml
from vfiogen.inputs import Problem, display, scan
from vfiogen.inputs import SchemaInput as SchemaInput  # re-exported, as `discover` returns them
from vfiogen.ir.checked import CheckedModule
from vfiogen.ir.dump import dump
from vfiogen.outputs import LOCK_PATH
from vfiogen.passes import FREEZE_PASS, PASS_NAMES, PassNameError
from vfiogen.passes.layout import compute_layout
from vfiogen.passes.normalize import normalize
from vfiogen.passes.resolve import resolve_names
from vfiogen.passes.semantics import check_semantics
from vfiogen.passes.typecheck import check_expressions
from vfiogen.source import file_span

if TYPE_CHECKING:
    from vfiogen.backends.base import Backend


@dataclass(frozen=True)
class Document:
    source_name: str
    root: Node


def discover(paths: list[str], reporter: Reporter) -> list[SchemaInput]:
    """Every *.yaml/*.yml under `paths`, sorted by canonical name (never by filesystem order); what cannot be
    read, or two different files with one canonical name, reported (`inputs.scan`)."""
    found, problems = scan(paths)
    report_scan(problems, reporter)
    return found


def report_scan(problems: list[Problem], reporter: Reporter) -> None:
    """Report what `inputs.scan` found wrong with the schema paths, each at its file."""
    for code, shown, message in problems:
        reporter.report(code, file_span(shown), message)


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
assert PASS_NAMES == tuple(name for name, _ in PASSES) and PASS_NAMES[-1] == FREEZE_PASS


def backends() -> tuple[Backend, ...]:
    """The back ends `render` runs, in order; imported here, so that `vfiogen check` never loads them."""
    from vfiogen.backends.c.emit import CBackend
    from vfiogen.backends.docs.emit import DocsBackend
    from vfiogen.backends.lock.emit import LockBackend
    from vfiogen.backends.python.emit import PythonBackend

    return (LockBackend(), DocsBackend(), PythonBackend(), CBackend())


@dataclass
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
    from vfiogen.passes.lock_check import check_lock

    lock_file = out_dir / LOCK_PATH
    if not lock_file.is_file():
        return
    shown = display(lock_file)
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
