"""tests/object_cache.py: the generated C compiled once per run, shared safely by concurrent pytest-xdist workers.

A fake compiler (a script) logs every source it compiles and takes a while over each, so that two processes
asking for the same build at once overlap.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT

import object_cache

FAKE_CC = textwrap.dedent("""\
    #!{python}
    import sys, time
    args = sys.argv[1:]
    if args == ["--version"]:
        print("fake cc 1.0")
        sys.exit(0)
    source, out = args[args.index("-c") + 1], args[args.index("-o") + 1]
    if "broken" in open(source).read():
        print(source + ":1:1: error: broken", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.2)
    with open("{log}", "a") as log:
        log.write(source + "\\n")
    with open(out, "w") as obj:
        obj.write("object of " + source + " with " + " ".join(args))
""")


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(fake compiler, its log, a C directory of four sources and a header)."""
    log = tmp_path / "log"
    cc = tmp_path / "fakecc"
    cc.write_text(FAKE_CC.format(python=sys.executable, log=log))
    cc.chmod(0o755)
    c_dir = tmp_path / "c"
    c_dir.mkdir()
    for name in "abcd":
        (c_dir / f"{name}.c").write_text(f"int {name};\n")
    (c_dir / "x.h").write_text("#define X 1\n")
    return cc, log, c_dir


def _compiled_in_a_process(cc: Path, c_dir: Path, root: Path) -> subprocess.Popen[str]:
    code = (f"import sys; sys.path.insert(0, {str(ROOT / 'tests')!r}); import object_cache; "
            f"from pathlib import Path; object_cache.root = Path({str(root)!r}); "
            f"print(*object_cache.compiled({str(cc)!r}, ['-O1'], Path({str(c_dir)!r})))")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_at_once_compile_each_source_once(setup: tuple[Path, Path, Path], tmp_path: Path) -> None:
    cc, log, c_dir = setup
    root = tmp_path / "objects"
    first, second = _compiled_in_a_process(cc, c_dir, root), _compiled_in_a_process(cc, c_dir, root)
    outputs = [p.communicate(timeout=60) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    assert outputs[0][0] == outputs[1][0]  # the same objects
    objects = [Path(p) for p in outputs[0][0].split()]
    assert [o.name for o in objects] == ["a.o", "b.o", "c.o", "d.o"]
    assert all(o.read_text().startswith(f"object of {c_dir / o.stem}.c") for o in objects)
    assert sorted(log.read_text().split()) == [str(c_dir / f"{n}.c") for n in "abcd"]  # each compiled once
    assert not [p for p in objects[0].parent.iterdir() if p.suffix == ".o" and p not in objects]  # no partials


def test_a_changed_file_or_flag_gives_other_objects(setup: tuple[Path, Path, Path], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cc, log, c_dir = setup
    monkeypatch.setattr(object_cache, "root", tmp_path / "objects")
    first = object_cache.compiled(str(cc), ["-O1"], c_dir)
    assert object_cache.compiled(str(cc), ["-O1"], c_dir) == first
    assert len(log.read_text().split()) == 4  # asked again: nothing recompiled
    other_flags = object_cache.compiled(str(cc), ["-O2"], c_dir)
    assert other_flags[0].parent != first[0].parent and "-O2" in other_flags[0].read_text()
    (c_dir / "x.h").write_text("#define X 2\n")  # a header: every source may include it
    edited = object_cache.compiled(str(cc), ["-O1"], c_dir)
    assert edited[0].parent not in (first[0].parent, other_flags[0].parent)
    assert len(log.read_text().split()) == 12


def test_a_compile_error_fails_the_caller_with_the_compilers_message(setup: tuple[Path, Path, Path],
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cc, _, c_dir = setup
    monkeypatch.setattr(object_cache, "root", tmp_path / "objects")
    (c_dir / "b.c").write_text("broken\n")
    with pytest.raises(AssertionError, match=r"b\.c:1:1: error: broken"):
        object_cache.compiled(str(cc), ["-O1"], c_dir)
