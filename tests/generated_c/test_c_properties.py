"""The generated C against the generated Python on random states and on mutated bytes, under ASan and UBSan.

* Round trips across the languages: Python save -> C load -> C save gives the same bytes, at every
  version and param set, and C's save at the newest version loads in Python as the Python's own does.
* Mutations with a fixed seed: a few thousand mutated payloads per section, and mutated blobs (raw,
  and re-framed with a valid CRC so the section loaders see them), must get the same answer from
  both languages: the same error (section, field, offset), or a load whose re-save is the same
  bytes. A failed C load must leave the caller's state untouched. The sanitizers make any
  out-of-bounds access or undefined behaviour fail the run.
"""

from __future__ import annotations

import inspect
import random
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cstate import c_bytes
from harness import (
    COMPILERS,
    CROSS,
    build_target,
    descriptor_records,
    hex_or_dash,
    lock,
    mutate,
    params_spec,
    device_command,
    python_device,
    python_load,
    reframed,
    run,
    target_id,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generated_python"))
import strategies as S  # noqa: E402
from test_vectors import VECTORS, _hex  # noqa: E402

from vfiogen.backends.python import naming as py_naming  # noqa: E402
from vfiogen_state import _runtime  # noqa: E402

pytestmark = pytest.mark.skipif(not COMPILERS, reason="no C compiler (gcc or clang) on PATH")

BATCH = settings(max_examples=6, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MUTATIONS_PER_SECTION = 2000
MUTATIONS_PER_DEVICE = 2000

ALL_VERSIONS = [pytest.param(name, version, set_name, id=f"{name}-v{version}-{set_name}")
                for name in S.SECTIONS
                for version in range(S.MODULES[name].MIN_VERSION, S.MODULES[name].VERSION + 1)
                for set_name in S.param_sets_of(name)]


HOST = COMPILERS[-1] if COMPILERS else "cc"


@pytest.fixture(scope="module", params=[HOST, *CROSS], ids=target_id)
def driver(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The host build under ASan/UBSan, and each cross target (big-endian s390x) in its emulator."""
    if request.param == HOST:
        return _host_build(tmp_path_factory)
    return build_target(request.param, str(tmp_path_factory.mktemp("harness")))


def _host_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The host driver, built once for both fixtures (`harness.build` is cached by its directory)."""
    directory = tmp_path_factory.getbasetemp() / "harness-host"
    directory.mkdir(exist_ok=True)
    return build_target(HOST, str(directory))


def _params(name: str, set_name: str) -> tuple[Any, dict[str, int]]:
    p = S.PARAM_SETS[set_name][name]
    return p, {k: int(v) for k, v in p.to_dict().items()}


@pytest.mark.parametrize(("name", "version", "set_name"), ALL_VERSIONS)
@BATCH
@given(data=st.data())
def test_round_trip_across_languages(driver: Path, name: str, version: int, set_name: str,
                                     data: st.DataObject) -> None:
    module = S.MODULES[name]
    p, spec = _params(name, set_name)
    states = data.draw(st.lists(S.section_states(name, p), min_size=8, max_size=8), label="states")
    payloads = [module.save(S.with_later_defaults(name, s, p, version), version, p) for s in states]
    commands = []
    for payload in payloads:
        head = f"load {name} {version} {params_spec(spec)} {hex_or_dash(payload)}"
        commands += [head, f"{head} {module.VERSION}"]
    answers = run(driver, commands)
    for index, payload in enumerate(payloads):
        same, newest = answers[2 * index], answers[2 * index + 1]
        assert same.ok and bytes.fromhex(same.payload) == payload, (same, payload.hex())
        python_state = module.load(payload, version, p)
        assert newest.ok and bytes.fromhex(newest.payload) == module.save(python_state, module.VERSION, p)
        assert module.load(bytes.fromhex(newest.payload), module.VERSION, p) == python_state



SECTION_SETS = [pytest.param(name, set_name, id=f"{name}-{set_name}")
                for name in S.SECTIONS for set_name in S.param_sets_of(name)]


@pytest.fixture(scope="module")
def host_driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The host build only: a state goes to the driver as the bytes of the host's C struct (cstate.c_bytes)."""
    return _host_build(tmp_path_factory)


@pytest.mark.parametrize(("name", "set_name"), SECTION_SETS)
@BATCH
@given(data=st.data())
def test_save_refuses_what_a_load_would_in_both_languages(host_driver: Path, name: str, set_name: str,
                                                          data: st.DataObject) -> None:
    """Issue 15: a state that breaks a constraint or sets a bit reserved on its function is refused by both
    saves, naming a field; any other saves to the same bytes in both (which load back: the Python twin of
    this test, test_properties.test_save_refuses_what_a_load_would)."""
    module = S.MODULES[name]
    p, spec = _params(name, set_name)
    section = lock()["sections"][name]
    states = data.draw(st.lists(S.loose_states(name, p), min_size=8, max_size=8), label="states")
    answers = run(host_driver, [f"save {name} {module.VERSION} {params_spec(spec)} {c_bytes(section, s).hex()}"
                                for s in states])
    for s, answer in zip(states, answers, strict=True):
        try:
            payload = module.save(s, module.VERSION, p)
        except _runtime.SaveError as exc:
            assert not answer.ok and answer.field, (exc, answer)
            continue
        assert answer.ok and answer.payload == payload.hex(), (answer, payload.hex())


DEVICE = "example_nic"


@BATCH
@given(data=st.data())
def test_device_save_refuses_what_a_load_would_in_both_languages(host_driver: Path, data: st.DataObject) -> None:
    """Issue 15, per device: a whole device of valid or loose section states (and its descriptor) is refused by
    both device saves, in the same section and naming a field, or saved to the same blob by both (which the
    Python loads back equal: test_properties.test_device_save_refuses_what_a_load_would)."""
    sections = lock()["sections"]
    drawn = data.draw(st.lists(S.loose_device_states(), min_size=8, max_size=8), label="devices")
    commands = [f"devsave {DEVICE} "
                + ",".join(c_bytes(sections[name], getattr(state, name)).hex() for name in S.DEVICE_SECTIONS)
                + f" {hex_or_dash(descriptor_records(DEVICE, descriptor))}"
                for state, descriptor in drawn]
    for (state, descriptor), answer in zip(drawn, run(host_driver, commands), strict=True):
        try:
            blob = S.example_nic.save(state, descriptor)
        except _runtime.SaveError as exc:
            assert not answer.ok and answer.section == exc.section and answer.field, (exc, answer)
            event(f"save refused in {exc.section}")
            continue
        event("saved")
        assert answer.ok and answer.payload == blob.hex(), (answer, blob.hex())


def test_c_save_refuses_a_register_holding_a_reserved_bit(host_driver: Path) -> None:
    """A C state is plain integers, so a register can hold a reserved bit there (a Python register cannot: its
    from_value refuses it). For every always-present register of every section with reserved bits: a new state
    with the lowest of them set is refused by the C save, naming the register, as the Python validate names it,
    where the load of such a payload would refuse it."""
    commands, expected = [], []
    for name in S.SECTIONS:
        module, section = S.MODULES[name], lock()["sections"][name]
        for register in section["registers"]:
            reserved = int(register["masks"]["reserved"], 16)
            if not reserved or register["present"] is not None or not register["fields"]:
                continue
            state = getattr(module, py_naming.state_class(name))()
            current = getattr(state, py_naming.attr(register["name"]))
            holding = type(current).__new__(type(current))
            holding._raw = current.value() | reserved & -reserved  # lowest reserved bit
            setattr(state, py_naming.attr(register["name"]), holding)
            assert register["name"] in [p.field for p in module.validate(state)], (name, register["name"])
            commands.append(f"save {name} {module.VERSION} - {c_bytes(section, state).hex()}")
            expected.append((name, register["name"]))
    assert len(commands) > 40, len(commands)
    for command, answer, (name, field) in zip(commands, run(host_driver, commands), expected, strict=True):
        assert not answer.ok and (answer.section, answer.field) == (name, field), (command[:60], answer)
        assert answer.status == "reserved bits set", answer


def test_both_saves_refuse_a_value_outside_its_enum(host_driver: Path) -> None:
    """An enum state field (vfio_irq's mode) holding an integer outside its enum: both saves refuse it, naming
    the field, which a load would refuse."""
    for name, attr, value in [("vfio_irq", "mode", 99)]:
        module, section = S.MODULES[name], lock()["sections"][name]
        state = getattr(module, py_naming.state_class(name))()
        setattr(state, attr, value)
        with pytest.raises(_runtime.SaveError) as refused:
            module.save(state)
        assert (refused.value.section, refused.value.field) == (name, attr)
        [answer] = run(host_driver, [f"save {name} {module.VERSION} - {c_bytes(section, state).hex()}"])
        assert not answer.ok and (answer.section, answer.field) == (name, attr), answer
        assert answer.status == "not a value of its enum", answer


def test_both_saves_refuse_an_absent_field_holding_a_value(host_driver: Path) -> None:
    """MSI's mask register is absent without per-vector masking: a state holding a mask there is refused by both
    saves, naming it (a load would give back 0, so the state would not survive); present, it saves in both."""
    module, section = S.MODULES["msi"], lock()["sections"]["msi"]
    state = module.MsiState()
    state.mask = 5
    with pytest.raises(_runtime.SaveError) as refused:
        module.save(state)
    assert (refused.value.section, refused.value.field) == ("msi", "mask")
    state.control.pvm = True
    payload = module.save(state)
    assert module.load(payload) == state
    absent, present = run(host_driver, [f"save msi {module.VERSION} - {c_bytes(section, s).hex()}"
                                        for s in (module.MsiState(mask=5), state)])
    assert not absent.ok and (absent.section, absent.field) == ("msi", "mask"), absent
    assert absent.status == "absent field holds a value", absent
    assert present.ok and present.payload == payload.hex(), present


def _positive_vectors(group: str) -> list[dict[str, Any]]:
    cases = [yaml.safe_load(p.read_text("utf-8")) for p in sorted((VECTORS / group).rglob("*.yaml"))]
    return [c for c in cases if "expect" in c]


def _compare(driver: Path, batch: list[tuple[str, Any]]) -> dict[str, int]:
    answers = run(driver, [command for command, _ in batch])
    outcomes = {"ok": 0, "err": 0}
    for (command, expected), answer in zip(batch, answers, strict=True):
        assert answer.key == expected.key, f"{command[:120]}...: C {answer.key} != Python {expected.key}"
        assert answer.ok or answer.untouched, f"{command[:120]}...: a failed load changed the state"
        outcomes["ok" if answer.ok else "err"] += 1
    return outcomes


@pytest.mark.parametrize("name", S.SECTIONS)
def test_payload_mutations_agree(driver: Path, name: str) -> None:
    seeds = _positive_vectors(name)
    assert seeds, f"no positive vectors for {name}"
    rng = random.Random(f"vfiogen-c-mutations-{name}")
    batch = []
    for _ in range(MUTATIONS_PER_SECTION):
        case = rng.choice(seeds)
        params = case.get("params", {})
        payload = mutate(rng, _hex(case["hex"]))
        version = case["version"] if rng.random() < 0.9 else rng.choice((0, 1, 2, 3, 0xFFFF))
        command = f"load {name} {version} {params_spec(params)} {hex_or_dash(payload)}"
        batch.append((command, python_load(name, version, params, payload)))
    outcomes = _compare(driver, batch)
    # Both outcomes must be exercised, or the comparison says little.
    assert outcomes["ok"] >= 20 and outcomes["err"] >= 200, outcomes




def test_blob_mutations_agree(driver: Path) -> None:
    seeds = _positive_vectors("devices")
    assert seeds
    rng = random.Random("vfiogen-c-mutations-devices")
    batch = []
    for i in range(MUTATIONS_PER_DEVICE):
        case = rng.choice(seeds)
        blob = _hex(case["hex"])
        mutated = mutate(rng, blob) if i % 2 else reframed(_runtime, rng, blob)
        config = case.get("config")
        batch.append((device_command(case["device"], mutated, config), python_device(case["device"], mutated, config)))
    outcomes = _compare(driver, batch)
    assert outcomes["ok"] >= 20 and outcomes["err"] >= 500, outcomes



def _python_descriptor(name: str, payload: bytes, p: Any) -> str:
    """What the driver's `derive` prints: the descriptor of the loaded state, host-computed fields zero."""
    module = S.MODULES[name]
    zero = module.unpack_descriptor(bytes(module.DESCRIPTOR_FIXED), 0, module.DESCRIPTOR_FIXED)
    host = {n: getattr(zero, n) for n, param in inspect.signature(module.derive_descriptor).parameters.items()
            if param.kind is inspect.Parameter.KEYWORD_ONLY}
    state = module.load(payload, module.VERSION, p)
    return module.pack_descriptor(module.derive_descriptor(state, p, **host)).hex()


@pytest.mark.parametrize(("name", "set_name"), [pytest.param(name, set_name, id=f"{set_name}-{name}")
                                                for name in S.SECTIONS for set_name in S.param_sets_of(name)])
@BATCH
@given(data=st.data())
def test_derived_descriptors_agree(driver: Path, name: str, set_name: str, data: st.DataObject) -> None:
    """The C derive_descriptor + pack_descriptor give the Python's bytes for the same loaded state."""
    module = S.MODULES[name]
    p, spec = _params(name, set_name)
    states = data.draw(st.lists(S.section_states(name, p), min_size=8, max_size=8), label="states")
    payloads = [module.save(s, module.VERSION, p) for s in states]
    answers = run(driver, [f"derive {name} {params_spec(spec)} {hex_or_dash(payload)}" for payload in payloads])
    for payload, answer in zip(payloads, answers, strict=True):
        assert answer.ok and answer.payload == _python_descriptor(name, payload, p), (payload.hex(), answer)
