"""The two sides of `vfiogen diff`: a lock file, a schema directory, or schemas at a git revision."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from vfiogen import driver
from vfiogen.backends.lock.emit import lock_data
from vfiogen.context import Context
from vfiogen.diagnostics import Reporter, render_text
from vfiogen.diff.compare import Locator, locate


class SideError(Exception):
    """A side cannot be read or does not check; the message says which and why."""


@dataclass(frozen=True)
class Side:
    lock: dict[str, Any]
    places: Locator


def read_side(given: str, extra: list[str] | None = None) -> Side:
    """A lock file as it is, or a schema directory compiled with the `extra` directories (`diff --with`)."""
    path = Path(given)
    if path.is_file() and path.suffix == ".json":
        try:
            lock = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SideError(f"cannot read the lock '{given}': {exc}") from exc
        if not isinstance(lock, dict) or not isinstance(lock.get("sections"), dict):
            raise SideError(f"'{given}' is not a vfiogen schema lock (no 'sections' object)")
        return Side(lock, {})
    if not path.exists():
        raise SideError(f"'{given}' is neither a schema directory nor a lock file")
    return _compile(given, extra or [])


def _compile(given: str, extra: list[str]) -> Side:
    ctx = Context(reporter=Reporter())
    inputs = driver.discover([given, *extra], ctx.reporter)
    if not inputs and not ctx.reporter.error_count:
        raise SideError(f"no *.yaml schemas under {given}")
    result = driver.compile_schemas(inputs, ctx)
    if result.module is None:
        raise SideError(f"the schemas under '{given}' do not check:\n"
                        + render_text(ctx.reporter.sorted(), ctx.sources).rstrip())
    return Side(lock_data(result.module), locate(result.module))


def read_revision(revision: str, schemas: str, extra: list[str] | None = None) -> Side:
    """The schemas at `schemas` as git revision `revision` of the repository holding them had them, compiled
    with the `extra` directories as they are now (a hypervisor's sections kept elsewhere)."""
    directory = Path(schemas).resolve()
    top = _git(["rev-parse", "--show-toplevel"], directory if directory.is_dir() else directory.parent)
    root = Path(top.decode().strip())
    relative = os.path.relpath(directory, root)
    archive = _git(["archive", "--format=tar", revision, "--", relative], root)
    with tempfile.TemporaryDirectory(prefix="vfiogen-diff-") as temp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(temp, filter="data")
        side = _compile(os.path.join(temp, relative), extra or [])
        # Name the old side's files as the repository does, not by the temporary copy.
        prefix = os.path.relpath(temp) + "/"
        places = {key: replace(place, file=place.file.removeprefix(prefix).removeprefix(temp + "/"))
                  for key, place in side.places.items()}
        return Side(side.lock, places)


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as exc:
        raise SideError(f"cannot run git: {exc.strerror}") from exc
    if done.returncode != 0:
        raise SideError(f"git {args[0]} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout
