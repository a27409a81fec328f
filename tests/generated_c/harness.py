"""Build and drive the C test driver (harness.c.j2) over the generated C, and ask the generated Python the same.

Both sides answer in one shape, so a test compares them with `==`:
`("ok", hex)` or `("err", section, field, offset)`; the C answer also says
whether a failed load left the caller's state untouched.
"""

from __future__ import annotations

import functools
import importlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from conftest import GENERATED

from vfiogen_state._runtime import LoadError, SaveError

C_DIR = GENERATED / "c"
HERE = Path(__file__).resolve().parent
STRICT = ["-Wall", "-Wextra", "-Werror", "-pedantic", "-Wconversion", "-Wshadow", "-Wcast-align"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
COMPILERS = [c for c in ("gcc", "clang") if shutil.which(c)]


def lock() -> dict[str, Any]:
    return json.loads((GENERATED / "schema.lock.json").read_text("utf-8"))


def generated_sources() -> list[Path]:
    return sorted(C_DIR.glob("*.c"))


def render_driver() -> str:
    data = lock()
    sections = []
    for name, section in sorted(data["sections"].items()):
        params = [(p["name"], "bool" if p["type"] == "bool" else f"{'u' if p['type'][0] == 'u' else ''}int"
                   f"{p['type'][1:]}_t") for p in section["params"]]
        hooks = list(dict.fromkeys(step["hook"] for step in section["restore"] if step.get("hook")))
        sections.append({"name": name, "params": params, "restore_hooks": hooks})
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env.get_template("harness.c.j2").render(sections=sections, devices=sorted(data["devices"]))


@functools.cache
def build(compiler: str, sanitize: bool, directory: str) -> Path:
    """The driver, compiled with `compiler` at the strict flags (and ASan/UBSan when `sanitize`)."""
    out = Path(directory)
    source = out / "harness.c"
    source.write_text(render_driver())
    binary = out / f"harness-{compiler}{'-san' if sanitize else ''}"
    flags = ["-std=c99", "-O1", "-g", *STRICT, *(SANITIZE if sanitize else [])]
    # The driver itself uses stdio with %zu and may print freely: only the generated code gets -Werror.
    objects = []
    for path in generated_sources():
        obj = out / f"{path.stem}-{compiler}{'-san' if sanitize else ''}.o"
        result = subprocess.run([compiler, *flags, "-I", str(C_DIR), "-c", str(path), "-o", str(obj)],
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{compiler} {path.name}:\n{result.stderr}"
        objects.append(str(obj))
    result = subprocess.run([compiler, *[f for f in flags if f != "-Werror"], "-Wno-conversion", "-I", str(C_DIR),
                             str(source), *objects, "-o", str(binary)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return binary


@dataclass(frozen=True)
class Answer:
    ok: bool
    payload: str = ""
    """For ok: the hex the driver printed."""
    section: str = ""
    field: str = ""
    offset: int = 0
    status: str = ""
    message: str = ""
    untouched: bool = True

    @property
    def key(self) -> tuple[Any, ...]:
        return ("ok", self.payload) if self.ok else ("err", self.section, self.field, self.offset)


def run(binary: Path, commands: list[str]) -> list[Answer]:
    result = subprocess.run([str(binary)], input="\n".join(commands) + "\n", capture_output=True, text=True)
    assert result.returncode == 0, f"driver failed ({result.returncode}):\n{result.stderr[-4000:]}"
    lines = result.stdout.splitlines()
    assert len(lines) == len(commands), f"{len(lines)} answers to {len(commands)} commands:\n{result.stdout[-2000:]}"
    answers = []
    for line in lines:
        parts = line.split("\t")
        if parts[0] == "ok":
            answers.append(Answer(True, "" if parts[1] == "-" else parts[1]))
        elif parts[0] == "err":
            answers.append(Answer(False, section=parts[1], field="" if parts[2] == "-" else parts[2],
                                  offset=int(parts[3]), status=parts[4], message=parts[5],
                                  untouched=parts[6] == "untouched"))
        else:
            raise AssertionError(f"driver: {line}")
    return answers


def hex_or_dash(data: bytes) -> str:
    return data.hex() or "-"


def params_spec(params: dict[str, int]) -> str:
    return ",".join(f"{k}={int(v)}" for k, v in sorted(params.items())) or "-"


def module(name: str) -> Any:
    return importlib.import_module(f"vfiogen_state.{name}")


def python_load(section: str, version: int, params: dict[str, int], payload: bytes,
                save_version: int | None = None) -> Answer:
    """What the generated Python answers to the driver's `load` command."""
    mod = module(section)
    p = mod.Params(**params)
    try:
        state = mod.load(payload, version, p)
    except LoadError as exc:
        return Answer(False, section=exc.section, field=exc.field, offset=exc.offset, message=exc.reason)
    try:
        return Answer(True, mod.save(state, version if save_version is None else save_version, p).hex())
    except SaveError as exc:
        return Answer(False, section=exc.section, field=exc.field, offset=0, message=exc.reason)


def python_device(device: str, blob: bytes) -> Answer:
    mod = module(device)
    try:
        state, descriptor = mod.load(blob)
    except LoadError as exc:
        return Answer(False, section=exc.section, field=exc.field, offset=exc.offset, message=exc.reason)
    return Answer(True, mod.save(state, descriptor).hex())
