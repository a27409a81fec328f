"""The hostile-stream table (tests/hostile_streams.py) against the generated Python device loader.

Each case must raise LoadError (MigrationRefused is one) naming the case's section, field and absolute
byte offset, with its key word in the reason. The Python loader builds new states and returns them only
on success, so a refused load has nothing of the caller's to change. The same table runs against the C under
ASan/UBSan in tests/generated_c/test_c_hostile_streams.py.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from hostile_streams import Case, cases, valid_blob

from vfiogen_state._runtime import LoadError

CASES = cases()


def _param(case: Case) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=case.known_failure)] if case.known_failure else []
    return pytest.param(case, id=case.name, marks=marks)


def test_the_table_covers_every_kind_of_hostile_stream() -> None:
    names = [c.name for c in CASES]
    for kind in ("length_0xffffffff", "vfs_created", "addr64", "truncated_at", "crc_flipped", "reserved_bit",
                 "twice", "_before_", "_version_", "descriptor_"):
        assert any(kind in n for n in names), kind
    assert len(set(names)) == len(names)
    assert sum("truncated_at" in n for n in names) == len(valid_blob())  # every byte


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_a_hostile_stream_is_refused_with_section_field_and_offset(case: Case) -> None:
    device = case.name.split("/")[0]
    module = importlib.import_module(f"vfiogen_state.{device}")
    target = module.load(valid_blob(device))[1] if case.with_target else None
    with pytest.raises(LoadError) as caught:
        module.load(case.blob, target=target)
    error = caught.value
    if case.known_failure is None:
        assert (error.section, error.field, error.offset) == (case.section, case.field, case.offset), str(error)
        assert case.reason in error.reason, str(error)
