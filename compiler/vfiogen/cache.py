"""The result cache of `vfiogen check` and `vfiogen build`: a run's diagnostics and outputs, keyed by content.

A check or build is a pure function of the compiler, the schema files (their names and bytes), the options
that change what it prints or writes, and, for a build, the lock the previous build left in the output
directory. `key` hashes all of them; a run with the same key prints the same diagnostics and renders the same
files, so the command line (`cli`) answers it from the entry the first run saved, without importing the
compiler, in about the time it takes to read the files (as mypy's incremental cache or Python's .pyc files
do). What `build` then does with its outputs (`--check`, writing changed files) runs as usual.

* **The compiler** is the bytes of every file of this package (code, templates, the meta-schema), the Python
  version, and the size and modification time of the files of the packages whose behaviour shows in the
  outputs or diagnostics (PyYAML and libyaml's binding, Jinja2, MarkupSafe, jsonschema): editing vfiogen or
  upgrading one of those gives new keys.
* **Only clean runs are kept**: a run with an error (or an internal error, or an unreadable input) is never
  saved, so it is always compiled and reported afresh. Warnings are kept, as printed.
* **A clean build is also kept under the key with its own lock** as the previous one (`cli`): the lock check
  only reports errors, and a module always agrees with its own lock, so the next identical build into the
  same directory, which now holds that lock, prints and writes the same. Without it, the build after an edit
  would compile twice before the cache answered.
* **An entry is `blake2b(payload) + payload`**, the payload being `marshal` of (stdout, stderr, outputs).
  A truncated, damaged or foreign entry fails the digest or the type check and is ignored (the run
  compiles), never trusted. Entries are written atomically; the `ENTRIES_KEPT` most recently used are kept.
* **Where**: the per-user directory the build's other caches use (`_jinja2-cache-UID` under the temporary
  directory, mode 0700, as Jinja2 makes it), or `$VFIOGEN_CACHE_DIR`, which must be a private directory (mode
  0700) of this user, or no cache is used. Deleting it is always safe.
  `--no-cache` or `VFIOGEN_NO_CACHE=1` turns this cache off (the run neither reads nor writes it).
"""

from __future__ import annotations

import marshal
import os
import stat
import sys
from pathlib import Path

try:  # `hashlib` would load OpenSSL first (2 ms) to give the same function
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter built without it
    from hashlib import blake2b

TYPE_CHECKING = False  # not `typing`'s, which a run the cache answers would import for nothing
if TYPE_CHECKING:
    from vfiogen.inputs import SchemaInput

ENTRIES_KEPT = 16
"""How many entries the directory keeps (the most recently used): a few schema trees, each checked and built,
with room for the edits between. An entry of the standard library's build is about 4.5 MB (its alias under
its own lock is a link to the same file), so the directory holds at most about 70 MB of them."""

_PREFIX = "vfiogen-result-"
_SUFFIX = ".marshal"
_DIGEST = 32
_DEPENDENCIES = ("yaml", "jinja2", "markupsafe", "jsonschema")
"""The packages whose code can change an output or a diagnostic's text (libyaml's binding is in `yaml`)."""

Entry = tuple[str, str, "dict[str, str] | None"]
"""What a run printed on stdout and on stderr, and for a build the files it renders (with the manifest)."""


def enabled() -> bool:
    """False when `VFIOGEN_NO_CACHE` is set to anything but '' or '0'."""
    return os.environ.get("VFIOGEN_NO_CACHE", "") in ("", "0")


def directory() -> str | None:
    """The per-user cache directory, made if missing; None when it cannot be made safely (another user owns it,
    it is a link, or `$VFIOGEN_CACHE_DIR` names one others may read or write), which only costs the time."""
    chosen = os.environ.get("VFIOGEN_CACHE_DIR")
    default = not chosen
    if default:
        if not hasattr(os, "getuid"):
            return None
        temporary = next((os.environ[name] for name in ("TMPDIR", "TEMP", "TMP") if os.environ.get(name)), "/tmp")
        chosen = os.path.join(temporary, f"_jinja2-cache-{os.getuid()}")
    assert chosen is not None
    try:
        os.makedirs(chosen, mode=stat.S_IRWXU, exist_ok=True)
        found = os.lstat(chosen)
        ours = stat.S_ISDIR(found.st_mode) and (not hasattr(os, "getuid") or found.st_uid == os.getuid())
        if ours and default and stat.S_IMODE(found.st_mode) != stat.S_IRWXU:
            os.chmod(chosen, stat.S_IRWXU)  # as jinja does with the directory it shares with us
            found = os.lstat(chosen)
    except OSError:
        return None
    return chosen if ours and stat.S_IMODE(found.st_mode) == stat.S_IRWXU else None


def _compiler(digest: blake2b) -> None:
    """Feed `digest` what identifies this compiler: its package's files, Python, and its dependencies' files."""
    digest.update(sys.version.encode())
    package = Path(__file__).parent
    files: list[str] = []
    for folder, subfolders, names in os.walk(package):
        subfolders[:] = [name for name in subfolders if name != "__pycache__" and not name.startswith(".")]
        files.extend(os.path.join(folder, name) for name in names if not name.endswith((".pyc", ".pyo")))
    for path in sorted(files):
        with open(path, "rb") as stream:
            data = stream.read()
        digest.update(f"\0{os.path.relpath(path, package)}\0{len(data)}\0".encode())
        digest.update(data)
    for name in _DEPENDENCIES:
        found = next((os.path.join(folder, name) for folder in sys.path if os.path.isdir(os.path.join(folder, name))),
                     None)
        if found is not None:
            _stamp(digest, found)


def _listing(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _stamp(digest: blake2b, package: str) -> None:
    """The name, size and modification time of each file directly in the package directory `package`."""
    for entry in [os.path.join(package, name) for name in sorted(_listing(package))]:
        try:
            found = os.stat(entry)
        except OSError:
            continue
        if not stat.S_ISREG(found.st_mode):  # `__pycache__` changes as modules are first imported
            continue
        digest.update(f"\0{entry}\0{found.st_size}\0{found.st_mtime_ns}".encode())


def key(options: list[str], inputs: list[SchemaInput], previous_lock: bytes | None) -> str:
    """The key of a run: the compiler, `options` (the command and every option that changes what it prints or
    renders), each input's shown path, canonical name and bytes, and the previous build's lock (None: none)."""
    global _COMPILER
    if _COMPILER is None:
        _COMPILER = blake2b(digest_size=_DIGEST)
        _compiler(_COMPILER)
    digest = _COMPILER.copy()
    for option in options:
        digest.update(f"\0option {len(option)} {option}".encode())
    for schema in inputs:
        shown, name = schema.display_path.encode(), schema.source_name.encode()
        digest.update(b"\0input %d %d %d " % (len(shown), len(name), len(schema.data)))
        digest.update(shown + name + schema.data)
    if previous_lock is not None:
        digest.update(b"\0lock %d " % len(previous_lock) + previous_lock)
    return digest.hexdigest()


_COMPILER: blake2b | None = None
"""The digest of the compiler (`_compiler`), worked out once per process."""


def _entry_path(folder: str, run_key: str) -> str:
    return os.path.join(folder, f"{_PREFIX}{run_key}{_SUFFIX}")


def load(run_key: str) -> Entry | None:
    """The entry saved under `run_key`, or None (no cache, no entry, or an entry that fails its digest or is not
    an entry)."""
    folder = directory()
    if folder is None:
        return None
    path = _entry_path(folder, run_key)
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError:
        return None
    payload = memoryview(data)[_DIGEST:]
    if len(data) < _DIGEST or blake2b(payload, digest_size=_DIGEST).digest() != data[:_DIGEST]:
        return None
    try:
        value = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    if not (isinstance(value, tuple) and len(value) == 3 and type(value[0]) is str and type(value[1]) is str):
        return None
    outputs = value[2]
    if outputs is not None and not (type(outputs) is dict
                                    and all(type(k) is str and type(v) is str for k, v in outputs.items())):
        return None
    try:
        os.utime(path)  # most recently used: the last to be pruned
    except OSError:
        pass
    return value[0], value[1], outputs


def save(run_key: str, entry: Entry, aliases: list[str] | None = None) -> None:
    """Keep `entry` under `run_key` and each of `aliases` (atomically; the aliases as links to one file), and
    prune the directory to the `ENTRIES_KEPT` most recently used; a failure only costs the next run its time."""
    folder = directory()
    if folder is None:
        return
    payload = marshal.dumps(entry)
    first = _entry_path(folder, run_key)
    for number, name in enumerate([run_key, *(alias for alias in aliases or [] if alias != run_key)]):
        target = _entry_path(folder, name)
        temporary = f"{target}.{os.getpid()}.tmp"
        try:
            try:
                if not number:
                    raise OSError
                os.link(first, temporary)
            except OSError:  # the first, or a file system without links: written out
                with open(temporary, "wb") as stream:
                    stream.write(blake2b(payload, digest_size=_DIGEST).digest())
                    stream.write(payload)
            os.replace(temporary, target)
        except OSError:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            return
    _prune(folder)


def _prune(folder: str) -> None:
    entries = []
    for name in _listing(folder):
        if name.startswith(_PREFIX) and name.endswith(_SUFFIX):
            try:
                entries.append((os.stat(os.path.join(folder, name)).st_mtime_ns, name))
            except OSError:
                continue
    for _, name in sorted(entries, reverse=True)[ENTRIES_KEPT:]:
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass
