"""vfiogen.backends.c.wrap: statements laid out by one build are kept for the next, which writes the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from vfiogen.backends.c import wrap

LONG = ("if (!vfg_get_be_array(state->table, VFG_MSIX_TABLE_WORDS, payload + offset, "
        "length - offset, &consumed, error_out)) {")
CALL = "status = vfg_example_nic_save_section(device, buffer, capacity, &written, VFG_SECTION_MSIX, flags)"


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with nothing laid out in this process."""
    monkeypatch.setattr(wrap, "_LAID", {})
    monkeypatch.setattr(wrap, "_used", {})
    monkeypatch.setattr(wrap, "_stored", {})


def _lay_out() -> list[list[str]]:
    return [wrap.statement(LONG[:-2], 4, " {"), wrap.statement(CALL + ";", 8), wrap.statement("x = 1;", 4)]


def test_a_stored_layout_is_what_laying_out_gives(tmp_path: Path) -> None:
    wrap.load_store(str(tmp_path))
    cold = _lay_out()
    assert all(len(line) <= wrap.LIMIT for lines in cold for line in lines)
    assert len(cold[0]) > 1 and len(cold[1]) > 1  # both needed breaking: the store holds real work
    wrap.save_store(str(tmp_path))
    stored = list(tmp_path.glob("vfiogen-c-wrap-*.marshal"))
    assert len(stored) == 1 and stored[0].stat().st_mode & 0o077 == 0

    wrap._LAID.clear()
    wrap.load_store(str(tmp_path))
    assert len(wrap._LAID) == 2  # the line that fits is never stored
    assert _lay_out() == cold


def test_another_version_of_the_rules_uses_another_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = Path(wrap.__file__).read_bytes()
    this = wrap._store_file(str(tmp_path))
    edited = tmp_path / "wrap.py"
    edited.write_bytes(source.replace(b"LIMIT = 80", b"LIMIT = 79"))
    monkeypatch.setattr(wrap, "__file__", str(edited))
    assert wrap._store_file(str(tmp_path)) != this


def test_a_warm_c_build_writes_what_a_cold_one_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unit_support import compile_texts
    from vfiogen.backends.c import emit

    root = Path(__file__).parents[2] / "schemas"
    compiled = compile_texts({path.relative_to(root).as_posix(): path.read_text("utf-8")
                              for path in root.rglob("*.yaml")})
    assert compiled.module is not None
    monkeypatch.setattr(emit, "cache_directory", lambda: str(tmp_path))
    cold = emit.CBackend().render(compiled.module)
    assert len(wrap._stored) == 0 and len(wrap._used) > 1000
    wrap._LAID.clear()
    warm = emit.CBackend().render(compiled.module)
    assert len(wrap._stored) == len(wrap._used) > 1000  # every long statement came from the store
    assert warm == cold


@pytest.mark.parametrize("content", [b"", b"not marshal", b"\x00" * 64])
def test_an_unreadable_store_is_ignored(tmp_path: Path, content: bytes) -> None:
    wrap._store_file(str(tmp_path)).write_bytes(content)
    wrap.load_store(str(tmp_path))
    assert wrap._LAID == {}
    cold = _lay_out()
    wrap.save_store(str(tmp_path))  # and replaced by a good one
    wrap._LAID.clear()
    wrap.load_store(str(tmp_path))
    assert _lay_out() == cold and len(wrap._LAID) == 2


def test_a_store_without_its_checksum_or_changed_after_writing_is_ignored(tmp_path: Path) -> None:
    import marshal

    path = wrap._store_file(str(tmp_path))
    path.write_bytes(marshal.dumps({"4:0:x": "x"}))  # a payload alone
    wrap.load_store(str(tmp_path))
    assert wrap._LAID == {}
    _lay_out()
    wrap.save_store(str(tmp_path))
    data = bytearray(path.read_bytes())
    data[-5] ^= 1  # inside a laid-out line
    path.write_bytes(bytes(data))
    wrap._LAID.clear()
    wrap.load_store(str(tmp_path))
    assert wrap._LAID == {}


def test_no_directory_no_store(tmp_path: Path) -> None:
    wrap.load_store(None)
    _lay_out()
    wrap.save_store(None)
    assert list(tmp_path.iterdir()) == []


def test_a_build_that_lays_out_nothing_new_leaves_the_store_alone(tmp_path: Path) -> None:
    wrap.load_store(str(tmp_path))
    _lay_out()
    wrap.save_store(str(tmp_path))
    path = wrap._store_file(str(tmp_path))
    before = path.stat().st_mtime_ns
    path.touch()
    touched = path.stat().st_mtime_ns
    wrap.load_store(str(tmp_path))
    _lay_out()
    wrap.save_store(str(tmp_path))
    assert path.stat().st_mtime_ns == touched and touched >= before
