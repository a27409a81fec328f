"""The README's quick start runs as written: every fenced block of its section, in order.

`sh` blocks are `vfiogen` command lines, run as `python -m vfiogen.cli` (the
console script may not be on PATH where the tests run) and required to exit 0;
`python` blocks run in one namespace, so later steps see earlier names. All
of it runs in a scratch directory laid out like the repository (its
`generated/` and `schemas/`, and `../shared/data` beside it), so the blob the
quick start writes lands there.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GENERATED, ROOT, SCHEMAS, SHARED_DATA

SECTION = re.compile(r"^## Quick start.*?(?=^## )", re.MULTILINE | re.DOTALL)
BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks() -> list[tuple[str, str]]:
    section = SECTION.search((ROOT / "README.md").read_text("utf-8"))
    assert section is not None, "README.md has no '## Quick start' section"
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(section.group(0))]


@pytest.mark.skipif(not (SHARED_DATA / "pciutils").is_dir(), reason=f"no pciutils dumps at {SHARED_DATA}")
def test_the_quick_start_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = _blocks()
    assert [kind for kind, _ in blocks] == ["sh", "python", "sh", "python"]
    work = tmp_path / "repo"
    work.mkdir()
    (work / "generated").symlink_to(GENERATED)
    (work / "schemas").symlink_to(SCHEMAS)
    (tmp_path / "shared").symlink_to(SHARED_DATA.parent)
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the snippet puts generated/python first
    namespace: dict[str, object] = {"__name__": "quickstart"}
    outputs = []
    for kind, text in blocks:
        if kind == "python":
            exec(compile(text, "README.md quick start", "exec"), namespace)  # noqa: S102 - the test's point
            continue
        for line in text.strip().splitlines():
            words = shlex.split(line)
            assert words[0] == "vfiogen", line
            env = {**os.environ, "PYTHONPATH": str(ROOT / "compiler")}
            run = subprocess.run([sys.executable, "-m", "vfiogen.cli", *words[1:]], capture_output=True, text=True,
                                 env=env, timeout=120)
            assert run.returncode == 0, (line, run.stderr)
            outputs.append(run.stdout)
    inspect, decode = outputs
    # What the prose says inspect shows, and the bases the Python uses.
    assert "Capabilities: [50] MSI [cap 0x05] (msi)" in inspect
    assert "Capabilities: [70] MSI-X [cap 0x11] (msix)" in inspect
    assert "control: table_size=9 function_mask- enable+" in inspect
    assert (work / "nic.blob").is_file()
    assert "section msix (id 0x0011, version 1, required)" in decode
    assert "msix.table_size = 9" in decode
