"""A section's Python module in two: what save, load and the descriptor check run, and a sidecar for the rest.

Importing a device module imports every section module, and what an import costs grows with the code it
unmarshals and the functions it creates. So section.py.j2 renders what a stop-and-copy runs (classes, codec,
descriptor) and section_more.py.j2 renders `_<section>_more.py`: validate, capture, restore, describe, the
compat rules and the resize helpers. The section module serves those names from the sidecar on first use
(its module `__getattr__`), so `header.validate(...)` and `from vfiogen_state.header import capture` work as
before, and re-exports them to type checkers.

The sidecar's code is the same template code as before, so its imports are worked out here from the names it
uses: each comes from where the section module has it (defined there, imported there at run time, or under
`TYPE_CHECKING`). The section module's own imports are then pruned to what it still uses, so that neither file
imports a name it does not use (the generated code passes ruff's pyflakes rules and mypy --strict).
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field

MORE_EXPORTS = "# @MORE-EXPORTS@"
MORE_NAMES = "_MORE = frozenset(())  # @MORE-NAMES@"
IMPORTS = "# @IMPORTS@"
_BUILTINS = frozenset(dir(builtins))


def more_module(section: str) -> str:
    return f"_{section}_more"


@dataclass
class _Origins:
    """Where the section module gets each top-level name: run-time statements and type-checking ones."""

    runtime: dict[str, str] = field(default_factory=dict)
    typing: dict[str, str] = field(default_factory=dict)


def finish(package: str, section: str, main: str, more: str) -> tuple[str, str]:
    """The section module and its sidecar, from the two rendered templates (with their placeholders)."""
    more_tree = ast.parse(more)
    defined = _bound(more_tree.body)
    needed = sorted(_free(more_tree) - defined - _BUILTINS)
    # The placeholder becomes `pass` on its own line, so this tree's line numbers are the template's.
    main_tree = ast.parse(main.replace(MORE_EXPORTS, "pass"))
    origins = _origins(package, section, main_tree)
    runtime: list[str] = []
    typing: list[str] = []
    for name in needed:
        assert name in origins.runtime or name in origins.typing, f"{section}: the sidecar uses {name!r}"
        if name in origins.runtime:
            runtime.append(origins.runtime[name])
        if name in origins.typing:
            typing.append(origins.typing[name])
    # A statement copied from the section module (`_E = lazy_module(...)`) needs what it uses too.
    for statement in [s for s in runtime if not s.startswith(("import ", "from "))]:
        runtime += [origins.runtime[name] for name in sorted(_Scan(ast.parse(statement)).names - _BUILTINS)]
    more = more.replace(IMPORTS, _header(runtime, typing))
    public = sorted(defined)
    main = _prune(main, main_tree)
    main = main.replace("    " + MORE_EXPORTS, _import_line(f"{package}.{more_module(section)}",
                                                   [f"{n} as {n}" for n in public], "    "))
    main = main.replace(MORE_NAMES, "_MORE = frozenset((" + " ".join(f'"{n}",' for n in public) + "))")
    return main, more


def _header(runtime: list[str], typing: list[str]) -> str:
    """The sidecar's imports: plain imports, then from-imports merged by module, then the TYPE_CHECKING block
    (with the run-time statements that stand for its names in an `else`)."""
    lines = sorted({s for s in runtime if s.startswith("import ")})
    if lines:
        lines.append("")
    lines += _merged([s for s in runtime if s.startswith("from ")], "")
    statements = [s for s in dict.fromkeys(runtime) if not s.startswith(("import ", "from "))]
    if typing or statements:
        lines += ["", "TYPE_CHECKING = False  # typing is not imported at run time", "if TYPE_CHECKING:"]
        typed = [s for s in dict.fromkeys(typing) if s.startswith("import ")]
        lines += [f"    {s}" for s in typed] + _merged([s for s in typing if s.startswith("from ")], "    ")
        if not typing:
            lines.append("    pass")
        if statements:
            lines.append("else:")
            lines += [f"    {s}" for s in statements]
    return "\n".join(lines).rstrip("\n")


def _merged(statements: list[str], pad: str) -> list[str]:
    """`from m import a` statements, one per module (sorted), names sorted."""
    by_module: dict[str, list[str]] = {}
    for statement in statements:
        module, _, name = statement.removeprefix("from ").partition(" import ")
        by_module.setdefault(module, [])
        if name not in by_module[module]:
            by_module[module].append(name)
    return [_import_line(module, sorted(names, key=str.lower), pad) for module, names in sorted(by_module.items())]


def _import_line(module: str, names: list[str], pad: str) -> str:
    """`from module import names`, wrapped in parentheses past 110 columns."""
    line = f"{pad}from {module} import {', '.join(names)}"
    if len(line) <= 110:
        return line
    rows, row = [], f"{pad}    "
    for name in names:
        if len(row) + len(name) + 2 > 110:
            rows.append(row.rstrip())
            row = f"{pad}    "
        row += f"{name}, "
    rows.append(row.rstrip())
    return f"{pad}from {module} import (\n" + "\n".join(rows) + f"\n{pad})"


def _origins(package: str, section: str, tree: ast.Module) -> _Origins:
    origins = _Origins()
    own = f"{package}.{section}"
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            _statements(node.body, own, origins.typing, copy=False)
            _statements(node.orelse, own, origins.runtime, copy=True)
        else:
            _statements([node], own, origins.runtime, copy=False)
    return origins


def _statements(nodes: list[ast.stmt], own: str, into: dict[str, str], *, copy: bool) -> None:
    """Record how to get each name `nodes` bind: the import itself, or from the section module (`own`);
    with `copy`, an assignment is repeated as it is (a lazy module in the run-time branch)."""
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                into.setdefault(alias.asname or alias.name, f"import {alias.name}"
                                + (f" as {alias.asname}" if alias.asname else ""))
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                name = alias.asname or alias.name
                text = alias.name if name == alias.name else f"{alias.name} as {name}"  # re-exports end here
                into.setdefault(name, f"from {node.module} import {text}")
        elif isinstance(node, ast.Assign) and copy:
            for name in _bound([node]):
                into.setdefault(name, ast.unparse(node))
        else:
            for name in _bound([node]):
                into.setdefault(name, f"from {own} import {name}")


def _bound(nodes: list[ast.stmt]) -> set[str]:
    """The names top-level statements bind (functions, classes, assignments)."""
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for target in node.targets for t in ast.walk(target) if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


class _Scan:
    """What one walk of a tree finds: every name (read, stored or in a string annotation), the names stored or
    deleted, the names other bindings make (parameters, lambda parameters, `except ... as`) and the
    from-imports. One walk, not one per question: the build scans about 150,000 nodes of generated Python."""

    def __init__(self, tree: ast.AST) -> None:
        self.names: set[str] = set()
        self.stored: set[str] = set()
        self.bound: set[str] = set()
        self.imports: list[ast.ImportFrom] = []
        stack = [tree]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name):
                self.names.add(node.id)
                if not isinstance(node.ctx, ast.Load):
                    self.stored.add(node.id)
                continue
            if isinstance(node, ast.arg):
                self.bound.add(node.arg)
                self._annotation(node.annotation)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._annotation(node.returns)
            elif isinstance(node, ast.AnnAssign):
                self._annotation(node.annotation)
            elif isinstance(node, ast.ExceptHandler):
                if node.name:
                    self.bound.add(node.name)
            elif isinstance(node, ast.ImportFrom):
                self.imports.append(node)
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, list):
                    stack.extend(item for item in value if isinstance(item, ast.AST))
                elif isinstance(value, ast.AST):
                    stack.append(value)

    def _annotation(self, annotation: ast.expr | None) -> None:
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            self.names |= _Scan(ast.parse(annotation.value, mode="eval")).names


def _free(tree: ast.Module) -> set[str]:
    """The names a module's code reads from module scope: at top level, and in each function whatever it does
    not bind itself (parameters, assignments, loop and comprehension targets, `except ... as`)."""
    names: set[str] = set()
    for node in tree.body:
        scan = _Scan(node)
        if not isinstance(node, ast.FunctionDef):  # what it stores is bound here (comprehension targets too)
            names |= scan.names - scan.stored
            continue
        # Defaults and annotations are read where the function is defined, the body where it runs.
        args = node.args
        outside: list[ast.AST] = [*args.defaults, *[d for d in args.kw_defaults if d]]
        outside += [a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg,
                                           args.kwarg) if a and a.annotation]
        outside += [node.returns] if node.returns else []
        names |= scan.names - scan.stored - scan.bound - {node.name}
        for item in outside:
            names |= _Scan(item).names
    return names


def _prune(main: str, tree: ast.Module) -> str:
    """The section module (`tree` is its code, line for line) without the from-imports of names it no longer
    uses (re-exports `a as a` stay)."""
    scan = _Scan(tree)
    used = scan.names
    lines = main.splitlines(keepends=True)
    edits = []
    for node in scan.imports:
        kept = [a for a in node.names if a.asname == a.name or (a.asname or a.name) in used]
        if len(kept) == len(node.names):
            continue
        pad = lines[node.lineno - 1][:node.col_offset]
        names = [f"{a.name} as {a.asname}" if a.asname else a.name for a in kept]
        edits.append((node.lineno, node.end_lineno or node.lineno,
                      _import_line(node.module or "", names, pad) + "\n" if kept else ""))
    for start, end, text in sorted(edits, reverse=True):
        lines[start - 1:end] = [text]
    return "".join(lines)
