/*
 * The byte-swapping bulk copy (vfg_get_be_array / vfg_put_be_array) with and without its AVX2 path,
 * side by side with a plain __builtin_bswap loop and memcpy; and the whole example_nic save/load
 * built both ways. Built and run by tests/bench/bench_c_bulk.py; not a test.
 *
 * The benchmark links two copies of the generated C: one built as shipped (`simd_*`: the AVX2 path,
 * chosen at run time), one with -DVFG_NO_SIMD (`portable_*`). bench_c_bulk.py renames their entry
 * points with objcopy and hides everything else, so both live in this one process and every round
 * times each codec in turn (the order rotates from round to round).
 *
 * Usage: c_bulk time ROUNDS    one line per (kind, size, operation, codec): the ns per call of every round
 *        c_bulk count REPS     under valgrind --tool=callgrind: one dump per (size, operation, codec), of
 *                              REPS calls (callgrind counts each byte of a `rep movsb` as an instruction,
 *                              so its memcpy figures are not instruction counts of the real memcpy)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfg_example_nic.h"

#ifdef HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_DUMP_STATS_AT(name) ((void)(name))
#endif

void simd_get_be_array(void *dst, const uint8_t *src, size_t count, unsigned width);
void simd_put_be_array(uint8_t *dst, const void *src, size_t count, unsigned width);
void portable_get_be_array(void *dst, const uint8_t *src, size_t count, unsigned width);
void portable_put_be_array(uint8_t *dst, const void *src, size_t count, unsigned width);

int simd_example_nic_save(struct vfg_example_nic_state *state, const struct vfg_example_nic_config *config,
                          const struct vfg_example_nic_descriptor *descriptor,
                          const struct vfg_example_nic_versions *versions, const struct vfg_example_nic_hooks *hooks,
                          void *opaque, uint8_t *buf, size_t cap, size_t *len, struct vfg_error *err);
int simd_example_nic_load(const uint8_t *blob, size_t len, const struct vfg_example_nic_config *config,
                          const struct vfg_example_nic_descriptor *target, struct vfg_compat_report *report,
                          struct vfg_example_nic_state *state,
                          struct vfg_example_nic_descriptor *source, const struct vfg_example_nic_hooks *hooks,
                          void *opaque, struct vfg_error *err);
int portable_example_nic_save(struct vfg_example_nic_state *state, const struct vfg_example_nic_config *config,
                              const struct vfg_example_nic_descriptor *descriptor,
                              const struct vfg_example_nic_versions *versions,
                              const struct vfg_example_nic_hooks *hooks, void *opaque, uint8_t *buf, size_t cap,
                              size_t *len, struct vfg_error *err);
int portable_example_nic_load(const uint8_t *blob, size_t len, const struct vfg_example_nic_config *config,
                              const struct vfg_example_nic_descriptor *target, struct vfg_compat_report *report,
                              struct vfg_example_nic_state *state,
                              struct vfg_example_nic_descriptor *source, const struct vfg_example_nic_hooks *hooks,
                              void *opaque, struct vfg_error *err);

/* --- the bulk copy ------------------------------------------------------------------------------- */

/* The plain loop one writes by hand: one builtin byte swap per word (what -O2 does with it is the point). */
__attribute__((noinline)) static void bswap_copy(uint8_t *dst, const uint8_t *src, size_t count, unsigned width)
{
    size_t i;
    if (width == 4u) {
        for (i = 0; i < count; i++) {
            uint32_t v;
            memcpy(&v, src + 4u * i, 4u);
            v = __builtin_bswap32(v);
            memcpy(dst + 4u * i, &v, 4u);
        }
    } else {
        for (i = 0; i < count; i++) {
            uint64_t v;
            memcpy(&v, src + 8u * i, 8u);
            v = __builtin_bswap64(v);
            memcpy(dst + 8u * i, &v, 8u);
        }
    }
}

enum { AVX2, PORTABLE, BSWAP, MEMCPY, IMPLS };
static const char *const impl_names[IMPLS] = {"avx2", "portable", "bswap", "memcpy"};

/* An MSI-X table at 1..2048 vectors (4-byte words), then a PBA of 1, 4 and 32 quadwords (8..256 bytes). */
struct size {
    const char *kind;
    unsigned n;      /* vectors, or PBA quadwords */
    size_t count;    /* words */
    unsigned width;
};
static const struct size sizes[] = {
    {"table", 1, 4, 4}, {"table", 4, 16, 4}, {"table", 16, 64, 4}, {"table", 64, 256, 4},
    {"table", 256, 1024, 4}, {"table", 2048, 8192, 4}, {"pba", 1, 1, 8}, {"pba", 4, 4, 8}, {"pba", 32, 32, 8},
};
#define SIZES (sizeof sizes / sizeof sizes[0])

static uint8_t wire[32768] __attribute__((aligned(64)));
static uint8_t host[32768] __attribute__((aligned(64)));

/* op 0 is get (wire to host), 1 put (host to wire); the bswap loop and memcpy do the same bytes both ways. */
static void bulk(int impl, int op, size_t count, unsigned width)
{
    switch (impl) {
    case AVX2:
        if (op == 0) {
            simd_get_be_array(host, wire, count, width);
        } else {
            simd_put_be_array(wire, host, count, width);
        }
        break;
    case PORTABLE:
        if (op == 0) {
            portable_get_be_array(host, wire, count, width);
        } else {
            portable_put_be_array(wire, host, count, width);
        }
        break;
    case BSWAP:
        if (op == 0) {
            bswap_copy(host, wire, count, width);
        } else {
            bswap_copy(wire, host, count, width);
        }
        break;
    default:
        if (op == 0) {
            memcpy(host, wire, count * width);
        } else {
            memcpy(wire, host, count * width);
        }
        break;
    }
    __asm__ __volatile__("" : : "r"(wire), "r"(host) : "memory"); /* keep each call's stores */
}

/* --- the whole device ---------------------------------------------------------------------------- */

/* memcpy and one vfg_crc32c over the same bytes, for scale: a blob's frames are checksummed on save and load. */
enum { DEV_SIMD, DEV_PORTABLE, DEV_MEMCPY, DEV_CRC, DEVS };
static const char *const dev_names[DEVS] = {"avx2", "portable", "memcpy", "crc32c"};
static const unsigned dev_vectors[] = {1, 64, 2048};
#define DEV_SIZES (sizeof dev_vectors / sizeof dev_vectors[0])

static struct vfg_example_nic_state dev_state[DEV_SIZES], dev_in;
static struct vfg_example_nic_descriptor dev_desc, dev_src;
static uint8_t dev_blob[DEV_SIZES][VFG_EXAMPLE_NIC_MAX_SIZE];
static uint8_t dev_out[VFG_EXAMPLE_NIC_MAX_SIZE];
static size_t dev_len[DEV_SIZES];
static volatile unsigned sink;

static void device_setup(void)
{
    size_t k;
    unsigned i;
    for (k = 0; k < DEV_SIZES; k++) {
        struct vfg_example_nic_state *s = &dev_state[k];
        memset(s, 0, sizeof *s);
        vfg_rebar_init(&s->rebar);
        vfg_header_init(&s->header);
        vfg_msi_init(&s->msi);
        vfg_msix_init(&s->msix);
        vfg_sriov_init(&s->sriov);
        s->rebar.cap0 = 1u << 4;  /* entry 0 supports 1 MB, and is programmed to it (bar_size 0) */
        s->rebar.ctrl0 = 1u << VFG_REBAR_CTRL0_NUM_BARS_SHIFT; /* one resizable BAR */
        s->header.vendor_id = 0x8086;
        s->header.device_id = 0x1572;
        s->header.command = 0x6;
        s->header.bar0 = 0xfe000004u; /* 64-bit memory BARs at 0 and 2 (slots 1 and 3 upper dwords) */
        s->header.bar2 = 0xfd000004u;
        s->sriov.vf_bar0 = 0x4u;      /* and VF BAR 0 (VF slot 1 its upper dword) */
        s->sriov.supported_page_sizes = 0x553u; /* 4 KiB pages, as the PF supports */
        s->sriov.system_page_size = 0x1u;
        s->msix.control = (uint16_t)(0x8000u | (dev_vectors[k] - 1u));
        for (i = 0; i < dev_vectors[k]; i++) {
            s->msix.vectors[i].address_lo = 0xfee00000u | (i << 12);
            s->msix.vectors[i].data = 0x4000u + i;
            s->msix.vectors[i].vector_control = i & 1u;
        }
    }
}

static int device(int impl, int op, size_t k)
{
    size_t len = 0;
    switch (impl) {
    case DEV_SIMD:
        return op == 0 ? simd_example_nic_load(dev_blob[k], dev_len[k], NULL, NULL, NULL, &dev_in, &dev_src, NULL, NULL, NULL)
                       : simd_example_nic_save(&dev_state[k], NULL, &dev_desc, NULL, NULL, NULL, dev_out, sizeof dev_out,
                                               &len, NULL);
    case DEV_PORTABLE:
        return op == 0 ? portable_example_nic_load(dev_blob[k], dev_len[k], NULL, NULL, NULL, &dev_in, &dev_src, NULL, NULL, NULL)
                       : portable_example_nic_save(&dev_state[k], NULL, &dev_desc, NULL, NULL, NULL, dev_out,
                                                   sizeof dev_out, &len, NULL);
    case DEV_CRC:
        return (int)(vfg_crc32c(0, dev_blob[k], dev_len[k]) & 1u);
    default:
        memcpy(dev_out, dev_blob[k], dev_len[k]);
        __asm__ __volatile__("" : : "r"(dev_out) : "memory");
        return 0;
    }
}

/* --- timing ---------------------------------------------------------------------------------------- */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

#define MAX_ROUNDS 1001

/* samples[size][op][impl][round] for the bulk copy, then the device's after them */
static double bulk_samples[SIZES][2][IMPLS][MAX_ROUNDS];
static double dev_samples[DEV_SIZES][2][DEVS][MAX_ROUNDS];

static long bulk_iterations(const struct size *s)
{
    /* about 50-150 us per sample whatever the size */
    return 2000000L / (long)(s->count * s->width + 64u);
}

static int self_check(void)
{
    size_t k;
    unsigned i;
    int impl, op;
    static uint8_t expect[32768];
    struct vfg_error err;
    for (k = 0; k < SIZES; k++) {
        const struct size *s = &sizes[k];
        size_t bytes = s->count * s->width;
        for (impl = AVX2; impl <= PORTABLE; impl++) {
            for (op = 0; op < 2; op++) {
                uint8_t *from = op == 0 ? wire : host, *to = op == 0 ? host : wire;
                for (i = 0; i < sizeof wire; i++) {
                    from[i] = (uint8_t)(i * 7u + 3u + k);
                    to[i] = 0xa5u;
                }
                bswap_copy(expect, from, s->count, s->width);
                bulk(impl, op, s->count, s->width);
                if (memcmp(expect, to, bytes) != 0 || (bytes < sizeof wire && to[bytes] != 0xa5u)) {
                    fprintf(stderr, "%s %s disagrees with the bswap loop at %s %u\n", impl_names[impl],
                            op == 0 ? "get" : "put", s->kind, s->n);
                    return 1;
                }
            }
        }
    }
    for (k = 0; k < DEV_SIZES; k++) {
        size_t len2 = 0;
        if (simd_example_nic_save(&dev_state[k], NULL, &dev_desc, NULL, NULL, NULL, dev_blob[k], sizeof dev_blob[k],
                                  &dev_len[k], &err) != VFG_OK) {
            fprintf(stderr, "save: %s.%s: %s\n", err.section, err.field, err.message);
            return 1;
        }
        if (portable_example_nic_save(&dev_state[k], NULL, &dev_desc, NULL, NULL, NULL, dev_out, sizeof dev_out, &len2,
                                      &err) != VFG_OK
            || len2 != dev_len[k] || memcmp(dev_out, dev_blob[k], len2) != 0) {
            fprintf(stderr, "the two builds save different blobs\n");
            return 1;
        }
        if (simd_example_nic_load(dev_blob[k], dev_len[k], NULL, NULL, NULL, &dev_in, &dev_src, NULL, NULL, &err) != VFG_OK
            || portable_example_nic_load(dev_blob[k], dev_len[k], NULL, NULL, NULL, &dev_in, &dev_src, NULL, NULL, &err) != VFG_OK) {
            fprintf(stderr, "load: %s.%s: %s\n", err.section, err.field, err.message);
            return 1;
        }
        if (memcmp(&dev_in.msix, &dev_state[k].msix, sizeof dev_in.msix) != 0) {
            fprintf(stderr, "the loaded MSI-X state differs\n");
            return 1;
        }
    }
    return 0;
}

static void time_rounds(int rounds)
{
    int r, j, op;
    size_t k;
    long i;
    for (r = 0; r < rounds; r++) {
        for (k = 0; k < SIZES; k++) {
            const struct size *s = &sizes[k];
            long n = bulk_iterations(s);
            for (op = 0; op < 2; op++) {
                for (j = 0; j < IMPLS; j++) {
                    int impl = (j + r) % IMPLS;
                    double start = now();
                    for (i = 0; i < n; i++) {
                        bulk(impl, op, s->count, s->width);
                    }
                    bulk_samples[k][op][impl][r] = (now() - start) / (double)n;
                }
            }
        }
        for (k = 0; k < DEV_SIZES; k++) {
            long n = dev_vectors[k] > 256u ? 400 : 8000;
            for (op = 0; op < 2; op++) {
                for (j = 0; j < DEVS; j++) {
                    int impl = (j + r) % DEVS;
                    double start = now();
                    for (i = 0; i < n; i++) {
                        sink += (unsigned)device(impl, op, k);
                    }
                    dev_samples[k][op][impl][r] = (now() - start) / (double)n;
                }
            }
        }
    }
    for (k = 0; k < SIZES; k++) {
        for (op = 0; op < 2; op++) {
            for (j = 0; j < IMPLS; j++) {
                printf("bulk\t%s\t%u\t%zu\t%s\t%s\t", sizes[k].kind, sizes[k].n, sizes[k].count * sizes[k].width,
                       op == 0 ? "get" : "put", impl_names[j]);
                for (r = 0; r < rounds; r++) {
                    printf("%s%.3f", r ? "," : "", bulk_samples[k][op][j][r]);
                }
                printf("\n");
            }
        }
    }
    for (k = 0; k < DEV_SIZES; k++) {
        for (op = 0; op < 2; op++) {
            for (j = 0; j < DEVS; j++) {
                printf("device\tdevice\t%u\t%zu\t%s\t%s\t", dev_vectors[k], dev_len[k], op == 0 ? "load" : "save",
                       dev_names[j]);
                for (r = 0; r < rounds; r++) {
                    printf("%s%.3f", r ? "," : "", dev_samples[k][op][j][r]);
                }
                printf("\n");
            }
        }
    }
}

/* One callgrind dump per (kind, size, operation, codec), named so; REPS calls each, after one warm-up call. */
static void count_calls(long reps)
{
    char name[128];
    size_t k;
    int op, impl;
    long i;
    CALLGRIND_DUMP_STATS_AT("start");
    for (k = 0; k < SIZES; k++) {
        for (op = 0; op < 2; op++) {
            for (impl = 0; impl < IMPLS; impl++) {
                snprintf(name, sizeof name, "bulk %s %u %zu %s %s", sizes[k].kind, sizes[k].n,
                         sizes[k].count * sizes[k].width, op == 0 ? "get" : "put", impl_names[impl]);
                bulk(impl, op, sizes[k].count, sizes[k].width);
                CALLGRIND_DUMP_STATS_AT("skip");
                for (i = 0; i < reps; i++) {
                    bulk(impl, op, sizes[k].count, sizes[k].width);
                }
                CALLGRIND_DUMP_STATS_AT(name);
            }
        }
    }
    for (k = 0; k < DEV_SIZES; k++) {
        for (op = 0; op < 2; op++) {
            for (impl = 0; impl < DEVS; impl++) {
                snprintf(name, sizeof name, "device device %u %zu %s %s", dev_vectors[k], dev_len[k],
                         op == 0 ? "load" : "save", dev_names[impl]);
                sink += (unsigned)device(impl, op, k);
                CALLGRIND_DUMP_STATS_AT("skip");
                for (i = 0; i < reps; i++) {
                    sink += (unsigned)device(impl, op, k);
                }
                CALLGRIND_DUMP_STATS_AT(name);
            }
        }
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "time";
    long n = argc > 2 ? atol(argv[2]) : 31;
    device_setup();
    if (self_check() != 0) {
        return 1;
    }
    if (strcmp(mode, "count") == 0) {
        count_calls(n);
        return 0;
    }
    if (n < 1 || n > MAX_ROUNDS) {
        fprintf(stderr, "ROUNDS must be 1..%d\n", MAX_ROUNDS);
        return 2;
    }
    time_rounds((int)n);
    return 0;
}
