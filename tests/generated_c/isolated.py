"""Import another build's generated Python package beside the shipped one, without either seeing the other.

Every generated module imports its package by its one absolute name
(`from vfiogen_state import _runtime`, `lazy_module("vfiogen_state._x_enums")`,
`lazy_module("vfiogen_state._x_more")`),
and in the test process that name is generated/python's package. So, while
another build's modules are imported, the shipped package's entries in
`sys.modules` are set aside and that build's directory leads `sys.path`; every
module of it is imported eagerly (its lazy enum and sidecar modules resolved too), and
then the shipped entries are put back. The other build's modules keep the
references they took at import: their own `_runtime`, enums and sections.

This runs exactly the files `vfiogen build` wrote, unlike copying them
under a renamed package, and needs no subprocess per question, unlike
asking a second interpreter.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

PACKAGE = "vfiogen_state"


def _ours(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def import_build(python_dir: Path) -> dict[str, ModuleType]:
    """Every module of the `vfiogen_state` package under `python_dir`, by module name (`_runtime`, `cov_nested`...)."""
    saved = {name: module for name, module in sys.modules.items() if _ours(name)}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(python_dir))
    importlib.invalidate_caches()
    try:
        package = importlib.import_module(PACKAGE)
        assert Path(package.__file__ or "").parent == python_dir / PACKAGE, package.__file__
        modules = {path.stem: importlib.import_module(f"{PACKAGE}.{path.stem}")
                   for path in sorted((python_dir / PACKAGE).glob("*.py")) if path.stem != "__init__"}
        for module in modules.values():
            for attr in ("_E", "_M"):  # the lazy enums and the sidecar (validate, capture, ...): resolved now
                lazy = module.__dict__.get(attr)
                if lazy is not None and not isinstance(lazy, ModuleType):
                    lazy.__dict__.update(vars(importlib.import_module(lazy.__dict__["_lazy_name"])))
    finally:
        for name in [name for name in sys.modules if _ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)
        sys.path.remove(str(python_dir))
        importlib.invalidate_caches()
    return modules
