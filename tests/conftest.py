"""Shared fixtures: paths and a helper that runs the CLI in-process."""

from __future__ import annotations

import io
import os
import re
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from vfiogen.ir.checked import CheckedModule

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
GENERATED = ROOT / "generated"
SHARED_DATA = ROOT.parent / "shared" / "data"


@dataclass
class CliResult:
    status: int
    stdout: str
    stderr: str


def standard_module() -> "CheckedModule":
    """The checked IR of the shipped schemas (schemas/), compiled in-process; a compile error fails the caller."""
    from vfiogen import driver
    from vfiogen.context import Context
    from vfiogen.diagnostics import Reporter

    ctx = Context(reporter=Reporter())
    result = driver.compile_schemas(driver.discover([str(SCHEMAS)], ctx.reporter), ctx)
    assert result.module is not None, ctx.reporter.sorted()
    return result.module


def run_cli(*args: str) -> CliResult:
    from vfiogen.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            status = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            status = int(exc.code or 0)
    return CliResult(status, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> type[CliResult]:
    return CliResult


def aer_before_qemu_8_0(text: str) -> str:
    """The shipped AER schema as a build before QEMU 8.0 widened the Uncorrectable Error Mask: that register
    alone takes a copy of the uncorrectable layout without bits 27..31, which are reserved there."""
    start = text.index("  uncorrectable_errors:\n")
    end = start + re.search(r"\n  \S", text[start + 1:]).start() + 2  # type: ignore[union-attr]
    layout = text[start:end]
    older, removed = re.subn(r"^ {4}\w+: +\{bits: (2[7-9]|3[01])\b.*\n", "", layout, flags=re.M)
    assert removed == 5, removed
    older = older.replace("  uncorrectable_errors:\n", "  uncorrectable_errors_before_8_0:\n", 1)
    mask = re.compile(r"(uncorrectable_error_mask: +\{offset: 0x08, width: 32, fields: )uncorrectable_errors,")
    text, count = mask.subn(r"\1uncorrectable_errors_before_8_0,", text[:end] + older + text[end:])
    assert count == 1
    return text


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite expected golden files")


@pytest.fixture(scope="session", autouse=True)
def _shared_object_cache(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> None:
    """Point object_cache at this run's temporary root, which the pytest-xdist workers of a run share (each
    worker's basetemp is `<root>/popen-gwN`), so that the generated C is compiled once per run, not per worker."""
    import object_cache

    base = tmp_path_factory.getbasetemp()
    object_cache.root = (base.parent if hasattr(request.config, "workerinput") else base) / "objects"


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


# The CLI's result cache (vfiogen.cache) is off in tests, which patch the compiler and must see it run; the
# cache's own tests (tests/unit/test_result_cache.py) turn it on, in a directory of their own.
os.environ["VFIOGEN_NO_CACHE"] = "1"
sys.path.insert(0, str(ROOT / "tests"))
# The generated Python package is imported from generated/python/, as a user would vendor it.
sys.path.insert(0, str(GENERATED / "python"))
