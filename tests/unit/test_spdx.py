"""vfiogen.spdx and the licence of the generated code: the options file, `build --license`, the default."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SCHEMAS, run_cli
from vfiogen.spdx import DEFAULT_LICENSE, SpdxError, check_expression

# The generated C files and build fragments that are vendored into a hypervisor tree.
C_FILES = ("c/meson.build", "c/vfiogen.mk", "c/vfg_runtime.h", "c/vfg_runtime.c", "c/vfg_qemu.h", "c/vfg_header.h",
           "c/vfg_header.c", "c/vfg_msi.h", "c/vfg_msi.c", "c/vfg_msix.h", "c/vfg_msix.c", "c/vfg_rebar.h",
           "c/vfg_rebar.c", "c/vfg_sriov.h", "c/vfg_sriov.c", "c/vfg_example_nic.h", "c/vfg_example_nic.c",
           "c/vfg_generic.h", "c/vfg_generic.c", "c/vfg_vfio_pci.h", "c/vfg_vfio_pci.c",
           *(f"c/vfg_{name}.{ext}" for name in ("pm", "ltr", "ats", "pasid", "pri", "ptm", "l1ss", "acs", "dsn",
                                              "pcie", "aer", "bridge_header", "dpc", "vc", "pcix", "vendor_specific", "vfio_irq")
             for ext in ("h", "c")))


@pytest.mark.parametrize("text", [
    "GPL-2.0-or-later OR MIT", "MIT", "GPL-2.0+", "LicenseRef-acme-1.0",
    "(MIT OR Apache-2.0) AND BSD-3-Clause", "GPL-2.0-only WITH Linux-syscall-note OR MIT",
    "((MIT))", " MIT  OR  Apache-2.0 ",
])
def test_plausible_expressions_pass(text: str) -> None:
    assert check_expression(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("", SpdxError("expected a licence identifier, found the end", 0, 0)),
    ("MIT OR", SpdxError("expected a licence identifier, found the end", 6, 6)),
    ("OR MIT", SpdxError("expected a licence identifier, found 'OR'", 0, 2)),
    ("MIT Apache-2.0", SpdxError("expected AND, OR or WITH, found 'Apache-2.0'", 4, 14)),
    ("MIT or Apache-2.0", SpdxError("operators are upper case: write 'OR', not 'or'", 4, 6)),
    ("(MIT", SpdxError("expected ')', found the end", 4, 4)),
    ("MIT)", SpdxError("expected AND, OR or WITH, found ')'", 3, 4)),
    ("GPL+2", SpdxError("expected AND, OR or WITH, found '2'", 4, 5)),
    ("GPL-2.0 WITH", SpdxError("expected an exception identifier after WITH, found the end", 12, 12)),
    ("GPL-2.0 WITH X+", SpdxError("expected an exception identifier after WITH, found 'X+'", 13, 15)),
    ("MIT/X11", SpdxError("'/' is not allowed (identifiers are letters, digits, '.', '-' and a trailing '+')",
                          3, 4)),
    ("MIT */ int x; /*", SpdxError("'*' is not allowed (identifiers are letters, digits, '.', '-' and a trailing "
                                   "'+')", 4, 5)),
    ("MIT\nOR BSD", SpdxError("an SPDX expression is one line", 3, 4)),
])
def test_implausible_expressions_say_what_and_where(text: str, expected: SpdxError) -> None:
    assert check_expression(text) == expected


def test_the_default_is_one_qemu_linux_and_rust_vmm_can_all_take() -> None:
    assert DEFAULT_LICENSE == "GPL-2.0-or-later OR MIT"
    assert check_expression(DEFAULT_LICENSE) is None


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped schemas in an empty working directory."""
    shutil.copytree(SCHEMAS, tmp_path / "schemas")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _licence_lines(out: Path) -> dict[str, str]:
    """Every output file that has an SPDX line -> that line."""
    found = {}
    for path in sorted(out.rglob("*")):
        if path.is_file():
            lines = [line for line in path.read_text("utf-8").splitlines() if "SPDX-License-Identifier" in line]
            assert len(lines) <= 1, f"{path}: {lines}"
            if lines:
                found[path.relative_to(out).as_posix()] = lines[0]
    return found


def _expect_everywhere(out: Path, license: str) -> None:
    lines = _licence_lines(out)
    assert sorted(lines) == sorted(C_FILES)
    comments = {"c/meson.build": "#", "c/vfiogen.mk": "#"}
    for path in C_FILES:
        first = (out / path).read_text("utf-8").splitlines()[0]
        expected = (f"# SPDX-License-Identifier: {license}" if path in comments
                    else f"/* SPDX-License-Identifier: {license} */")
        assert first == expected, path


def test_without_options_every_c_file_carries_the_default(tree: Path) -> None:
    assert run_cli("build", "schemas", "-o", "out").status == 0
    assert len(list((tree / "out" / "c").iterdir())) == len(C_FILES)  # C_FILES names every C output
    _expect_everywhere(tree / "out", DEFAULT_LICENSE)
    assert "Apache" not in "".join(_licence_lines(tree / "out").values())


def test_the_options_file_sets_every_licence_line(tree: Path) -> None:
    (tree / "schemas" / "options.yaml").write_text("options:\n  license: GPL-2.0-only\n", "utf-8")
    assert run_cli("build", "schemas", "-o", "out").status == 0
    _expect_everywhere(tree / "out", "GPL-2.0-only")


def test_an_options_file_without_a_license_keeps_the_default(tree: Path) -> None:
    (tree / "schemas" / "options.yaml").write_text("options: {}\n", "utf-8")
    assert run_cli("build", "schemas", "-o", "out").status == 0
    _expect_everywhere(tree / "out", DEFAULT_LICENSE)


def test_the_command_line_wins_over_the_options_file(tree: Path) -> None:
    (tree / "schemas" / "options.yaml").write_text("options:\n  license: GPL-2.0-only\n", "utf-8")
    result = run_cli("build", "schemas", "-o", "out", "--license", "(MIT OR Apache-2.0) AND BSD-3-Clause")
    assert result.status == 0, result.stderr
    _expect_everywhere(tree / "out", "(MIT OR Apache-2.0) AND BSD-3-Clause")
    # --check compares with the same override, so the build is up to date only under it.
    assert run_cli("build", "schemas", "-o", "out", "--check", "--license",
                   "(MIT OR Apache-2.0) AND BSD-3-Clause").status == 0
    stale = run_cli("build", "schemas", "-o", "out", "--check")
    assert stale.status == 1 and "out/c/vfg_msi.h: stale" in stale.stderr


def test_only_the_licence_line_changes_with_the_licence(tree: Path) -> None:
    assert run_cli("build", "schemas", "-o", "a").status == 0
    assert run_cli("build", "schemas", "-o", "b", "--license", "MIT").status == 0
    for path in sorted((tree / "a").rglob("*")):
        if path.is_file():
            relative = path.relative_to(tree / "a").as_posix()
            text = path.read_text("utf-8")
            if relative in C_FILES:
                text = text.replace(f"SPDX-License-Identifier: {DEFAULT_LICENSE}", "SPDX-License-Identifier: MIT", 1)
            assert (tree / "b" / relative).read_text("utf-8") == text, relative


@pytest.mark.parametrize(("value", "reason"), [
    ("GPL-2.0 or MIT", "operators are upper case: write 'OR', not 'or' (at character 9)"),
    ("MIT */", "'*' is not allowed (identifiers are letters, digits, '.', '-' and a trailing '+') "
               "(at character 5)"),
    ("", "expected a licence identifier, found the end (at character 1)"),
])
def test_a_bad_command_line_licence_is_a_usage_error(tree: Path, value: str, reason: str) -> None:
    result = run_cli("build", "schemas", "-o", "out", "--license", value)
    assert result.status == 2
    assert result.stderr.startswith("usage: vfiogen build")
    assert result.stderr.splitlines()[-1] == (
        f"vfiogen: error: argument --license: '{value}' is not an SPDX expression: {reason}; "
        "for example 'GPL-2.0-or-later OR MIT'")
    assert not (tree / "out").exists()


def test_a_bad_schema_licence_is_located_and_nothing_is_written(tree: Path) -> None:
    (tree / "schemas" / "options.yaml").write_text("options:\n  license: MIT AND\n", "utf-8")
    result = run_cli("build", "schemas", "-o", "out", "--license", "MIT")
    assert result.status == 1
    assert result.stderr.splitlines()[0] == ("schemas/options.yaml:2:19: error[VG0202]: license 'MIT AND' is not "
                                             "an SPDX expression: expected a licence identifier, found the end")
    assert not (tree / "out").exists()
