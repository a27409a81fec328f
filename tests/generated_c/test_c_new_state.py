"""States valid from birth in C (issue 15): for every section, a state from vfg_<section>_init validates
clean, saves at every version it can be saved at, and loads back to the same bytes; for every device with
a built-in config, vfg_<device>_init saves a blob that vfg_<device>_load accepts and that saves again
byte for byte. Built from the lock's list of sections and devices, at the strict flags under ASan/UBSan
and big-endian in qemu."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from harness import C_DIR, COMPILERS, CROSS, Cross, generated_flags, lock
from object_cache import compiled

TARGETS: list[Any] = [*COMPILERS, *CROSS]


def _program() -> tuple[str, int]:
    data = lock()
    lines = ['#include <stdio.h>', '#include <string.h>']
    lines += [f'#include "vfg_{name}.h"' for name in sorted(data["sections"])]
    lines += [f'#include "vfg_{name}.h"' for name in sorted(data["devices"])]
    lines += ["static uint8_t buf[65536], again[65536];", "int main(void)", "{",
              "    struct vfg_error err;", "    struct vfg_problem problems[8];", "    size_t len, len2, n;",
              "    int failures = 0;"]
    cases = 0
    for name, section in sorted(data["sections"].items()):
        for version in range(section["min_version"], section["version"] + 1):
            cases += 1
            lines += ["    {",
                      f"        static struct vfg_{name}_state s, t;",
                      f"        vfg_{name}_init(&s);",
                      f"        n = vfg_{name}_validate(&s, NULL, problems, 8);",
                      f"        if (n != 0) {{ printf(\"{name}: validate: %s: %s\\n\", problems[0].field, "
                      "problems[0].message); failures++; }",
                      f"        if (vfg_{name}_save(&s, {version}, NULL, buf, sizeof buf, &len, &err) != VFG_OK",
                      f"            || vfg_{name}_load(&t, buf, len, {version}, NULL, &err) != VFG_OK",
                      f"            || vfg_{name}_save(&t, {version}, NULL, again, sizeof again, &len2, &err) "
                      "!= VFG_OK",
                      "            || len2 != len || memcmp(buf, again, len) != 0) {",
                      f"            printf(\"{name} v{version}: %s.%s: %s\\n\", err.section, err.field, err.message);",
                      "            failures++;",
                      "        }",
                      "    }"]
    for name, device in sorted(data["devices"].items()):
        if device.get("generic"):
            continue
        cases += 1
        p = f"vfg_{name}"
        lines += ["    {",
                  f"        static struct {p}_state s, t;",
                  f"        static struct {p}_descriptor d, src;",
                  f"        {p}_init(&s);",
                  "        memset(&d, 0, sizeof d);",
                  f"        if ({p}_derive_descriptor(&d, &s, NULL, &err) != VFG_OK",
                  f"            || {p}_save(&s, NULL, &d, NULL, NULL, NULL, buf, sizeof buf, &len, &err) != VFG_OK",
                  f"            || {p}_load(buf, len, NULL, NULL, NULL, &t, &src, NULL, NULL, &err) != VFG_OK",
                  f"            || {p}_save(&t, NULL, &src, NULL, NULL, NULL, again, sizeof again, &len2, &err) "
                  "!= VFG_OK",
                  "            || len2 != len || memcmp(buf, again, len) != 0) {",
                  f"            printf(\"{name}: %s.%s: %s\\n\", err.section, err.field, err.message);",
                  "            failures++;",
                  "        }",
                  "    }"]
    lines += ["    printf(\"%d failures\\n\", failures);", "    return failures != 0;", "}", ""]
    return "\n".join(lines), cases


def _id(target: Any) -> str:
    return target.compiler.split("-")[0] if isinstance(target, Cross) else str(target)


@pytest.mark.parametrize("target", TARGETS or [pytest.param("cc", marks=pytest.mark.skip("no C compiler"))],
                         ids=_id)
def test_new_states_save_and_load(tmp_path: Path, target: str | Cross) -> None:
    source, cases = _program()
    assert cases > 14  # every section at least once, and example_nic
    program = tmp_path / "new_state.c"
    program.write_text(source)
    binary = tmp_path / "new_state"
    if isinstance(target, Cross):
        compiler, flags, link = target.compiler, generated_flags(sanitize=False), ["-static"]
        command = [target.emulator, str(binary)]
    else:
        compiler, flags, link = target, generated_flags(), []
        command = [str(binary)]
    objects = map(str, compiled(compiler, flags, C_DIR))  # the generated C, compiled once per run
    result = subprocess.run([compiler, *flags, "-Wno-unused-variable", "-I", str(C_DIR), str(program), *objects,
                             *link, "-o", str(binary)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip().endswith("0 failures"), run.stdout + run.stderr
