"""vfiogen.cache: `check` and `build` answered from the result cache print and write exactly what a compile does.

Each test turns the cache on (tests/conftest.py turns it off for every other test) in a directory of its own,
and counts the compiles by wrapping `driver.compile_schemas`: a run the cache answers never calls it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import GENERATED, SCHEMAS, run_cli
from test_cli import BAD, GOOD, WARNS  # a clean schema, one with a warning (VG0518), one with an error
from vfiogen import cache, driver


@pytest.fixture
def compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Turn the cache on in `tmp_path/cache`, run in `tmp_path/work`, and count compiles (one item each)."""
    monkeypatch.setenv("VFIOGEN_NO_CACHE", "0")
    monkeypatch.setenv("VFIOGEN_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    counted: list[int] = []
    compile_schemas = driver.compile_schemas

    def counting(*args: object, **kwargs: object) -> driver.Result:
        counted.append(1)
        return compile_schemas(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(driver, "compile_schemas", counting)
    return counted


def _entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("vfiogen-result-*.marshal"))


def _tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _put(name: str, text: str) -> str:
    Path(name).write_text(text, "utf-8")
    return name


def test_a_second_check_is_answered_from_the_cache_with_the_same_output(compiles: list[int], tmp_path: Path) -> None:
    first = run_cli("check", _put("s.yaml", WARNS))
    second = run_cli("check", "s.yaml")
    assert len(compiles) == 1
    assert "warning[VG0518]" in first.stderr
    assert (second.status, second.stdout, second.stderr) == (first.status, first.stdout, first.stderr) == (
        0, "", first.stderr)
    assert len(_entries(tmp_path)) == 1


def test_json_diagnostics_are_replayed_as_printed(compiles: list[int]) -> None:
    first = run_cli("check", _put("s.yaml", WARNS), "--format", "json")
    second = run_cli("check", "s.yaml", "--format", "json")
    text = run_cli("check", "s.yaml")
    assert len(compiles) == 2  # another format is another key
    assert '"code": "VG0518"' in first.stdout
    assert (second.status, second.stdout, second.stderr) == (first.status, first.stdout, first.stderr)
    assert text.stdout == "" and "warning[VG0518]" in text.stderr


def test_the_standard_library_builds_from_the_cache_byte_for_byte(compiles: list[int], tmp_path: Path) -> None:
    schemas = os.path.relpath(SCHEMAS)
    first = run_cli("build", schemas, "-o", "one")
    second = run_cli("build", schemas, "-o", "two")
    assert len(compiles) == 1
    assert first.status == second.status == 0
    listed = [line for line in (GENERATED / "MANIFEST").read_text("utf-8").splitlines() if not line.startswith("#")]
    shipped = {path: (GENERATED / path).read_bytes() for path in [*listed, "MANIFEST"]}
    assert first.stderr == f"vfiogen: {len(shipped)} files in one/, {len(shipped)} changed\n"
    assert second.stderr == f"vfiogen: {len(shipped)} files in two/, {len(shipped)} changed\n"
    assert _tree(tmp_path / "work" / "one") == _tree(tmp_path / "work" / "two") == shipped
    # two/ now holds the lock this build wrote: the run with it was kept too (a module agrees with its own lock)
    again = run_cli("build", schemas, "-o", "two", "--check")
    assert (again.status, again.stderr, len(compiles)) == (0, "", 1)
    assert run_cli("build", schemas, "-o", "two").stderr == f"vfiogen: {len(shipped)} files in two/, 0 changed\n"
    assert len(compiles) == 1


def test_a_changed_byte_option_or_lock_is_another_key(compiles: list[int]) -> None:
    """Each run that cannot answer as the previous one did compiles (the count of compiles says which)."""
    run_cli("build", _put("s.yaml", GOOD), "-o", "out")
    assert len(compiles) == 1
    Path("s.yaml").write_text(GOOD.replace("title: T", "title: U"), "utf-8")
    run_cli("build", "s.yaml", "-o", "out2")
    assert len(compiles) == 2
    run_cli("build", "s.yaml", "-o", "out3", "--license", "MIT")
    assert len(compiles) == 3
    run_cli("check", "s.yaml", "-W", "no-VG0518")
    run_cli("check", "s.yaml")
    assert len(compiles) == 5
    lock = Path("out3/schema.lock.json")
    run_cli("build", "s.yaml", "-o", "out3", "--license", "MIT")  # its own lock is there now: kept under that too
    assert len(compiles) == 5
    lock.write_text(lock.read_text("utf-8").replace('"title": "U"', '"title": "V"'), "utf-8")
    run_cli("build", "s.yaml", "-o", "out3", "--license", "MIT")  # another previous lock
    assert len(compiles) == 6
    run_cli("build", "s.yaml", "-o", "out3", "--license", "MIT", "--accept-break")  # another option
    assert len(compiles) == 7


def test_errors_are_never_kept(compiles: list[int], tmp_path: Path) -> None:
    first = run_cli("check", _put("s.yaml", BAD))
    second = run_cli("check", "s.yaml")
    assert first.status == second.status == 1
    assert first.stderr == second.stderr and "error[VG0302]" in first.stderr
    assert len(compiles) == 2 and _entries(tmp_path) == []


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "foreign"])
def test_a_damaged_entry_is_ignored_and_replaced(compiles: list[int], tmp_path: Path, damage: str) -> None:
    first = run_cli("build", _put("s.yaml", WARNS), "-o", "one")
    entry, alias = _entries(tmp_path)  # without a lock, and with the lock it wrote: one file, linked
    assert entry.samefile(alias)
    data = entry.read_bytes()
    if damage == "flip":  # one bit of a generated file's text, deep in the payload
        data = data[:-100] + bytes([data[-100] ^ 0x01]) + data[-99:]
    elif damage == "truncate":
        data = data[:len(data) // 2]
    elif damage == "empty":
        data = b""
    else:  # the digest of its payload, but not an entry
        import hashlib
        import marshal

        payload = marshal.dumps(("", "", {"a": 1}))
        data = hashlib.blake2b(payload, digest_size=32).digest() + payload
    entry.write_bytes(data)
    second = run_cli("build", "s.yaml", "-o", "two")
    assert len(compiles) == 2
    assert (second.status, second.stdout) == (first.status, first.stdout)
    assert _tree(tmp_path / "work" / "one") == _tree(tmp_path / "work" / "two")
    assert entry.read_bytes() != data  # rewritten by the compile
    run_cli("build", "s.yaml", "-o", "three")
    assert len(compiles) == 2


def test_no_cache_neither_reads_nor_writes(compiles: list[int], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    run_cli("check", _put("s.yaml", GOOD), "--no-cache")
    run_cli("check", "s.yaml", "--no-cache")
    assert len(compiles) == 2 and _entries(tmp_path) == []
    run_cli("check", "s.yaml")
    run_cli("check", "s.yaml", "--no-cache")
    assert len(compiles) == 4
    monkeypatch.setenv("VFIOGEN_NO_CACHE", "1")
    run_cli("check", "s.yaml")
    assert len(compiles) == 5 and len(_entries(tmp_path)) == 1


def test_debugging_options_are_not_cached(compiles: list[int], tmp_path: Path) -> None:
    run_cli("check", _put("s.yaml", GOOD), "--dump-ir-after", "lower")
    run_cli("check", "s.yaml", "--stop-before", "layout")
    run_cli("check", "s.yaml", "--stop-before", "layout")
    assert len(compiles) == 3 and _entries(tmp_path) == []


def test_the_directory_keeps_the_most_recently_used(compiles: list[int], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def later(*args: str) -> None:
        """A run whose file times follow the last run's: the kernel stamps them from a clock that moves in ticks of
        a few milliseconds, and runs in one process can share a tick (the prune would then order them by name)."""
        time.sleep(0.03)
        run_cli(*args)

    monkeypatch.setattr(cache, "ENTRIES_KEPT", 2)
    for title in "ABC":
        later("check", _put(f"{title}.yaml", GOOD.replace("title: T", f"title: {title}")))
    assert len(_entries(tmp_path)) == 2
    compiles.clear()
    later("check", "C.yaml")
    later("check", "B.yaml")
    assert compiles == []
    later("check", "A.yaml")  # pruned first, as the oldest
    assert compiles == [1]
    later("check", "B.yaml")  # read after C, so C was pruned when A was kept, though B was written first
    assert compiles == [1]


def test_an_answered_run_does_not_import_the_compiler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What makes a warm `check` fast: the command line reaches the cache without importing the driver, the
    YAML loader or jinja (a run of its own, as `sys.modules` in this one holds them all)."""
    monkeypatch.setenv("VFIOGEN_NO_CACHE", "0")
    monkeypatch.setenv("VFIOGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    _put("s.yaml", GOOD)
    program = ("import sys\nfrom vfiogen import cli\n"
               "status = cli.main(['check', 's.yaml'])\n"
               "print(status, *sorted(m for m in ('vfiogen.driver', 'yaml', 'jinja2') if m in sys.modules))")
    runs = [subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs == ["0 vfiogen.driver yaml\n", "0\n"], runs  # a compiled check renders nothing: no jinja


def test_an_unsafe_directory_is_not_used(compiles: list[int], tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir(mode=0o755)
    os.chmod(tmp_path / "cache", 0o755)  # readable by others: not private
    run_cli("check", _put("s.yaml", GOOD))
    run_cli("check", "s.yaml")
    assert len(compiles) == 2 and _entries(tmp_path) == []


def test_the_default_directory_is_made_private_as_jinja_makes_it(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VFIOGEN_CACHE_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    made = tmp_path / f"_jinja2-cache-{os.getuid()}"
    assert cache.directory() == str(made) and (made.stat().st_mode & 0o777) == 0o700
    os.chmod(made, 0o755)
    assert cache.directory() == str(made) and (made.stat().st_mode & 0o777) == 0o700
    made.rmdir()
    made.symlink_to(tmp_path)  # a link, as another user could plant: refused
    assert cache.directory() is None
