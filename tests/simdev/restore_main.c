/*
 * Restore a saved example_nic blob onto the simulated function, as the C
 * twin of tests/test_simdev.py's Python run. Input on stdin, one per line:
 * the blob, the device's configuration space, its emulated, wmask and w1c
 * masks (hex, 4096 bytes each), "msi_cap msix_cap table_size", and the
 * bases "rebar header msi msix sriov". Output, one per line: the write log
 * (offset:value:size ...), the events, "msix_setups msi_setups", the
 * vector table (4 words an entry) and the configuration space as read back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simdev.h"
#include "vfg_example_nic.h"

static char line[4 * 1024 * 1024];
static uint8_t blob[1024 * 1024];
static struct simdev dev;
static struct vfg_example_nic_state state;
static struct vfg_example_nic_descriptor source;

static size_t read_hex(uint8_t *out, size_t cap)
{
    size_t n = 0, i, len;
    if (fgets(line, sizeof line, stdin) == NULL) {
        exit(2);
    }
    len = strcspn(line, "\r\n");
    for (i = 0; i + 1 < len && n < cap; i += 2) {
        unsigned byte;
        if (sscanf(line + i, "%2x", &byte) != 1) {
            exit(2);
        }
        out[n++] = (uint8_t)byte;
    }
    return n;
}

static int restore_table(void *opaque, const struct vfg_msix_state *s)
{
    struct simdev *d = opaque;
    uint32_t i, count = (uint32_t)vfg_msix_control_table_size(s->control) + 1u;
    simdev_event(d, "table");
    for (i = 0; i < count; i++) {
        uint32_t entry[4];
        entry[0] = s->vectors[i].address_lo;
        entry[1] = s->vectors[i].address_hi;
        entry[2] = s->vectors[i].data;
        entry[3] = s->vectors[i].vector_control;
        simdev_write_vector(d, i, entry);
    }
    return 0;
}

static int recreate_vfs(void *opaque, const struct vfg_sriov_state *s)
{
    (void)s;
    simdev_event(opaque, "vfs");
    return 0;
}

int main(void)
{
    struct vfg_example_nic_hooks hooks;
    struct vfg_example_nic_bases bases;
    struct vfg_error err;
    size_t len, i;
    unsigned msi_cap, msix_cap, table, rebar, header, msi, msix, sriov;
    len = read_hex(blob, sizeof blob);
    read_hex(dev.config, SIMDEV_SIZE);
    read_hex(dev.emulated, SIMDEV_SIZE);
    read_hex(dev.wmask, SIMDEV_SIZE);
    read_hex(dev.w1c, SIMDEV_SIZE);
    if (scanf("%u %u %u", &msi_cap, &msix_cap, &table) != 3 ||
        scanf("%u %u %u %u %u", &rebar, &header, &msi, &msix, &sriov) != 5) {
        return 2;
    }
    dev.msi_cap = msi_cap;
    dev.msix_cap = msix_cap;
    dev.table_size = table;
    bases.rebar = rebar;
    bases.header = header;
    bases.msi = msi;
    bases.msix = msix;
    bases.sriov = sriov;
    simdev_start(&dev);
    memset(&hooks, 0, sizeof hooks);
    hooks.msix.msix_restore_vector_table = restore_table;
    hooks.sriov.sriov_recreate_vfs = recreate_vfs;
    memset(&err, 0, sizeof err);
    if (vfg_example_nic_load(blob, len, NULL, NULL, NULL, &state, &source, &hooks, NULL, &err) != VFG_OK ||
        vfg_example_nic_restore(&state, NULL, simdev_write_config, &dev, &bases, &hooks, &err) != VFG_OK) {
        printf("error %s.%s: %s\n", err.section, err.field, err.message);
        return 1;
    }
    for (i = 0; i < dev.log_len; i++) {
        printf("%s%x:%x:%u", i ? " " : "", (unsigned)dev.log[i].offset, (unsigned)dev.log[i].value,
               dev.log[i].size);
    }
    printf("\n");
    for (i = 0; i < dev.event_count; i++) {
        printf("%s%s", i ? " " : "", dev.events[i]);
    }
    printf("\n%u %u\n", dev.msix_setups, dev.msi_setups);
    for (i = 0; i < dev.table_size; i++) {
        printf("%s%x.%x.%x.%x", i ? " " : "", (unsigned)dev.table[i][0], (unsigned)dev.table[i][1],
               (unsigned)dev.table[i][2], (unsigned)dev.table[i][3]);
    }
    printf("\n");
    for (i = 0; i < SIMDEV_SIZE; i++) {
        printf("%02x", (unsigned)simdev_read(&dev, (uint32_t)i, 1u));
    }
    printf("\n");
    return 0;
}
