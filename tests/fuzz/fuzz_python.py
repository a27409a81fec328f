"""Coverage-guided fuzzing of the Python entry points under atheris (libFuzzer for Python).

    python tests/fuzz/fuzz_python.py TARGET [libFuzzer options] [CORPUS_DIR ...]
    python tests/fuzz/fuzz_python.py --list

TARGET is one of tests/python_fuzz_targets.py's (`section`, `device_<d>`, `compat_<d>`, `decode`,
`inspect`). The generated package and the compiler's wire and configspace modules are instrumented, so
libFuzzer's mutations follow their branches. An exception other than the target's documented one (or a
failed assertion of the target's) is a crash: atheris prints it and writes the input. tests/fuzz/fuzz.py
runs every target this way after the C ones when atheris is installed (it is in the test extras).
"""

from __future__ import annotations

import sys
from pathlib import Path

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
    if sys.argv[1] not in found:
        print(f"fuzz_python: no target {sys.argv[1]!r} (targets: {', '.join(sorted(found))})", file=sys.stderr)
        return 2
    target = found[sys.argv[1]]
    checked_module()  # compile the schemas before fuzzing starts, not in the first input's time
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
