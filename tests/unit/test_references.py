"""vfiogen.passes.references and plan_device: params read from another section (`from:`).

The diagnostics are compared whole (code, span, message, notes); the error goldens under
tests/errors/param_from_* and device_param_from_* pin the rendered text of each code.
"""

from __future__ import annotations

from unit_support import Compiled, compile_texts, diag, schema, span_of
from vfiogen.diagnostics import Note
from vfiogen.ir.expr import BinaryOp, Binary, Ref, to_text
from vfiogen.ir.types import ScalarKind
from vfiogen.passes.plan import plan_device

PORT = schema("""
    section: port
    title: Port
    id: 0x10
    location: {capability: {id: 0x10, size: 8}}
    version: 1
    enums:
      kind: {values: {endpoint: 0, root: 4}}
    registers:
      caps:
        offset: 2
        width: 16
        fields:
          port_type: {bits: "7:4", access: ro, enum: kind}
      control:
        offset: 4
        width: 16
        fields:
          enable: {bits: 0, access: rw}
    restore: [control]
""")


def ecc(source: str, kind: str = "bool") -> str:
    return schema(f"""
        section: ecc
        title: Errors
        id: 0x101
        location: {{extended_capability: {{id: 1, version: 1, size: 16}}}}
        version: 1
        params:
          root: {{type: {kind}, default: 0, from: "{source}"}}
        registers:
          root_command:
            offset: 8
            width: 32
            present: "{'params.root' if kind == 'bool' else 'params.root != 0'}"
            fields:
              enable: {{bits: 0, access: rw}}
        restore: [root_command]
    """).replace("default: 0", "default: false" if kind == "bool" else "default: 0")


DEVICE = schema("""
    device: dev
    title: Dev
    sections:
      - use: port
      - use: ecc
""")


def build(err_text: str, device: str | None = DEVICE, stop_before: str | None = None) -> Compiled:
    files = {"port.yaml": PORT, "ecc.yaml": err_text}
    if device is not None:
        files["dev.yaml"] = device
    return compile_texts(files, stop_before=stop_before)


def test_a_param_from_another_section_is_planned_for_the_device_that_lists_it() -> None:
    compiled = build(ecc("port.caps.port_type == port.kind.root"))
    assert compiled.diagnostics == []
    module = compiled.module
    assert module is not None
    (param,) = module.section("ecc").section.params
    assert param.source is not None and param.source.section == "port"
    # The expression reads in port's namespace: the section name is gone from every reference.
    assert to_text(param.source.expr) == "caps.port_type == kind.root"
    plan = plan_device(module.devices[0], module)
    (derived,) = plan.section("ecc").derived
    assert (derived.param, derived.kind, derived.source, derived.source_bit) == ("root", ScalarKind.BOOL, "port", 0)
    assert isinstance(derived.expr, Binary) and derived.expr.op is BinaryOp.EQ
    assert isinstance(derived.expr.left, Ref) and derived.expr.left.path == ("caps", "port_type")
    assert plan.section("ecc").sources == ("port",) and plan.sources == ("port",)
    assert plan.section("port").derived == ()


def test_a_device_without_the_source_section_keeps_the_param_a_plain_one() -> None:
    device = schema("""
        device: dev
        title: Dev
        sections:
          - use: ecc
            params: {root: true}
    """)
    compiled = build(ecc("port.caps.port_type == 4"), device)
    assert compiled.diagnostics == []
    assert compiled.module is not None
    assert plan_device(compiled.module.devices[0], compiled.module).section("ecc").derived == ()


def test_unknown_section_suggests_the_closest() -> None:
    text = ecc("prot.caps.port_type == 4")
    assert build(text).diagnostics == [diag(
        "VG0302", span_of(text, "prot.caps.port_type", path="ecc.yaml"),
        "param 'root' is read from section 'prot', which no schema defines; did you mean 'port'?")]


def test_unknown_field_suggests_the_closest_with_the_section_name() -> None:
    text = ecc("port.caps.port_typ == 4")
    assert build(text).diagnostics == [diag(
        "VG0302", span_of(text, "port.caps.port_typ", path="ecc.yaml"),
        "'port.caps.port_typ' is not defined in section 'port'; did you mean 'port.caps.port_type'?")]


def test_an_integer_for_a_bool_param_is_a_type_error() -> None:
    text = ecc("port.caps.port_type")
    assert build(text).diagnostics == [diag(
        "VG0602", span_of(text, '"port.caps.port_type"', path="ecc.yaml"),
        "param 'root' is bool, and its `from` is u4 (compare it, e.g. '!= 0')")]


def test_an_integer_param_takes_the_field() -> None:
    assert build(ecc("port.caps.port_type", kind="u8")).diagnostics == []


def test_a_writable_bit_is_refused_with_a_note_at_it() -> None:
    text = ecc("port.control.enable")
    assert build(text).diagnostics == [diag(
        "VG0511", span_of(text, "port.control.enable", path="ecc.yaml"),
        "param 'root' is read from 'port.control.enable', which software can write: a param says what the "
        "device is, not the mode it is in",
        Note(span_of(PORT, "enable", path="port.yaml"), "writable here"))]


def test_arithmetic_is_refused() -> None:
    text = ecc("port.caps.port_type + 1 == 5")
    assert build(text).diagnostics == [diag(
        "VG0602", span_of(text, "port.caps.port_type + 1", path="ecc.yaml"),
        "param 'root' is read from bits: its `from` may compare, combine with '&&', '||', '!', '&', '|', '^', "
        "'~' and choose with '?:', but not compute with arithmetic or shifts")]


def test_two_sections_in_one_from_are_refused_at_the_second() -> None:
    text = ecc("port.caps.port_type == 4 || ecc.root_command.enable")
    assert build(text).diagnostics == [diag(
        "VG0312", span_of(text, "ecc.root_command.enable", path="ecc.yaml"),
        "param 'root' reads 'ecc' and 'port': a param is read from one section")]


def test_the_device_lists_the_source_first() -> None:
    device = schema("""
        device: dev
        title: Dev
        sections:
          - use: ecc
          - use: port
    """)
    text = ecc("port.caps.port_type == 4")
    assert build(text, device).diagnostics == [diag(
        "VG0707", span_of(device, "ecc", path="dev.yaml"),
        "device 'dev' lists section 'ecc' before section 'port', which its param 'root' is read from; list "
        "'port' first, so that its state is captured, loaded and restored first",
        Note(span_of(device, "port", path="dev.yaml"), "'port' is listed here"),
        Note(span_of(text, '"port.caps.port_type == 4"', path="ecc.yaml"), "read here"))]


def test_a_param_of_the_source_section_is_the_wrong_kind() -> None:
    port = PORT.replace("version: 1\n", "version: 1\nparams:\n  lanes: {type: u8, default: 1}\n", 1)
    text = ecc("port.params.lanes != 0")
    compiled = compile_texts({"port.yaml": port, "ecc.yaml": text, "dev.yaml": DEVICE})
    assert compiled.diagnostics == [diag(
        "VG0306", span_of(text, "port.params.lanes", path="ecc.yaml"),
        "'port.params.lanes' is a param of section 'port'; a param is read from registers and bit fields, which "
        "capture reads from configuration space", Note(span_of(port, "lanes", path="port.yaml"), "defined here"))]


def test_a_from_without_a_register_is_refused() -> None:
    text = ecc("1 == 1")
    assert build(text).diagnostics == [diag(
        "VG0602", span_of(text, '"1 == 1"', path="ecc.yaml"),
        "param 'root' is read from no section: its `from` names no register (a constant is a `default`)")]
