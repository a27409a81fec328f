"""vfiogen.frontend.yaml_loader: strict, located YAML."""

from __future__ import annotations

import pytest
from vfiogen.diagnostics import Diagnostic, Note, Reporter, Severity
from vfiogen.frontend.yaml_loader import Node, load_yaml
from vfiogen.source import SourceFile, Span


def load(data: str | bytes) -> tuple[SourceFile | None, Node | None, list[Diagnostic]]:
    reporter = Reporter()
    raw = data.encode("utf-8") if isinstance(data, str) else data
    source, root = load_yaml("f.yaml", raw, reporter)
    return source, root, reporter.diagnostics


def error(code: str, line: int, column: int, end_line: int, end_column: int, message: str,
          *notes: Note) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, Span("f.yaml", line, column, end_line, end_column), message, notes)


def S(line: int, column: int, end_line: int, end_column: int) -> Span:
    return Span("f.yaml", line, column, end_line, end_column)


# --- typing of scalars -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("true", True),
    ("false", False),
    ("0", 0),
    ("12", 12),
    ("-5", -5),
    ("+5", 5),
    ("0x0c", 12),
    ("0x1F", 31),
    ("0b101", 5),
    ("3:1", "3:1"),
    ("enable", "enable"),
    ("1.5", "1.5"),
    ("0x", "0x"),
    ("'12'", "12"),
    ('"true"', "true"),
    ("'yes'", "yes"),
    ("'012'", "012"),
    ('"3:1"', "3:1"),
])
def test_scalars_are_typed_by_the_documented_rules(text: str, value: object) -> None:
    _, root, diagnostics = load(f"k: {text}\n")
    assert diagnostics == []
    assert root is not None
    node = root.value["k"]  # type: ignore[index]
    assert node.value == value
    assert type(node.value) is type(value)


def test_quoted_flag_is_set_for_quoted_scalars_only() -> None:
    _, root, _ = load("a: 'x'\nb: \"y\"\nc: z\nd: |\n  block\n")
    assert root is not None
    assert {k: n.quoted for k, n in root.value.items()} == {  # type: ignore[union-attr]
        "a": True, "b": True, "c": False, "d": False}
    assert root.plain() == {"a": "x", "b": "y", "c": "z", "d": "block\n"}


@pytest.mark.parametrize("word", ["yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off",
                                  "OFF", "y", "Y", "n", "N", "True", "TRUE", "False", "FALSE"])
def test_yaml_1_1_booleans_are_errors(word: str) -> None:
    _, root, diagnostics = load(f"key: {word}\n")
    assert diagnostics == [error("VG0106", 1, 6, 1, 6 + len(word),
                                 f"'{word}' is a YAML 1.1 boolean; write true or false (or quote it)")]
    assert root is not None and root.plain() == {"key": word}


@pytest.mark.parametrize("text", ["012", "-012", "+07", "00", "0o12", "1_000", "0x_ff", "0xff_00"])
def test_ambiguous_numbers_are_errors(text: str) -> None:
    _, _, diagnostics = load(f"key: {text}\n")
    assert diagnostics == [error("VG0107", 1, 6, 1, 6 + len(text),
                                 f"'{text}' is ambiguous (YAML 1.1 reads it as octal or with separators); "
                                 "write decimal without leading zeros, 0x or 0b")]


@pytest.mark.parametrize("text", ["~", "null", "Null", "NULL"])
def test_null_spellings_are_errors(text: str) -> None:
    _, _, diagnostics = load(f"key: {text}\n")
    assert diagnostics == [error("VG0111", 1, 6, 1, 6 + len(text), "null value; write a value or leave the key out")]


def test_empty_value_is_a_null_error_at_the_end_of_the_key_line() -> None:
    _, _, diagnostics = load("a: 1\nkey:\nb: 2\n")
    assert diagnostics == [error("VG0111", 2, 5, 2, 5, "null value; write a value or leave the key out")]


def test_quoted_empty_string_is_not_null() -> None:
    _, root, diagnostics = load("key: ''\n")
    assert diagnostics == [] and root is not None and root.plain() == {"key": ""}


# --- structure errors ------------------------------------------------------------------------------------

def test_duplicate_key_points_at_the_second_and_notes_the_first() -> None:
    _, root, diagnostics = load("outer:\n  a: 1\n  b: 2\n  a: 3\n")
    assert diagnostics == [error("VG0104", 4, 3, 4, 4, "duplicate key 'a'",
                                 Note(S(2, 3, 2, 4), "first defined here"))]
    assert root is not None and root.plain() == {"outer": {"a": 1, "b": 2}}  # the first one is kept


def test_anchor_is_an_error() -> None:
    _, root, diagnostics = load("a: &x 1\nb: 2\n")
    assert diagnostics == [error("VG0105", 1, 4, 1, 8, "anchor '&x' is not allowed; write each value out")]
    assert root is None


def test_alias_is_an_error() -> None:
    _, root, diagnostics = load("a: 1\nb: *x\n")
    assert root is None
    assert diagnostics == [error("VG0105", 2, 4, 2, 6, "aliases are not allowed; write the value out")]


def test_alias_to_a_defined_anchor_reports_the_anchor_first() -> None:
    _, root, diagnostics = load("a: &x 1\nb: *x\n")
    assert root is None
    assert diagnostics == [error("VG0105", 1, 4, 1, 8, "anchor '&x' is not allowed; write each value out")]


def test_merge_key_is_an_error_but_a_quoted_one_is_a_name() -> None:
    _, root, diagnostics = load("a: 1\n<<: {b: 1}\n")
    assert diagnostics == [error("VG0105", 2, 1, 2, 3, "merge keys ('<<') are not allowed")]
    assert root is None
    _, root, diagnostics = load("'<<': 1\n")
    assert diagnostics == [] and root is not None and root.plain() == {"<<": 1}


@pytest.mark.parametrize(("text", "tag", "end"), [
    ("a: !!str 1\n", "!!str", 11),
    ("a: !custom 1\n", "!custom", 13),
    ("a: !!map {b: 1}\n", "!!map", 11)  # a collection's start event ends after its tag,
])
def test_explicit_tags_are_errors(text: str, tag: str, end: int) -> None:
    _, root, diagnostics = load(text)
    assert root is None
    assert diagnostics == [error("VG0109", 1, 4, 1, end,
                                 f"tag '{tag}' is not allowed; values are typed by how they are written")]


def test_tabs_in_indentation_are_reported_per_line() -> None:
    source, root, diagnostics = load("a:\n\tb: 1\nc:\n  \td: 2\ne: x\ty\n")
    assert root is None
    assert source is not None  # still quotable
    assert diagnostics == [
        error("VG0108", 2, 1, 2, 2, "tab in indentation; YAML indents with spaces"),
        error("VG0108", 4, 3, 4, 4, "tab in indentation; YAML indents with spaces"),
    ]


def test_invalid_utf8_points_at_the_byte() -> None:
    source, root, diagnostics = load(b"a: 1\nbb: \xc3\x28\n")
    assert source is None and root is None
    assert diagnostics == [error("VG0101", 2, 5, 2, 6, "byte 0xc3 at offset 9 is not valid UTF-8")]


def test_utf8_bom_is_accepted_and_does_not_shift_columns() -> None:
    _, root, diagnostics = load(b"\xef\xbb\xbfa: yes\n")
    assert diagnostics == [error("VG0106", 1, 4, 1, 7,
                                 "'yes' is a YAML 1.1 boolean; write true or false (or quote it)")]
    assert root is not None and root.plain() == {"a": "yes"}


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_files_are_errors(text: str) -> None:
    _, root, diagnostics = load(text)
    assert root is None
    assert diagnostics == [error("VG0103", 1, 1, 1, 1, "file is empty; a schema needs at least a name")]


def test_an_explicit_empty_document_is_a_null_value() -> None:
    _, root, diagnostics = load("---\n...\n")
    assert diagnostics == [error("VG0111", 2, 1, 2, 1, "null value; write a value or leave the key out")]
    assert root is not None and root.value == ""


def test_second_document_is_an_error_at_its_start() -> None:
    _, root, diagnostics = load("a: 1\n---\nb: 2\n")
    assert root is None
    assert diagnostics == [error("VG0102", 2, 1, 2, 4, "one schema per file; a second YAML document starts here")]


def test_syntax_error_is_located() -> None:
    _, root, diagnostics = load("a: 1\nb: [1, 2\n")
    assert root is None
    # libyaml notices the missing ']' on the next line; the note says where the sequence opened.
    assert diagnostics == [error("VG0102", 3, 1, 3, 2, "YAML syntax error: did not find expected ',' or ']'",
                                 Note(S(2, 4, 2, 5), "while parsing a flow sequence"))]


def test_complex_keys_are_errors() -> None:
    _, root, diagnostics = load("? [a]\n: 1\n")
    assert root is None
    assert diagnostics == [error("VG0102", 1, 3, 1, 4, "mapping keys must be plain names")]


# --- located nodes ---------------------------------------------------------------------------------------

def test_nodes_and_keys_carry_one_based_spans() -> None:
    source, root, diagnostics = load("top:\n  key: 'v'\n  list: [1, x]\n")
    assert diagnostics == [] and root is not None and source is not None
    assert source.text == "top:\n  key: 'v'\n  list: [1, x]\n"
    assert root.key_spans == {"top": S(1, 1, 1, 4)}
    top = root.value["top"]  # type: ignore[index]
    assert top.span.line == 2 and top.span.column == 3
    assert top.key_spans == {"key": S(2, 3, 2, 6), "list": S(3, 3, 3, 7)}
    assert top.value["key"] == Node("v", S(2, 8, 2, 11), quoted=True)
    listed = top.value["list"]
    assert listed.span == S(3, 9, 3, 15)
    assert listed.value == [Node(1, S(3, 10, 3, 11)), Node("x", S(3, 13, 3, 14))]


def test_key_order_is_kept() -> None:
    _, root, _ = load("z: 1\na: 2\nm: 3\n")
    assert root is not None
    assert list(root.value) == ["z", "a", "m"]  # type: ignore[arg-type]


def test_get_reads_mappings_only() -> None:
    _, root, _ = load("a: {b: 1}\nl: [1]\n")
    assert root is not None
    a = root.get("a")
    assert a is not None and a.get("b") is not None and a.get("missing") is None
    listed = root.get("l")
    assert listed is not None and listed.get("b") is None


def test_every_problem_in_a_file_is_reported() -> None:
    _, root, diagnostics = load("a: yes\nb: 012\nc: ~\nd: on\n")
    assert root is not None
    assert [(d.code, d.span.line) for d in diagnostics] == [
        ("VG0106", 1), ("VG0107", 2), ("VG0111", 3), ("VG0106", 4)]
