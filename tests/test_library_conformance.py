"""The standard library's PM, LTR, ATS, PASID, PRI, PTM, L1 PM Substates, ACS, DSN, PCI Express, AER and type-1 header schemas against real devices.

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
from vfiogen.ir.checked import CheckedRegister, CheckedSection
from vfiogen.ir.evaluate import evaluate

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
    "pcie": "Express ",
    "aer": "Advanced Error Reporting",
    "bridge_header": "<type-1 header>",
    "vc": "Virtual Channel",
    "pcix": "PCI-X ",
}

# What the dumps hold (counted once; lspci shows the same): capabilities per schema and fields compared.
MIN_CAPTURED = {"pm": 81, "ltr": 5, "ats": 4, "pasid": 4, "pri": 3, "ptm": 2, "l1ss": 7, "acs": 11, "dsn": 13,
                "pcie": 56, "aer": 34, "bridge_header": 46, "vc": 20, "pcix": 16}
MIN_FIELDS = {"pm": 1460, "ltr": 10, "ats": 12, "pasid": 24, "pri": 21, "ptm": 14, "l1ss": 112, "acs": 154, "dsn": 13,
              "pcie": 3290, "aer": 2270, "bridge_header": 920, "vc": 468, "pcix": 300}


MODULE = standard_module()


def _section(name: str) -> CheckedSection:
    return next(s for s in MODULE.sections if s.name == name)


def _offset(checked: CheckedRegister) -> int:
    """A register's one offset. `offsets` is worked out with the params' defaults, so a register those make
    absent (aer's root registers) has none there: its offset is then a constant of the schema."""
    if checked.offsets:
        assert len(checked.offsets) == 1, f"{checked.register.name} moves; the tests need one offset"
        return checked.offsets[0]
    return int(evaluate(checked.register.offset, {}))


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


def _block(lcap: LspciCapability, label: str) -> str | None:
    """The text of the lspci register block `label` (its line and the continuation lines under it), or None."""
    for i, line in enumerate(lcap.body):
        if line.startswith(label + ":"):
            rest = [line.removeprefix(label + ":")]
            for more in lcap.body[i + 1:]:
                if re.match(r"^[A-Za-z0-9/ ]+:\s", more) and not more.startswith("Exit Latency"):
                    break
                rest.append(more)
            return " ".join(rest)
    return None


def _tokens(text: str) -> dict[str, bool]:
    """lspci's `Name+` / `Name-` flags in `text`."""
    return {m[1]: m[2] == "+" for m in re.finditer(r"([A-Za-z0-9_>.<-]*[A-Za-z0-9_])([+-])(?=\s|,|$)", text)}


LINK_SPEED = {1: "2.5GT/s", 2: "5GT/s", 3: "8GT/s", 4: "16GT/s", 5: "32GT/s", 6: "64GT/s"}
ASPM_SUPPORT = ("not supported", "L0s", "L1", "L0s L1")
ASPM_ENABLED = ("Disabled", "L0s Enabled", "L1 Enabled", "L0s L1 Enabled")


def compare_pcie(r: Reader, lcap: LspciCapability, where: str) -> list[Triple]:
    title = re.fullmatch(r"Express \(v(\d+)\) (.*?)(?: \(Slot([+-])\))?, (?:MSI|IntMsgNum) (\d+)(?:, .*)?", lcap.title)
    assert title, f"{where}: {lcap.title!r}"
    out: list[Triple] = [("pcie_caps.version", int(title[1]), r("pcie_caps", "version")),
                         ("pcie_caps.interrupt_message_number", int(title[4], 16) if len(title[4]) == 2 else int(title[4]),
                          r("pcie_caps", "interrupt_message_number"))]
    if title[3] is not None:
        out.append(("pcie_caps.slot_implemented", _flag(title[3]), r("pcie_caps", "slot_implemented")))
    devcap = _line(lcap, r"DevCap:\s+MaxPayload (\d+) bytes, PhantFunc (\d+).*", where)
    out += [("devcap.max_payload_size_supported (bytes)", int(devcap[1]), 128 << r("devcap", "max_payload_size_supported")),
            ("devcap.phantom_functions_supported", int(devcap[2]), (1 << r("devcap", "phantom_functions_supported")) - 1)]
    devcap_flags = _tokens(_block(lcap, "DevCap") or "")
    out += [(f"devcap.{n}", devcap_flags[k], r("devcap", n)) for k, n in
            (("ExtTag", "extended_tag_field_supported"), ("RBE", "role_based_error_reporting")) if k in devcap_flags]
    devctl = _tokens(_block(lcap, "DevCtl") or "")
    out += [(f"devctl.{n}", devctl[k], r("devctl", n)) for k, n in (
        ("CorrErr", "correctable_error_reporting_enable"), ("NonFatalErr", "non_fatal_error_reporting_enable"),
        ("FatalErr", "fatal_error_reporting_enable"), ("UnsupReq", "unsupported_request_reporting_enable"),
        ("RlxdOrd", "enable_relaxed_ordering"), ("ExtTag", "extended_tag_field_enable"),
        ("PhantFunc", "phantom_functions_enable"), ("AuxPwr", "aux_power_pm_enable"), ("NoSnoop", "enable_no_snoop"))]
    # Bit 15: lspci names it BrConfRtry on a PCIe to PCI/PCI-X bridge and FLReset on an endpoint capable of
    # FLR, and prints neither where the bit is reserved; the capture decodes it exactly where lspci names it
    # (the schema also takes it as FLR on other FLR-capable functions, which lspci leaves out).
    bit15 = r.captured.fields["devctl"].get("initiate_flr")  # None where reserved
    out += [(f"devctl.initiate_flr ({key})", devctl[key], bit15) for key in ("BrConfRtry", "FLReset")
            if key in devctl]
    if bit15 is None:
        out.append(("devctl bit 15 reserved: lspci names it neither", False, "BrConfRtry" in devctl or
                    "FLReset" in devctl))
    sizes = _line(lcap, r"MaxPayload (\d+) bytes, MaxReadReq (\d+) bytes", where)
    out += [("devctl.max_payload_size (bytes)", int(sizes[1]), 128 << r("devctl", "max_payload_size")),
            ("devctl.max_read_request_size (bytes)", int(sizes[2]), 128 << r("devctl", "max_read_request_size"))]
    devsta = _tokens(_block(lcap, "DevSta") or "")
    out += [(f"devsta.{n}", devsta[k], r("devsta", n)) for k, n in (
        ("CorrErr", "correctable_error_detected"), ("NonFatalErr", "non_fatal_error_detected"),
        ("FatalErr", "fatal_error_detected"), ("UnsupReq", "unsupported_request_detected"),
        ("AuxPwr", "aux_power_detected"), ("TransPend", "transactions_pending"))]
    link = r.captured.registers["lnkcap"] is not None
    lnkcap = _lines(lcap, r"LnkCap:\s+Port #(\d+), Speed ([^,]+), Width x(\d+), ASPM ([^,]+?)(?:, Exit Latency .*)?")
    out.append(("link registers printed", bool(lnkcap), link))
    if lnkcap and link:
        out += [("lnkcap.port_number", int(lnkcap[0][1]), r("lnkcap", "port_number")),
                ("lnkcap.max_link_speed", lnkcap[0][2], LINK_SPEED.get(r("lnkcap", "max_link_speed"), "unknown")),
                ("lnkcap.maximum_link_width", int(lnkcap[0][3]), r("lnkcap", "maximum_link_width")),
                ("lnkcap.aspm_support", lnkcap[0][4], ASPM_SUPPORT[r("lnkcap", "aspm_support")])]
        flags = _tokens(_block(lcap, "LnkCap") or "")
        out += [(f"lnkcap.{n}", flags[k], r("lnkcap", n)) for k, n in (
            ("ClockPM", "clock_power_management"), ("Surprise", "surprise_down_error_reporting_capable"),
            ("LLActRep", "data_link_layer_link_active_reporting_capable"),
            ("BwNot", "link_bandwidth_notification_capability"), ("ASPMOptComp", "aspm_optionality_compliance"))
            if k in flags]
        ctl = _line(lcap, r"LnkCtl:\s+ASPM ([^;]+);.*", where)
        out.append(("lnkctl.aspm_control", ctl[1], ASPM_ENABLED[r("lnkctl", "aspm_control")]))
        flags = _tokens(_block(lcap, "LnkCtl") or "")
        out += [(f"lnkctl.{n}", flags[k], r("lnkctl", n)) for k, n in (
            ("CommClk", "common_clock_configuration"), ("ExtSynch", "extended_synch"),
            ("ClockPM", "enable_clock_power_management"), ("AutWidDis", "hardware_autonomous_width_disable"),
            ("BWInt", "link_bandwidth_management_interrupt_enable"),
            ("AutBWInt", "link_autonomous_bandwidth_interrupt_enable")) if k in flags]
        # Link Disable (lspci: Disabled, LnkDisable in newer pciutils) and Retrain Link are reserved on a port
        # with no link below it: lspci prints Link Disable on every port type, the capture only where defined.
        out += [(f"lnkctl.{n}", flags[k], r("lnkctl", n)) for k, n in (
            ("Disabled", "link_disable"), ("LnkDisable", "link_disable"), ("Retrain", "retrain_link"))
            if k in flags and n in r.captured.fields["lnkctl"]]
        sta = _line(lcap, r"LnkSta:\s+Speed ([^,( ]+)(?: \([a-z]+\))?, Width x(\d+).*", where)
        out += [("lnksta.current_link_speed", sta[1], LINK_SPEED.get(r("lnksta", "current_link_speed"), "unknown")),
                ("lnksta.negotiated_link_width", int(sta[2]), r("lnksta", "negotiated_link_width"))]
        flags = _tokens(_block(lcap, "LnkSta") or "")
        out += [(f"lnksta.{n}", flags[k], r("lnksta", n)) for k, n in (
            ("Train", "link_training"), ("SlotClk", "slot_clock_configuration"),
            ("DLActive", "data_link_layer_link_active"), ("BWMgmt", "link_bandwidth_management_status"),
            ("ABWMgmt", "link_autonomous_bandwidth_status")) if k in flags]
    slot = r.captured.registers["sltcap"] is not None
    out.append(("slot registers printed", _block(lcap, "SltCap") is not None, slot))
    if slot and _block(lcap, "SltCap") is not None:
        flags = _tokens(_block(lcap, "SltCap") or "")
        out += [(f"sltcap.{n}", flags[k], r("sltcap", n)) for k, n in (
            ("AttnBtn", "attention_button_present"), ("PwrCtrl", "power_controller_present"),
            ("MRL", "mrl_sensor_present"), ("AttnInd", "attention_indicator_present"),
            ("PwrInd", "power_indicator_present"), ("HotPlug", "hot_plug_capable"), ("Surprise", "hot_plug_surprise"))]
        number = _line(lcap, r"Slot #(\d+), PowerLimit .*", where)
        out.append(("sltcap.physical_slot_number", int(number[1]), r("sltcap", "physical_slot_number")))
    root = r.captured.registers["rootctl"] is not None
    out.append(("root registers printed", _block(lcap, "RootCtl") is not None, root))
    if root and _block(lcap, "RootCtl") is not None:
        flags = _tokens(_block(lcap, "RootCtl") or "")
        out += [(f"rootctl.{n}", flags[k], r("rootctl", n)) for k, n in (
            ("ErrCorrectable", "system_error_on_correctable_error_enable"),
            ("ErrNon-Fatal", "system_error_on_non_fatal_error_enable"),
            ("ErrFatal", "system_error_on_fatal_error_enable"), ("PMEIntEna", "pme_interrupt_enable"),
            ("CRSVisible", "crs_software_visibility_enable"))]
    v2 = r.captured.registers["devcap2"] is not None
    out.append(("version 2 registers printed", _block(lcap, "DevCap2") is not None, v2))
    ctl2 = _block(lcap, "DevCtl2")
    if v2 and ctl2 is not None:
        flags = _tokens(ctl2)
        out += [(f"devctl2.{n}", flags[k], r("devctl2", n)) for k, n in (
            ("TimeoutDis", "completion_timeout_disable"), ("LTR", "ltr_mechanism_enable"),
            ("10BitTagReq", "tag10_bit_requester_enable"), ("ARIFwd", "ari_forwarding_enable")) if k in flags]
        cap2 = _tokens(_block(lcap, "DevCap2") or "")
        out += [(f"devcap2.{n}", cap2[k], r("devcap2", n)) for k, n in (
            ("TimeoutDis", "completion_timeout_disable_supported"), ("LTR", "ltr_mechanism_supported"),
            ("ARIFwd", "ari_forwarding_supported"), ("10BitTagComp", "tag10_bit_completer_supported"),
            ("10BitTagReq", "tag10_bit_requester_supported"), ("ExtFmt", "extended_fmt_field_supported"),
            ("EETLPPrefix", "end_end_tlp_prefix_supported"), ("FRS", "frs_supported")) if k in cap2]
    return out


UNCORRECTABLE = {"DLP": 4, "SDES": 5, "TLP": 12, "FCP": 13, "CmpltTO": 14, "CmpltAbrt": 15, "UnxCmplt": 16, "RxOF": 17,
                 "MalfTLP": 18, "ECRC": 19, "UnsupReq": 20, "ACSViol": 21, "UncorrIntErr": 22, "BlockedTLP": 23,
                 "AtomicOpBlocked": 24, "TLPBlockedErr": 25, "PoisonTLPBlocked": 26, "DMWrReqBlocked": 27,
                 "IDECheck": 28, "MisIDETLP": 29, "PCRC_CHECK": 30, "TLPXlatBlocked": 31}
CORRECTABLE = {"RxErr": 0, "BadTLP": 6, "BadDLLP": 7, "Rollover": 8, "Timeout": 12, "AdvNonFatalErr": 13,
               "CorrIntErr": 14, "HeaderOF": 15}


def compare_aer(r: Reader, lcap: LspciCapability, where: str) -> list[Triple]:
    out: list[Triple] = []
    for label, register, bits in (("UESta", "uncorrectable_error_status", UNCORRECTABLE),
                                  ("UEMsk", "uncorrectable_error_mask", UNCORRECTABLE),
                                  ("UESvrt", "uncorrectable_error_severity", UNCORRECTABLE),
                                  ("CESta", "correctable_error_status", CORRECTABLE),
                                  ("CEMsk", "correctable_error_mask", CORRECTABLE)):
        text = _block(lcap, label)
        assert text is not None, f"{where}: no {label}"
        flags = _tokens(text)
        out += [(f"{register} {name}", flags[name], bool(r.reg(register) >> bit & 1))
                for name, bit in bits.items() if name in flags]
    cap = _line(lcap, r"AERCap:\s+First Error Pointer: ([0-9a-f]{2}),.*", where)
    out.append(("aer_cap.first_error_pointer", int(cap[1], 16), r("aer_cap", "first_error_pointer")))
    flags = _tokens(_block(lcap, "AERCap") or "")
    out += [(f"aer_cap.{n}", flags[k], r("aer_cap", n)) for k, n in (
        ("ECRCGenCap", "ecrc_generation_capable"), ("ECRCGenEn", "ecrc_generation_enable"),
        ("ECRCChkCap", "ecrc_check_capable"), ("ECRCChkEn", "ecrc_check_enable"),
        ("MultHdrRecCap", "multiple_header_recording_capable"), ("MultHdrRecEn", "multiple_header_recording_enable"),
        ("TLPPfxPres", "tlp_prefix_log_present"), ("HdrLogCap", "completion_timeout_prefix_header_log_capable"))
        if k in flags]
    log = _lines(lcap, r"HeaderLog: ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8})")
    if log:
        out += [(f"header_log{n}", int(log[0][1 + n], 16), r.reg(f"header_log{n}")) for n in range(4)]
    root = r.captured.registers["root_error_command"] is not None
    out.append(("root registers printed", _block(lcap, "RootCmd") is not None, root))
    if root and _block(lcap, "RootCmd") is not None:
        flags = _tokens(_block(lcap, "RootCmd") or "")
        out += [(f"root_error_command.{n}", flags[k], r("root_error_command", n)) for k, n in (
            ("CERptEn", "correctable_error_reporting_enable"), ("NFERptEn", "non_fatal_error_reporting_enable"),
            ("FERptEn", "fatal_error_reporting_enable"))]
        flags = _tokens(_block(lcap, "RootSta") or "")
        out += [(f"root_error_status.{n}", flags[k], r("root_error_status", n)) for k, n in (
            ("CERcvd", "err_cor_received"), ("MultCERcvd", "multiple_err_cor_received"),
            ("UERcvd", "err_fatal_nonfatal_received"), ("MultUERcvd", "multiple_err_fatal_nonfatal_received"),
            ("FirstFatal", "first_uncorrectable_fatal"), ("NonFatalMsg", "non_fatal_error_messages_received"),
            ("FatalMsg", "fatal_error_messages_received")) if k in flags]
        src = _line(lcap, r"ErrorSrc: ERR_COR: ([0-9a-f]{4}) ERR_FATAL/NONFATAL: ([0-9a-f]{4})", where)
        out += [("error_source_identification.err_cor", int(src[1], 16),
                 r("error_source_identification", "err_cor_source_id")),
                ("error_source_identification.err_fatal_nonfatal", int(src[2], 16),
                 r("error_source_identification", "err_fatal_nonfatal_source_id"))]
    return out


def compare_bridge_header(r: Reader, lcap: LspciCapability, where: str) -> list[Triple]:
    bus = _line(lcap, r"Bus: primary=([0-9a-f]{2}), secondary=([0-9a-f]{2}), subordinate=([0-9a-f]{2}), "
                      r"sec-latency=(\d+)", where)
    out: list[Triple] = [("primary_bus_number", int(bus[1], 16), r.reg("primary_bus_number")),
                         ("secondary_bus_number", int(bus[2], 16), r.reg("secondary_bus_number")),
                         ("subordinate_bus_number", int(bus[3], 16), r.reg("subordinate_bus_number")),
                         ("secondary_latency_timer", int(bus[4]), r.reg("secondary_latency_timer"))]
    io = _lines(lcap, r"I/O behind bridge: ([0-9a-f]+)-([0-9a-f]+) .*\[(16|32)-bit\]")
    if io:
        wide = r("io_base", "addressing") == 1
        upper_base = (r.captured.registers["io_base_upper"] or 0) << 16
        upper_limit = (r.captured.registers["io_limit_upper"] or 0) << 16
        out += [("I/O window width", int(io[0][3]), 32 if wide else 16),
                ("I/O window base", int(io[0][1], 16), upper_base | r("io_base", "address") << 12),
                ("I/O window limit", int(io[0][2], 16), upper_limit | r("io_limit", "address") << 12 | 0xFFF)]
    mem = _line(lcap, r"Memory behind bridge: ([0-9a-f]{8})-([0-9a-f]{8}) .*", where)
    out += [("memory window base", int(mem[1], 16), r("memory_base", "address") << 20),
            ("memory window limit", int(mem[2], 16), r("memory_limit", "address") << 20 | 0xFFFFF)]
    pref = _lines(lcap, r"Prefetchable memory behind bridge: ([0-9a-f]+)-([0-9a-f]+) .*\[(32|64)-bit\]")
    if pref:
        wide = r("prefetchable_memory_base", "addressing") == 1
        upper_base = (r.captured.registers["prefetchable_base_upper"] or 0) << 32
        upper_limit = (r.captured.registers["prefetchable_limit_upper"] or 0) << 32
        out += [("prefetchable window width", int(pref[0][3]), 64 if wide else 32),
                ("prefetchable window base", int(pref[0][1], 16), upper_base | r("prefetchable_memory_base", "address") << 20),
                ("prefetchable window limit", int(pref[0][2], 16),
                 upper_limit | r("prefetchable_memory_limit", "address") << 20 | 0xFFFFF)]
    ctl = _lines(lcap, r"BridgeCtl: (.*)")
    if ctl:
        flags = _tokens(ctl[0][1])
        out += [(f"bridge_control.{n}", flags[k], r("bridge_control", n)) for k, n in (
            ("Parity", "parity_error_response_enable"), ("SERR", "serr_enable"), ("NoISA", "isa_enable"),
            ("VGA", "vga_enable"), ("VGA16", "vga_16bit_decode"), ("MAbort", "master_abort_mode"),
            (">Reset", "secondary_bus_reset"), ("FastB2B", "fast_b2b_enable")) if k in flags]
    return out


VC_ARBITRATION = ("Fixed", "WRR32", "WRR64", "WRR128")
PORT_ARBITRATION = ("Fixed", "WRR32", "WRR64", "WRR128", "TWRR128", "WRR256")


def _arbitration_flags(text: str, names: tuple[str, ...]) -> dict[int, bool]:
    """lspci's `Fixed+ WRR32- ...` as {bit: set}; it names bits 4..7 of the VC arbitration `??4`.. when set."""
    flags = dict(re.findall(r"(\S+?)([+-])(?:\s|$)", text))
    out = {bit: _flag(flags.pop(name)) for bit, name in enumerate(names)}
    out |= {int(name.removeprefix("??")): _flag(sign) for name, sign in flags.items()}
    return out


def compare_vc(r: Reader, lcap: LspciCapability, where: str) -> list[Triple]:
    # The port's lines come first, then a block per VC (VC0 first) of four lines and, when the VC has a Port
    # Arbitration Table, a fifth; lspci prints Extended VC Count + 1 blocks.
    vcs = [i for i, line in enumerate(lcap.body) if re.match(r"VC\d+:", line)]
    port_lines = LspciCapability(lcap.offset, lcap.version, lcap.title, lcap.body[:vcs[0]] if vcs else lcap.body)
    caps = _line(port_lines, r"Caps:\s+LPEVC=(\d+) RefClk=(\S+) PATEntryBits=(\d+)", where)
    arb = _line(port_lines, r"Arb:\s+(Fixed[+-].*)", where)
    ctl = _line(port_lines, r"Ctrl:\s+ArbSelect=(\S+)", where)
    sta = _line(port_lines, r"Status:\s+InProgress([+-])", where)
    table = _lines(port_lines, r"Port Arbitration Table \[([0-9a-f]+)\] <\?>")
    capability = r("port_vc_cap2", "vc_arbitration_capability")
    out: list[Triple] = [
        ("port_vc_cap1.low_priority_extended_vc_count", int(caps[1]), r("port_vc_cap1", "low_priority_extended_vc_count")),
        ("port_vc_cap1.reference_clock", caps[2], ("100ns",)[r("port_vc_cap1", "reference_clock")]
         if r("port_vc_cap1", "reference_clock") == 0 else f"??{r('port_vc_cap1', 'reference_clock')}"),
        ("port_vc_cap1.port_arbitration_table_entry_size (bits)", int(caps[3]),
         1 << r("port_vc_cap1", "port_arbitration_table_entry_size")),
        ("port_vc_cap2.vc_arbitration_capability", _arbitration_flags(arb[1], VC_ARBITRATION),
         {bit: bool(capability >> bit & 1) for bit in range(8) if bit < 4 or capability >> bit & 1}),
        ("port_vc_control.vc_arbitration_select", ctl[1],
         (*VC_ARBITRATION, "??4", "??5", "??6", "??7")[r("port_vc_control", "vc_arbitration_select")]),
        ("port_vc_status.vc_arbitration_table_status", _flag(sta[1]), r("port_vc_status", "vc_arbitration_table_status")),
        ("VC Arbitration Table position", int(table[0][1], 16) if table else None,
         lcap.offset + 16 * r("port_vc_cap2", "vc_arbitration_table_offset")
         if r("port_vc_cap2", "vc_arbitration_table_offset") else None),
    ]
    out.append(("VC resource blocks", len(vcs), r("port_vc_cap1", "extended_vc_count") + 1))
    for n, at in enumerate(vcs[:r("port_vc_cap1", "extended_vc_count") + 1]):
        block = lcap.body[at:at + 4]
        rcap = re.fullmatch(rf"VC{n}:\s+Caps:\s+PATOffset=([0-9a-f]{{2}}) MaxTimeSlots=(\d+) RejSnoopTrans([+-])", block[0])
        rarb = re.fullmatch(r"Arb:\s+(Fixed[+-].*)", block[1])
        rctl = re.fullmatch(r"Ctrl:\s+Enable([+-]) ID=(\d+) ArbSelect=(\S+) TC/VC=([0-9a-f]{2})", block[2])
        rsta = re.fullmatch(r"Status:\s+NegoPending([+-]) InProgress([+-])", block[3])
        assert rcap and rarb and rctl and rsta, f"{where}: VC{n} block {block}"
        cap, control, status = f"vc_resource_cap{n}", f"vc_resource_control{n}", f"vc_resource_status{n}"
        port = r(cap, "port_arbitration_capability")
        out += [
            (f"{cap}.port_arbitration_table_offset", int(rcap[1], 16), r(cap, "port_arbitration_table_offset")),
            (f"{cap}.maximum_time_slots (+1)", int(rcap[2]), r(cap, "maximum_time_slots") + 1),
            (f"{cap}.reject_snoop_transactions", _flag(rcap[3]), r(cap, "reject_snoop_transactions")),
            (f"{cap}.port_arbitration_capability", _arbitration_flags(rarb[1], PORT_ARBITRATION),
             {bit: bool(port >> bit & 1) for bit in range(8) if bit < 6 or port >> bit & 1}),
            (f"{control}.vc_enable", _flag(rctl[1]), r(control, "vc_enable")),
            (f"{control}.vc_id", int(rctl[2]), r(control, "vc_id")),
            (f"{control}.port_arbitration_select", rctl[3],
             (*PORT_ARBITRATION, "??6", "??7")[r(control, "port_arbitration_select")]),
            (f"{control}.tc_vc_map", int(rctl[4], 16), r(control, "tc_vc_map")),
            (f"{status}.vc_negotiation_pending", _flag(rsta[1]), r(status, "vc_negotiation_pending")),
            (f"{status}.port_arbitration_table_status", _flag(rsta[2]), r(status, "port_arbitration_table_status")),
            (f"{cap} Port Arbitration Table printed", lcap.body[at + 4:at + 5] == ["Port Arbitration Table <?>"],
             r(cap, "port_arbitration_table_offset") != 0),
        ]
    return out


PCIX_FREQUENCY = ("conv", "66MHz", "100MHz", "133MHz")


def compare_pcix(r: Reader, lcap: LspciCapability, where: str) -> list[Triple]:
    """The bridge form, which every PCI-X capability of the dumps has (lspci titles it `PCI-X bridge device`)."""
    out: list[Triple] = [("form (bridge)", lcap.title == "PCI-X bridge device", r.captured.registers["bridge_status"] is not None)]
    if lcap.title != "PCI-X bridge device":
        return out
    sec = _line(lcap, r"Secondary Status: 64bit([+-]) 133MHz([+-]) SCD([+-]) USC([+-]) SCO([+-]) SRD([+-]) Freq=(\S+)", where)
    sta = _line(lcap, r"Status: Dev=([0-9a-f]{2}):([0-9a-f]{2})\.(\d) 64bit([+-]) 133MHz([+-]) SCD([+-]) USC([+-]) "
                      r"SCO([+-]) SRD([+-])", where)
    events = ("split_completion_discarded", "unexpected_split_completion", "split_completion_overrun",
              "split_request_delayed")
    clock = r("secondary_status", "secondary_clock_frequency")
    out += [("secondary_status.secondary_64bit", _flag(sec[1]), r("secondary_status", "secondary_64bit")),
            ("secondary_status.secondary_133mhz", _flag(sec[2]), r("secondary_status", "secondary_133mhz"))]
    out += [(f"secondary_status.{n}", _flag(sec[3 + i]), r("secondary_status", n)) for i, n in enumerate(events)]
    out += [("secondary_status.secondary_clock_frequency", sec[7], PCIX_FREQUENCY[clock] if clock < 4 else f"?{clock}"),
            ("bridge_status.bus_number", int(sta[1], 16), r("bridge_status", "bus_number")),
            ("bridge_status.device_number", int(sta[2], 16), r("bridge_status", "device_number")),
            ("bridge_status.function_number", int(sta[3]), r("bridge_status", "function_number")),
            ("bridge_status.device_64bit", _flag(sta[4]), r("bridge_status", "device_64bit")),
            ("bridge_status.capable_133mhz", _flag(sta[5]), r("bridge_status", "capable_133mhz"))]
    out += [(f"bridge_status.{n}", _flag(sta[6 + i]), r("bridge_status", n)) for i, n in enumerate(events)]
    for label, register in (("Upstream", "upstream_split_transaction_control"),
                            ("Downstream", "downstream_split_transaction_control")):
        line = _line(lcap, rf"{label}: Capacity=(\d+) CommitmentLimit=(\d+)", where)
        out += [(f"{register}.split_transaction_capacity", int(line[1]), r(register, "split_transaction_capacity")),
                (f"{register}.split_transaction_commitment_limit", int(line[2]),
                 r(register, "split_transaction_commitment_limit"))]
    return out


COMPARE: dict[str, Callable[[Reader, LspciCapability, str], list[Triple]]] = {
    "pm": compare_pm, "ltr": compare_ltr, "ats": compare_ats, "pasid": compare_pasid, "pri": compare_pri,
    "ptm": compare_ptm, "l1ss": compare_l1ss, "acs": compare_acs, "dsn": compare_dsn,
    "pcie": compare_pcie, "aer": compare_aer, "bridge_header": compare_bridge_header, "vc": compare_vc,
    "pcix": compare_pcix,
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
    params: dict[str, int] = field(default_factory=dict)
    """The section's params for this function (aer's root_port and tlp_prefix_log)."""


def _aer_params(captures: dict[str, Captured]) -> dict[str, int]:
    """aer's params from the function's PCI Express capability, which presence cannot read across sections."""
    pcie = captures.get("pcie")
    if pcie is None or pcie.problems:
        return {}
    port = pcie.fields["pcie_caps"]["device_port_type"]
    devcap2 = pcie.registers.get("devcap2") or 0
    return {"root_port": port in ("root_port", "rc_event_collector"), "tlp_prefix_log": bool(devcap2 >> 21 & 1)}


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
        inspected = inspect_function(function, MODULE)
        if inspected.header_schema == "bridge_header":
            case.titles["bridge_header"] += 1
        reports = [(r.schema, r.capability.offset, r.state) for r in inspected.capabilities]
        captures = {schema: state for schema, _, state in reports if schema is not None and state is not None}
        items: list[tuple[str, int, Captured, LspciCapability, dict[str, int]]] = []
        if inspected.header_schema == "bridge_header" and inspected.header is not None:
            body = [line.strip() for line in ldev.lines if line.startswith("\t") and not line.startswith("\t\t")]
            items.append(("bridge_header", 0, inspected.header,
                          LspciCapability(0, None, TITLES["bridge_header"], body), {}))
        for report in inspected.capabilities:
            schema, state, params = report.schema, report.state, {}
            cap = report.capability
            # AER versions 1 and 2 share one layout: the aer location takes both (last_version), so inspect
            # matches every AER capability itself.
            assert not (cap.kind != "cap" and cap.id == 0x0001 and schema != "aer"), (name, function.address)
            # The VC capability of a function that has MFVC (extended id 0x0009) has 0x0002's layout: the vc
            # location takes both ids (also_id), so inspect matches it itself.
            assert not (cap.kind != "cap" and cap.id in (0x0002, 0x0009) and schema != "vc"), (name, function.address)
            if schema in ("aer", "pcix") and state is not None:
                # Params read from another section (`from:`): aer's root_port and tlp_prefix_log from the PCI
                # Express capability, pcix's type1_header from the type-1 header. inspect read them from its
                # own captures; they must be what the test reads from that capture by hand, and what lspci
                # prints follows from them (AER's Root registers, "PCI-X bridge device"): compare_aer and
                # compare_pcix hold the registers present to lspci's lines.
                params = state.params
                want = _aer_params(captures) if schema == "aer" else (
                    {"type1_header": True} if inspected.header_schema == "bridge_header" else {})
                assert params == want, (name, function.address, schema, params, want)
            if schema not in COMPARE or schema == "bridge_header":
                continue
            offset = cap.offset
            where = f"{name} {function.address} {schema}@{offset:x}"
            lcap = ldev.cap_at(offset)
            assert lcap is not None and lcap.title.startswith(TITLES[schema]), (
                f"{where}: lspci shows {lcap.title if lcap else 'nothing'!r} there")
            assert state is not None
            items.append((schema, offset, state, lcap, params))
        for schema, offset, state, lcap, params in items:
            where = f"{name} {function.address} {schema}@{offset:x}"
            found = Found(name, function.address, schema, offset, function, state, lcap, params)
            case.found.append(found)
            if state.problems:
                case.checks.append(Check(name, function.address, schema, offset, "capture", [], state.problems))
                continue
            case.checks += [Check(name, function.address, schema, offset, f, want, got)
                            for f, want, got in COMPARE[schema](Reader(schema, state, where), lcap, where)]
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
                    absolute = found.offset + _offset(checked) + bit // 8
                    config[absolute] ^= 1 << (bit % 8)
                    mutated = capture(_section(found.schema), Function(found.slot, "", bytes(config)), found.offset,
                                      found.params)
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
        self.skipped = bytearray(len(config))
        self.writes: list[tuple[int, int, int]] = []
        for checked in section.registers:
            if checked.register.name not in present:
                continue  # absent on this function: config space there belongs to no register
            start = base + _offset(checked)
            for i in range(checked.register.width // 8):
                self.rw[start + i] |= checked.masks.rw >> 8 * i & 0xFF
                self.rw1c[start + i] |= checked.masks.rw1c >> 8 * i & 0xFF
                self.covered[start + i] = 1
                self.skipped[start + i] = 0xFF if checked.register.restore_skip is not None else 0

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
    """`config` with every rw bit inverted, so that only restore can put them back (but those of registers the
    schema says restore skips: the target keeps its own, as it does BIST's self-clearing start bit)."""
    return bytes(b ^ (m & ~k) for b, m, k in zip(config, model.rw, model.skipped, strict=True))


def _restored(config: bytes, section: CheckedSection, model: ModelConfig, base: int, present: set[str]) -> bytes:
    """What restore must leave: `config`, but the rw bits the last write of each register forces to a constant
    (the bridge's Secondary Bus Reset, PCIe's Retrain Link and Initiate FLR) hold that constant."""
    space = bytearray(config)
    last = {w.register: w for w in section.plan.restore if w.hook is None and w.register in present}
    for name, write in last.items():
        start = base + _offset(section.register(name))
        forced = ~write.keep & ((1 << write.width) - 1)
        for i in range(write.width // 8):
            rw = model.rw[start + i] & forced >> 8 * i & 0xFF
            space[start + i] = space[start + i] & ~rw | write.set >> 8 * i & rw
    return bytes(space)


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
        p = module.Params(**found.params) if found.params else module.PARAMS
        original = ModelConfig(found.function.config, section, found.offset, present)
        state = module.capture(original.read, found.offset, p)
        loaded = module.load(module.save(state, module.VERSION, p), module.VERSION, p)
        assert loaded == state, where
        assert module.validate(loaded, p) == [], (where, module.validate(loaded, p))

        target = ModelConfig(_scrambled(found.function.config, original), section, found.offset, present)
        module.restore(loaded, target.write, found.offset, p,
                       hooks={h: (lambda _s: None) for h in module.RESTORE_HOOKS}, wait=lambda _us: None)
        if any(value & int.from_bytes(original.rw1c[o:o + size], "little") for o, value, size in target.writes):
            problems.append(f"{where}: restore wrote a 1 to a write-one-to-clear bit: {target.writes}")
        expected = _restored(found.function.config, section, original, found.offset, present)
        changed = [hex(i) for i in range(len(target.space)) if target.space[i] != expected[i]]
        if changed:
            problems.append(f"{where}: after restore the config space differs from the dump at {changed}")
        if expected == found.function.config and module.capture(target.read, found.offset, p) != state:
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


def _synthetic_dpc_root_port() -> Function:
    """A Root Port's config space with a PCI Express capability at 0x40 and DPC at 0x100: no pciutils dump has DPC.

    DPC there is the root_port_log6 vector's: RP extensions, a 6-dword RP PIO log, containment triggered."""
    config = bytearray(4096)
    config[0:4] = bytes.fromhex("86801234")
    config[0x06] = 0x10                                  # capability list
    config[0x0E] = 0x01                                  # type-1 header
    config[0x34] = 0x40
    config[0x40:0x44] = bytes([0x10, 0x00, 0x42, 0x00])  # PCI Express v2, Root Port (type 4), last in the list
    config[0x100:0x104] = (0x001D | 1 << 16).to_bytes(4, "little")  # DPC v1, last extended capability
    registers = {0x04: (0x0620, 2), 0x06: (0x0006, 2), 0x08: (0x0219, 2), 0x0A: (0x0000, 2),
                 0x0C: (0x00000004, 4), 0x10: (0x00070000, 4), 0x14: (0x00000707, 4), 0x18: (0x00000001, 4),
                 0x1C: (0x00010000, 4), 0x20: (0x04000001, 4), 0x24: (0x0000000F, 4), 0x28: (0x01000000, 4),
                 0x30: (0xDEADBEEF, 4), 0x34: (0x90000001, 4), 0x38: (0x12345678, 4)}  # 0x38: past the 6-dword log
    for offset, (value, size) in registers.items():
        config[0x100 + offset:0x100 + offset + size] = value.to_bytes(size, "little")
    return Function("0000:00:1c.0", "synthetic root port with DPC", bytes(config))


def test_dpc_is_decoded_and_round_trips_on_a_synthetic_root_port() -> None:
    function = _synthetic_dpc_root_port()
    (report,) = [c for c in inspect_function(function, MODULE).capabilities if c.capability.id == 0x1D]
    assert (report.capability.kind, report.capability.offset, report.name, report.schema) == (
        "ecap", 0x100, "Downstream Port Containment", "dpc")
    state = report.state
    assert state is not None and state.problems == []
    # Decoded by hand from the bytes above.
    assert state.fields["dpc_cap"]["rp_extensions_for_dpc"] is True and state.fields["dpc_cap"]["rp_pio_log_size"] == 6
    assert state.fields["dpc_control"]["dpc_trigger_enable"] == "fatal_or_non_fatal"
    assert state.fields["dpc_status"]["dpc_trigger_status"] is True
    assert state.fields["dpc_status"]["rp_pio_first_error_pointer"] == 2
    assert state.fields["rp_pio_mask"]["mem_cto"] is True and state.fields["rp_pio_severity"]["cfg_cto"] is True
    assert state.registers["rp_pio_impspec_log"] == 0xDEADBEEF
    assert state.registers["rp_pio_tlp_prefix_log0"] == 0x90000001
    assert state.registers["rp_pio_tlp_prefix_log1"] is None  # the log is 6 dwords: one prefix dword
    # Capture, save, load, restore into a scrambled copy, through the generated Python.
    from vfiogen_state import dpc

    section = _section("dpc")
    present = {n for n, v in state.registers.items() if v is not None}
    original = ModelConfig(function.config, section, 0x100, present)
    captured = dpc.capture(original.read, 0x100)
    loaded = dpc.load(dpc.save(captured, dpc.VERSION), dpc.VERSION)
    assert loaded == captured and dpc.validate(loaded) == []
    target = ModelConfig(_scrambled(function.config, original), section, 0x100, present)
    dpc.restore(loaded, target.write, 0x100)
    assert bytes(target.space) == function.config
    # DPC Control last, with the software trigger (bit 6) written 0; Status (rw1cs) never written.
    assert target.writes[-1] == (0x106, 0x0006, 2)
    assert all(offset != 0x108 for offset, _, _ in target.writes)
    loaded.dpc_control.dpc_software_trigger = True
    target.writes.clear()
    dpc.restore(loaded, target.write, 0x100)
    assert target.writes[-1] == (0x106, 0x0006, 2)
