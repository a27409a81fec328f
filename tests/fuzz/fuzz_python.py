"""Coverage-guided fuzzing of the Python entry points under atheris (libFuzzer for Python).

    python tests/fuzz/fuzz_python.py TARGET [libFuzzer options] [CORPUS_DIR ...]
    python tests/fuzz/fuzz_python.py --list
    python tests/fuzz/fuzz_python.py --batch SPEC.json JOBS

TARGET is one of tests/python_fuzz_targets.py's (`section`, `device_<d>`, `compat_<d>`, `decode`,
`inspect`). The generated package and the compiler's wire and configspace modules are instrumented, so
libFuzzer's mutations follow their branches. An exception other than the target's documented one (or a
failed assertion of the target's) is a crash: atheris prints it and writes the input. tests/fuzz/fuzz.py
runs every target this way after the C ones when atheris is installed (it is in the test extras).

Instrumenting the generated package takes some 9 s, longer than a smoke run's share of a target, so
`--batch` does it once and forks a process per target, JOBS at a time: SPEC.json lists the targets, each
with its libFuzzer options and corpus (`options`) and a file (`log`) that gets its libFuzzer output, and
`log`.exit its exit status. A forked process has the instrumented modules and starts libFuzzer afresh.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "generated" / "python"), str(ROOT / "tests")]


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    import atheris

    with atheris.instrument_imports(include=["vfiogen_state", "vfiogen.wire", "vfiogen.configspace"]):
        import vfiogen.configspace.dump  # noqa: F401 - imported to be instrumented
        import vfiogen.configspace.report  # noqa: F401
        import vfiogen.wire.decode  # noqa: F401
        import vfiogen_state
        from python_fuzz_targets import DEVICES, SECTIONS, checked_module, targets

        for name in (*SECTIONS, *DEVICES, "_runtime"):
            __import__(f"vfiogen_state.{name}")
    del vfiogen_state
    found = targets()
    if sys.argv[1] == "--list":
        print("\n".join(sorted(found)))
        return 0
    if sys.argv[1] == "--batch":
        checked_module()
        return batch(json.loads(Path(sys.argv[2]).read_text()), int(sys.argv[3]), found, atheris)
    if sys.argv[1] not in found:
        print(f"fuzz_python: no target {sys.argv[1]!r} (targets: {', '.join(sorted(found))})", file=sys.stderr)
        return 2
    target = found[sys.argv[1]]
    checked_module()  # compile the schemas before fuzzing starts, not in the first input's time
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()
    return 0


def batch(spec: list[dict[str, Any]], jobs: int, found: dict[str, Any], atheris: Any) -> int:
    """Fuzz each target of `spec` in a forked process of its own, `jobs` at a time (see the module doc)."""
    running: dict[int, dict[str, Any]] = {}
    pending = list(spec)
    while pending or running:
        while pending and len(running) < jobs:
            item = pending.pop(0)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:  # the child: its output (libFuzzer's, on fd 1 and 2) goes to its log
                log = os.open(item["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(log, 1)
                os.dup2(log, 2)
                atheris.Setup([sys.argv[0], *item["options"]], found[item["target"]])
                # Fuzz exits the process itself, and a crash unwinds from here to atheris's handler, which
                # writes the input and exits (no `finally` may come between: it would lose the input).
                atheris.Fuzz()
                os._exit(70)  # not reached
            running[pid] = item
        pid, status = os.wait()
        item = running.pop(pid)
        Path(item["log"] + ".exit").write_text(str(os.waitstatus_to_exitcode(status)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
