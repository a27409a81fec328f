"""vfiogen.driver: discovery, the pass pipeline, rendering and writing outputs."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from unit_support import CAP_HEADER, compile_text, compile_texts
from vfiogen import driver
from vfiogen.context import Context
from vfiogen.diagnostics import Diagnostic, Reporter, Severity
from vfiogen.ir.checked import CheckedModule
from vfiogen.ir.dump import dump
from vfiogen.outputs import MANIFEST, stale_files, with_manifest, write_outputs
from vfiogen.passes import PassNameError
from vfiogen.source import Span

GOOD = CAP_HEADER + "registers:\n  r: {offset: 0, width: 16, access: ro}\n"
WARNS = CAP_HEADER + "registers:\n  r: {offset: 0, width: 16, access: ro}\nrestore: [r]\n"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")


# --- discover --------------------------------------------------------------------------------------------

def test_discover_a_directory_names_files_canonically_and_sorts_them(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "schemas"
    write(root, {"z.yaml": "a: 1\n", "sections/b.yml": "b: 1\n", "sections/a.yaml": "c: 1\n",
                 "notes.txt": "x", "sections/skip.json": "{}"})
    (root / "dir.yaml").mkdir()  # a directory named like a schema is not a schema
    monkeypatch.chdir(tmp_path)
    reporter = Reporter()
    found = driver.discover(["schemas"], reporter)
    assert reporter.diagnostics == []
    assert [(s.display_path, s.source_name, s.data) for s in found] == [
        ("schemas/sections/a.yaml", "schemas/sections/a.yaml", b"c: 1\n"),
        ("schemas/sections/b.yml", "schemas/sections/b.yml", b"b: 1\n"),
        ("schemas/z.yaml", "schemas/z.yaml", b"a: 1\n"),
    ]


def test_canonical_names_do_not_depend_on_how_the_directory_is_named(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "schemas", {"a.yaml": "a: 1\n"})
    monkeypatch.chdir(tmp_path / "schemas")
    relative = driver.discover(["."], Reporter())
    absolute = driver.discover([str(tmp_path / "schemas")], Reporter())
    dotted = driver.discover([str(tmp_path / "schemas" / ".." / "schemas")], Reporter())
    assert [s.source_name for s in relative] == [s.source_name for s in absolute] == \
        [s.source_name for s in dotted] == ["schemas/a.yaml"]
    assert relative[0].display_path == "a.yaml"


def test_discover_files_by_name_in_any_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"b.yaml": "b: 1\n", "a.yaml": "a: 1\n"})
    monkeypatch.chdir(tmp_path)
    forward = driver.discover(["a.yaml", "b.yaml"], Reporter())
    backward = driver.discover(["b.yaml", "a.yaml"], Reporter())
    assert forward == backward
    assert [s.source_name for s in forward] == ["a.yaml", "b.yaml"]


def test_discover_reports_missing_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"a.yaml": "a: 1\n"})
    monkeypatch.chdir(tmp_path)
    reporter = Reporter()
    found = driver.discover(["missing.yaml", "a.yaml"], reporter)
    assert [s.source_name for s in found] == ["a.yaml"]
    assert reporter.diagnostics == [Diagnostic(
        "VG0110", Severity.ERROR, Span("missing.yaml", 1, 1, 1, 1),
        "'missing.yaml' is neither a schema file nor a directory")]


def test_the_same_file_twice_is_compiled_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"a.yaml": "a: 1\n"})
    monkeypatch.chdir(tmp_path)
    assert [s.source_name for s in driver.discover(["a.yaml", "./a.yaml"], Reporter())] == ["a.yaml"]


def test_two_files_with_one_name_in_different_directories_are_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"one/x.yaml": "a: 1\n", "two/x.yaml": "b: 1\n"})
    monkeypatch.chdir(tmp_path)
    reporter = Reporter()
    found = driver.discover(["one/x.yaml", "two/x.yaml"], reporter)
    assert found == [driver.SchemaInput("one/x.yaml", "x.yaml", b"a: 1\n")]
    assert reporter.diagnostics == [Diagnostic(
        "VG0110", Severity.ERROR, Span("two/x.yaml", 1, 1, 1, 1),
        "'two/x.yaml' and 'one/x.yaml' would both be named 'x.yaml' in the outputs; "
        "give their directory instead, or rename one")]
    # given as directories, they get different names and are both compiled
    reporter = Reporter()
    found = driver.discover(["one", "two"], reporter)
    assert reporter.diagnostics == []
    assert [(s.source_name, s.data) for s in found] == [("one/x.yaml", b"a: 1\n"), ("two/x.yaml", b"b: 1\n")]


def test_two_directories_with_one_name_holding_one_file_name_are_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"a/schemas/x.yaml": "a: 1\n", "b/schemas/x.yaml": "b: 1\n", "b/schemas/y.yaml": "c: 1\n"})
    monkeypatch.chdir(tmp_path)
    reporter = Reporter()
    found = driver.discover(["b/schemas", "a/schemas"], reporter)
    assert [(s.display_path, s.source_name) for s in found] == [
        ("b/schemas/x.yaml", "schemas/x.yaml"), ("b/schemas/y.yaml", "schemas/y.yaml")]
    assert reporter.diagnostics == [Diagnostic(
        "VG0110", Severity.ERROR, Span("a/schemas/x.yaml", 1, 1, 1, 1),
        "'a/schemas/x.yaml' and 'b/schemas/x.yaml' would both be named 'schemas/x.yaml' in the outputs; "
        "give their directory instead, or rename one")]


# --- the pipeline ----------------------------------------------------------------------------------------

def test_pass_names_are_in_pipeline_order() -> None:
    assert driver.PASS_NAMES == ("load_yaml", "check_meta_schema", "lower", "resolve", "typecheck", "layout",
                                 "semantics", "normalize")


def test_a_clean_run_returns_the_checked_module() -> None:
    compiled = compile_text(GOOD)
    assert compiled.diagnostics == []
    assert isinstance(compiled.module, CheckedModule)
    assert compiled.result.dumps == []
    assert compiled.ctx.pass_name == "normalize"


@pytest.mark.parametrize("name", driver.PASS_NAMES)
def test_stop_before_runs_only_the_earlier_passes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    passes = tuple((n, _recording(n, run, ran)) for n, run in driver.PASSES)
    monkeypatch.setattr(driver, "PASSES", passes)
    compiled = compile_text(GOOD, stop_before=name)
    assert compiled.module is None
    assert ran == list(driver.PASS_NAMES[:driver.PASS_NAMES.index(name)])


def _recording(name: str, run: Callable[[Any, Context], Any], ran: list[str]) -> Callable[[Any, Context], Any]:
    def wrapper(value: Any, ctx: Context) -> Any:
        ran.append(name)
        return run(value, ctx)
    return wrapper


def test_stop_before_skips_the_errors_of_later_passes() -> None:
    source = CAP_HEADER + 'registers:\n  r: {offset: "nowhere", width: 16, access: ro}\n'
    assert compile_text(source).codes() == ["VG0302"]
    assert compile_text(source, stop_before="resolve").codes() == []


@pytest.mark.parametrize(("name", "first_line"), [
    ("lower", "Module"), ("resolve", "Module"), ("typecheck", "Module"), ("normalize", "CheckedModule")])
def test_dump_after_a_pass(name: str, first_line: str) -> None:
    compiled = compile_text(GOOD, dump_after=name)
    (text,) = compiled.result.dumps
    assert text.split("\n")[0] == first_line
    assert "name: 'r'" in text
    assert "span" not in text


def test_dump_after_normalize_is_the_ir_dump_of_the_module() -> None:
    compiled = compile_text(GOOD, dump_after="normalize")
    assert compiled.result.dumps == [dump(compiled.module)]


def test_dump_after_a_pass_that_reports_errors_still_dumps() -> None:
    source = CAP_HEADER + 'registers:\n  r: {offset: "nowhere", width: 16, access: ro}\n'
    compiled = compile_text(source, dump_after="resolve")
    assert compiled.codes() == ["VG0302"] and len(compiled.result.dumps) == 1


@pytest.mark.parametrize("option", ["stop_before", "dump_after"])
def test_unknown_pass_names_are_rejected(option: str) -> None:
    with pytest.raises(PassNameError, match=r"^unknown pass 'parse'; passes are: load_yaml, check_meta_schema, "
                                                   r"lower, resolve, typecheck, layout, semantics, normalize$"):
        compile_text(GOOD, **{option: "parse"})


def test_the_pipeline_stops_after_the_first_pass_with_errors() -> None:
    files = {"a.yaml": "a: yes\n", "b.yaml": "section: b\n"}  # a: load error; b: meta-schema error
    compiled = compile_texts(files)
    assert compiled.codes() == ["VG0106"]
    assert compiled.ctx.pass_name == "load_yaml"


def test_warnings_do_not_stop_the_pipeline() -> None:
    compiled = compile_text(WARNS)
    assert compiled.codes() == ["VG0518"]
    assert compiled.module is not None


def test_promoted_warnings_do_stop_it() -> None:
    compiled = compile_text(WARNS, promoted=frozenset({"VG0518"}))
    assert [(d.code, d.severity) for d in compiled.diagnostics] == [("VG0518", Severity.ERROR)]
    assert compiled.module is None


def test_garbage_collection_is_restored_even_when_a_pass_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(value: object, ctx: Context) -> object:
        assert not gc.isenabled()
        raise RuntimeError("boom")

    monkeypatch.setattr(driver, "PASSES", (("load_yaml", boom),))
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        compile_text(GOOD)
    assert gc.isenabled()


def test_load_records_sources_for_quoting() -> None:
    compiled = compile_text(GOOD)
    assert list(compiled.ctx.sources.files) == ["s.yaml"]
    assert compiled.ctx.sources.files["s.yaml"].text == GOOD


# --- rendering and writing -------------------------------------------------------------------------------

def rendered() -> dict[str, str]:
    compiled = compile_text(GOOD)
    assert compiled.module is not None
    return driver.render(compiled.module, compiled.ctx)


def test_render_collects_every_back_end() -> None:
    assert sorted(rendered()) == ["c/meson.build", "c/vfg_qemu.h", "c/vfg_runtime.c", "c/vfg_runtime.h", "c/vfg_t.c",
                                  "c/vfg_t.h", "c/vfiogen.mk", "docs/index.md", "docs/sections/t.md", "python/vfiogen_state/__init__.py",
                                  "python/vfiogen_state/_runtime.py", "python/vfiogen_state/_t_more.py",
                                  "python/vfiogen_state/py.typed", "python/vfiogen_state/t.py", "schema.lock.json"]


def test_manifest_lists_every_file_sorted() -> None:
    outputs = with_manifest({"b.txt": "b", "a/c.txt": "c"})
    assert outputs[MANIFEST] == "# Files generated by vfiogen build; do not edit.\na/c.txt\nb.txt\n"
    assert outputs["b.txt"] == "b"


def test_write_outputs_writes_only_what_changed(tmp_path: Path) -> None:
    outputs = with_manifest({"a.txt": "a\n", "sub/b.txt": "b\n"})
    assert write_outputs(tmp_path, outputs) == ["MANIFEST", "a.txt", "sub/b.txt"]
    assert (tmp_path / "sub/b.txt").read_text("utf-8") == "b\n"
    assert write_outputs(tmp_path, outputs) == []
    assert stale_files(tmp_path, outputs) == []
    changed = with_manifest({"a.txt": "A\n", "sub/b.txt": "b\n"})
    assert stale_files(tmp_path, changed) == [("a.txt", "stale; run 'vfiogen build'")]
    assert write_outputs(tmp_path, changed) == ["a.txt"]


def test_write_outputs_deletes_only_files_its_manifest_listed(tmp_path: Path) -> None:
    write_outputs(tmp_path, with_manifest({"old.txt": "o", "keep.txt": "k"}))
    (tmp_path / "mine.txt").write_text("user file", "utf-8")
    changed = write_outputs(tmp_path, with_manifest({"keep.txt": "k"}))
    assert changed == ["MANIFEST", "old.txt"]
    assert not (tmp_path / "old.txt").exists()
    assert (tmp_path / "mine.txt").read_text("utf-8") == "user file"


def test_write_outputs_without_a_manifest_deletes_nothing(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("o", "utf-8")
    assert write_outputs(tmp_path, {"new.txt": "n"}) == ["new.txt"]
    assert (tmp_path / "old.txt").exists()


def test_stale_files_reports_missing_changed_and_extra_files(tmp_path: Path) -> None:
    write_outputs(tmp_path, {"a.txt": "a", "b.txt": "b"})
    (tmp_path / "extra.txt").write_text("x", "utf-8")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"")
    assert stale_files(tmp_path, {"a.txt": "A", "b.txt": "b", "c.txt": "c"}) == [
        ("a.txt", "stale; run 'vfiogen build'"),
        ("c.txt", "stale; run 'vfiogen build'"),
        ("extra.txt", "not generated by vfiogen; remove it from the output directory"),
    ]
    assert stale_files(tmp_path / "absent", {"a.txt": "a"}) == [("a.txt", "stale; run 'vfiogen build'")]


def test_stale_files_tells_files_the_manifest_listed_from_files_it_never_listed(tmp_path: Path) -> None:
    write_outputs(tmp_path, with_manifest({"old.txt": "o", "sub/gone.txt": "g", "keep.txt": "k"}))
    (tmp_path / "mine.txt").write_text("user file", "utf-8")
    outputs = with_manifest({"keep.txt": "k"})
    assert stale_files(tmp_path, outputs) == [
        ("MANIFEST", "stale; run 'vfiogen build'"),
        ("mine.txt", "not generated by vfiogen; remove it from the output directory"),
        ("old.txt", "no longer generated; run 'vfiogen build' to delete it"),
        ("sub/gone.txt", "no longer generated; run 'vfiogen build' to delete it"),
    ]
    # following the advice: build deletes what the manifest listed, and leaves only the user's file
    write_outputs(tmp_path, outputs)
    assert stale_files(tmp_path, outputs) == [
        ("mine.txt", "not generated by vfiogen; remove it from the output directory")]
    (tmp_path / "mine.txt").unlink()
    assert stale_files(tmp_path, outputs) == []


def test_outputs_are_written_as_utf8_bytes(tmp_path: Path) -> None:
    write_outputs(tmp_path, {"u.txt": "é – ü\n"})
    assert (tmp_path / "u.txt").read_bytes() == "é – ü\n".encode()
    assert os.path.getsize(tmp_path / "u.txt") == len("é – ü\n".encode())
