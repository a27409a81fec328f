"""The standard library's PM, LTR, ATS, PASID, PRI, PTM, L1 PM Substates, ACS and DSN schemas against real devices.

The independent reference is Debian's lspci 3.9.0 `-vvv` decode
(`NAME.lspci-vvv.txt`) of pciutils' test dumps (`NAME.lspci-xxxx.txt`) in
../shared/data/pciutils. For every function of every dump, `inspect` (the
product's `vfiogen inspect`, interpreting the checked IR's capture plan)
captures each capability that has one of these schemas, and each field lspci
prints is compared with the captured register fields, decoded the way lspci
decodes them (latencies in ns, power-on times in us, hex widths...). The
number of capabilities and fields compared has a floor per schema, so a
parser regression cannot make the comparison vacuous.

Then a round trip per capability with the generated Python: capture from the
dump, save, load, and restore into a copy of the config space whose writable
bits were scrambled, through a model of the register access kinds (rw bits
take the written value, rw1c bits clear where a 1 is written, read-only and
reserved bits ignore writes). The restored space must equal the dump, and
capture from it must give the same state.

Disagreements that are schema bugs are listed in known_failures.LIBRARY_CONFORMANCE
and run as strict xfails.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest
from conftest import ROOT, SHARED_DATA, standard_module
from known_failures import LIBRARY_CONFORMANCE as KNOWN

from vfiogen.configspace.capture import Captured, capture
from vfiogen.configspace.dump import Function, read_dump
from vfiogen.configspace.report import inspect_function
from vfiogen.ir.checked import CheckedSection

# The lspci -vvv parser lives beside the generated-Python tests.
sys.path.insert(0, str(ROOT / "tests" / "generated_python"))
from lspci_dump import LspciCapability, parse_lspci  # noqa: E402

DATA = SHARED_DATA / "pciutils"
MISSING = f"pciutils config-space dumps not found at {DATA} (../shared/data/pciutils from the project root)"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=MISSING)
CASES = sorted(p.name.removesuffix(".lspci-xxxx.txt") for p in DATA.glob("*.lspci-xxxx.txt")) if DATA.is_dir() else []
CASE_PARAMS: list[Any] = list(CASES) or [pytest.param("<no data>", marks=pytest.mark.skip(reason=MISSING))]

# schema -> how lspci titles the capability
TITLES = {
    "pm": "Power Management version ",
    "ltr": "Latency Tolerance Reporting",
    "ats": "Address Translation Service (ATS)",
    "pasid": "Process Address Space ID (PASID)",
    "pri": "Page Request Interface (PRI)",
    "ptm": "Precision Time Measurement",
    "l1ss": "L1 PM Substates",
    "acs": "Access Control Services",
    "dsn": "Device Serial Number ",
}

# What the dumps hold (counted once; lspci shows the same): capabilities per schema and fields compared.
MIN_CAPTURED = {"pm": 81, "ltr": 5, "ats": 4, "pasid": 4, "pri": 3, "ptm": 2, "l1ss": 7, "acs": 11, "dsn": 13}
MIN_FIELDS = {"pm": 1460, "ltr": 10, "ats": 12, "pasid": 24, "pri": 21, "ptm": 14, "l1ss": 112, "acs": 154, "dsn": 13}


MODULE = standard_module()


def _section(name: str) -> CheckedSection:
    return next(s for s in MODULE.sections if s.name == name)


# --------------------------------------------------------------------------- comparison records


@dataclass(frozen=True)
class Check:
    case: str
    slot: str
    schema: str
    offset: int
    field: str
    lspci: object
    captured: object

    @property
    def key(self) -> str:
        return f"{self.case}/{self.slot}/{self.schema}@{self.offset:x}/{self.field}"

    @property
    def ok(self) -> bool:
        return self.lspci == self.captured

    def __str__(self) -> str:
        return f"{self.key}: lspci {self.lspci!r}, captured {self.captured!r}"


Triple = tuple[str, object, object]


class Reader:
    """The captured fields of one capability, with enum values as their numbers."""

    def __init__(self, schema: str, captured: Captured, where: str) -> None:
        self.captured, self.where = captured, where
        section = _section(schema).section
        self.enums = {e.name: {v.name: v.value for v in e.values} for e in section.enums}
        self.field_enum = {(r.name, f.name): f.enum for r in section.registers for f in r.fields if f.enum}

    def reg(self, name: str) -> int:
        value = self.captured.registers[name]
        assert value is not None, f"{self.where}: {name} is absent"
        return value

    def __call__(self, register: str, name: str) -> Any:
        value = self.captured.fields[register][name]
        enum = self.field_enum.get((register, name))
        return self.enums[enum][value] if enum is not None and isinstance(value, str) else value


def _flag(sign: str) -> bool:
    assert sign in "+-", sign
    return sign == "+"


def _line(lcap: LspciCapability, pattern: str, where: str) -> re.Match[str]:
    found = [m for m in (re.fullmatch(pattern, line) for line in lcap.body) if m]
    assert len(found) == 1, f"{where}: expected one lspci line matching {pattern!r} in {lcap.body}"
    return found[0]


def _lines(lcap: LspciCapability, pattern: str) -> list[re.Match[str]]:
    return [m for m in (re.fullmatch(pattern, line) for line in lcap.body) if m]


def _granularity(text: str) -> int:
    """lspci's PTM granularity words back to the register value."""
    if text in ("Unimplemented", "Unknown"):
        return 0
    if text == "Greater than 254ns":
        return 0xFF
    m = re.fullmatch(r"(\d+)ns", text)
    assert m, text
    return int(m[1])


def _power_on_us(scale: int, value: int) -> int | None:
    """T_POWER_ON in us (scale 0: 2 us, 1: 10 us, 2: 100 us units); None for the reserved scale."""
    return {0: 2, 1: 10, 2: 100}.get(scale, -1) * value if scale in (0, 1, 2) else None


# --------------------------------------------------------------------------- per-schema comparisons

AUX_MA = (0, 55, 100, 160, 220, 270, 320, 375)


def compare_pm(r: Reader, lcap: LspciCapability, where: str) -> list[Triple]:
    title = re.fullmatch(r"Power Management version (\d+)", lcap.title)
    assert title, lcap.title
    flags = _line(lcap, r"Flags: PMEClk([+-]) DSI([+-]) D1([+-]) D2([+-]) AuxCurrent=(\d+)mA "
                        r"PME\(D0([+-]),D1([+-]),D2([+-]),D3hot([+-]),D3cold([+-])\)", where)
    status = _line(lcap, r"Status: D(\d) NoSoftRst([+-]) PME-Enable([+-]) DSel=(\d+) DScale=(\d+) PME([+-])", where)
    pme = r("pmc", "pme_support")
    out: list[Triple] = [
        ("pmc.version", int(title[1]), r("pmc", "version")),
        ("pmc.pme_clock", _flag(flags[1]), r("pmc", "pme_clock")),
        ("pmc.dsi", _flag(flags[2]), r("pmc", "dsi")),
        ("pmc.d1_support", _flag(flags[3]), r("pmc", "d1_support")),
        ("pmc.d2_support", _flag(flags[4]), r("pmc", "d2_support")),
        ("pmc.aux_current (mA)", int(flags[5]), AUX_MA[r("pmc", "aux_current")]),
    ]
    out += [(f"pmc.pme_support {state}", _flag(flags[6 + i]), bool(pme >> i & 1))
            for i, state in enumerate(("D0", "D1", "D2", "D3hot", "D3cold"))]
    out += [
        ("pmcsr.power_state", int(status[1]), r("pmcsr", "power_state")),
        ("pmcsr.no_soft_reset", _flag(status[2]), r("pmcsr", "no_soft_reset")),
        ("pmcsr.pme_en", _flag(status[3]), r("pmcsr", "pme_en")),
        ("pmcsr.data_select", int(status[4]), r("pmcsr", "data_select")),
        ("pmcsr.data_scale", int(status[5]), r("pmcsr", "data_scale")),
        ("pmcsr.pme_status", _flag(status[6]), r("pmcsr", "pme_status")),
    ]
    # lspci prints the bridge extensions line when the whole byte is non-zero.
    bridge = _lines(lcap, r"Bridge: PM([+-]) B3([+-])")
    out.append(("pmcsr_bse present", bool(bridge), r.reg("pmcsr_bse") != 0))
    if bridge:
        out += [("pmcsr_bse.bpcc_en", _flag(bridge[0][1]), r("pmcsr_bse", "bpcc_en")),
                ("pmcsr_bse.b2_b3 (B3 = not B2)", _flag(bridge[0][2]), not r("pmcsr_bse", "b2_b3"))]
    return out


def compare_ltr(r: Reader, lcap: LspciCapability, where: str) -> list[Triple]:
    snoop = _line(lcap, r"Max snoop latency: (\d+)ns", where)
    no_snoop = _line(lcap, r"Max no snoop latency: (\d+)ns", where)

    def ns(register: str) -> int:
        return int(r(register, "latency_value")) * 32 ** int(r(register, "latency_scale"))

    return [("max_snoop_latency (ns)", int(snoop[1]), ns("max_snoop_latency")),
            ("max_no_snoop_latency (ns)", int(no_snoop[1]), ns("max_no_snoop_latency"))]


def compare_ats(r: Reader, lcap: LspciCapability, where: str) -> list[Triple]:
    cap = _line(lcap, r"ATSCap:\s+Invalidate Queue Depth: ([0-9a-f]{2})", where)
    ctl = _line(lcap, r"ATSCtl:\s+Enable([+-]), Smallest Translation Unit: ([0-9a-f]{2})", where)
    return [("ats_cap.invalidate_queue_depth", int(cap[1], 16), r("ats_cap", "invalidate_queue_depth")),
            ("ats_ctrl.enable", _flag(ctl[1]), r("ats_ctrl", "enable")),
            ("ats_ctrl.smallest_translation_unit", int(ctl[2], 16), r("ats_ctrl", "smallest_translation_unit"))]


def compare_pasid(r: Reader, lcap: LspciCapability, where: str) -> list[Triple]:
    cap = _line(lcap, r"PASIDCap: Exec([+-]) Priv([+-]), Max PASID Width: ([0-9a-f]{2})", where)
    ctl = _line(lcap, r"PASIDCtl: Enable([+-]) Exec([+-]) Priv([+-])", where)
    return [("pasid_cap.execute_permission_supported", _flag(cap[1]), r("pasid_cap", "execute_permission_supported")),
            ("pasid_cap.privileged_mode_supported", _flag(cap[2]), r("pasid_cap", "privileged_mode_supported")),
            ("pasid_cap.max_pasid_width", int(cap[3], 16), r("pasid_cap", "max_pasid_width")),
            ("pasid_ctrl.pasid_enable", _flag(ctl[1]), r("pasid_ctrl", "pasid_enable")),
            ("pasid_ctrl.execute_permission_enable", _flag(ctl[2]), r("pasid_ctrl", "execute_permission_enable")),
            ("pasid_ctrl.privileged_mode_enable", _flag(ctl[3]), r("pasid_ctrl", "privileged_mode_enable"))]


def compare_pri(r: Reader, lcap: LspciCapability, where: str) -> list[Triple]:
    ctl = _line(lcap, r"PRICtl: Enable([+-]) Reset([+-])", where)
    sta = _line(lcap, r"PRISta: RF([+-]) UPRGI([+-]) Stopped([+-])(?: PASID([+-]))?", where)
    req = _line(lcap, r"Page Request Capacity: ([0-9a-f]{8}), Page Request Allocation: ([0-9a-f]{8})", where)
    out: list[Triple] = [
        ("pri_ctrl.enable", _flag(ctl[1]), r("pri_ctrl", "enable")),
        ("pri_ctrl.reset", _flag(ctl[2]), r("pri_ctrl", "reset")),
        ("pri_status.response_failure", _flag(sta[1]), r("pri_status", "response_failure")),
        ("pri_status.unexpected_page_request_group_index", _flag(sta[2]),
         r("pri_status", "unexpected_page_request_group_index")),
        ("pri_status.stopped", _flag(sta[3]), r("pri_status", "stopped")),
        ("outstanding_page_request_capacity", int(req[1], 16), r.reg("outstanding_page_request_capacity")),
        ("outstanding_page_request_allocation", int(req[2], 16), r.reg("outstanding_page_request_allocation")),
    ]
    if sta[4] is not None:  # lspci 3.10 and later print it
        out.append(("pri_status.prg_response_pasid_required", _flag(sta[4]),
                    r("pri_status", "prg_response_pasid_required")))
    return out


def compare_ptm(r: Reader, lcap: LspciCapability, where: str) -> list[Triple]:
    # lspci 3.9 writes `Requester:+`, later versions `Requester+`.
    cap = _line(lcap, r"PTMCap: Requester:?([+-]) Responder:?([+-]) Root:?([+-])", where)
    clock = _line(lcap, r"PTMClockGranularity: (.*)", where)
    ctl = _line(lcap, r"PTMControl: Enabled:?([+-]) RootSelected:?([+-])", where)
    effective = _line(lcap, r"PTMEffectiveGranularity: (.*)", where)
    return [("ptm_cap.ptm_requester_capable", _flag(cap[1]), r("ptm_cap", "ptm_requester_capable")),
            ("ptm_cap.ptm_responder_capable", _flag(cap[2]), r("ptm_cap", "ptm_responder_capable")),
            ("ptm_cap.ptm_root_capable", _flag(cap[3]), r("ptm_cap", "ptm_root_capable")),
            ("ptm_cap.local_clock_granularity", _granularity(clock[1]), r("ptm_cap", "local_clock_granularity")),
            ("ptm_ctrl.ptm_enable", _flag(ctl[1]), r("ptm_ctrl", "ptm_enable")),
            ("ptm_ctrl.root_select", _flag(ctl[2]), r("ptm_ctrl", "root_select")),
            ("ptm_ctrl.effective_granularity", _granularity(effective[1]), r("ptm_ctrl", "effective_granularity"))]


def compare_l1ss(r: Reader, lcap: LspciCapability, where: str) -> list[Triple]:
    cap = _line(lcap, r"L1SubCap: PCI-PM_L1\.2([+-]) PCI-PM_L1\.1([+-]) ASPM_L1\.2([+-]) ASPM_L1\.1([+-]) "
                      r"L1_PM_Substates([+-])", where)
    ctl1 = _line(lcap, r"L1SubCtl1: PCI-PM_L1\.2([+-]) PCI-PM_L1\.1([+-]) ASPM_L1\.2([+-]) ASPM_L1\.1([+-])", where)
    names = ("pci_pm_l1_2", "pci_pm_l1_1", "aspm_l1_2", "aspm_l1_1")
    out: list[Triple] = [(f"l1ss_cap.{n}_supported", _flag(cap[1 + i]), r("l1ss_cap", f"{n}_supported"))
                         for i, n in enumerate(names)]
    out.append(("l1ss_cap.l1_pm_substates_supported", _flag(cap[5]), r("l1ss_cap", "l1_pm_substates_supported")))
    out += [(f"l1ss_ctrl1.{n}_enable", _flag(ctl1[1 + i]), r("l1ss_ctrl1", f"{n}_enable")) for i, n in enumerate(names)]
    # lspci prints the timing only for a port with L1.2 (PCI-PM or ASPM), the threshold only with ASPM L1.2.
    l1_2 = r("l1ss_cap", "pci_pm_l1_2_supported") or r("l1ss_cap", "aspm_l1_2_supported")
    port = _lines(lcap, r"PortCommonModeRestoreTime=(\d+)us PortTPowerOnTime=(\d+us|<error>)")
    common = _lines(lcap, r"T_CommonMode=(\d+)us(?: LTR1\.2_Threshold=(\d+ns|<error>))?")
    ctl2 = _line(lcap, r"L1SubCtl2:(?: T_PwrOn=(\d+us|<error>))?", where)
    out.append(("L1.2 timing lines printed", (len(port), len(common), ctl2[1] is not None),
                (int(l1_2), int(l1_2), bool(l1_2))))
    if l1_2 and port and common and ctl2[1] is not None:
        def us(text: str) -> int | None:
            return None if text == "<error>" else int(text.removesuffix("us"))

        out += [
            ("l1ss_cap.port_common_mode_restore_time", int(port[0][1]), r("l1ss_cap", "port_common_mode_restore_time")),
            ("l1ss_cap.port_t_power_on (us)", us(port[0][2]),
             _power_on_us(r("l1ss_cap", "port_t_power_on_scale"), r("l1ss_cap", "port_t_power_on_value"))),
            ("l1ss_ctrl1.common_mode_restore_time", int(common[0][1]), r("l1ss_ctrl1", "common_mode_restore_time")),
            ("l1ss_ctrl2.t_power_on (us)", us(ctl2[1]),
             _power_on_us(r("l1ss_ctrl2", "t_power_on_scale"), r("l1ss_ctrl2", "t_power_on_value"))),
        ]
        threshold = common[0][2]
        out.append(("LTR1.2 threshold printed", threshold is not None, bool(r("l1ss_cap", "aspm_l1_2_supported"))))
        if threshold is not None:
            scale = r("l1ss_ctrl1", "ltr_l1_2_threshold_scale")
            out.append(("l1ss_ctrl1.ltr_l1_2_threshold (ns)",
                        None if threshold == "<error>" else int(threshold.removesuffix("ns")),
                        int(r("l1ss_ctrl1", "ltr_l1_2_threshold_value")) * 32 ** int(scale) if scale <= 5 else None))
    return out


ACS_FLAGS = ("SrcValid", "TransBlk", "ReqRedir", "CmpltRedir", "UpstreamFwd", "EgressCtrl", "DirectTrans")
ACS_CAP = ("source_validation", "translation_blocking", "p2p_request_redirect", "p2p_completion_redirect",
           "upstream_forwarding", "p2p_egress_control", "direct_translated_p2p")


def compare_acs(r: Reader, lcap: LspciCapability, where: str) -> list[Triple]:
    flags = " ".join(f"{name}([+-])" for name in ACS_FLAGS)
    cap = _line(lcap, rf"ACSCap:\s+{flags}", where)
    ctl = _line(lcap, rf"ACSCtl:\s+{flags}", where)
    out: list[Triple] = [(f"acs_cap.{n}", _flag(cap[1 + i]), r("acs_cap", n)) for i, n in enumerate(ACS_CAP)]
    out += [(f"acs_ctrl.{n}_enable", _flag(ctl[1 + i]), r("acs_ctrl", f"{n}_enable")) for i, n in enumerate(ACS_CAP)]
    return out


def compare_dsn(r: Reader, lcap: LspciCapability, where: str) -> list[Triple]:
    m = re.fullmatch(r"Device Serial Number ((?:[0-9a-f]{2}-){7}[0-9a-f]{2})", lcap.title)
    assert m, f"{where}: {lcap.title!r}"
    return [("serial number (upper:lower)", int(m[1].replace("-", ""), 16),
             r.reg("serial_number_upper") << 32 | r.reg("serial_number_lower"))]


COMPARE: dict[str, Callable[[Reader, LspciCapability, str], list[Triple]]] = {
    "pm": compare_pm, "ltr": compare_ltr, "ats": compare_ats, "pasid": compare_pasid, "pri": compare_pri,
    "ptm": compare_ptm, "l1ss": compare_l1ss, "acs": compare_acs, "dsn": compare_dsn,
}


# --------------------------------------------------------------------------- one dump


@dataclass
class Found:
    """One capability with a library schema, as inspect captured it."""

    case: str
    slot: str
    schema: str
    offset: int
    function: Function
    captured: Captured
    lcap: LspciCapability


@dataclass
class Case:
    name: str
    devices: int = 0
    found: list[Found] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    titles: Counter[str] = field(default_factory=Counter)


@cache
def load_case(name: str) -> Case:
    case = Case(name)
    lspci = {d.slot: d for d in parse_lspci((DATA / f"{name}.lspci-vvv.txt").read_text())}
    for function in read_dump(DATA / f"{name}.lspci-xxxx.txt"):
        case.devices += 1
        ldev = lspci[function.address]
        case.titles.update(schema for lcap in ldev.caps for schema, title in TITLES.items()
                           if lcap.title.startswith(title))
        for report in inspect_function(function, MODULE).capabilities:
            if report.schema not in COMPARE:
                continue
            offset = report.capability.offset
            where = f"{name} {function.address} {report.schema}@{offset:x}"
            lcap = ldev.cap_at(offset)
            assert lcap is not None and lcap.title.startswith(TITLES[report.schema]), (
                f"{where}: lspci shows {lcap.title if lcap else 'nothing'!r} there")
            assert report.state is not None
            found = Found(name, function.address, report.schema, offset, function, report.state, lcap)
            case.found.append(found)
            if report.state.problems:
                case.checks.append(Check(name, function.address, report.schema, offset, "capture", [],
                                         report.state.problems))
                continue
            case.checks += [Check(name, function.address, report.schema, offset, f, want, got)
                            for f, want, got in COMPARE[report.schema](Reader(report.schema, report.state, where),
                                                                       lcap, where)]
    return case


# --------------------------------------------------------------------------- inspect against lspci


@needs_data
@pytest.mark.parametrize("name", CASE_PARAMS)
def test_inspect_decodes_what_lspci_decodes(name: str) -> None:
    case = load_case(name)
    wrong = [str(c) for c in case.checks if not c.ok and c.key not in KNOWN]
    assert not wrong, "inspect's capture disagrees with lspci:\n" + "\n".join(wrong)


@needs_data
def test_enough_was_compared() -> None:
    cases = [load_case(name) for name in CASES]
    devices = sum(c.devices for c in cases)
    captured = Counter(f.schema for c in cases for f in c.found)
    fields = Counter(ch.schema for c in cases for ch in c.checks)
    titles: Counter[str] = Counter()
    for c in cases:
        titles.update(c.titles)
    print(f"\n{len(cases)} cases, {devices} devices; capabilities {dict(sorted(captured.items()))}; "
          f"fields compared {dict(sorted(fields.items()))} ({sum(fields.values())} in all)")
    assert devices >= 137
    assert captured == titles, "a capability lspci decoded was not captured, or the reverse"
    for schema, floor in MIN_CAPTURED.items():
        assert captured[schema] >= floor, f"only {captured[schema]} {schema} capabilities compared, expected {floor}"
        assert fields[schema] >= MIN_FIELDS[schema], (
            f"only {fields[schema]} {schema} fields compared, expected at least {MIN_FIELDS[schema]}")


@needs_data
def test_known_disagreements_name_real_comparisons() -> None:
    checks = {ch.key for name in CASES for ch in load_case(name).checks}
    assert set(KNOWN) <= checks, f"stale entries: {sorted(set(KNOWN) - checks)}"


KNOWN_PARAMS = [pytest.param(key, marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason), id=key)
                for key, reason in KNOWN.items()] or [
    pytest.param("<none>", marks=pytest.mark.skip(reason="no known disagreement between the library and lspci"))]


@needs_data
@pytest.mark.parametrize("key", KNOWN_PARAMS)
def test_known_disagreement(key: str) -> None:
    (check,) = [ch for ch in load_case(key.split("/", 1)[0]).checks if ch.key == key]
    assert check.ok, str(check)


@needs_data
def test_the_comparison_notices_a_wrong_field() -> None:
    """Flip one captured register bit in each compared field's register: some comparison must then fail."""
    noticed = Counter[str]()
    for name in CASES:
        for found in load_case(name).found:
            if found.captured.problems:
                continue
            for register, value in found.captured.registers.items():
                if value is None or register == "data":
                    continue  # the PM Data register is not printed by lspci
                checked = _section(found.schema).register(register)
                printed = checked.masks.declared & ~checked.masks.reserved
                for bit in range(checked.register.width):
                    if not printed >> bit & 1:
                        continue
                    config = bytearray(found.function.config)
                    absolute = found.offset + checked.offsets[0] + bit // 8
                    config[absolute] ^= 1 << (bit % 8)
                    mutated = capture(_section(found.schema), Function(found.slot, "", bytes(config)), found.offset)
                    if mutated.problems:
                        noticed[found.schema] += 1
                        continue
                    where = f"{found.case} {found.slot} {found.schema}@{found.offset:x}"
                    triples = COMPARE[found.schema](Reader(found.schema, mutated, where), found.lcap, where)
                    if any(want != got for _, want, got in triples):
                        noticed[found.schema] += 1
    for schema in MIN_CAPTURED:
        assert noticed[schema] > 0, f"no altered {schema} bit was noticed"


# --------------------------------------------------------------------------- round trip through the generated Python


class ModelConfig:
    """A copy of config space that answers writes the way the schema's access kinds say the device does."""

    def __init__(self, config: bytes, section: CheckedSection, base: int, present: set[str]) -> None:
        self.space = bytearray(config)
        self.rw = bytearray(len(config))
        self.rw1c = bytearray(len(config))
        self.covered = bytearray(len(config))
        self.writes: list[tuple[int, int, int]] = []
        for checked in section.registers:
            if checked.register.name not in present:
                continue  # absent on this function: config space there belongs to no register
            assert len(checked.offsets) == 1, f"{checked.register.name} moves; the model needs one offset"
            start = base + checked.offsets[0]
            for i in range(checked.register.width // 8):
                self.rw[start + i] |= checked.masks.rw >> 8 * i & 0xFF
                self.rw1c[start + i] |= checked.masks.rw1c >> 8 * i & 0xFF
                self.covered[start + i] = 1

    def read(self, offset: int, size: int) -> int:
        assert size in (1, 2, 4) and offset % size == 0, (offset, size)
        return int.from_bytes(self.space[offset:offset + size], "little")

    def write(self, offset: int, value: int, size: int) -> None:
        assert size in (1, 2, 4) and offset % size == 0 and 0 <= value < 1 << 8 * size, (offset, value, size)
        self.writes.append((offset, value, size))
        for i, byte in enumerate(value.to_bytes(size, "little")):
            at = offset + i
            assert self.covered[at], f"restore wrote 0x{at:x}, which no register of the section covers"
            kept = self.space[at] & ~self.rw[at] & ~self.rw1c[at]
            self.space[at] = kept | byte & self.rw[at] | self.space[at] & self.rw1c[at] & ~byte


def _scrambled(config: bytes, model: ModelConfig) -> bytes:
    """`config` with every rw bit inverted, so that only restore can put them back."""
    return bytes(b ^ m for b, m in zip(config, model.rw, strict=True))


@needs_data
@pytest.mark.parametrize("name", CASE_PARAMS)
def test_capture_save_load_restore_round_trip(name: str) -> None:
    problems: list[str] = []
    for found in load_case(name).found:
        if found.captured.problems:
            continue  # reported by test_inspect_decodes_what_lspci_decodes
        where = f"{found.slot} {found.schema}@{found.offset:x}"
        module = importlib.import_module(f"vfiogen_state.{found.schema}")
        section = _section(found.schema)
        present = {n for n, v in found.captured.registers.items() if v is not None}
        original = ModelConfig(found.function.config, section, found.offset, present)
        state = module.capture(original.read, found.offset)
        loaded = module.load(module.save(state))
        assert loaded == state, where
        assert module.validate(loaded) == [], (where, module.validate(loaded))

        target = ModelConfig(_scrambled(found.function.config, original), section, found.offset, present)
        module.restore(loaded, target.write, found.offset, hooks={h: (lambda _s: None) for h in module.RESTORE_HOOKS},
                       wait=lambda _us: None)
        if any(value & int.from_bytes(original.rw1c[o:o + size], "little") for o, value, size in target.writes):
            problems.append(f"{where}: restore wrote a 1 to a write-one-to-clear bit: {target.writes}")
        changed = [hex(i) for i in range(len(target.space)) if target.space[i] != found.function.config[i]]
        if changed:
            problems.append(f"{where}: after restore the config space differs from the dump at {changed}")
        if module.capture(target.read, found.offset) != state:
            problems.append(f"{where}: capture after restore gives another state")
    assert not problems, "\n".join(problems)


@needs_data
def test_every_library_section_was_round_tripped() -> None:
    done = Counter(f.schema for name in CASES for f in load_case(name).found if not f.captured.problems)
    assert {schema: done[schema] >= floor for schema, floor in MIN_CAPTURED.items()} == dict.fromkeys(MIN_CAPTURED, True)


def test_pm_restore_goes_through_d0_with_pme_disabled() -> None:
    """The PM restore sequence: D0 with PME_En off first, then PMCSR as saved (PME_Status written as 0)."""
    from vfiogen_state import pm

    state = pm.PmState(pmc=pm.PmcRegister(version=3, d1_support=True, pme_support=0x1F),
                       pmcsr=pm.PmcsrRegister(power_state=pm.DState.D3HOT, pme_en=True, data_select=2,
                                              pme_status=True))
    writes: list[tuple[int, int, int] | tuple[str, int]] = []
    def wait(microseconds: int) -> None:
        writes.append(("wait", microseconds))

    pm.restore(state, lambda offset, value, size: writes.append((offset, value, size)), 0x40, wait=wait)
    # entering the saved D3hot takes the 10 ms the PM specification gives, after the write that enters it
    assert writes == [(0x44, 0x0400, 2), (0x44, 0x0503, 2), ("wait", 10000)]
    state.pmcsr.power_state = pm.DState.D2
    writes.clear()
    pm.restore(state, lambda offset, value, size: writes.append((offset, value, size)), 0x40, wait=wait)
    assert writes == [(0x44, 0x0400, 2), (0x44, 0x0502, 2), ("wait", 200)]
    state.pmcsr.power_state = pm.DState.D0
    writes.clear()
    pm.restore(state, lambda offset, value, size: writes.append((offset, value, size)), 0x40, wait=wait)
    assert writes == [(0x44, 0x0400, 2), (0x44, 0x0500, 2)]  # no wait into D0
    with pytest.raises(ValueError, match="the restore sequence waits, and no wait function was given"):
        pm.restore(state, lambda offset, value, size: None, 0x40)
