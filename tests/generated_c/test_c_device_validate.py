"""vfg_<device>_validate (issue 15): each present section's validate in device order, the section before
each field, the same (field, message) pairs as the Python device validate; a new state has no problem and
`capacity` bounds what is stored while the count is complete. Strict flags, ASan/UBSan."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import COMPILERS, run_program

from vfiogen_state import example_nic

PROGRAM = r"""
#include <stdio.h>
#include "vfg_example_nic.h"

static struct vfg_example_nic_state s;

static void show(const char *what, size_t capacity)
{
    struct vfg_problem problems[8];
    size_t n = vfg_example_nic_validate(&s, NULL, problems, capacity), i;
    printf("%s %zu\n", what, n);
    for (i = 0; i < n && i < capacity; i++) {
        printf("%s: %s\n", problems[i].field, problems[i].message);
    }
}

int main(void)
{
    vfg_example_nic_init(&s);
    show("new", 8);
    (void)vfg_rebar_ctrl0_set_num_bars(&s.rebar.ctrl0, 0);
    (void)vfg_msix_table_set_bir(&s.msix.table, 7);
    s.sriov.vfs_created = 1;
    s.sriov.vf_msix_counts[0] = 0;
    show("broken", 8);
    show("first", 1);
    printf("null %zu\n", vfg_example_nic_validate(NULL, NULL, NULL, 0));
    return 0;
}
"""


def _python() -> list[str]:
    state = example_nic.ExampleNicState()
    lines = [f"new {len(example_nic.validate(state))}"]
    state.rebar.ctrl0.num_bars = 0
    state.msix.table.bir = 7
    state.sriov.vfs_created = 1
    state.sriov.vfs = [example_nic._sriov.VfsEntry()]
    state.sriov.vf_msix_counts = [0]
    problems = example_nic.validate(state)
    lines.append(f"broken {len(problems)}")
    lines += [f"{p.field}: {p.reason}" for p in problems]
    lines.append(f"first {len(problems)}")
    lines.append(f"{problems[0].field}: {problems[0].reason}")
    return [*lines, "null 1"]


def test_python_device_validate_names_the_section() -> None:
    assert example_nic.validate(example_nic.ExampleNicState()) == []
    state = example_nic.ExampleNicState()
    assert example_nic.ExampleNicState().rebar.ctrl0 is not state.rebar.ctrl0  # registers with a default: not shared
    state.msix.vectors = []
    fields = [p.field for p in example_nic.validate(state)]
    assert fields == ["msix.vectors"]
    state.rebar.ctrl0.num_bars = 0
    assert [p.field for p in example_nic.validate(state)] == ["rebar.ctrl0.num_bars", "msix.vectors"]
    with pytest.raises(ValueError, match="config.present"):
        example_nic.validate(state, example_nic.ExampleNicConfig(present=0x100))


@pytest.mark.parametrize("compiler", COMPILERS or [pytest.param("cc", marks=pytest.mark.skip("no C compiler"))])
def test_c_device_validate_matches_python(tmp_path: Path, compiler: str) -> None:
    stdout = run_program(tmp_path, compiler, PROGRAM)
    expected = _python()
    # rebar's entry count, MSI-X's table BIR, SR-IOV's VF count against NumVFs and against VF Enable
    assert "broken 4" in expected
    assert stdout.splitlines() == expected



GENERIC = r"""
#include <stdio.h>
#include <string.h>
#include "vfg_generic.h"

static struct vfg_generic_state s;

int main(void)
{
    struct vfg_generic_config config;
    struct vfg_problem problems[8];
    size_t n, i;
    memset(&config, 0, sizeof config);
    config.present = VFG_GENERIC_HAS_VENDOR_SPECIFIC;
    config.instances.vendor_specific = 3;
    vfg_generic_init(&s);
    s.vendor_specific[1].cap_length = 2;    /* shorter than its header */
    s.vendor_specific[2].cap_length = 0xc1; /* past standard configuration space */
    n = vfg_generic_validate(&s, &config, problems, 8);
    printf("broken %zu\n", n);
    for (i = 0; i < n && i < 8; i++) {
        printf("%s: %s\n", problems[i].field, problems[i].message);
    }
    config.instances.vendor_specific = 17;
    n = vfg_generic_validate(&s, &config, problems, 8);
    printf("too many %zu %s\n", n, problems[0].field);
    return 0;
}
"""


@pytest.mark.parametrize("compiler", COMPILERS or [pytest.param("cc", marks=pytest.mark.skip("no C compiler"))])
def test_c_device_validate_names_each_instance_as_python_does(tmp_path: Path, compiler: str) -> None:
    from vfiogen_state import generic, vendor_specific

    stdout = run_program(tmp_path, compiler, GENERIC)
    config = generic.GenericConfig(present=generic.HAS_VENDOR_SPECIFIC)
    config.instances.vendor_specific = 3
    state = generic.GenericState(vendor_specific=[vendor_specific.VendorSpecificState() for _ in range(3)])
    state.vendor_specific[1].cap_length, state.vendor_specific[2].cap_length = 2, 0xC1
    problems = generic.validate(state, config)
    # each instance's byte string holds no byte, but its length says cap_length - 3 (-1, then 190); a state
    # whose fields are broken is not held to its constraints (cap_length's own), so the byte strings are named
    assert [(p.field, p.reason) for p in problems] == [
        ("vendor_specific[1].data", "holds 0 entries, but its length 'cap_length - 3' is -1"),
        ("vendor_specific[2].data", "holds 0 entries, but its length 'cap_length - 3' is 190")]
    # The C names the same fields; its state has no count beside the bytes (uint8_t data[189]), so it says
    # only that the length is outside the array's range (-1 and 190 are), where the Python compares the list
    assert stdout.splitlines() == [f"broken {len(problems)}",
                                   *(f"{p.field}: its length is outside 0..max" for p in problems),
                                   "too many 1 config.instances.vendor_specific"]
