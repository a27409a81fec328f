"""Compile a build's generated C once per compiler and flags for a whole test run, pytest-xdist workers included.

Most C tests link a program of their own against every generated source compiled at the same strict flags
(with gcc or clang under ASan/UBSan, or the s390x cross compiler). Compiling those sources is most of a C
test's time (vfg_vendor_specific.c alone takes some 15 s under gcc's sanitizers), and a test run used to
do it once per test module and compiler, on each xdist worker that ran the module.

`compiled(compiler, flags, c_dir)` returns the object files of every `*.c` in `c_dir`, compiled with
`[compiler, *flags, "-I", c_dir, "-c", source]`, from a directory named by a hash of the compiler (its
path and version), the flags and the content of every file in `c_dir`: another tree (a test's own build)
or other flags get other objects, and nothing a test changes can be served stale. The directory is under
the run's temporary root, which conftest.py sets for the session and which the xdist workers of one run
share (`<basetemp>/objects`); outside pytest (fuzz.py), a directory of the caller's or of the process.

The workers share it safely: an object is compiled to a name of the worker's own and renamed into place
(`os.replace`, atomic), so no one reads a half-written object, and under an exclusive `flock` on the
object's lock file, so that two workers do not compile the same source. A worker first compiles the
sources no one else is compiling and then waits for the rest: two workers needing the same build split
it between them.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

root: Path | None = None
"""Where the objects go; conftest.py sets it to the run's shared temporary root."""


def _root() -> Path:
    global root
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="vfiogen-objects-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


@functools.cache
def _identity(compiler: str) -> str:
    """The compiler's path and version: a directory kept across runs (`fuzz.py --workdir`) then holds no
    objects of a compiler since upgraded."""
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout
    return f"{shutil.which(compiler) or compiler}\0{version}"


def _key(compiler: str, flags: Sequence[str], c_dir: Path) -> str:
    digest = hashlib.sha256()
    for word in (_identity(compiler), *flags):
        digest.update(word.encode() + b"\0")
    for path in sorted(p for p in c_dir.iterdir() if p.is_file()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _compile(compiler: str, flags: Sequence[str], c_dir: Path, source: Path, obj: Path, wait: bool) -> bool:
    """Make `obj` unless it exists; False (without waiting) if another process is making it and not `wait`."""
    if obj.exists():
        return True
    with open(obj.with_suffix(".lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        if obj.exists():  # made by the process that held the lock
            return True
        partial = obj.with_suffix(f".{os.getpid()}.o")
        result = subprocess.run([compiler, *flags, "-I", str(c_dir), "-c", str(source), "-o", str(partial)],
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{compiler} {' '.join(flags)} {source.name}:\n{result.stderr}"
        os.replace(partial, obj)
    return True


def compiled(compiler: str, flags: Sequence[str], c_dir: Path) -> list[Path]:
    """The object of every `*.c` in `c_dir` (in name order), compiled with `compiler` and `flags`.

    A compile error fails the caller with the compiler's messages."""
    sources = sorted(c_dir.glob("*.c"))
    directory = _root() / f"{Path(compiler).name}-{_key(compiler, flags, c_dir)}"
    directory.mkdir(parents=True, exist_ok=True)
    pending = [(source, directory / f"{source.stem}.o") for source in sources]
    for wait in (False, True):  # first the sources no other worker is compiling, then wait for those
        pending = [(s, o) for s, o in pending if not _compile(compiler, flags, c_dir, s, o, wait)]
    assert not pending
    return [directory / f"{source.stem}.o" for source in sources]
