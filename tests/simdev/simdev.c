/* The simulated function of simdev.h; each rule mirrors tests/simdev.py line for line. */
#include "simdev.h"

#include <stdio.h>
#include <string.h>

uint32_t simdev_read(const struct simdev *d, uint32_t offset, unsigned size)
{
    uint32_t value = 0;
    unsigned i;
    for (i = 0; i < size; i++) {
        uint32_t at = offset + i;
        uint32_t byte = (uint32_t)((d->shadow[at] & d->emulated[at]) |
                                   (d->config[at] & (uint8_t)~d->emulated[at]));
        value |= byte << (8u * i);
    }
    return value;
}

static bool msix_active(const struct simdev *d)
{
    uint32_t control;
    if (d->msix_cap == 0u) {
        return false;
    }
    control = simdev_read(d, d->msix_cap + 2u, 2u);
    return (control & 0x8000u) != 0u && (control & 0x4000u) == 0u;
}

static bool msi_enabled(const struct simdev *d)
{
    return d->msi_cap != 0u && (simdev_read(d, d->msi_cap + 2u, 2u) & 1u) != 0u;
}

void simdev_start(struct simdev *d)
{
    uint32_t i;
    memcpy(d->shadow, d->config, sizeof d->shadow);
    for (i = 0; i < d->table_size && i < SIMDEV_MAX_VECTORS; i++) {
        d->table[i][0] = d->table[i][1] = d->table[i][2] = 0u;
        d->table[i][3] = 1u;    /* every vector masked, as after reset */
    }
    d->log_len = 0u;
    d->msix_setups = d->msi_setups = 0u;
    d->event_count = 0u;
    d->msix_active = msix_active(d);
    d->msi_enabled = msi_enabled(d);
}

int simdev_write_config(void *opaque, uint32_t offset, uint32_t value, unsigned len)
{
    struct simdev *d = opaque;
    uint32_t lo = 0u, hi = 0u;
    bool touched_message = false;
    bool active, enabled;
    unsigned i, s;
    if ((len != 1u && len != 2u && len != 4u) || offset + len > SIMDEV_SIZE || d->log_len == SIMDEV_MAX_LOG) {
        return -1;
    }
    d->log[d->log_len].offset = offset;
    d->log[d->log_len].value = value;
    d->log[d->log_len].size = len;
    d->log_len++;
    if (d->msi_cap != 0u) {
        /* address and data of MSI, measured before the write (the 64-bit form is 4 bytes longer) */
        lo = d->msi_cap + 4u;
        hi = d->msi_cap + ((simdev_read(d, d->msi_cap + 2u, 2u) & 0x80u) != 0u ? 0x10u : 0x0cu);
    }
    for (i = 0; i < len; i++) {
        uint32_t at = offset + i;
        uint8_t byte = (uint8_t)(value >> (8u * i));
        uint8_t *spaces[2];
        spaces[0] = d->config;
        spaces[1] = d->shadow;
        /* Emulated bits land in the hypervisor's copy only (it traps them); the rest reach the device. */
        for (s = 0; s < 2u; s++) {
            uint8_t *space = spaces[s];
            uint8_t owned = s == 0u ? (uint8_t)~d->emulated[at] : d->emulated[at];
            uint8_t kept = (uint8_t)(space[at] & ~d->wmask[at]);
            uint8_t written = (uint8_t)(byte & d->wmask[at] & ~d->w1c[at]);
            uint8_t cleared = (uint8_t)(space[at] & d->w1c[at] & ~byte);
            space[at] = (uint8_t)(((kept | written | cleared) & owned) | (space[at] & ~owned));
        }
        touched_message = touched_message || (at >= lo && at < hi);
    }
    active = msix_active(d);
    if (active && !d->msix_active) {
        d->msix_setups++;
    }
    d->msix_active = active;
    enabled = msi_enabled(d);
    if (enabled && (!d->msi_enabled || touched_message)) {
        d->msi_setups++;
    }
    d->msi_enabled = enabled;
    return 0;
}

void simdev_write_vector(struct simdev *d, uint32_t index, const uint32_t entry[4])
{
    if (index >= SIMDEV_MAX_VECTORS) {
        return;
    }
    memcpy(d->table[index], entry, sizeof d->table[index]);
    if (d->msix_active) {
        d->msix_setups++;
    }
}

void simdev_event(struct simdev *d, const char *name)
{
    if (d->event_count < SIMDEV_MAX_EVENTS) {
        snprintf(d->events[d->event_count], sizeof d->events[d->event_count], "%s@%zu", name, d->log_len);
        d->event_count++;
    }
}
