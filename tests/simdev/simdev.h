/*
 * A simulated VFIO-assigned function for restore tests: the C twin of
 * tests/simdev.py, with the same model (read that module's docstring).
 */
#ifndef SIMDEV_H
#define SIMDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIMDEV_SIZE 4096u
#define SIMDEV_MAX_LOG 4096u
#define SIMDEV_MAX_VECTORS 2048u
#define SIMDEV_MAX_EVENTS 16u

struct simdev_write {
    uint32_t offset;
    uint32_t value;
    unsigned size;
};

struct simdev {
    uint8_t config[SIMDEV_SIZE];   /* the device's copy */
    uint8_t shadow[SIMDEV_SIZE];   /* the hypervisor's copy */
    uint8_t emulated[SIMDEV_SIZE];
    uint8_t wmask[SIMDEV_SIZE];
    uint8_t w1c[SIMDEV_SIZE];
    uint32_t msi_cap;
    uint32_t msix_cap;
    uint32_t table_size;
    uint32_t table[SIMDEV_MAX_VECTORS][4];
    struct simdev_write log[SIMDEV_MAX_LOG];
    size_t log_len;
    unsigned msix_setups;
    unsigned msi_setups;
    bool msix_active;
    bool msi_enabled;
    char events[SIMDEV_MAX_EVENTS][32];
    size_t event_count;
};

/* After config, emulated, wmask, w1c, msi_cap, msix_cap and table_size are set. */
void simdev_start(struct simdev *d);
uint32_t simdev_read(const struct simdev *d, uint32_t offset, unsigned size);
/* A vfg_write_config_fn: opaque is the struct simdev. */
int simdev_write_config(void *opaque, uint32_t offset, uint32_t value, unsigned len);
void simdev_write_vector(struct simdev *d, uint32_t index, const uint32_t entry[4]);
void simdev_event(struct simdev *d, const char *name);

#endif
