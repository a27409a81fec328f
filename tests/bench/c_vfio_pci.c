/*
 * Whole vfio_pci blobs of a real function in C: the generated save/load built as shipped (`simd_*`: AVX2
 * copies and the SSE4.2 CRC chosen at run time) and with -DVFG_NO_SIMD (`portable_*`: plain loops,
 * slicing-by-8 CRC), against memcpy of the blob and the CRC-32C of its frames alone (each build's
 * vfg_crc32c), and the example_nic device's whole blob at the same vector count, both builds. Built and run
 * by bench_vfio_pci.py; not a test.
 *
 * The cases come on standard input from vfio_pci_python.c_input: per case the device (0 vfio_pci, 1
 * example_nic), the MSI-X vector count, config.present, the blob the generated Python saved and the bytes
 * of the C state that holds the Python state (tests/generated_c/cstate.py). Before any timing, for every
 * case: the source descriptor is what the shipped load reads from the Python blob; both builds must save
 * the C state with it to exactly the Python blob; both loads must give back the C state byte for byte and
 * refuse the blob with its last byte (a CRC) flipped. Otherwise it stops with status 1.
 *
 * There is no hand-written codec here (bench_device's c_device.c has one for example_nic): a hand codec of
 * a generic device would have to handle every section any function may have, and for one function it
 * would measure the same framing and checks the example's does.
 *
 * Prints one line per (device, vectors, bytes, operation, codec): the ns per call of every round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_rounds.h"
#include "vfg_example_nic.h"
#include "vfg_vfio_pci.h"
#include "vfio_pci_sections.h" /* VFIO_PCI_SECTIONS(X), written by bench_vfio_pci.py from the lock */

#define DECLARE(variant) \
    int variant##_vfio_pci_save(struct vfg_vfio_pci_state *state, const struct vfg_vfio_pci_config *config, \
                                const struct vfg_vfio_pci_descriptor *descriptor, \
                                const struct vfg_vfio_pci_versions *versions, \
                                const struct vfg_vfio_pci_hooks *hooks, void *opaque, uint8_t *buf, \
                                size_t cap, size_t *len, struct vfg_error *err); \
    int variant##_vfio_pci_load(const uint8_t *blob, size_t len, const struct vfg_vfio_pci_config *config, \
                                const struct vfg_vfio_pci_descriptor *target, struct vfg_compat_report *report, \
                                struct vfg_vfio_pci_state *state, struct vfg_vfio_pci_descriptor *source, \
                                const struct vfg_vfio_pci_hooks *hooks, void *opaque, struct vfg_error *err); \
    int variant##_example_nic_save(struct vfg_example_nic_state *state, \
                                   const struct vfg_example_nic_config *config, \
                                   const struct vfg_example_nic_descriptor *descriptor, \
                                   const struct vfg_example_nic_versions *versions, \
                                   const struct vfg_example_nic_hooks *hooks, void *opaque, uint8_t *buf, \
                                   size_t cap, size_t *len, struct vfg_error *err); \
    int variant##_example_nic_load(const uint8_t *blob, size_t len, const struct vfg_example_nic_config *config, \
                                   const struct vfg_example_nic_descriptor *target, \
                                   struct vfg_compat_report *report, struct vfg_example_nic_state *state, \
                                   struct vfg_example_nic_descriptor *source, \
                                   const struct vfg_example_nic_hooks *hooks, void *opaque, struct vfg_error *err); \
    uint32_t variant##_crc32c(uint32_t crc, const uint8_t *data, size_t len);
DECLARE(simd)
DECLARE(portable)

typedef uint32_t (*crc_fn)(uint32_t crc, const uint8_t *data, size_t len);

enum { GEN_SIMD, GEN_PORTABLE, MEMCPY, CRC_SIMD, CRC_PORTABLE, IMPLS };
static const char *const names[IMPLS] = {"generated", "generated-no-simd", "memcpy", "crc32c", "crc32c-no-simd"};

#define CASES 6
#define MAX_BLOB (VFG_VFIO_PCI_MAX_SIZE > VFG_EXAMPLE_NIC_MAX_SIZE ? VFG_VFIO_PCI_MAX_SIZE : VFG_EXAMPLE_NIC_MAX_SIZE)

struct bench_case {
    unsigned device, vectors;
    size_t blob_len;
    uint8_t blob[MAX_BLOB];
    struct vfg_vfio_pci_config config;
    struct vfg_vfio_pci_state vfio;
    struct vfg_vfio_pci_descriptor vfio_desc;
    struct vfg_example_nic_state example;
    struct vfg_example_nic_descriptor example_desc;
};

static struct bench_case cases[CASES];
static struct vfg_vfio_pci_state vfio_in;
static struct vfg_vfio_pci_descriptor vfio_src;
static struct vfg_example_nic_state example_in;
static struct vfg_example_nic_descriptor example_src;
static uint8_t out[MAX_BLOB];
static unsigned case_vectors[CASES];
static double samples[CASES][2][IMPLS][BENCH_MAX_ROUNDS];

static int read_u32(uint32_t *v)
{
    uint8_t b[4];
    if (fread(b, 1, 4, stdin) != 4) {
        return -1;
    }
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return 0;
}

/* vfio_pci's config: the case's sections, every section's params at their defaults (as the Python's). */
static void default_config(struct vfg_vfio_pci_config *c, uint32_t present)
{
    memset(c, 0, sizeof *c);
    c->present = present;
#define DEFAULT_PARAMS(name, NAME) \
    { \
        static const struct vfg_##name##_params d = VFG_##NAME##_PARAMS_DEFAULT; \
        c->params.name = d; \
    }
    VFIO_PCI_SECTIONS(DEFAULT_PARAMS)
#undef DEFAULT_PARAMS
}

static int read_case(struct bench_case *c)
{
    uint32_t device, vectors, present, len, size;
    void *state;
    if (read_u32(&device) || read_u32(&vectors) || read_u32(&present) || read_u32(&len) || device > 1
        || len > sizeof c->blob || fread(c->blob, 1, len, stdin) != len || read_u32(&size)) {
        return -1;
    }
    c->device = device;
    c->vectors = vectors;
    c->blob_len = len;
    state = device == 0 ? (void *)&c->vfio : (void *)&c->example;
    if (size != (device == 0 ? sizeof c->vfio : sizeof c->example) || fread(state, 1, size, stdin) != size) {
        fprintf(stderr, "case %u/%u: a state of %u bytes (the C struct has %zu)\n", device, vectors, size,
                device == 0 ? sizeof c->vfio : sizeof c->example);
        return -1;
    }
    default_config(&c->config, present);
    return 0;
}

static int run(int impl, int op, size_t k)
{
    struct bench_case *c = &cases[k];
    size_t len = 0;
    int simd = impl == GEN_SIMD;
    switch (impl) {
    case GEN_SIMD:
    case GEN_PORTABLE:
        if (c->device == 0) {
            return op == 0 ? (simd ? simd_vfio_pci_load : portable_vfio_pci_load)(
                                 c->blob, c->blob_len, &c->config, NULL, NULL, &vfio_in, &vfio_src, NULL, NULL, NULL)
                           : (simd ? simd_vfio_pci_save : portable_vfio_pci_save)(
                                 &c->vfio, &c->config, &c->vfio_desc, NULL, NULL, NULL, out, sizeof out, &len, NULL);
        }
        return op == 0 ? (simd ? simd_example_nic_load : portable_example_nic_load)(
                             c->blob, c->blob_len, NULL, NULL, NULL, &example_in, &example_src, NULL, NULL, NULL)
                       : (simd ? simd_example_nic_save : portable_example_nic_save)(
                             &c->example, NULL, &c->example_desc, NULL, NULL, NULL, out, sizeof out, &len, NULL);
    case CRC_SIMD:
    case CRC_PORTABLE: {
        crc_fn crc = impl == CRC_SIMD ? simd_crc32c : portable_crc32c;
        size_t o = 8;
        unsigned acc = 0;
        while (o < c->blob_len) { /* every frame, as a load checks them */
            const uint8_t *p = c->blob + o + 8;
            uint32_t n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
            acc += crc(0, c->blob + o, 12u + n);
            o += 16u + n;
        }
        return (int)(acc & 1u);
    }
    default:
        memcpy(out, c->blob, c->blob_len);
        __asm__ __volatile__("" : : "r"(out) : "memory");
        return 0;
    }
}

static int fail(const struct bench_case *c, const char *what, const struct vfg_error *err)
{
    fprintf(stderr, "%s at %u vectors: %s", c->device == 0 ? "vfio_pci" : "example_nic", c->vectors, what);
    if (err != NULL) {
        fprintf(stderr, " (%s.%s at %zu: %s)", err->section, err->field, (size_t)err->offset, err->message);
    }
    fprintf(stderr, "\n");
    return 1;
}

/* Both builds save the C state to the Python blob and load it back to the same C state, and a flipped CRC
 * byte is refused by both loads. The descriptor saved is the source descriptor the shipped load reads. */
static int self_check(struct bench_case *c)
{
    struct vfg_error err;
    size_t len = 0;
    int variant;
    memset(&err, 0, sizeof err);
    if (c->device == 0 ? simd_vfio_pci_load(c->blob, c->blob_len, &c->config, NULL, NULL, &vfio_in,
                                            &c->vfio_desc, NULL, NULL, &err)
                       : simd_example_nic_load(c->blob, c->blob_len, NULL, NULL, NULL, &example_in,
                                               &c->example_desc, NULL, NULL, &err)) {
        return fail(c, "the shipped load refuses the Python blob", &err);
    }
    for (variant = 0; variant < 2; variant++) {
        int simd = variant == 0;
        int bad;
        memset(&vfio_in, 0, sizeof vfio_in);
        memset(&example_in, 0, sizeof example_in);
        if (c->device == 0
                ? (simd ? simd_vfio_pci_save : portable_vfio_pci_save)(&c->vfio, &c->config, &c->vfio_desc, NULL,
                                                                       NULL, NULL, out, sizeof out, &len, &err)
                : (simd ? simd_example_nic_save : portable_example_nic_save)(&c->example, NULL, &c->example_desc,
                                                                             NULL, NULL, NULL, out, sizeof out,
                                                                             &len, &err)) {
            return fail(c, simd ? "the shipped save fails" : "the VFG_NO_SIMD save fails", &err);
        }
        if (len != c->blob_len || memcmp(out, c->blob, len) != 0) {
            return fail(c, simd ? "the shipped save is not the Python blob" : "the VFG_NO_SIMD save is not the "
                        "Python blob", NULL);
        }
        bad = c->device == 0
            ? (simd ? simd_vfio_pci_load : portable_vfio_pci_load)(c->blob, c->blob_len, &c->config, NULL, NULL,
                                                                   &vfio_in, &vfio_src, NULL, NULL, &err)
              || memcmp(&vfio_in, &c->vfio, sizeof vfio_in) != 0
            : (simd ? simd_example_nic_load : portable_example_nic_load)(c->blob, c->blob_len, NULL, NULL, NULL,
                                                                         &example_in, &example_src, NULL, NULL, &err)
              || memcmp(&example_in, &c->example, sizeof example_in) != 0;
        if (bad) {
            return fail(c, simd ? "the shipped load does not give the state back" : "the VFG_NO_SIMD load does "
                        "not give the state back", &err);
        }
        c->blob[c->blob_len - 1] ^= 1u;
        bad = c->device == 0
            ? (simd ? simd_vfio_pci_load : portable_vfio_pci_load)(c->blob, c->blob_len, &c->config, NULL, NULL,
                                                                   &vfio_in, &vfio_src, NULL, NULL, &err) == VFG_OK
            : (simd ? simd_example_nic_load : portable_example_nic_load)(c->blob, c->blob_len, NULL, NULL, NULL,
                                                                         &example_in, &example_src, NULL, NULL,
                                                                         &err) == VFG_OK;
        c->blob[c->blob_len - 1] ^= 1u;
        if (bad) {
            return fail(c, "a corrupted CRC was accepted", NULL);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 31;
    size_t k;
    static char prefix[CASES][64];
    const char *prefixes[CASES];
    if (rounds < 1 || rounds > BENCH_MAX_ROUNDS) {
        return 2;
    }
    for (k = 0; k < CASES; k++) {
        if (read_case(&cases[k]) != 0) {
            fprintf(stderr, "case %zu: bad input\n", k);
            return 2;
        }
        if (self_check(&cases[k]) != 0) {
            return 1;
        }
        case_vectors[k] = cases[k].vectors;
        snprintf(prefix[k], sizeof prefix[k], "%s\t%u\t%zu", cases[k].device == 0 ? "vfio_pci" : "example_nic",
                 cases[k].vectors, cases[k].blob_len);
        prefixes[k] = prefix[k];
    }
    bench_rounds(rounds, CASES, IMPLS, case_vectors, run, &samples[0][0][0][0]);
    bench_print(rounds, CASES, IMPLS, prefixes, names, &samples[0][0][0][0]);
    return 0;
}
