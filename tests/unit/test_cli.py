"""vfiogen.cli: exit codes, options, output formats and internal errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from unit_support import compile_text
from vfiogen import driver
from vfiogen.backends.lock.emit import LockBackend
from vfiogen.context import Context
from vfiogen.ir.dump import dump

GOOD = """\
section: t
title: T
id: 1
location: {capability: {id: 5, size: 24}}
version: 1
registers:
  r: {offset: 0, width: 16, access: ro}
"""
WARNS = GOOD + "restore: [r]\n"  # VG0518: restoring a register with no writable bits
BAD = GOOD.replace("offset: 0,", 'offset: "nowhere",')  # VG0302


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty directory, so paths in diagnostics are short."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def put(directory: Path, name: str, text: str) -> str:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return name


# --- exit codes ------------------------------------------------------------------------------------------

def test_check_of_a_good_schema_exits_0_silently(here: Path) -> None:
    result = run_cli("check", put(here, "s.yaml", GOOD))
    assert (result.status, result.stdout, result.stderr) == (0, "", "")


def test_schema_errors_exit_1_with_gcc_style_text(here: Path) -> None:
    result = run_cli("check", put(here, "s.yaml", BAD))
    assert result.status == 1
    assert result.stdout == ""
    assert result.stderr == (
        "s.yaml:7:16: error[VG0302]: 'nowhere' is not defined in section 't'\n"
        '    r: {offset: "nowhere", width: 16, access: ro}\n'
        "                 ^~~~~~~\n"
        "vfiogen: 1 error(s)\n")


def test_a_missing_path_exits_1(here: Path) -> None:
    result = run_cli("check", "missing")
    assert result.status == 1
    assert result.stderr == ("missing:1:1: error[VG0110]: 'missing' is neither a schema file nor a directory\n"
                             "vfiogen: 1 error(s)\n")


def test_a_directory_without_schemas_exits_1(here: Path) -> None:
    (here / "empty").mkdir()
    result = run_cli("check", "empty")
    assert (result.status, result.stderr) == (1, "vfiogen: error: no *.yaml schemas under empty\n")


@pytest.mark.parametrize("args", [
    ("check", "s.yaml", "--stop-before", "parse"),
    ("check", "s.yaml", "--dump-ir-after", "parse"),
    ("build", "s.yaml", "--stop-before", "nothing"),
])
def test_unknown_pass_exits_2(here: Path, args: tuple[str, ...]) -> None:
    put(here, "s.yaml", GOOD)
    result = run_cli(*args)
    assert result.status == 2
    assert result.stderr == (f"vfiogen: error: unknown pass '{args[3]}'; passes are: load_yaml, check_meta_schema, "
                             "lower, resolve, typecheck, layout, semantics, normalize\n")
    assert not (here / "generated").exists()


@pytest.mark.parametrize(("spec", "message"), [
    ("VG0518", "-W VG0518: expected no-VGnnnn or error=VGnnnn with a known code"),
    ("no-VG9999", "-W no-VG9999: expected no-VGnnnn or error=VGnnnn with a known code"),
    ("error=", "-W error=: expected no-VGnnnn or error=VGnnnn with a known code"),
    ("warn=VG0518", "-W warn=VG0518: expected no-VGnnnn or error=VGnnnn with a known code"),
    ("no-VG0401", "-W no-VG0401: VG0401 is an error, not a warning"),
    ("error=VG0302", "-W error=VG0302: VG0302 is an error, not a warning"),
])
def test_bad_warning_spec_exits_2(here: Path, spec: str, message: str) -> None:
    result = run_cli("check", put(here, "s.yaml", GOOD), "-W", spec)
    assert (result.status, result.stdout, result.stderr) == (2, "", f"vfiogen: error: {message}\n")


@pytest.mark.parametrize("args", [(), ("check",), ("frobnicate", "x"), ("check", "x", "--format", "xml")])
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    result = run_cli(*args)
    assert result.status == 2
    assert result.stderr.startswith("usage: vfiogen")
    assert "vfiogen: error: " in result.stderr


# --- warnings --------------------------------------------------------------------------------------------

def test_a_warning_is_shown_and_exits_0(here: Path) -> None:
    result = run_cli("check", put(here, "s.yaml", WARNS))
    assert result.status == 0
    assert result.stderr == ("s.yaml:8:11: warning[VG0518]: restore writes 'r', which has no writable bits\n"
                             "  restore: [r]\n"
                             "            ^\n")


def test_W_error_promotes_the_warning(here: Path) -> None:
    result = run_cli("check", put(here, "s.yaml", WARNS), "-W", "error=VG0518")
    assert result.status == 1
    assert result.stderr == ("s.yaml:8:11: error[VG0518]: restore writes 'r', which has no writable bits\n"
                             "  restore: [r]\n"
                             "            ^\n"
                             "vfiogen: 1 error(s)\n")


def test_W_no_drops_the_warning(here: Path) -> None:
    result = run_cli("check", put(here, "s.yaml", WARNS), "-W", "no-VG0518")
    assert (result.status, result.stdout, result.stderr) == (0, "", "")


def test_W_switches_combine(here: Path) -> None:
    result = run_cli("check", put(here, "s.yaml", WARNS), "-W", "no-VG0523", "-W", "error=VG0518")
    assert result.status == 1 and "error[VG0518]" in result.stderr


def test_promoted_warning_stops_a_build(here: Path) -> None:
    result = run_cli("build", put(here, "s.yaml", WARNS), "-o", "out", "-W", "error=VG0518")
    assert result.status == 1
    assert not (here / "out").exists()


# --- formats ---------------------------------------------------------------------------------------------

def test_json_format_parses(here: Path) -> None:
    put(here, "s.yaml", BAD)
    # another section id and capability id: one capability belongs to one section (VG0308)
    put(here, "w.yaml", WARNS.replace("section: t", "section: w").replace("id: 1", "id: 2").replace("id: 5", "id: 6"))
    result = run_cli("check", "s.yaml", "w.yaml", "--format", "json")
    assert result.status == 1
    assert result.stderr == ""  # no summary line in JSON mode
    assert json.loads(result.stdout) == [
        {"code": "VG0302", "severity": "error", "message": "'nowhere' is not defined in section 't'",
         "location": {"path": "s.yaml", "line": 7, "column": 16, "end_line": 7, "end_column": 23}, "notes": []},
    ]  # the pipeline stopped after resolve: the warning (semantics) was never reached


def test_json_format_with_a_warning(here: Path) -> None:
    result = run_cli("check", put(here, "s.yaml", WARNS), "--format", "json")
    assert result.status == 0
    (warning,) = json.loads(result.stdout)
    assert (warning["code"], warning["severity"], warning["location"]["line"]) == ("VG0518", "warning", 8)


def test_json_format_of_a_clean_run_is_an_empty_array(here: Path) -> None:
    result = run_cli("check", put(here, "s.yaml", GOOD), "--format", "json")
    assert result.status == 0
    assert json.loads(result.stdout) == []


def test_json_format_of_a_build_prints_no_summary(here: Path) -> None:
    result = run_cli("build", put(here, "s.yaml", GOOD), "-o", "out", "--format", "json")
    assert (result.status, result.stderr) == (0, "")
    assert json.loads(result.stdout) == []


# --- pipeline options ------------------------------------------------------------------------------------

def test_stop_before_skips_later_errors(here: Path) -> None:
    put(here, "s.yaml", BAD)
    assert run_cli("check", "s.yaml", "--stop-before", "resolve").status == 0
    assert run_cli("check", "s.yaml", "--stop-before", "typecheck").status == 1


def test_stop_before_on_build_writes_nothing(here: Path) -> None:
    result = run_cli("build", put(here, "s.yaml", GOOD), "-o", "out", "--stop-before", "normalize")
    assert result.status == 0
    assert not (here / "out").exists()


def test_dump_ir_after_prints_the_dump_on_stdout(here: Path) -> None:
    result = run_cli("check", put(here, "s.yaml", GOOD), "--dump-ir-after", "normalize")
    assert result.status == 0
    expected = compile_text(GOOD)
    assert result.stdout == dump(expected.module) + "\n"
    assert result.stdout.startswith("CheckedModule\n  sections: [\n")


def test_dump_ir_after_an_early_pass(here: Path) -> None:
    result = run_cli("check", put(here, "s.yaml", GOOD), "--dump-ir-after", "lower")
    assert result.status == 0
    assert result.stdout.startswith("Module\n")
    assert "CheckedRegister" not in result.stdout


# --- build -----------------------------------------------------------------------------------------------

def test_build_writes_and_reports(here: Path) -> None:
    result = run_cli("build", put(here, "s.yaml", GOOD), "-o", "out")
    assert result.status == 0
    assert result.stderr == "vfiogen: 16 files in out/, 16 changed\n"
    assert sorted(p.relative_to(here / "out").as_posix() for p in (here / "out").rglob("*") if p.is_file()) == [
        "MANIFEST", "c/meson.build", "c/vfg_qemu.h", "c/vfg_runtime.c", "c/vfg_runtime.h", "c/vfg_t.c", "c/vfg_t.h",
        "c/vfiogen.mk",
        "docs/index.md", "docs/sections/t.md", "python/vfiogen_state/__init__.py",
        "python/vfiogen_state/_runtime.py", "python/vfiogen_state/_t_more.py", "python/vfiogen_state/py.typed",
        "python/vfiogen_state/t.py", "schema.lock.json"]
    again = run_cli("build", "s.yaml", "-o", "out")
    assert again.stderr == "vfiogen: 16 files in out/, 0 changed\n"
    assert run_cli("build", "s.yaml", "-o", "out", "--check").status == 0


def test_build_check_fails_on_stale_output(here: Path) -> None:
    put(here, "s.yaml", GOOD)
    assert run_cli("build", "s.yaml", "-o", "out").status == 0
    put(here, "s.yaml", GOOD.replace("title: T", "title: Changed"))
    result = run_cli("build", "s.yaml", "-o", "out", "--check")
    assert result.status == 1
    assert result.stderr == ("out/c/vfg_t.c: stale; run 'vfiogen build'\n"
                             "out/c/vfg_t.h: stale; run 'vfiogen build'\n"
                             "out/docs/index.md: stale; run 'vfiogen build'\n"
                             "out/docs/sections/t.md: stale; run 'vfiogen build'\n"
                             "out/python/vfiogen_state/_t_more.py: stale; run 'vfiogen build'\n"
                             "out/python/vfiogen_state/t.py: stale; run 'vfiogen build'\n"
                             "out/schema.lock.json: stale; run 'vfiogen build'\n")


# --- internal errors -------------------------------------------------------------------------------------

def _break_pass(monkeypatch: pytest.MonkeyPatch, broken: str) -> None:
    def boom(value: Any, ctx: Context) -> Any:
        raise ZeroDivisionError("simulated compiler bug")

    passes = tuple((name, boom if name == broken else run) for name, run in driver.PASSES)
    monkeypatch.setattr(driver, "PASSES", passes)


def test_internal_error_is_reported_without_a_traceback(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _break_pass(monkeypatch, "typecheck")
    result = run_cli("check", put(here, "s.yaml", GOOD))
    assert result.status == 2
    assert "internal error" in result.stderr
    assert "in pass 'typecheck'" in result.stderr
    assert "Traceback" not in result.stderr
    assert "simulated compiler bug" not in result.stderr
    assert "--debug" in result.stderr
    assert result.stdout == ""


def test_internal_error_with_debug_shows_the_traceback(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _break_pass(monkeypatch, "typecheck")
    result = run_cli("check", put(here, "s.yaml", GOOD), "--debug")
    assert result.status == 2
    assert "internal error" in result.stderr
    assert "Traceback (most recent call last):" in result.stderr
    assert "ZeroDivisionError: simulated compiler bug" in result.stderr


def test_internal_error_in_a_back_end(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: LockBackend, module: Any) -> dict[str, str]:
        raise KeyError("lock")

    monkeypatch.setattr(LockBackend, "render", boom)
    result = run_cli("build", put(here, "s.yaml", GOOD), "-o", "out")
    assert result.status == 2
    assert "internal error" in result.stderr and "Traceback" not in result.stderr
    assert not (here / "out").exists()  # nothing half-written


def test_negative_shift_in_an_offset_is_a_schema_error(here: Path) -> None:
    result = run_cli("check", put(here, "s.yaml", GOOD.replace("offset: 0,", 'offset: "4 << (0 - 1)",')))
    assert result.status == 1
    assert result.stderr.startswith(
        "s.yaml:7:16: error[VG0408]: offset of 'r' has no value: shift count -1 is outside 0..63\n")


def test_huge_shift_in_an_offset_is_a_schema_error(here: Path) -> None:
    result = run_cli("check", put(here, "s.yaml", GOOD.replace("offset: 0,", 'offset: "1 << (1 << (60 + 10))",')))
    assert result.status == 1
    assert result.stderr == (
        "s.yaml:7:16: error[VG0408]: offset of 'r' has no value: shift count 70 is outside 0..63\n"
        '    r: {offset: "1 << (1 << (60 + 10))", width: 16, access: ro}\n'
        "                 ^~~~~~~~~~~~~~~~~~~~~\n"
        "vfiogen: 1 error(s)\n")


def test_literal_shift_by_64_is_located_at_the_count(here: Path) -> None:
    result = run_cli("check", put(here, "s.yaml", GOOD.replace("offset: 0,", 'offset: "8 >> 64",')))
    assert result.status == 1
    assert result.stderr == (
        "s.yaml:7:21: error[VG0607]: shift count 64 is outside 0..63; values are 64-bit\n"
        '    r: {offset: "8 >> 64", width: 16, access: ro}\n'
        "                      ^~\n"
        "vfiogen: 1 error(s)\n")


def test_following_the_advice_for_a_file_vfiogen_never_wrote_makes_the_check_pass(here: Path) -> None:
    put(here, "s.yaml", GOOD)
    assert run_cli("build", "s.yaml", "-o", "out").status == 0
    (here / "out" / "extra.txt").write_text("x", "utf-8")
    stale = run_cli("build", "s.yaml", "-o", "out", "--check")
    assert (stale.status, stale.stdout) == (1, "")
    assert stale.stderr == "out/extra.txt: not generated by vfiogen; remove it from the output directory\n"
    # build never deletes a file no manifest listed, so 'run vfiogen build' would not have helped
    assert run_cli("build", "s.yaml", "-o", "out").status == 0
    assert (here / "out" / "extra.txt").read_text("utf-8") == "x"
    assert run_cli("build", "s.yaml", "-o", "out", "--check").status == 1
    (here / "out" / "extra.txt").unlink()
    assert run_cli("build", "s.yaml", "-o", "out", "--check").status == 0


def test_following_the_advice_for_a_file_no_longer_generated_makes_the_check_pass(here: Path) -> None:
    put(here, "s.yaml", GOOD)
    put(here, "u.yaml", GOOD.replace("section: t", "section: u").replace("id: 1", "id: 2")
        .replace("id: 5", "id: 6"))
    assert run_cli("build", "s.yaml", "u.yaml", "-o", "out").status == 0
    assert (here / "out" / "docs/sections/u.md").is_file()
    stale = run_cli("build", "s.yaml", "-o", "out", "--check")
    assert (stale.status, stale.stdout) == (1, "")
    assert stale.stderr == ("out/MANIFEST: stale; run 'vfiogen build'\n"
                            "out/c/meson.build: stale; run 'vfiogen build'\n"
                            "out/c/vfg_u.c: no longer generated; run 'vfiogen build' to delete it\n"
                            "out/c/vfg_u.h: no longer generated; run 'vfiogen build' to delete it\n"
                            "out/c/vfiogen.mk: stale; run 'vfiogen build'\n"
                            "out/docs/index.md: stale; run 'vfiogen build'\n"
                            "out/docs/sections/u.md: no longer generated; run 'vfiogen build' to delete it\n"
                            "out/python/vfiogen_state/__init__.py: stale; run 'vfiogen build'\n"
                            "out/python/vfiogen_state/_u_more.py: no longer generated; run 'vfiogen build' to delete it\n"
                            "out/python/vfiogen_state/u.py: no longer generated; run 'vfiogen build' to delete it\n"
                            "out/schema.lock.json: stale; run 'vfiogen build'\n")
    assert run_cli("build", "s.yaml", "-o", "out").status == 0
    assert not (here / "out" / "docs/sections/u.md").exists()
    assert run_cli("build", "s.yaml", "-o", "out", "--check").status == 0


def test_check_stops_before_the_pass_that_only_freezes(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`normalize` reports nothing, so `check` does not run it; `build` (and a dump of its IR) still does."""
    _break_pass(monkeypatch, driver.FREEZE_PASS)
    assert driver.PASS_NAMES[-1] == driver.FREEZE_PASS
    put(here, "s.yaml", GOOD)
    assert run_cli("check", "s.yaml").status == 0
    assert f"in pass '{driver.FREEZE_PASS}'" in run_cli("build", "s.yaml", "-o", "out").stderr
    assert run_cli("check", "s.yaml", "--dump-ir-after", driver.FREEZE_PASS).status == 2
    assert run_cli("check", put(here, "bad.yaml", BAD)).status == 1
