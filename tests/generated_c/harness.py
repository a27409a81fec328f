"""Build and drive the C test driver (harness.c.j2) over the generated C, and ask the generated Python the same.

Both sides answer in one shape, so a test compares them with `==`:
`("ok", hex)` or `("err", section, field, offset)`; the C answer also says
whether a failed load left the caller's state untouched.

The driver is rendered from a build's schema lock, so it drives any build:
`generated/` by default, or another `vfiogen build` output directory (the
test-only schemas of test_c_coverage.py) given as `generated`.
"""

from __future__ import annotations

import functools
import importlib
import json
import random
import shutil
import subprocess
from collections.abc import Sequence
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
from conftest import GENERATED
from object_cache import compiled

from vfiogen.backends.c import naming as c_naming
from vfiogen.backends.python.naming import camel
from vfiogen.backends.c.emit import STATUSES as C_STATUSES
from vfiogen_state._runtime import LoadError, SaveError

C_DIR = GENERATED / "c"
HERE = Path(__file__).resolve().parent
# The flags, and -Wdeclaration-after-statement for reviewers used to C89 layouts.
STRICT = ["-Wall", "-Wextra", "-Werror", "-pedantic", "-Wconversion", "-Wshadow", "-Wcast-align",
          "-Wdeclaration-after-statement"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
COMPILERS = [c for c in ("gcc", "clang") if shutil.which(c)]


def lock(generated: Path = GENERATED) -> dict[str, Any]:
    return json.loads((generated / "schema.lock.json").read_text("utf-8"))


def generated_sources(generated: Path = GENERATED) -> list[Path]:
    return sorted((generated / "c").glob("*.c"))


def _ctype(kind: str) -> str:
    return "bool" if kind == "bool" else f"{'u' if kind[0] == 'u' else ''}int{kind[1:]}_t"


def _c_value(kind: str, value: int | bool) -> str:
    return ("true" if value else "false") if kind == "bool" else c_naming.decimal(int(value))


def _hooks(section: dict[str, Any]) -> dict[str, list[str]]:
    return {"restore_hooks": [c_naming.ident(h) for h in dict.fromkeys(
                step["hook"] for step in section["restore"] if step.get("hook"))],
            "waits": any("wait_us" in step for step in section["restore"]),
            "pre_save": [c_naming.ident(h) for h in section["hooks"]["pre_save"]],
            "post_load": [c_naming.ident(h) for h in section["hooks"]["post_load"]]}


def render_driver(generated: Path = GENERATED) -> str:
    data = lock(generated)
    sections = []
    for name, section in sorted(data["sections"].items()):
        params = [(c_naming.ident(p["name"]), _ctype(p["type"])) for p in section["params"]]
        sections.append({"name": name, "params": params, **_hooks(section)})
    devices = []
    for name, device in sorted(data["devices"].items()):
        uses = []
        for use in device["sections"]:
            section = data["sections"][use["section"]]
            values = [f".{c_naming.ident(p['name'])} = {_c_value(p['type'], use['params'].get(p['name'], p['default']))}"
                      for p in section["params"]]
            uses.append({"name": use["section"], "member": c_naming.ident(use["section"]),
                         "repeated": "instances" in section["location"],
                         "params": [(c_naming.ident(p["name"]), _ctype(p["type"])) for p in section["params"]],
                         "params_init": "{ " + ", ".join(values) + " }" if values else "{ 0 }", **_hooks(section)})
        devices.append({"name": name, "sections": uses})
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env.get_template("harness.c.j2").render(sections=sections, devices=devices,
                                                   statuses=[name for name, _ in C_STATUSES])


@dataclass(frozen=True)
class Cross:
    """A cross compiler and the user-mode emulator that runs what it builds (Debian's gcc-*-linux-gnu, qemu-user)."""

    compiler: str
    emulator: str
    what: str


# s390x is big-endian: the generated C's other byte order, on a real ABI.
CROSS_CANDIDATES = [Cross("s390x-linux-gnu-gcc", "qemu-s390x", "big-endian s390x")]
CROSS = [c for c in CROSS_CANDIDATES if shutil.which(c.compiler) and shutil.which(c.emulator)]


def build_cross(cross: Cross, directory: str, generated: str = str(GENERATED)) -> Path:
    """The driver built with `cross` (static, no sanitizers), behind a script that runs it in the emulator."""
    binary = build(cross.compiler, False, directory, generated, link=("-static",))
    launcher = binary.with_name(binary.name + "-emulated")
    launcher.write_text(f"#!/bin/sh\nexec {cross.emulator} {binary} \"$@\"\n")
    launcher.chmod(0o755)
    return launcher


def build_target(target: str | Cross, directory: str) -> Path:
    """The driver for `target`: a host compiler (under ASan/UBSan) or a cross target (in its emulator)."""
    return build_cross(target, directory) if isinstance(target, Cross) else build(target, True, directory)


def target_id(target: str | Cross) -> str:
    return target.compiler.split("-")[0] if isinstance(target, Cross) else target


def generated_flags(sanitize: bool = True, std: str = "c99") -> list[str]:
    """The flags the C tests compile the generated code with: the strict ones, and ASan/UBSan when `sanitize`."""
    return [f"-std={std}", "-O1", "-g", *STRICT, *(SANITIZE if sanitize else [])]


@functools.cache
def build(compiler: str, sanitize: bool, directory: str, generated: str = str(GENERATED), std: str = "c99",
          link: Sequence[str] = ()) -> Path:
    """The driver over the C of `generated`, compiled with `compiler` at the strict flags and C standard `std`
    (and ASan/UBSan when `sanitize`)."""
    out = Path(directory)
    c_dir = Path(generated) / "c"
    tag = f"{Path(compiler).name}-{std}{'-san' if sanitize else ''}"
    source = out / f"harness-{tag}.c"
    source.write_text(render_driver(Path(generated)))
    binary = out / f"harness-{tag}"
    flags = generated_flags(sanitize, std)
    # The generated code is compiled once per run (object_cache); the driver itself uses stdio with %zu and
    # may print freely: only the generated code gets -Werror.
    objects = map(str, compiled(compiler, flags, c_dir))
    result = subprocess.run([compiler, *[f for f in flags if f != "-Werror"], "-Wno-conversion", "-I", str(c_dir),
                             str(source), *objects, *link, "-o", str(binary)], capture_output=True, text=True)
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
    extra: str = ""
    """What some commands print after the answer proper: the hook calls, or validate's problems."""

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
            answers.append(Answer(True, "" if parts[1] == "-" else parts[1],
                                  extra="" if len(parts) < 3 or parts[2] == "-" else parts[2]))
        elif parts[0] == "err":
            answers.append(Answer(False, section=parts[1], field="" if parts[2] == "-" else parts[2],
                                  offset=int(parts[3]), status=parts[4], message=parts[5],
                                  untouched=parts[6] == "untouched",
                                  extra="" if len(parts) < 8 or parts[7] == "-" else parts[7]))
        elif parts[0] == "refused":  # resave: negotiate refused, every reason after the tab
            answers.append(Answer(False, status="refused", extra=parts[1]))
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


def python_config(device: str, config: dict[str, Any] | None) -> Any:
    """The generated Python's config of `device` from a vector's `config` ({present: [names], params: {section:
    {name: value}}}), or None."""
    if config is None:
        return None
    mod = module(device)
    present = 0
    for name in config.get("present", ()):
        present |= getattr(mod, f"HAS_{name.upper()}")
    params = mod.__dict__[f"{camel(device)}Params"]()
    for section, values in config.get("params", {}).items():
        setattr(params, section, module(section).Params(**values))
    made = mod.__dict__[f"{camel(device)}Config"](present=present, params=params)
    for section, count in config.get("instances", {}).items():
        setattr(made.instances, section, count)
    return made


def config_spec(device: str, config: dict[str, Any] | None) -> str:
    """The driver's CONFIG word for the same config ("PRESENT:PARAMS")."""
    assert config is not None
    names = [use["section"] for use in lock()["devices"][device]["sections"]]
    present = sum(1 << names.index(name) for name in config.get("present", ()))
    params = ",".join([f"{section}.{name}={int(value)}" for section, values in sorted(config.get("params", {}).items())
                       for name, value in sorted(values.items())]
                      + [f"{section}.instances={count}" for section, count in sorted(config.get("instances", {}).items())]
                      ) or "-"
    return f"0x{present:x}:{params}"


def python_device(device: str, blob: bytes, config: dict[str, Any] | None = None) -> Answer:
    mod = module(device)
    c = python_config(device, config)
    try:
        state, descriptor = mod.load(blob, config=c)
    except LoadError as exc:
        return Answer(False, section=exc.section, field=exc.field, offset=exc.offset, message=exc.reason)
    return Answer(True, mod.save(state, descriptor, config=c).hex())


def device_command(device: str, blob: bytes, config: dict[str, Any] | None = None) -> str:
    """The driver's `device` command for `blob` (with `config`, when given)."""
    return f"device {device} {hex_or_dash(blob)}" + (f" {config_spec(device, config)}" if config is not None else "")


def mutate(rng: random.Random, data: bytes) -> bytes:
    """`data` with one to three random edits (bit flip, byte replaced, bytes inserted or deleted, truncation,
    extension), half of them within the first 48 bytes, where the fields that steer a load mostly are."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(("flip", "replace", "insert", "delete", "truncate", "extend"))
        position = rng.randrange(len(b)) if b else 0
        if rng.random() < 0.5 and b:
            position = rng.randrange(min(len(b), 48))
        if op == "flip" and b:
            b[position] ^= 1 << rng.randrange(8)
        elif op == "replace" and b:
            b[position] = rng.choice((0, 1, 2, 0x80, 0xFF, rng.randrange(256)))
        elif op == "insert":
            b[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        elif op == "delete" and b:
            del b[position:position + rng.randint(1, 4)]
        elif op == "truncate":
            del b[rng.randint(0, len(b)):]
        else:
            b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(b)


def reframed(runtime: ModuleType, rng: random.Random, blob: bytes) -> bytes:
    """`blob` with one frame's payload mutated and its CRC recomputed, so that the section loaders see it.

    `runtime` is the `_runtime` module of the build that framed `blob`.
    """
    count = runtime.read_header(blob, "test")
    offset, frames = runtime.HEADER.size, []
    for _ in range(count + 1):  # the descriptor frame, then the sections
        frame = runtime.read_frame(blob, offset, "test")
        frames.append(frame)
        offset = frame.end + runtime.CRC.size
    frame = rng.choice(frames)
    payload = mutate(rng, blob[frame.start:frame.end])
    head = frame.start - runtime.FRAME.size
    rebuilt = runtime.frame(frame.section_id, frame.version, frame.required, payload)
    return blob[:head] + rebuilt + blob[frame.end + runtime.CRC.size:]


def failures_of(extra: str) -> list[tuple[str, str, str, str]]:
    """The driver's compat failures (section, rule, field, text), as printed by `compat` and `migrate`."""
    if extra in ("", "-"):
        return []
    rows = [tuple(row.split("\x1f")) for row in extra.split("\x02")]
    assert all(len(row) == 4 for row in rows), f"driver: a failure is not section, rule, field, text: {extra!r}"
    return rows  # type: ignore[return-value]


def python_failures(failures: Sequence[Any]) -> list[tuple[str, str, str, str]]:
    """The generated Python's CompatFailures in the driver's shape."""
    return [(f.section, f.rule, f.field, str(f)) for f in failures]


def mask_of(section: ModuleType, descriptor: Any, array: str, register: str) -> int:
    """A descriptor of `section` (its generated module): its `array` (emulated_masks or write_masks) entry for
    `register`."""
    return int(getattr(descriptor, array)[section.MASKED_REGISTERS.index(register)])


def with_mask(section: ModuleType, descriptor: Any, array: str, register: str, value: int) -> Any:
    """A copy of a descriptor of `section` whose `array` (emulated_masks or write_masks) holds `value` for
    `register`."""
    index = section.MASKED_REGISTERS.index(register)
    masks = getattr(descriptor, array)
    return dataclasses.replace(descriptor, **{array: masks[:index] + (value,) + masks[index + 1:]})


def descriptor_records(device: str, descriptor: Any) -> bytes:
    """A device descriptor as its frame's records (what the driver's `compat` and `migrate` read)."""
    mod = module(device)
    records = b""
    for use in lock()["devices"][device]["sections"]:
        name = use["section"]
        if descriptor.present & getattr(mod, f"HAS_{name.upper()}"):
            section = module(name)
            value = getattr(descriptor, name)
            for item in value if isinstance(value, list) else [value]:  # a repeated section: one per instance
                packed = section.pack_descriptor(item)
                records += section.SECTION_ID.to_bytes(2, "big") + len(packed).to_bytes(2, "big") + packed
    return records


def run_program(directory: Path, compiler: str, source: str) -> str:
    """Build `source` (one C file) with the generated C at the strict flags under ASan/UBSan, run it, and
    return what it printed; the build and the run must both succeed."""
    program = directory / "program.c"
    program.write_text(source)
    binary = directory / "program"
    flags = generated_flags()
    built = subprocess.run([compiler, *flags, "-I", str(C_DIR), str(program),
                            *map(str, compiled(compiler, flags, C_DIR)), "-o", str(binary)], capture_output=True,
                           text=True)
    assert built.returncode == 0, built.stderr
    run = subprocess.run([str(binary)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout
