"""`repeat`: items written once, expanded per counter value in `lower`, as if written out by hand."""

from __future__ import annotations

from unit_support import CAP_HEADER, compile_text, find, schema
from vfiogen.ir.expr import IntLit, to_text

SOURCE = CAP_HEADER + schema("""
    registers:
      count: {offset: 0x02, width: 8, access: ro}
    repeat:
      - for: {i: {from: 0, to: 2}}
        registers:
          log{i}:
            offset: "0x04 + 4 * i"
            width: 32
            access: rw
            present: "count > i"
            description: "header log dword {i}"
        constraints:
          - {check: "log{i} != 0xffffffff", reason: "dword {i} reads all ones"}
        restore: ["log{i}"]
""")


def test_a_repeat_expands_to_what_writing_it_out_gives() -> None:
    compiled = compile_text(SOURCE)
    assert compiled.diagnostics == []
    assert compiled.module is not None
    section = compiled.module.sections[0].section
    logs = section.registers[1:]
    assert [r.name for r in logs] == ["log0", "log1", "log2"]
    # literal-only parts fold: the offsets are plain literals, `count > i` compares with the value
    assert [r.offset for r in logs] == [IntLit(value=4, span=logs[0].span), IntLit(value=8, span=logs[0].span),
                                        IntLit(value=12, span=logs[0].span)]
    assert [to_text(r.present) for r in logs if r.present is not None] == ["count > 0", "count > 1", "count > 2"]
    assert [r.description for r in logs] == ["header log dword 0", "header log dword 1", "header log dword 2"]
    assert [(to_text(c.check), c.reason) for c in section.constraints] == [
        ("log0 != 0xffffffff", "dword 0 reads all ones"), ("log1 != 0xffffffff", "dword 1 reads all ones"),
        ("log2 != 0xffffffff", "dword 2 reads all ones")]
    assert [s.register for s in section.restore] == ["log0", "log1", "log2"]
    # every entry is located at the template it came from
    line, column = find(SOURCE, "log{i}:")
    assert {(r.span.line, r.span.column) for r in logs} == {(line, column)}


def test_an_error_in_a_repeated_expression_points_into_the_template() -> None:
    broken = SOURCE.replace('"count > i"', '"count > i + unknown_{i}"')
    codes = [(d.code, d.message, d.span.line, d.span.column) for d in compile_text(broken).diagnostics]
    line, column = find(broken, "unknown_{i}")
    assert codes == [("VG0302", f"'unknown_{n}' is not defined in section 't'", line, column) for n in range(3)]
