"""The C back end's untested corners, against the Python back end, on test-only schemas under ASan/UBSan.

The shipped schemas declare no pre-save or post-load hooks, few signed or
bool fields, no arrays inside arrays and no struct member with a presence,
so tests/generated_c/coverage/ declares them (see the comments there), and
this module builds it once (`vfiogen build coverage -o TMP`), compiles its C
with each compiler present at -std=c99 and -std=c11 with the strict flags
and the sanitizers (harness.build), imports its Python beside the shipped
package (isolated.py), and asks both the same questions:

* round trips at every version and param set, on Hypothesis states: Python
  save -> C load -> C save, byte for byte; the C state after a load, byte
  for byte, is the Python state written into the C struct (cstate.py); C
  save of that state is the Python's save; down-saves that would lose a
  value are refused naming the same field;
* thousands of mutated payloads per section and of mutated device blobs,
  with a fixed seed: the same error (section, field, offset) or the same
  re-saved bytes, a failed C load leaving the caller's state untouched, and
  no post-load hook called unless the blob loaded;
* validate: the same problems (field path and reason code) for valid
  states, for each deliberately broken one (with the problems worked out
  by hand) and for combinations, also with a short problem array;
* hooks: pre-save hooks before save and post-load hooks after a whole
  load, in device then declared order, each seeing its section's state
  (recorded as its payload), a replaced state saved, and a missing or
  failing hook stopping the operation at the same point in both languages;
* restore with hook steps and overrides, section and device, the same
  writes and hook calls in the same order, and a hand-worked sequence.
"""

from __future__ import annotations

import copy
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import run_cli
from cstate import c_bytes
from harness import COMPILERS, Answer, build, hex_or_dash, lock, mutate, params_spec, reframed, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from isolated import import_build
from test_c_layout import check_layout

from vfiogen.backends.python import naming as py_naming
from vfiogen.context import Context
from vfiogen.diagnostics import Reporter
from vfiogen.driver import compile_schemas, discover

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generated_python"))
import strategies as S  # noqa: E402

pytestmark = pytest.mark.skipif(not COMPILERS, reason="no C compiler (gcc or clang) on PATH")

COVERAGE = Path(__file__).resolve().parent / "coverage"
SECTIONS = ("cov_nested", "cov_scalars", "cov_hooks")
DEVICE = "cov_device"
STANDARDS = ("c99", "c11")
BUILDS = [(compiler, std) for compiler in COMPILERS for std in STANDARDS]
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
BATCH = settings(max_examples=5, deadline=None, suppress_health_check=QUIET)
MUTATIONS_PER_SECTION = 2000
BLOB_MUTATIONS = 1000


# --- the build ---------------------------------------------------------------------------------------------

def _scalars_fixups() -> dict[str, S.Fixup]:
    """Only what cov_scalars' constraints need; `assume` drops the rare rest (v_s8 == -100, a remainder of -6)."""
    return {
        "v_s32": lambda env, p: st.integers(p.p_s32, 2**31 - 1),
        "v_s64": lambda env, p: st.integers(p.p_s64, INT64_MAX),
        "v_u64": lambda env, p: st.integers(0, p.p_u64),
        "v_bool": lambda env, p: st.just(True) if env["v_s16"] < p.p_s16 else None,
        "count": lambda env, p: st.integers(0, min(p.p_u8, 8)),
    }


@dataclass
class Build:
    out: Path
    lock: dict[str, Any]
    modules: dict[str, ModuleType]
    catalogue: S.Catalogue
    param_sets: dict[str, dict[str, Any]]

    @property
    def device(self) -> Any:
        return self.modules[DEVICE]

    def section_of(self, state: Any) -> str:
        return next(name for name in SECTIONS if type(state).__name__ == py_naming.state_class(name)
                    and type(state).__module__ == self.modules[name].__name__)

    def device_params(self, name: str) -> Any:
        return self.param_sets["cov_device"][name]

    def constraint_reasons(self, name: str) -> set[str]:
        return {c["reason"] for c in self.lock["sections"][name]["constraints"]}


@pytest.fixture(scope="module")
def cov(tmp_path_factory: pytest.TempPathFactory) -> Build:
    out = tmp_path_factory.mktemp("coverage-build")
    result = run_cli("build", str(COVERAGE), "-o", str(out))
    assert result.status == 0, result.stderr
    modules = import_build(out / "python")
    reporter = Reporter()
    compiled = compile_schemas(discover([str(COVERAGE)], reporter), Context(reporter))
    assert compiled.module is not None
    sections = {name: modules[name] for name in SECTIONS}
    catalogue = S.Catalogue(compiled.module, sections, {"cov_scalars": _scalars_fixups()})
    device = modules[DEVICE]
    edge = {"cov_scalars": modules["cov_scalars"].Params(p_u8=0, p_u16=3, p_u32=0x8000_0000, p_u64=0, p_s8=127,
                                                         p_s16=32767, p_s32=2**31 - 1, p_s64=INT64_MAX,
                                                         p_bool=False),
            "cov_nested": modules["cov_nested"].Params(cells=0, wide=False),
            "cov_hooks": modules["cov_hooks"].Params()}
    param_sets = {"default": {name: module.PARAMS for name, module in sections.items()},
                  "cov_device": {name: getattr(device, f"PARAMS_{name.upper()}") for name in SECTIONS},
                  "edge": edge}
    return Build(out, lock(out), modules, catalogue, param_sets)


@pytest.fixture(scope="module")
def drivers(cov: Build, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """The driver over the coverage build's C, with each compiler at each standard, under ASan/UBSan."""
    directory = str(tmp_path_factory.mktemp("coverage-drivers"))
    return {(compiler, std): build(compiler, True, directory, str(cov.out), std) for compiler, std in BUILDS}


@pytest.fixture(scope="module")
def driver(drivers: dict[tuple[str, str], Path]) -> Path:
    return drivers[BUILDS[-1]]


def spec_of(p: Any) -> str:
    return params_spec({k: int(v) for k, v in p.to_dict().items()})


def seeds(cov: Build, name: str, p: Any, count: int) -> list[Any]:
    """`count` valid states of section `name`, the same on every run (Hypothesis, derandomized)."""
    found: list[Any] = []

    @settings(derandomize=True, database=None, max_examples=count, deadline=None, suppress_health_check=QUIET)
    @given(cov.catalogue.section_states(name, p))
    def collect(state: Any) -> None:
        found.append(state)

    collect()
    assert len(found) >= count // 2, (name, len(found))
    return found


def compare(driver: Path, batch: list[tuple[str, Answer]]) -> list[Answer]:
    answers = run(driver, [command for command, _ in batch])
    for (command, expected), answer in zip(batch, answers, strict=True):
        assert answer.key == expected.key, f"{command[:160]}...: C {answer} != Python {expected}"
    return answers


# --- what the schemas are for --------------------------------------------------------------------------------

def _types(field_type: dict[str, Any], depth: int = 0) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(kind, array depth, type) of a type and everything inside it."""
    yield field_type["kind"], depth, field_type
    if field_type["kind"] == "array":
        yield from _types(field_type["element"], depth + 1)
    for member in field_type.get("members", ()):
        yield from _types(member["type"], depth)


def test_the_schemas_hold_what_the_shipped_ones_lack(cov: Build) -> None:
    sections = cov.lock["sections"]
    kinds = {kind for s in sections.values() for f in s["state"] for kind, _, _ in _types(f["type"])}
    assert {"s8", "s16", "s32", "s64", "u64", "bool", "bytes", "array", "struct"} <= kinds
    assert any(depth >= 2 for s in sections.values() for f in s["state"] for _, depth, _ in _types(f["type"]))
    members = [m for s in sections.values() for f in s["state"] for kind, _, t in _types(f["type"])
               if kind == "struct" for m in t["members"]]
    assert any(m["present"] for m in members) and any(m["type"]["kind"] == "array" for m in members)
    items = [i for s in sections.values() for i in s["registers"] + s["state"]]
    registers = [r for s in sections.values() for r in s["registers"]]
    assert any(i["since"] > 1 for i in registers) and any(i["until"] for i in registers)
    assert any(i["since"] > 1 for i in items if i not in registers) and any(
        i["until"] for i in items if i not in registers)
    assert {p["type"] for s in sections.values() for p in s["params"]} == {
        "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "bool"}
    hooked = [name for name, s in sections.items() if s["hooks"]["pre_save"] and s["hooks"]["post_load"]]
    device = cov.lock["devices"][DEVICE]["sections"]
    assert len(hooked) >= 2 and any(not use["required"] for use in device if use["section"] in hooked)
    steps = sections["cov_nested"]["restore"]
    assert sum(bool(step.get("hook")) for step in steps) >= 2 and any(step.get("with") for step in steps)


@pytest.mark.parametrize("compiler", COMPILERS or ["none"])
def test_struct_layout_matches_ctypes(cov: Build, tmp_path: Path, compiler: str) -> None:
    # cstate.c_bytes hands the driver Python states as C structs laid out by ctypes: the same layout.
    assert check_layout(tmp_path, compiler, cov.out) == 3 * len(SECTIONS)


# --- round trips ---------------------------------------------------------------------------------------------

ROUND_TRIPS = [(name, version, set_name)
               for name, versions in (("cov_nested", (1, 2)), ("cov_scalars", (1, 2, 3)), ("cov_hooks", (1,)))
               for version in versions for set_name in ("default", "cov_device", "edge")]


def _python_save(module: ModuleType, state: Any, version: int, p: Any) -> Answer:
    try:
        return Answer(True, module.save(state, version, p).hex())
    except module.SaveError as exc:
        return Answer(False, section=exc.section, field=exc.field, offset=0)


@pytest.mark.parametrize(("name", "version", "set_name"), ROUND_TRIPS,
                         ids=[f"{n}-v{v}-{s}" for n, v, s in ROUND_TRIPS])
@BATCH
@given(data=st.data())
def test_round_trip_across_languages(cov: Build, driver: Path, name: str, version: int, set_name: str,
                                     data: st.DataObject) -> None:
    module = cov.modules[name]
    section = cov.lock["sections"][name]
    p = cov.param_sets[set_name][name]
    spec = spec_of(p)
    states = data.draw(st.lists(cov.catalogue.section_states(name, p), min_size=6, max_size=6), label="states")
    batch: list[tuple[str, Answer]] = []
    for s in states:
        older = cov.catalogue.with_later_defaults(name, s, p, version)
        payload = module.save(older, version, p)
        loaded = module.load(payload, version, p)
        head = f"{name} {version} {spec}"
        batch += [
            (f"load {head} {payload.hex() or '-'}", Answer(True, payload.hex())),
            (f"load {head} {payload.hex() or '-'} {module.VERSION}",
             Answer(True, module.save(loaded, module.VERSION, p).hex())),
            # The whole C state after the load is the Python's, past each array's count (zero) included.
            (f"state {head} {payload.hex() or '-'}", Answer(True, c_bytes(section, loaded).hex())),
            (f"save {head} {c_bytes(section, older).hex()}", Answer(True, payload.hex())),
            # The drawn state itself: an older version must refuse what it cannot carry, naming the field.
            (f"save {head} {c_bytes(section, s).hex()}", _python_save(module, s, version, p)),
            (f"validate {name} {spec} {c_bytes(section, s).hex()} 8", Answer(True, "0")),
        ]
    answers = compare(driver, batch)
    for index in range(len(states)):
        newest = bytes.fromhex(answers[6 * index + 1].payload)
        loaded = module.load(bytes.fromhex(batch[6 * index][1].payload), version, p)
        assert module.load(newest, module.VERSION, p) == loaded  # C save -> Python load
    assert all(answer.extra == "" for answer in answers[5::6])  # no problem reported for a valid state


# --- mutations -----------------------------------------------------------------------------------------------


def _python_load(module: ModuleType, payload: bytes, version: int, p: Any) -> Answer:
    try:
        state = module.load(payload, version, p)
    except module.LoadError as exc:
        return Answer(False, section=exc.section, field=exc.field, offset=exc.offset)
    return _python_save(module, state, version, p)


@pytest.mark.parametrize("name", SECTIONS)
def test_payload_mutations_agree(cov: Build, driver: Path, name: str) -> None:
    module = cov.modules[name]
    versions = range(module.MIN_VERSION, module.VERSION + 1)
    corpus = []
    for sets in cov.param_sets.values():
        p = sets[name]
        for s in seeds(cov, name, p, 8):
            for version in versions:
                corpus.append((version, p, module.save(cov.catalogue.with_later_defaults(name, s, p, version),
                                                       version, p)))
    rng = random.Random(f"vfiogen-c-coverage-{name}")
    batch = []
    for _ in range(MUTATIONS_PER_SECTION):
        version, p, payload = rng.choice(corpus)
        mutated = mutate(rng, payload)
        asked = version if rng.random() < 0.9 else rng.choice((0, 1, 2, 3, 4, 0xFFFF))
        batch.append((f"load {name} {asked} {spec_of(p)} {hex_or_dash(mutated)}",
                      _python_load(module, mutated, asked, p)))
    answers = compare(driver, batch)
    assert all(answer.ok or answer.untouched for answer in answers), "a failed C load changed the state"
    outcomes = [answer.ok for answer in answers]
    # Both outcomes must be common, or the comparison says little.
    assert outcomes.count(True) >= 100 and outcomes.count(False) >= 500, (outcomes.count(True), outcomes.count(False))


# --- device blobs and hooks ----------------------------------------------------------------------------------

class HookFailed(Exception):
    def __init__(self, section: str) -> None:
        super().__init__(section)
        self.section = section


@dataclass(frozen=True)
class Spec:
    """What the driver's SPEC says: which hook fails, which is missing, which replaces its state with a payload."""

    fail: str = ""
    missing: str = ""
    replace: str = ""
    payload: bytes = b""

    @property
    def text(self) -> str:
        items = [f"fail={self.fail}"] * bool(self.fail) + [f"missing={self.missing}"] * bool(self.missing)
        items += [f"replace={self.replace}:{self.payload.hex()}"] * bool(self.replace)
        return ",".join(items) or "-"


def _recorder(cov: Build, spec: Spec, calls: list[str], point: list[str]) -> dict[str, Callable[[Any], None]]:
    """The Python hooks, by name (one section each, VG0703); each records and acts as `spec` says."""
    names = {h for s in SECTIONS for key in ("pre_save", "post_load") for h in cov.lock["sections"][s]["hooks"][key]}

    def make(name: str) -> Callable[[Any], None]:
        def hook(state: Any) -> None:
            section = cov.section_of(state)
            module, p = cov.modules[section], cov.device_params(section)
            calls.append(f"{point[0]}:{section}.{name}:{module.save(state, module.VERSION, p).hex()}")
            if spec.fail == f"{section}.{name}":
                raise HookFailed(section)
            if spec.replace == f"{section}.{name}":
                new = module.load(spec.payload, module.VERSION, p)
                for attr in type(state).__slots__:
                    setattr(state, attr, getattr(new, attr))
        return hook

    return {name: make(name) for name in sorted(names) if spec.missing.split(".")[-1] != name}


def python_hooks(cov: Build, blob: bytes, spec: Spec) -> tuple[Answer, bool]:
    """The Python's answer to the driver's `hooks` command, and whether the state should be untouched."""
    calls = ["load"]
    point = ["post_load"]
    hooks = _recorder(cov, spec, calls, point)
    device = cov.device

    def failed(section: str, untouched: bool) -> tuple[Answer, bool]:
        return Answer(False, section=section, field="", offset=0, extra=";".join(calls)), untouched

    try:
        state, descriptor = device.load(blob, hooks=hooks)
    except device.LoadError as exc:
        return Answer(False, section=exc.section, field=exc.field, offset=exc.offset, extra=";".join(calls)), True
    except ValueError:  # a missing hook, refused before anything is loaded
        return failed(DEVICE, True)
    except HookFailed as exc:  # the C keeps the loaded state in place
        return failed(exc.section, False)
    calls.append("save")
    point[0] = "pre_save"
    try:
        saved = device.save(state, descriptor, hooks=hooks)
    except ValueError:
        return failed(DEVICE, False)
    except HookFailed as exc:
        return failed(exc.section, False)
    return Answer(True, saved.hex(), extra=";".join(calls)), False


def device_blobs(cov: Build, count: int) -> list[bytes]:
    """Valid cov_device blobs, the optional cov_hooks section present in about half."""
    p = cov.param_sets["cov_device"]
    states = {name: seeds(cov, name, p[name], count) for name in SECTIONS}
    blobs = []
    for index in range(count):
        parts = {name: states[name][index % len(states[name])] for name in SECTIONS}
        if index % 2:
            parts["cov_hooks"] = None
        noop = {name: (lambda s: None) for name in ("sync_rows", "stamp", "stamp_generation")}
        blobs.append(cov.device.save(cov.device.CovDeviceState(**parts), cov.device.CovDeviceDescriptor(), hooks=noop))
    return blobs


def _frame_payloads(blob: bytes, cov: Build) -> dict[str, str]:
    runtime = cov.modules["_runtime"]
    by_id = {cov.modules[name].SECTION_ID: name for name in SECTIONS}
    count = runtime.read_header(blob, "test")
    frame = runtime.read_frame(blob, runtime.HEADER.size, "test")
    offset, payloads = frame.end + runtime.CRC.size, {}
    for _ in range(count):
        frame = runtime.read_frame(blob, offset, "test")
        payloads[by_id[frame.section_id]] = blob[frame.start:frame.end].hex()
        offset = frame.end + runtime.CRC.size
    return payloads


def _hook_specs(cov: Build, blob: bytes) -> list[Spec]:
    nested = cov.modules["cov_nested"]
    hooks = cov.modules["cov_hooks"]
    nested_state = nested.load(bytes.fromhex(_frame_payloads(blob, cov)["cov_nested"]), nested.VERSION,
                               cov.device_params("cov_nested"))
    nested_state.tail ^= 0xFFFF_FFFF
    specs = [Spec()]
    for section, point in (("cov_nested", "pre_save"), ("cov_nested", "post_load"), ("cov_hooks", "pre_save"),
                           ("cov_hooks", "post_load")):
        for hook in cov.lock["sections"][section]["hooks"][point]:
            specs += [Spec(fail=f"{section}.{hook}"), Spec(missing=f"{section}.{hook}")]
    specs += [
        # A pre-save hook updates its state; the next hook sees it, and the blob carries it.
        Spec(replace="cov_nested.sync_rows", payload=nested.save(nested_state, nested.VERSION,
                                                                 cov.device_params("cov_nested"))),
        Spec(replace="cov_hooks.stamp_generation", payload=hooks.save(hooks.CovHooksState(generation=7, note=-8))),
        # A post-load hook may update the loaded state too; the save that follows carries it.
        Spec(replace="cov_hooks.rebuild_note", payload=hooks.save(hooks.CovHooksState(generation=1, note=2))),
        Spec(fail="cov_hooks.check_note", replace="cov_hooks.rebuild_note",
             payload=hooks.save(hooks.CovHooksState(generation=3, note=4))),
    ]
    return specs


@pytest.mark.parametrize("build_id", [f"{c}-{s}" for c, s in BUILDS] or ["none"])
def test_hooks_agree_with_the_python(cov: Build, drivers: dict[tuple[str, str], Path], build_id: str) -> None:
    driver = drivers[tuple(build_id.split("-"))]  # type: ignore[index]
    batch, expected = [], []
    for blob in device_blobs(cov, 6):
        for spec in _hook_specs(cov, blob):
            answer, untouched = python_hooks(cov, blob, spec)
            batch.append((f"hooks {DEVICE} {blob.hex()} {spec.text}", answer))
            expected.append((blob, spec, answer, untouched))
    answers = compare(driver, batch)
    for (blob, spec, want, untouched), got in zip(expected, answers, strict=True):
        assert got.extra == want.extra, f"{spec}: C calls {got.extra[:300]} != Python {want.extra[:300]}"
        assert got.ok or got.untouched == untouched, (spec, got)
        calls = got.extra.split(";")
        points = {call.split(":")[0] for call in calls[1:] if ":" in call}
        if spec.missing:
            # Refused before any hook of that point runs: a missing post-load hook before the blob is even read.
            post_load = ("rebuild", "rebuild_note", "check_note")
            point = "post_load" if spec.missing.split(".")[1] in post_load else "pre_save"
            assert not got.ok and got.section == DEVICE and point not in points, (spec, got)
        elif spec.fail:
            section = spec.fail.split(".")[0]
            if section in _frame_payloads(blob, cov):
                # Stopped right after the failing hook's own call, naming its section.
                assert not got.ok and got.section == section and calls[-1].split(":")[1] == spec.fail, (spec, got)
            else:
                assert got.ok  # an optional section the blob lacks: its hooks are not called
        elif spec.replace and spec.replace.split(".")[0] in _frame_payloads(blob, cov):
            # The state a hook replaced is what the blob carries.
            saved = _frame_payloads(bytes.fromhex(got.payload), cov)
            assert got.ok and saved[spec.replace.split(".")[0]] == spec.payload.hex(), spec
        if not got.ok:
            assert got.status == "hook missing or failed", (spec, got)
    # Independently of the Python: with every hook given, the calls are the post-load hooks after the whole
    # blob, each seeing the payload the blob carries, then the pre-save hooks, in device then declared order.
    for (blob, spec, _, _), got in zip(expected, answers, strict=True):
        if spec != Spec():
            continue
        payloads = _frame_payloads(blob, cov)
        present = [s for s in SECTIONS if s in payloads]
        sections = cov.lock["sections"]
        want = ["load"] + [f"post_load:{s}.{h}:{payloads[s]}" for s in present
                           for h in sections[s]["hooks"]["post_load"]] + ["save"]
        want += [f"pre_save:{s}.{h}:{payloads[s]}" for s in present for h in sections[s]["hooks"]["pre_save"]]
        assert got.ok and got.extra.split(";") == want
        assert bytes.fromhex(got.payload) == blob




def test_blob_mutations_agree_and_call_no_hook_on_a_failed_load(cov: Build, driver: Path) -> None:
    blobs = device_blobs(cov, 8)
    rng = random.Random("vfiogen-c-coverage-blobs")
    batch = []
    for i in range(BLOB_MUTATIONS):
        blob = rng.choice(blobs)
        mutated = mutate(rng, blob) if i % 2 else reframed(cov.modules["_runtime"], rng, blob)
        batch.append((f"hooks {DEVICE} {hex_or_dash(mutated)} -", python_hooks(cov, mutated, Spec())[0]))
    answers = compare(driver, batch)
    failed = [answer for answer in answers if not answer.ok]
    assert all(answer.untouched and answer.extra == "load" for answer in failed), "hooks ran on a failed load"
    assert all(c.extra == p.extra for c, (_, p) in zip(answers, batch, strict=True))
    assert len(failed) >= 300 and len(answers) - len(failed) >= 25, len(failed)


# --- validate ------------------------------------------------------------------------------------------------

Fault = Callable[[Any, Any, ModuleType], "tuple[Any, Any, list[tuple[str, str]]] | None"]
"""(valid state, params, module) -> (broken state, params, [(field, code)] worked out by hand), or None when the
fault does not apply to that state."""


def _resized(s: Any, count: int) -> Any:
    """A cov_scalars state whose arrays are as long as `count` says (values, flags, late_list)."""
    s.count = count
    s.values = (s.values + [0] * count)[:count]
    s.flags = (s.flags + [False] * count)[:count // 2]
    s.late_list = (s.late_list + [0] * count)[:count]
    return s


def _scalars_faults() -> list[Fault]:
    return [
        lambda s, p, m: (_set(s, v_mode=2), p, [("v_mode", "ENUM")]),
        lambda s, p, m: (_set(s, v_bool=False, opt=3, v_s16=max(s.v_s16, p.p_s16)), p, [("opt", "ABSENT")]),
        lambda s, p, m: (_set(s, v_mode=m.Mode.OFF, opt_blob=b"\x01\x02\x03"), p, [("opt_blob", "ABSENT")]),
        lambda s, p, m: (_set(s, big_opt=1), p, [("big_opt", "ABSENT")]) if p.p_u32 <= 0x8000_0000 else None,
        # 9 values and 9 late_list entries: both over their max of 8 (flags, 9 / 2 = 4, still fits).
        lambda s, p, m: (_resized(s, 9), p, [("values", "COUNT"), ("late_list", "COUNT")]),
        lambda s, p, m: (_resized(s, p.p_u8 + 1), p, [("count", "CONSTRAINT")]) if p.p_u8 < 8 else None,
        lambda s, p, m: ((_set(s, v_bool=False, opt=0, v_s16=p.p_s16 - 1), p, [("v_s16", "CONSTRAINT")])
                         if p.p_s16 > -32768 else None),
        # Truncating division and remainder, as C's: -3 / 4 is 0 (floor division would say -1 and fail);
        # -13 % 7 is -6 (floor would say 1).
        lambda s, p, m: (_set(s, v_s8=-3), p, []) if p.p_s8 != -3 else None,
        lambda s, p, m: (_set(s, v_s32=-13), p, [("v_s32", "CONSTRAINT")]) if p.p_s32 <= -13 else None,
        # v_s8 = -100: "-v_s8 != 100" fails, and so does "v_s8 != params.p_s8" where p_s8 is -100 (default).
        lambda s, p, m: ((_set(s, v_s8=-100), p, [("v_s8", "CONSTRAINT")] * (1 + (p.p_s8 == -100)))),
        lambda s, p, m: (_set(s, v_u64=p.p_u64 + 1), p, [("v_u64", "CONSTRAINT")]) if p.p_u64 < 2**64 - 1 else None,
        lambda s, p, m: (_set(s, v_s64=p.p_s64 - 1), p, [("v_s64", "CONSTRAINT")]) if p.p_s64 > INT64_MIN else None,
    ]


def _set(s: Any, **values: Any) -> Any:
    for key, value in values.items():
        setattr(s, key, value)
    return s


def _control(s: Any, m: ModuleType, value: int) -> Any:
    """`s` with control holding `value` as it is: from_value refuses reserved bits and undefined enum values,
    and these cases ask what validate says of a state that holds them all the same."""
    register = m.ControlRegister.__new__(m.ControlRegister)
    register._raw = value
    s.control = register
    return s


def _row_kind(s: Any, p: Any, m: ModuleType) -> Any:
    if not s.rows:
        return None
    s.rows[-1].kind = 3
    return s, p, [(f"rows[{len(s.rows) - 1}].kind", "ENUM")]


def _row_extra_absent(s: Any, p: Any, m: ModuleType) -> Any:
    """A struct member whose presence is false holding a value."""
    if not s.rows or s.control.has_ext:
        return None
    s.rows[0].extra = -5
    return s, p, [("rows[0].extra", "ABSENT")]


def _cell_kind(s: Any, p: Any, m: ModuleType) -> Any:
    """An enum inside an array inside an array."""
    if not s.rows or not p.cells:
        return None
    s.rows[0].cells[-1].k = 4
    return s, p, [(f"rows[0].cells[{p.cells - 1}].k", "ENUM")]


def _turbo_without_mask(s: Any, p: Any, m: ModuleType) -> Any:
    _control(s, m, s.control.value() | 0xC0)
    s.control.mask = False
    return s, p, [("control.speed", "CONSTRAINT")]


def _nested_faults() -> list[Fault]:
    return [
        lambda s, p, m: (_control(s, m, s.control.value() | 0x1000), p, [("control", "RESERVED")]),
        lambda s, p, m: (_control(s, m, s.control.value() & ~0xC0 | 2 << 6), p, [("control.speed", "ENUM")]),
        lambda s, p, m: (_set(s, ext=8), p, [("ext", "ABSENT")]) if not s.control.has_ext else None,
        lambda s, p, m: (_set(s, wide_reg=1), p, [("wide_reg", "ABSENT")]) if not p.wide else None,
        _row_kind,
        _row_extra_absent,
        _cell_kind,
        _turbo_without_mask,
        _cells_beyond_max,
    ]


def _cells_beyond_max(s: Any, p: Any, m: ModuleType) -> Any:
    """A length beyond the inner array's max (params cells = 5 > 4): a problem in every row."""
    return s, m.Params(cells=5, wide=p.wide), [(f"rows[{i}].cells", "COUNT") for i in range(len(s.rows))]


# Not combined with other faults: where a length is outside 0..max, the C state has no elements to check (its
# array cannot hold that many) while the Python list still holds its own, which the Python checks.
ALONE = {_cells_beyond_max}


FAULTS: dict[str, Callable[[], list[Fault]]] = {"cov_scalars": _scalars_faults, "cov_nested": _nested_faults}


def python_problems(cov: Build, name: str, state: Any, p: Any) -> list[tuple[str, str]]:
    """The Python's validate, each reason as the C's reason code (the C status without VFG_ERR_)."""
    reasons = cov.constraint_reasons(name)

    def code(reason: str) -> str:
        if reason in reasons:
            return "CONSTRAINT"
        for start, status in (("constraint cannot be evaluated", "EXPRESSION"), ("reserved bits", "RESERVED"),
                              ("is absent on this device", "ABSENT"), ("holds ", "COUNT")):
            if reason.startswith(start):
                return status
        return "ENUM" if " is not a value of " in reason else f"no C code: {reason}"

    return [(problem.field, code(problem.reason)) for problem in cov.modules[name].validate(state, p)]


def _validate_answer(problems: list[tuple[str, str]], capacity: int) -> Answer:
    return Answer(True, str(len(problems)), extra=";".join(f"{f}:{c}" for f, c in problems[:capacity]))


@pytest.mark.parametrize("build_id", [f"{c}-{s}" for c, s in BUILDS] or ["none"])
def test_validate_agrees_with_the_python(cov: Build, drivers: dict[tuple[str, str], Path], build_id: str) -> None:
    driver = drivers[tuple(build_id.split("-"))]  # type: ignore[index]
    rng = random.Random("vfiogen-c-coverage-validate")
    batch, single = [], 0
    for name, faults in FAULTS.items():
        section, module = cov.lock["sections"][name], cov.modules[name]
        for set_name, sets in cov.param_sets.items():
            for s in seeds(cov, name, sets[name], 6):
                broken_any = []
                for fault in faults():
                    made = fault(copy.deepcopy(s), sets[name], module)
                    if made is None:
                        continue
                    state, p, by_hand = made
                    problems = python_problems(cov, name, state, p)
                    assert problems == by_hand, (name, set_name, by_hand, problems)
                    batch.append((f"validate {name} {spec_of(p)} {c_bytes(section, state).hex()} 64",
                                  _validate_answer(problems, 64)))
                    single += 1
                    if fault not in ALONE:
                        broken_any.append(fault)
                # Two or three faults at once, and a problem array too short for them all.
                for _ in range(3):
                    state, p = copy.deepcopy(s), sets[name]
                    for fault in rng.sample(broken_any, min(len(broken_any), rng.randint(2, 3))):
                        made = fault(state, p, module)
                        if made is not None:
                            state, p, _ = made
                    problems = python_problems(cov, name, state, p)
                    for capacity in (64, 1):
                        batch.append((f"validate {name} {spec_of(p)} {c_bytes(section, state).hex()} {capacity}",
                                      _validate_answer(problems, capacity)))
    answers = compare(driver, batch)
    for (command, want), got in zip(batch, answers, strict=True):
        assert got.extra == want.extra, f"{command[:100]}: C {got.extra} != Python {want.extra}"
    assert single >= 150 and sum(a.payload != "0" for a in answers) >= 250


# --- capture -------------------------------------------------------------------------------------------------

def _python_capture(cov: Build, name: str, config: bytes, base: int, p: Any) -> Answer:
    """What the driver's `capture` prints: the captured registers, emulation state at its defaults, saved."""
    module = cov.modules[name]

    def read_config(offset: int, size: int) -> int:
        # As the driver's: a hypervisor reads 1, 2 or 4 bytes, naturally aligned (a 64-bit register in halves).
        assert size in (1, 2, 4) and offset % size == 0, (offset, size)
        return int.from_bytes(config[offset:offset + size], "little")

    try:
        state = module.capture(read_config, base, p)
    except module.LoadError as exc:
        return Answer(False, section=exc.section, field=exc.field, offset=exc.offset)
    for item in cov.catalogue.checked(name).section.state:
        setattr(state, py_naming.attr(item.name), cov.catalogue.field_default(name, item, state, p))
    try:
        return Answer(True, module.save(state, module.VERSION, p).hex())
    except module.SaveError as exc:  # a constraint the random registers break: both saves refuse it
        return Answer(False, section=exc.section, field=exc.field, offset=0)


def test_capture_agrees_with_the_python(cov: Build, driver: Path) -> None:
    """Random configuration spaces (fixed seed): the same registers read, or the same error, in both languages.

    cov_nested's registers move and appear with a read-only bit and a param, and one has an enum that not
    every value of its bits belongs to; half the spaces clear that field so most captures succeed.
    """
    rng = random.Random("vfiogen-c-coverage-capture")
    base, batch = 0x40, []
    for sets in cov.param_sets.values():
        p = sets["cov_nested"]
        for index in range(60):
            config = bytearray(rng.getrandbits(8) for _ in range(0x100))
            if index % 2:
                config[base + 2] &= 0x3F  # control.speed (bits 7:6) = 0, a value of its enum
            batch.append((f"capture cov_nested {spec_of(p)} {base} {bytes(config).hex()}",
                          _python_capture(cov, "cov_nested", bytes(config), base, p)))
    answers = compare(driver, batch)
    assert sum(a.ok for a in answers) >= 60 and sum(not a.ok for a in answers) >= 10


# --- restore -------------------------------------------------------------------------------------------------

def test_restore_writes_the_hand_worked_sequence(cov: Build, driver: Path) -> None:
    m = cov.modules["cov_nested"]
    p = m.Params(cells=1, wide=True)
    state = m.CovNestedState(control=m.ControlRegister(enable=True, rows=0, has_ext=True, speed=m.Speed.FAST,
                                                       mask=False, status=True),
                             ext=0x1111_1111, data=0x2222_2222, wide_reg=0x3333_4444_5555_6666, newer=0x0ABC)
    control = 0x0001 | 0 << 1 | 1 << 5 | 1 << 6 | 1 << 9  # 0x261
    written = control & ~0x200  # status (bit 9) is rw1c: a saved 1 is written as 0, or it would clear the target's
    base = 0x40
    want = [f"{base + 2}:{written & ~0x1 | 0x100}:2",             # enable forced 0, mask forced 1: 0x160
            "hook:write_rows",
            "wait:1000",                                           # 1ms, always
            f"{base + 4}:{0x1111_1111}:4",                         # ext: has_ext
            f"{base + 8}:{0x2222_2222}:4",                         # data at 0x08 with has_ext
            f"{base + 0x0C}:{0x5555_6666}:4",                      # wide_reg (params.wide): low dword first,
            f"{base + 0x10}:{0x3333_4444}:4",                      # then the high one
            f"{base + 0x14}:{0x0ABC}:2",                           # newer
            f"{base + 0x18}:{0x5}:2",                              # levels, at its declared default (on, level 2)
            f"{base + 2}:{written & ~0xC0}:2",                     # speed forced slow: 0x021
            "hook:finish",
            f"{base + 2}:{written}:2",                             # as saved, rw1c bits 0: 0x061
            "wait:2000000"]                                        # mask is clear: the 2 s wait, not the 50 us
    writes: list[str] = []
    m.restore(state, lambda o, v, w: writes.append(f"{o}:{v}:{w}"), base, p,
              {name: (lambda s, name=name: writes.append(f"hook:{name}")) for name in m.RESTORE_HOOKS},
              wait=lambda us: writes.append(f"wait:{us}"))
    assert writes == want
    [answer] = run(driver, [f"restore cov_nested {spec_of(p)} {base} {m.save(state, m.VERSION, p).hex()}"])
    assert answer.ok and answer.payload.split(";") == want


@pytest.mark.parametrize("set_name", ["default", "cov_device", "edge"])
def test_section_restore_agrees_with_the_python(cov: Build, driver: Path, set_name: str) -> None:
    m = cov.modules["cov_nested"]
    p = cov.param_sets[set_name]["cov_nested"]
    batch = []
    for index, state in enumerate(seeds(cov, "cov_nested", p, 20)):
        writes: list[str] = []
        base = 0x40 + 4 * (index % 8)
        m.restore(state, lambda o, v, w, writes=writes: writes.append(f"{o}:{v}:{w}"), base, p,
                  {name: (lambda s, name=name, writes=writes: writes.append(f"hook:{name}")) for name in m.RESTORE_HOOKS},
                  wait=lambda us, writes=writes: writes.append(f"wait:{us}"))
        batch.append((f"restore cov_nested {spec_of(p)} {base} {m.save(state, m.VERSION, p).hex()}",
                      Answer(True, ";".join(writes))))
    compare(driver, batch)


def python_device_restore(cov: Build, blob: bytes, bases: dict[str, int], spec: Spec) -> Answer:
    """The Python's answer to the driver's `devrestore` command."""
    state, _ = cov.device.load(blob, hooks=_recorder(cov, Spec(), [], ["post_load"]))
    writes: list[str] = []
    names = {step["hook"] for s in SECTIONS for step in cov.lock["sections"][s]["restore"] if step.get("hook")}
    waits = any("wait_us" in step for s in SECTIONS for step in cov.lock["sections"][s]["restore"])

    def make(name: str) -> Callable[[Any], None]:
        def hook(section_state: Any) -> None:
            section = cov.section_of(section_state)
            writes.append(f"hook:{section}.{name}")
            if spec.fail == f"{section}.{name}":
                raise HookFailed(section)
        return hook

    hooks = {name: make(name) for name in names if spec.missing.split(".")[-1] != name}
    wait = None if not waits or spec.missing.split(".")[-1] == "wait" else (
        lambda microseconds: writes.append(f"wait:{microseconds}"))
    try:
        cov.device.restore(state, lambda o, v, w: writes.append(f"{o}:{v}:{w}"), bases, hooks, wait=wait)
    except ValueError:  # the C names the section whose hook is missing, at its base
        section = spec.missing.split(".")[0]
        return Answer(False, section=section, field="", offset=bases[section], extra=";".join(writes))
    except HookFailed as exc:
        return Answer(False, section=exc.section, field="", offset=bases[exc.section], extra=";".join(writes))
    return Answer(True, ";".join(writes))


def test_device_restore_agrees_with_the_python(cov: Build, driver: Path) -> None:
    bases = {"cov_nested": 0x60, "cov_scalars": 0, "cov_hooks": 0}
    specs = [Spec(), Spec(fail="cov_nested.write_rows"), Spec(fail="cov_nested.finish"),
             Spec(missing="cov_nested.write_rows"), Spec(missing="cov_nested.finish")]
    batch = []
    for blob in device_blobs(cov, 6):
        for spec in specs:
            want = python_device_restore(cov, blob, bases, spec)
            batch.append((f"devrestore {DEVICE} {blob.hex()} {','.join(str(bases[s]) for s in SECTIONS)} {spec.text}",
                          want))
    answers = compare(driver, batch)
    for (command, want), got in zip(batch, answers, strict=True):
        if got.ok:
            assert got.payload == want.payload, command[:80]
        else:
            assert got.extra == want.extra, command[:80]
        if "missing=" in command:
            assert not got.ok and got.extra == "", "a write before the missing hook was noticed"
    assert sum(answer.ok for answer in answers) == len(answers) // len(specs)
