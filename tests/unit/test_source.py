"""vfiogen.source: the 1-based location model."""

from __future__ import annotations

import pytest
from vfiogen.source import SourceFile, Span, file_span

TEXT = "first\nsecond line\n\nlast"


def test_from_text_records_every_line_start() -> None:
    source = SourceFile.from_text("f.yaml", TEXT)
    assert source.line_starts == (0, 6, 18, 19)


def test_line_text_is_one_based_and_strips_the_newline() -> None:
    source = SourceFile.from_text("f.yaml", TEXT)
    assert [source.line_text(n) for n in range(1, 5)] == ["first", "second line", "", "last"]


@pytest.mark.parametrize("line", [0, -1, 5, 100])
def test_line_text_outside_the_file_is_empty(line: int) -> None:
    assert SourceFile.from_text("f.yaml", TEXT).line_text(line) == ""


def test_trailing_newline_starts_an_empty_last_line() -> None:
    source = SourceFile.from_text("f.yaml", "a\n")
    assert source.line_starts == (0, 2)
    assert source.line_text(2) == ""


@pytest.mark.parametrize(("offset", "expected"), [
    (0, (1, 1)),       # 'f'
    (4, (1, 5)),       # 't'
    (5, (1, 6)),       # the first newline belongs to line 1
    (6, (2, 1)),       # 's'
    (17, (2, 12)),     # newline after 'second line'
    (18, (3, 1)),      # the empty line
    (19, (4, 1)),      # 'l'
    (22, (4, 4)),      # last 't'
    (23, (4, 5)),      # end of text
])
def test_position_maps_offsets_to_one_based_line_and_column(offset: int, expected: tuple[int, int]) -> None:
    assert SourceFile.from_text("f.yaml", TEXT).position(offset) == expected


def test_position_agrees_with_line_text_for_every_character() -> None:
    source = SourceFile.from_text("f.yaml", TEXT)
    for offset, char in enumerate(TEXT):
        line, column = source.position(offset)
        text = source.line_text(line)
        assert (text + "\n")[column - 1] == char


def test_source_equality_ignores_line_starts() -> None:
    assert SourceFile.from_text("f.yaml", TEXT) == SourceFile("f.yaml", TEXT)
    assert SourceFile.from_text("f.yaml", TEXT) != SourceFile.from_text("g.yaml", TEXT)


def test_sub_points_inside_a_single_line_span() -> None:
    span = Span("f.yaml", 3, 10, 3, 30)
    assert span.sub(2, 5) == Span("f.yaml", 3, 12, 3, 15)
    assert span.sub(0, 0) == Span("f.yaml", 3, 10, 3, 10)


def test_sub_keeps_the_synthetic_flag() -> None:
    assert Span("f.yaml", 1, 1, 1, 9, True).sub(1, 2) == Span("f.yaml", 1, 2, 1, 3, True)


def test_sub_of_a_multi_line_span_is_the_whole_span() -> None:
    span = Span("f.yaml", 3, 10, 5, 2)
    assert span.sub(2, 5) is span


def test_as_synthetic_keeps_the_region() -> None:
    span = Span("f.yaml", 2, 3, 4, 5)
    assert span.as_synthetic() == Span("f.yaml", 2, 3, 4, 5, True)
    assert span.as_synthetic() != span
    assert not span.synthetic


def test_str_is_path_line_column() -> None:
    assert str(Span("dir/f.yaml", 12, 7, 12, 9)) == "dir/f.yaml:12:7"


def test_file_span_points_at_the_first_character() -> None:
    assert file_span("x.yaml") == Span("x.yaml", 1, 1, 1, 1)


def test_spans_are_frozen_and_hashable() -> None:
    span = Span("f.yaml", 1, 2, 1, 3)
    with pytest.raises(AttributeError):
        span.line = 5  # type: ignore[misc]
    assert {span, Span("f.yaml", 1, 2, 1, 3)} == {span}
