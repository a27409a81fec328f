"""vfg_<section>_resize_<field> in C does what resize_<field> does in Python (issue 15): the same steps on
MSI-X and SR-IOV states save the same bytes, a grown table never shows what a longer table left behind,
and a refused value leaves the state as it was. Strict flags, ASan/UBSan."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import COMPILERS, run_program

from vfiogen_state import msix, sriov

PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include "vfg_msix.h"
#include "vfg_sriov.h"

static struct vfg_msix_state m, copy;
static struct vfg_sriov_state v, vcopy;
static uint8_t buf[65536];

static void dump(const char *what, int status, size_t len)
{
    size_t i;
    printf("%s %d ", what, status);
    for (i = 0; i < len; i++) {
        printf("%02x", buf[i]);
    }
    printf("\n");
}

int main(void)
{
    struct vfg_error err;
    size_t len = 0, i;
    int status;

    vfg_msix_init(&m);
    status = vfg_msix_resize_control_table_size(&m, NULL, 3, &err);
    for (i = 0; i < 4; i++) {
        m.vectors[i].data = (uint32_t)(0x100 + i);
    }
    vfg_msix_control_set_enable(&m.control, true);
    status |= vfg_msix_resize_control_table_size(&m, NULL, 1, &err);
    status |= vfg_msix_resize_control_table_size(&m, NULL, 5, &err);
    status |= vfg_msix_save(&m, VFG_MSIX_VERSION, NULL, buf, sizeof buf, &len, &err);
    dump("msix", status, len);
    copy = m;
    status = vfg_msix_resize_control_table_size(&m, NULL, 0x800, &err);
    printf("refused %d %s %d\n", status, err.field, memcmp(&m, &copy, sizeof m) == 0);

    vfg_sriov_init(&v);
    /* Two VFs created: NumVFs, TotalVFs and VF Enable must allow them, or save refuses the state. */
    v.total_vfs = 2;
    v.num_vfs = 2;
    vfg_sriov_sriov_ctrl_set_vf_enable(&v.sriov_ctrl, true);
    status = vfg_sriov_resize_vfs_created(&v, NULL, 2, &err);
    v.vfs[1].routing_id = 0x1234;
    vcopy = v;
    status |= vfg_sriov_save(&v, VFG_SRIOV_VERSION, NULL, buf, sizeof buf, &len, &err);
    dump("sriov", status, len);
    status = vfg_sriov_resize_vfs_created(&v, NULL, 257, &err);
    printf("refused %d %s %d\n", status, err.field, memcmp(&v, &vcopy, sizeof v) == 0);
    return 0;
}
"""


def _python() -> list[str]:
    m = msix.MsixState()
    msix.resize_control_table_size(m, 3)
    for index, vector in enumerate(m.vectors):
        vector.data = 0x100 + index
    m.control.enable = True
    msix.resize_control_table_size(m, 1)
    msix.resize_control_table_size(m, 5)
    v = sriov.SriovState()
    v.total_vfs = v.num_vfs = 2
    v.sriov_ctrl.vf_enable = True
    sriov.resize_vfs_created(v, 2)
    v.vfs[1].routing_id = 0x1234
    # 23 VFG_ERR_ARGUMENT, 11 VFG_ERR_COUNT (vfg_runtime.h)
    return [f"msix 0 {msix.save(m).hex()}", "refused 23 control.table_size 1",
            f"sriov 0 {sriov.save(v).hex()}", "refused 11 vfs 1"]


@pytest.mark.parametrize("compiler", COMPILERS or [pytest.param("cc", marks=pytest.mark.skip("no C compiler"))])
def test_c_resize_matches_python(tmp_path: Path, compiler: str) -> None:
    stdout = run_program(tmp_path, compiler, PROGRAM)
    assert stdout.splitlines() == _python()
