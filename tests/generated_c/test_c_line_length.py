"""The generated C keeps to QEMU's line length, so checkpatch.pl (not needed here) finds no long line.

checkpatch warns over 80 columns and refuses over 90. No generated line may
pass 90; the ones over 80 are counted in the test's output (`-rP` or `-s`
shows it), which the printers keep near zero. Checked on generated/ and on
builds of the test-only schemas, whose names and expressions are longer.
Every C file is held to it: sections, devices and the runtime.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GENERATED, run_cli

HERE = Path(__file__).resolve().parent
HARD_LIMIT = 90
SOFT_LIMIT = 80


def _sources(out: Path) -> list[Path]:
    return sorted(p for p in (out / "c").iterdir() if p.suffix in (".c", ".h"))


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    result = {"generated": GENERATED}
    for name in ("coverage", "names"):
        out = tmp_path_factory.mktemp(f"{name}-build")
        built = run_cli("build", str(HERE / name), "-o", str(out))
        assert built.status == 0, built.stderr
        result[name] = out
    return result


@pytest.mark.parametrize("tree", ["generated", "coverage", "names"])
def test_no_generated_c_line_is_over_90_columns(trees: dict[str, Path], tree: str) -> None:
    long, over_80 = [], 0
    for path in _sources(trees[tree]):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            width = len(line.expandtabs(8))
            over_80 += width > SOFT_LIMIT
            if width > HARD_LIMIT:
                long.append(f"{path.name}:{number}: {width} columns: {line.strip()[:60]}")
    print(f"{tree}: {over_80} lines over {SOFT_LIMIT} columns")
    assert not long, "\n".join(long)
