"""Hypothesis strategies for valid states of the generated sections, built from the compiler's checked IR.

The generic part walks each section's registers and state fields in wire
order and draws every bit field and scalar over its whole range (enums from
their values, 1-bit fields and bools as bools, bytes of their size), leaves
absent fields (presence false) at their defaults, and gives each array
exactly the length its expression evaluates to. Expressions are evaluated
with `vfiogen.ir.evaluate` over an environment of dotted names, where an
absent field reads as 0, as the language says.

A bit field's `reserved_when` is generic: where its condition holds over
the fields drawn before it, the field is 0.

The constraints of a section are not generic: `FIXUPS` narrows the few
fields that take part in one, per section, so that a drawn state is valid
with high probability. A fix-up replaces the generic strategy of one dotted
name with one computed from the fields drawn before it (and the params).
`section_states` finally `assume`s that the generated `validate` accepts
the state, so no invalid state ever reaches a test.

A `Catalogue` binds the generic part to one build: the module-level
functions serve the shipped schemas (generated/python), and
tests/generated_c/test_c_coverage.py makes a catalogue of its own for the
test-only schemas it builds.
"""

from __future__ import annotations

import copy
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from vfiogen.backends.python import naming
from vfiogen.context import Context
from vfiogen.diagnostics import Reporter
from vfiogen.driver import compile_schemas, discover
from vfiogen.ir.checked import CheckedModule, CheckedSection
from vfiogen.ir.evaluate import evaluate
from vfiogen.ir.nodes import ArrayType, BytesType, FieldType, Register, ScalarType, StateField, StructType
from vfiogen.ir.types import ScalarKind

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT / "generated" / "python") not in sys.path:  # normally done by a conftest already
    sys.path.insert(0, str(_ROOT / "generated" / "python"))

from vfiogen_state import _runtime, example_nic  # noqa: E402


def _compile() -> CheckedModule:
    reporter = Reporter()
    result = compile_schemas(discover([str(_ROOT / "schemas")], reporter), Context(reporter))
    assert result.module is not None, "schemas/ does not compile"
    return result.module


IR = _compile()
SECTIONS: tuple[str, ...] = tuple(s.name for s in IR.sections)
MODULES: dict[str, ModuleType] = {name: importlib.import_module(f"vfiogen_state.{name}") for name in SECTIONS}
DEVICE = next(d for d in IR.devices if d.name == example_nic.DEVICE)
DEVICE_SECTIONS: tuple[str, ...] = tuple(s.section for s in DEVICE.sections)
DEVICE_PARAMS: dict[str, Any] = {name: getattr(example_nic, f"PARAMS_{name.upper()}") for name in DEVICE_SECTIONS}
PARAM_SETS: dict[str, dict[str, Any]] = {
    "default": {name: MODULES[name].PARAMS for name in SECTIONS},
    "example_nic": DEVICE_PARAMS,
}
"""Params per set, by section; a set names only the sections it binds (example_nic: the device's)."""


def param_sets_of(name: str) -> list[str]:
    """The param sets that bind section `name` (every section has "default")."""
    return [set_name for set_name, params in PARAM_SETS.items() if name in params]

TILE = 16
"""Arrays longer than this draw TILE elements and repeat them: every element is still in range, and an
MSI-X table of 2048 vectors does not exhaust Hypothesis's per-example budget."""

Env = dict[str, Any]
Fixup = Callable[[Env, Any], "st.SearchStrategy[Any] | None"]
"""(fields drawn so far, params) -> the strategy to use instead of the generic one (None: the generic one)."""


# --- per-section fix-ups: only what the constraints need -------------------------------------------------

def _bits(mask: int) -> list[int]:
    return [1 << i for i in range(mask.bit_length()) if mask >> i & 1]


def _header_fixups() -> dict[str, Fixup]:
    header = MODULES["header"]
    space, mem = header.BarSpace, header.BarMemType

    # Slots 0..4 pair by their type bits whatever they hold; slot 5 has no slot for an upper dword.
    return {"header_type.layout": lambda env, p: st.just(header.HeaderLayout.TYPE0),
            "bar5.mem_type": lambda env, p: (None if env["bar5.space_indicator"] == space.IO else
                                             st.sampled_from([m for m in mem if m != mem.MEM64]))}


def _msi_fixups() -> dict[str, Fixup]:
    return {"control.mmc": lambda env, p: st.integers(0, 5),
            "control.mme": lambda env, p: st.integers(0, env["control.mmc"] if env["control.enable"] else 7)}


def _msix_fixups() -> dict[str, Fixup]:
    return {"table.bir": lambda env, p: st.integers(0, 5), "pba.bir": lambda env, p: st.integers(0, 5)}


def _rebar_fixups() -> dict[str, Fixup]:
    def bar_size_of(n: int) -> Fixup:  # a size capN supports (encodings 0..27), or one of 28..43 (ctrlN bits)
        def fix(env: Env, p: Any) -> st.SearchStrategy[int]:
            low = [b.bit_length() - 1 for b in _bits(env[f"cap{n}.sizes_supported"])]
            return st.one_of(st.sampled_from(low), st.integers(28, 43)) if low else st.integers(28, 43)
        return fix

    def ext_of(n: int) -> Fixup:  # ... whose ctrlN bit is then set
        def fix(env: Env, p: Any) -> st.SearchStrategy[int]:
            size = env[f"ctrl{n}.bar_size"]
            return st.integers(0, 0xFFFF).map(lambda x: x | 1 << (size - 28) if size >= 28 else x)
        return fix

    fixups: dict[str, Fixup] = {"ctrl0.num_bars": lambda env, p: st.integers(1, 6)}
    for n in range(6):
        fixups[f"ctrl{n}.bar_size"] = bar_size_of(n)
        fixups[f"ctrl{n}.sizes_supported_ext"] = ext_of(n)
    return fixups


def _sriov_fixups() -> dict[str, Fixup]:
    mem = MODULES["sriov"].BarMemType

    def mem_type_of(n: int) -> Fixup:  # VF BARs are 32- or 64-bit memory BARs; slot 5 has no slot above it
        return lambda env, p: st.sampled_from([mem.MEM32, mem.MEM64] if n < 5 else [mem.MEM32])

    fixups: dict[str, Fixup] = {
        "supported_page_sizes": lambda env, p: st.integers(1, 0xFFFF_FFFF),
        "system_page_size": lambda env, p: st.sampled_from(_bits(env["supported_page_sizes"])),
        "num_vfs": lambda env, p: st.integers(0, env["total_vfs"]),
        "vfs_created": lambda env, p: (st.integers(0, min(env["num_vfs"], 256)) if env["sriov_ctrl.vf_enable"]
                                       else st.just(0)),
    }
    for n in range(6):
        fixups[f"vf_bar{n}.space_indicator"] = lambda env, p: st.just(False)
        fixups[f"vf_bar{n}.mem_type"] = mem_type_of(n)
    return fixups


def _supported(flag: str) -> Fixup:
    """An enable that the constraints allow only with its capability bit `flag` set."""
    return lambda env, p: None if env[flag] else st.just(False)


def _pm_fixups() -> dict[str, Fixup]:
    d_state = MODULES["pm"].DState
    return {"pmcsr.power_state": lambda env, p: st.sampled_from(
        [d for d in d_state if (d != d_state.D1 or env["pmc.d1_support"]) and (d != d_state.D2 or env["pmc.d2_support"])])}


def _pasid_fixups() -> dict[str, Fixup]:
    return {"pasid_cap.max_pasid_width": lambda env, p: st.integers(0, 20),
            "pasid_ctrl.execute_permission_enable": _supported("pasid_cap.execute_permission_supported"),
            "pasid_ctrl.privileged_mode_enable": _supported("pasid_cap.privileged_mode_supported"),
            "pasid_ctrl.translated_requests_with_pasid_enable": _supported(
                "pasid_cap.translated_requests_with_pasid_supported")}


def _pri_fixups() -> dict[str, Fixup]:
    return {"outstanding_page_request_allocation": lambda env, p: st.integers(
        0, env["outstanding_page_request_capacity"])}


def _ptm_fixups() -> dict[str, Fixup]:
    return {"ptm_ctrl.root_select": _supported("ptm_cap.ptm_root_capable")}


def _l1ss_fixups() -> dict[str, Fixup]:
    return {f"l1ss_ctrl1.{name}_enable": _supported(f"l1ss_cap.{name}_supported")
            for name in ("pci_pm_l1_2", "pci_pm_l1_1", "aspm_l1_2", "aspm_l1_1")}


def _acs_fixups() -> dict[str, Fixup]:
    names = ("source_validation", "translation_blocking", "p2p_request_redirect", "p2p_completion_redirect",
             "upstream_forwarding", "p2p_egress_control", "direct_translated_p2p")
    fixups: dict[str, Fixup] = {f"acs_ctrl.{name}_enable": _supported(f"acs_cap.{name}") for name in names}
    enhanced = MODULES["acs"].MemoryTargetAccess
    for name in ("io_request_blocking_enable", "unclaimed_request_redirect"):
        fixups[f"acs_ctrl.{name}"] = _supported("acs_cap.enhanced_capability")
    for name in ("dsp_memory_target_access_control", "usp_memory_target_access_control"):
        fixups[f"acs_ctrl.{name}"] = lambda env, p: None if env["acs_cap.enhanced_capability"] else st.just(
            enhanced.DIRECT)

    def vector(n: int) -> Fixup:  # the bits above the vector's size in its last dword are 0
        def fix(env: Env, p: Any) -> st.SearchStrategy[int] | None:
            size = env["acs_cap.egress_control_vector_size"]
            return st.integers(0, (1 << (size - 32 * n)) - 1) if 32 * n < size < 32 * (n + 1) else None
        return fix

    for n in range(8):
        fixups[f"egress_control_vector{n}"] = vector(n)
    return fixups


def _pcie_fixups() -> dict[str, Fixup]:
    pcie = MODULES["pcie"]
    return {
        "devctl.max_payload_size": lambda env, p: st.sampled_from(
            [v for v in pcie.PayloadSize if v <= env["devcap.max_payload_size_supported"]] or [pcie.PayloadSize.B128]),
        "devctl.phantom_functions_enable": lambda env, p: None if env["devcap.phantom_functions_supported"] else st.just(
            False),
        "lnkctl.aspm_control": lambda env, p: st.sampled_from(
            [v for v in pcie.AspmControl if v & ~env["lnkcap.aspm_support"] & 3 == 0]),
        "devctl2.ari_forwarding_enable": _supported("devcap2.ari_forwarding_supported"),
        "devctl2.ltr_mechanism_enable": _supported("devcap2.ltr_mechanism_supported"),
        "devctl2.completion_timeout_disable": _supported("devcap2.completion_timeout_disable_supported"),
        "devctl2.tag10_bit_requester_enable": _supported("devcap2.tag10_bit_requester_supported"),
        "devctl2.obff_enable": lambda env, p: None if env["devcap2.obff_supported"] else st.just(0),
    }


def _aer_fixups() -> dict[str, Fixup]:
    return {"aer_cap.ecrc_generation_enable": _supported("aer_cap.ecrc_generation_capable"),
            "aer_cap.ecrc_check_enable": _supported("aer_cap.ecrc_check_capable"),
            "aer_cap.multiple_header_recording_enable": _supported("aer_cap.multiple_header_recording_capable")}


def _dpc_fixups() -> dict[str, Fixup]:
    trigger = MODULES["dpc"].DpcTrigger
    return {"dpc_control.dpc_trigger_enable": lambda env, p: st.sampled_from([t for t in trigger if t != trigger.RESERVED]),
            "dpc_control.poisoned_tlp_egress_blocking_enable": _supported("dpc_cap.poisoned_tlp_egress_blocking_supported"),
            "dpc_control.dl_active_err_cor_enable": _supported("dpc_cap.dl_active_err_cor_signaling_supported")}


def _vc_fixups() -> dict[str, Fixup]:
    return {"port_vc_cap1.low_priority_extended_vc_count": lambda env, p: st.integers(
        0, env["port_vc_cap1.extended_vc_count"])}


def _bridge_header_fixups() -> dict[str, Fixup]:
    bridge = MODULES["bridge_header"]
    space, mem = bridge.BarSpace, bridge.BarMemType
    return {
        "header_type.layout": lambda env, p: st.just(bridge.HeaderLayout.BRIDGE),
        "bar1.mem_type": lambda env, p: (None if env["bar1.space_indicator"] == space.IO else
                                         st.sampled_from([m for m in mem if m != mem.MEM64])),
        "io_limit.addressing": lambda env, p: st.just(env["io_base.addressing"]),
        "prefetchable_memory_limit.addressing": lambda env, p: st.just(env["prefetchable_memory_base.addressing"]),
    }


def _vfio_irq_fixups() -> dict[str, Fixup]:
    mode = MODULES["vfio_irq"].IrqMode

    def vectors(env: Env, p: Any) -> st.SearchStrategy[int]:  # as many vectors as the mode routes
        return {mode.NONE: st.just(0), mode.INTX: st.just(1),
                mode.MSI: st.sampled_from([1, 2, 4, 8, 16, 32])}.get(env["mode"], st.integers(1, 2048))
    return {"vectors": vectors}


FIXUPS: dict[str, dict[str, Fixup]] = {
    "header": _header_fixups(), "msi": _msi_fixups(), "msix": _msix_fixups(),
    "rebar": _rebar_fixups(), "sriov": _sriov_fixups(),
    "pm": _pm_fixups(), "pasid": _pasid_fixups(), "pri": _pri_fixups(), "ptm": _ptm_fixups(),
    "l1ss": _l1ss_fixups(), "acs": _acs_fixups(), "pcie": _pcie_fixups(), "aer": _aer_fixups(),
    "bridge_header": _bridge_header_fixups(), "dpc": _dpc_fixups(), "vc": _vc_fixups(),
    "vfio_irq": _vfio_irq_fixups(),
    # the capability's own length: its 3 header bytes to the 192 of standard capability space
    "vendor_specific": {"cap_length": lambda env, p: st.integers(3, 192)},
}


# --- the generic part ------------------------------------------------------------------------------------

class Catalogue:
    """The checked IR of one build, its generated section modules and the fix-ups of its constraints."""

    def __init__(self, ir: CheckedModule, modules: dict[str, ModuleType], fixups: dict[str, dict[str, Fixup]]) -> None:
        self.ir, self.modules, self.fixups = ir, modules, fixups

    def checked(self, name: str) -> CheckedSection:
        return self.ir.section(name)

    def section_states(self, name: str, p: Any = None) -> st.SearchStrategy[Any]:
        """A random valid state of section `name` with params `p` (default: the section's PARAMS)."""
        return _states(self, name, self.modules[name].PARAMS if p is None else p)

    def loose_states(self, name: str, p: Any = None) -> st.SearchStrategy[Any]:
        """A state of section `name` whose every field holds a value of its type (each register built through
        its class, so no reserved bit and no undefined enum value), arrays as long as their lengths say, but
        drawn without the fix-ups or `reserved_when`: it may break a constraint or set a bit reserved on the
        function, as a careless hypervisor's state might. What `save` must refuse or write so it loads."""
        return _loose_states(self, name, self.modules[name].PARAMS if p is None else p)

    def state_env(self, name: str, s: Any, p: Any) -> Env:
        """The expression environment of a state: params, registers, their fields and scalar state, by dotted
        name."""
        section = self.checked(name)
        env = _base_env(section.section, p)
        for reg in section.registers:
            register = reg.register
            if not _carried(register.versioning, section.section.version):
                continue
            value = getattr(s, naming.attr(register.name))
            if register.fields:
                env[register.name] = value.value()
                for bit_field in register.fields:
                    if not bit_field.access.reserved:
                        env[f"{register.name}.{bit_field.name}"] = getattr(value, naming.attr(bit_field.name))
            else:
                env[register.name] = value
        for state in section.state:
            if isinstance(state.type, ScalarType) and _carried(state.versioning, section.section.version):
                env[state.name] = getattr(s, naming.attr(state.name))
        return env

    def later_fields(self, name: str, version: int) -> list[StateField | Register]:
        """Registers and state fields the current version carries and `version` does not."""
        section = self.checked(name)
        current = section.section.version
        items: list[Any] = [r.register for r in section.registers] + list(section.state)
        return [i for i in items if _carried(i.versioning, current) and not _carried(i.versioning, version)]

    def field_default(self, name: str, item: StateField | Register, s: Any, p: Any) -> Any:
        """What a version that does not carry `item` loads it as: its default; for an array, as many default
        elements as its length gives for `s` ("the only default of a bytes, array or struct field is 0")."""
        module = self.modules[name]
        default = item.versioning.default or 0
        if isinstance(item, Register):
            if item.fields:
                return getattr(module, naming.register_class_of(item)).from_value(default)
            enum_cls = _enum_class(module, item.enum)
            return enum_cls(default) if enum_cls is not None else default
        return _plain_default(module, item.name, item.type, item.enum, default, self.state_env(name, s, p))

    def with_later_defaults(self, name: str, s: Any, p: Any, version: int) -> Any:
        """`s` with every field `version` does not carry set to what loading `version` gives it."""
        s = copy.deepcopy(s)
        for item in self.later_fields(name, version):
            setattr(s, naming.attr(item.name), self.field_default(name, item, s, p))
        return s


SHIPPED = Catalogue(IR, MODULES, FIXUPS)
"""The shipped schemas and generated/python's modules, which the module-level functions serve."""


def checked(name: str) -> CheckedSection:
    return SHIPPED.checked(name)


def _enum_class(module: ModuleType, enum: str | None) -> Any:
    return getattr(module, naming.enum_class(enum)) if enum is not None else None


def _scalar_strategy(kind: ScalarKind, enum_cls: Any) -> st.SearchStrategy[Any]:
    if enum_cls is not None:
        return st.sampled_from(list(enum_cls))
    if kind is ScalarKind.BOOL:
        return st.booleans()
    return st.integers(kind.min_value, kind.max_value)


def _bit_field_strategy(width: int, enum_cls: Any) -> st.SearchStrategy[Any]:
    if enum_cls is not None:
        return st.sampled_from(list(enum_cls))
    return st.booleans() if width == 1 else st.integers(0, (1 << width) - 1)


def _present(expr: Any, env: Env) -> bool:
    return expr is None or bool(evaluate(expr, env))


def _absent(env: Env, register: Register) -> None:
    """An absent register reads as 0, and so does each of its fields."""
    env[register.name] = 0
    for bit_field in register.fields:
        env[f"{register.name}.{bit_field.name}"] = 0


def _base_env(section: Any, p: Any) -> Env:
    """The params and enum values of a section by dotted name (`params.cells`, `mode.off`)."""
    env: Env = {f"params.{param.name}": getattr(p, naming.attr(param.name)) for param in section.params}
    env.update({f"{enum.name}.{value.name}": value.value for enum in section.enums for value in enum.values})
    return env


def _absent_register(module: ModuleType, register: Register) -> Any:
    if register.fields:
        return getattr(module, naming.register_class_of(register))()
    enum_cls = _enum_class(module, register.enum)
    return enum_cls(0) if enum_cls is not None else 0


def _carried(versioning: Any, version: int) -> bool:
    return versioning.carried_by(version)


class _Drawer:
    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any], catalogue: Catalogue, name: str,
                 p: Any, loose: bool = False) -> None:
        self.draw, self.catalogue, self.name, self.p, self.loose = draw, catalogue, name, p, loose
        self.module = catalogue.modules[name]
        self.fixups = {} if loose else catalogue.fixups.get(name, {})

    def pick(self, path: str, env: Env, generic: st.SearchStrategy[Any]) -> Any:
        fixup = self.fixups.get(path)
        strategy = fixup(env, self.p) if fixup is not None else None
        return self.draw(strategy if strategy is not None else generic)

    def register(self, register: Register, env: Env) -> Any:
        if not register.fields:
            value = self.pick(register.name, env, _bit_field_strategy(register.width,
                                                                      _enum_class(self.module, register.enum)))
            env[register.name] = value
            return value
        values = {}
        for bit_field in register.fields:
            if bit_field.access.reserved:
                continue  # not kept by the register class; the loader refuses them set
            path = f"{register.name}.{bit_field.name}"
            enum_cls = _enum_class(self.module, bit_field.enum)
            if not self.loose and bit_field.reserved_when is not None and _present(bit_field.reserved_when, env):
                # Reserved on this function (its condition reads fields drawn before, in wire order).
                value = enum_cls(0) if enum_cls is not None else (False if bit_field.width == 1 else 0)
            else:
                value = self.pick(path, env, _bit_field_strategy(bit_field.width, enum_cls))
            values[naming.attr(bit_field.name)] = env[path] = value
        obj = getattr(self.module, naming.register_class_of(register))(**values)
        env[register.name] = obj.value()
        return obj

    def field(self, path: str, field_type: FieldType, enum: str | None, env: Env) -> Any:
        if isinstance(field_type, ScalarType):
            return self.pick(path, env, _scalar_strategy(field_type.kind, _enum_class(self.module, enum)))
        if isinstance(field_type, BytesType):
            return self.draw(st.binary(min_size=field_type.size, max_size=field_type.size))
        if isinstance(field_type, ArrayType):
            count = int(evaluate(field_type.length, env))
            if self.loose:
                # A length outside 0..max: the array cannot be as long, and save must refuse the count.
                count = max(0, min(count, field_type.max))
            assume(0 <= count <= field_type.max)  # never hit with the fix-ups; a longer array is invalid anyway
            head = [self.field(path, field_type.element, None, env) for _ in range(min(count, TILE))]
            return head + [copy.copy(head[i % TILE]) for i in range(TILE, count)]
        assert isinstance(field_type, StructType)
        members = {}
        for member in field_type.members:
            # A member's presence reads top-level fields only (all drawn before the array or struct); an
            # absent member keeps the default its class gives it, as a load leaves it.
            if _present(member.present, env):
                members[naming.attr(member.name)] = self.field(f"{path}.{member.name}", member.type, member.enum,
                                                               env)
        return getattr(self.module, naming.struct_class(path))(**members)

    def state(self) -> Any:
        section = self.catalogue.checked(self.name)
        version = section.section.version
        env = _base_env(section.section, self.p)
        kwargs: dict[str, Any] = {}
        for reg in section.registers:
            register = reg.register
            if not _carried(register.versioning, version):
                continue
            if not _present(register.present, env):
                _absent(env, register)
                # Absent holds 0 (not the `default`, which stands in for versions that do not carry it).
                kwargs[naming.attr(register.name)] = _absent_register(self.module, register)
                continue
            kwargs[naming.attr(register.name)] = self.register(register, env)
        for state in section.state:
            if not _carried(state.versioning, version):
                continue
            if not _present(state.present, env):
                env[state.name] = 0
                if not isinstance(state.type, ArrayType):
                    kwargs[naming.attr(state.name)] = _plain_default(self.module, state.name, state.type,
                                                                     state.enum, 0, env)
                continue
            value = self.field(state.name, state.type, state.enum, env)
            if isinstance(state.type, ScalarType):
                env[state.name] = value
            kwargs[naming.attr(state.name)] = value
        return getattr(self.module, naming.state_class(self.name))(**kwargs)


@st.composite
def _loose_states(draw: Callable[[st.SearchStrategy[Any]], Any], catalogue: Catalogue, name: str, p: Any) -> Any:
    return _Drawer(draw, catalogue, name, p, loose=True).state()


def loose_states(name: str, p: Any = None) -> st.SearchStrategy[Any]:
    return SHIPPED.loose_states(name, p)


@st.composite
def _states(draw: Callable[[st.SearchStrategy[Any]], Any], catalogue: Catalogue, name: str, p: Any) -> Any:
    module = catalogue.modules[name]
    s = _Drawer(draw, catalogue, name, p).state()
    assume(module.validate(s, p) == [])
    return s


def section_states(name: str, p: Any = None) -> st.SearchStrategy[Any]:
    """A random valid state of section `name` with params `p` (default: the section's PARAMS)."""
    return SHIPPED.section_states(name, p)


# --- versions: what an older stream stands for -----------------------------------------------------------

def _plain_default(module: ModuleType, path: str, field_type: FieldType, enum: str | None, default: int,
                   env: Env) -> Any:
    """The default of a field: an array as long as its length says in `env`, at every depth."""
    if isinstance(field_type, ScalarType):
        enum_cls = _enum_class(module, enum)
        return enum_cls(default) if enum_cls is not None else (
            bool(default) if field_type.kind is ScalarKind.BOOL else default)
    if isinstance(field_type, BytesType):
        return bytes(field_type.size)
    if isinstance(field_type, ArrayType):
        count = int(evaluate(field_type.length, env))
        # An element struct is named after its array's path (naming.struct_class).
        return [_plain_default(module, path, field_type.element, None, 0, env) for _ in range(count)]
    return getattr(module, naming.struct_class(path))(**{
        naming.attr(m.name): _plain_default(module, f"{path}.{m.name}", m.type, m.enum, 0, env)
        for m in field_type.members})


def state_env(name: str, s: Any, p: Any) -> Env:
    return SHIPPED.state_env(name, s, p)


def later_fields(name: str, version: int) -> list[StateField | Register]:
    return SHIPPED.later_fields(name, version)


def field_default(name: str, item: StateField | Register, s: Any, p: Any) -> Any:
    return SHIPPED.field_default(name, item, s, p)


def with_later_defaults(name: str, s: Any, p: Any, version: int) -> Any:
    return SHIPPED.with_later_defaults(name, s, p, version)


# --- whole devices ---------------------------------------------------------------------------------------

def _host_descriptor_fields(name: str, s: Any, p: Any) -> st.SearchStrategy[dict[str, Any]]:
    """The descriptor values a host computes itself (those not read from a register), over their whole range."""
    fields = {}
    for item in checked(name).section.descriptor:
        if item.type is None:
            continue
        if isinstance(item.type, BytesType):
            fields[naming.attr(item.name)] = st.binary(min_size=item.type.size, max_size=item.type.size)
        else:
            fields[naming.attr(item.name)] = _scalar_strategy(item.type.kind, None)
    return st.fixed_dictionaries(fields)


@st.composite
def device_states(draw: Callable[[st.SearchStrategy[Any]], Any]) -> tuple[Any, Any]:
    """A valid `example_nic` state and the descriptor its sections derive (host values drawn at random)."""
    states, descriptors = {}, {}
    for name in DEVICE_SECTIONS:
        p = DEVICE_PARAMS[name]
        s = states[name] = draw(section_states(name, p))
        host = draw(_host_descriptor_fields(name, s, p))
        descriptors[name] = MODULES[name].derive_descriptor(s, p, **host)
    return example_nic.ExampleNicState(**states), example_nic.ExampleNicDescriptor(**descriptors)


@st.composite
def loose_device_states(draw: Callable[[st.SearchStrategy[Any]], Any]) -> tuple[Any, Any]:
    """An `example_nic` state whose sections are each valid or loose (see `Catalogue.loose_states`), and its
    descriptor."""
    states, descriptors = {}, {}
    for name in DEVICE_SECTIONS:
        p = DEVICE_PARAMS[name]
        s = states[name] = draw(st.one_of(section_states(name, p), loose_states(name, p)))
        host = draw(_host_descriptor_fields(name, s, p))
        descriptors[name] = MODULES[name].derive_descriptor(s, p, **host)
    return example_nic.ExampleNicState(**states), example_nic.ExampleNicDescriptor(**descriptors)


def frame_versions(blob: bytes) -> dict[str, int]:
    """Section name -> version, from the frames of a blob that loaded."""
    by_id = {MODULES[name].SECTION_ID: name for name in DEVICE_SECTIONS}
    count = _runtime.read_header(blob, "test")
    offset = _runtime.HEADER.size
    head = _runtime.read_frame(blob, offset, "test")
    offset = head.end + _runtime.CRC.size
    versions = {}
    for _ in range(count):
        frame = _runtime.read_frame(blob, offset, "test")
        if frame.section_id in by_id:
            versions[by_id[frame.section_id]] = frame.version
        offset = frame.end + _runtime.CRC.size
    return versions


def frames(blob: bytes) -> list[_runtime.Frame]:
    """Every frame of a valid blob, the descriptor frame first."""
    count = _runtime.read_header(blob, "test")
    offset = _runtime.HEADER.size
    found = []
    for _ in range(count + 1):
        frame = _runtime.read_frame(blob, offset, "test")
        found.append(frame)
        offset = frame.end + _runtime.CRC.size
    return found


# --- byte mutations --------------------------------------------------------------------------------------

MUTATIONS = ("flip", "replace", "insert", "delete", "truncate")


def _position(draw: Callable[[st.SearchStrategy[Any]], Any], size: int) -> int:
    """0..size-1, often near the start, where fixed registers, counts and frame headers live."""
    return draw(st.one_of(st.integers(0, min(size, 48) - 1), st.integers(0, size - 1)))


@st.composite
def mutated(draw: Callable[[st.SearchStrategy[Any]], Any], data: bytes, max_ops: int = 3) -> bytes:
    """`data` after 1..max_ops random flips, replacements, insertions, deletions or a truncation."""
    b = bytearray(data)
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(MUTATIONS))
        if op in ("insert", "truncate") or not b:
            if op == "truncate":
                del b[draw(st.integers(0, len(b))):]
            else:
                at = _position(draw, len(b) + 1)
                b[at:at] = draw(st.binary(min_size=1, max_size=8))
            continue
        at = _position(draw, len(b))
        if op == "flip":
            b[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "replace":
            b[at] = draw(st.integers(0, 255))
        else:
            del b[at:at + draw(st.integers(1, 8))]
    return bytes(b)
