/*
 * Whole example_nic blobs in C: the generated save/load built as shipped (`simd_*`: AVX2 copies and the
 * SSE4.2 CRC chosen at run time) and with -DVFG_NO_SIMD (`portable_*`: plain loops, slicing-by-8 CRC),
 * against a hand-written codec of the same blob (a __builtin_bswap32 loop per word, with the checks
 * below and each build's own vfg_crc32c) and memcpy of the blob. Built and run by bench_device.py; not a
 * test. Prints one line per (vectors, bytes, operation, codec): the ns per call of every round.
 *
 * The hand-written load checks, before it stores anything: magic, format version and frame count, each
 * frame's id, version, flags, length and CRC-32C, every register's reserved bits, ReBAR's BAR count,
 * MSI's 64-bit and per-vector-mask bits clear (this device's shape), the MSI-X table size against the
 * payload length, SR-IOV's VF count and bool, nothing after the last frame, and the descriptor equal to
 * its own; and the sections' constraints the generated load checks on these payloads: ReBAR's BAR size
 * among the supported ones, the header's layout, BAR types (BARs 0 and 2 64-bit memory: this device's
 * shape) and interrupt pin, MSI's MME <= MMC <= 5, the MSI-X BIRs, SR-IOV's NumVFs, system page size and
 * VF BAR types. It checks no compat rule beyond the descriptor's equality: what one writes by hand for
 * one device. (The generated load also unpacks the source's descriptor for its caller, mask list and
 * all, and holds every section frame to it; this one compares the descriptor's bytes with one memcmp.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_rounds.h"
#include "vfg_example_nic.h"

typedef uint32_t (*crc_fn)(uint32_t crc, const uint8_t *data, size_t len);

#define DECLARE(variant) \
    int variant##_example_nic_save(struct vfg_example_nic_state *state, \
                                   const struct vfg_example_nic_config *config, \
                                   const struct vfg_example_nic_descriptor *descriptor, \
                                   const struct vfg_example_nic_versions *versions, \
                                   const struct vfg_example_nic_hooks *hooks, void *opaque, uint8_t *buf, \
                                   size_t cap, size_t *len, struct vfg_error *err); \
    int variant##_example_nic_load(const uint8_t *blob, size_t len, const struct vfg_example_nic_config *config, \
                                   const struct vfg_example_nic_descriptor *target, \
                                   struct vfg_compat_report *report, \
                                   struct vfg_example_nic_state *state, \
                                   struct vfg_example_nic_descriptor *source, \
                                   const struct vfg_example_nic_hooks *hooks, void *opaque, \
                                   struct vfg_error *err); \
    uint32_t variant##_crc32c(uint32_t crc, const uint8_t *data, size_t len);
DECLARE(simd)
DECLARE(portable)
#ifdef VFG_BENCH_BASELINE
/* another tree's generated C (bench_device.py --baseline), as shipped and with -DVFG_NO_SIMD */
DECLARE(base_simd)
DECLARE(base_portable)
#endif

/* --- hand-written ------------------------------------------------------------------------------------ */

static inline uint16_t ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return __builtin_bswap16(v); }
static inline uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return __builtin_bswap32(v); }
static inline uint64_t ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return __builtin_bswap64(v); }
static inline void st16(uint8_t *p, uint16_t v) { v = __builtin_bswap16(v); memcpy(p, &v, 2); }
static inline void st32(uint8_t *p, uint32_t v) { v = __builtin_bswap32(v); memcpy(p, &v, 4); }
static inline void st64(uint8_t *p, uint64_t v) { v = __builtin_bswap64(v); memcpy(p, &v, 8); }

static const uint16_t ids[5] = {0x0115, 0x0001, 0x0005, 0x0011, 0x0110};
static const uint16_t versions[5] = {1, 1, 2, 1, 2}; /* MSI at version 2 (Extended Message Data) */

/* The frame head before `payload_len` bytes already at p + 12, and the CRC after them; the frame's size. */
static size_t seal(uint8_t *p, uint16_t id, uint16_t version, uint32_t payload_len, crc_fn crc)
{
    st16(p, id);
    st16(p + 2, version);
    st32(p + 4, 1u);
    st32(p + 8, payload_len);
    st32(p + 12 + payload_len, crc(0, p, 12u + payload_len));
    return 16u + payload_len;
}

static int hand_save(const struct vfg_example_nic_state *s, const uint8_t *desc, size_t desc_len, uint8_t *buf,
                     size_t cap, size_t *len, crc_fn crc)
{
    const struct vfg_header_state *h = &s->header;
    const struct vfg_sriov_state *v = &s->sriov;
    size_t n = (s->msix.control & 0x7ffu) + 1u, words = (n + 63u) / 64u, i, o = 8;
    uint8_t *p;
    if (cap < 8u + 16u * 6u + desc_len + 8u + 57u + 8u + 10u + 16u * n + 8u * words + 60u) {
        return 1;
    }
    memcpy(buf, "VFGS", 4);
    st16(buf + 4, 1u);
    st16(buf + 6, 5u);
    memcpy(buf + o + 12, desc, desc_len);
    o += seal(buf + o, 0, 1, (uint32_t)desc_len, crc);
    p = buf + o + 12;
    st32(p, s->rebar.cap0);
    st32(p + 4, s->rebar.ctrl0);
    o += seal(buf + o, ids[0], versions[0], 8u, crc);
    p = buf + o + 12;
    st16(p, h->vendor_id); st16(p + 2, h->device_id); st16(p + 4, h->command); st16(p + 6, h->status);
    p[8] = h->revision_id; p[9] = h->class_prog_if; p[10] = h->class_subclass; p[11] = h->class_base;
    p[12] = h->cache_line_size; p[13] = h->latency_timer; p[14] = h->header_type; p[15] = h->bist;
    st32(p + 16, h->bar0); st32(p + 20, h->bar1_upper); st32(p + 24, h->bar2); st32(p + 28, h->bar3_upper);
    st32(p + 32, h->bar4); st32(p + 36, h->bar5); st32(p + 40, h->cardbus_cis);
    st16(p + 44, h->subsystem_vendor_id); st16(p + 46, h->subsystem_id); st32(p + 48, h->rom_base);
    p[52] = h->cap_ptr; p[53] = h->interrupt_line; p[54] = h->interrupt_pin; p[55] = h->min_gnt;
    p[56] = h->max_lat;
    o += seal(buf + o, ids[1], versions[1], 57u, crc);
    p = buf + o + 12;
    st16(p, s->msi.control); st32(p + 2, s->msi.address_lo); st16(p + 6, s->msi.data);
    o += seal(buf + o, ids[2], versions[2], 8u, crc);
    p = buf + o + 12;
    st16(p, s->msix.control); st32(p + 2, s->msix.table); st32(p + 6, s->msix.pba);
    for (i = 0; i < n; i++) {
        const struct vfg_msix_vectors_entry *e = &s->msix.vectors[i];
        uint8_t *q = p + 10 + 16 * i;
        st32(q, e->address_lo); st32(q + 4, e->address_hi); st32(q + 8, e->data); st32(q + 12, e->vector_control);
    }
    for (i = 0; i < words; i++) {
        st64(p + 10 + 16 * n + 8 * i, s->msix.pending[i]);
    }
    o += seal(buf + o, ids[3], versions[3], (uint32_t)(10u + 16u * n + 8u * words), crc);
    p = buf + o + 12;
    st32(p, v->sriov_cap); st16(p + 4, v->sriov_ctrl); st16(p + 6, v->sriov_status); st16(p + 8, v->initial_vfs);
    st16(p + 10, v->total_vfs); st16(p + 12, v->num_vfs); p[14] = v->func_dep_link;
    st16(p + 15, v->first_vf_offset); st16(p + 17, v->vf_stride); st16(p + 19, v->vf_device_id);
    st32(p + 21, v->supported_page_sizes); st32(p + 25, v->system_page_size); st32(p + 29, v->vf_bar0);
    st32(p + 33, v->vf_bar1_upper); st32(p + 37, v->vf_bar2); st32(p + 41, v->vf_bar3); st32(p + 45, v->vf_bar4);
    st32(p + 49, v->vf_bar5); st32(p + 53, v->vf_migration_state_array_offset); st16(p + 57, v->vfs_created);
    p[59] = v->vf_user_created ? 1u : 0u;
    o += seal(buf + o, ids[4], versions[4], 60u, crc);
    *len = o;
    return 0;
}

/* A memory BAR's type field (bits 2:1): 0 is 32-bit, 2 is 64-bit, 1 (below 1 MiB) legacy, 3 reserved. */
static inline uint32_t bar_type(uint32_t bar) { return (bar >> 1) & 3u; }

/* ReBAR entry 0: the BAR size its control programs is one its capability (or control, above 128 TB) lists. */
static int rebar_size_ok(uint32_t cap, uint32_t ctrl)
{
    uint32_t size = (ctrl >> 8) & 0x3fu;
    return size <= 27u ? (cap >> (size + 4u)) & 1u : size <= 43u && ((ctrl >> (size - 12u)) & 1u) != 0u;
}

/* SR-IOV's six VF BARs at p: each a 32- or 64-bit memory BAR unless the one before is 64-bit; 5 not 64-bit. */
static int vf_bars_ok(const uint8_t *p)
{
    int k;
    if ((ld32(p) & 1u) != 0u || (bar_type(ld32(p)) & 1u) != 0u || bar_type(ld32(p + 20)) == 2u) {
        return 0;
    }
    for (k = 1; k < 6; k++) {
        uint32_t bar = ld32(p + 4 * k);
        if (bar_type(ld32(p + 4 * (k - 1))) != 2u && ((bar & 1u) != 0u || (bar_type(bar) & 1u) != 0u)) {
            return 0;
        }
    }
    return 1;
}

/* The payload of the frame at *o, if it is section `k` (or the descriptor, k = -1) and intact; o moves past. */
static const uint8_t *frame(const uint8_t *blob, size_t len, size_t *o, int k, uint32_t *plen, crc_fn crc)
{
    const uint8_t *p = blob + *o;
    uint32_t n;
    if (len - *o < 16u || ld16(p) != (k < 0 ? 0u : ids[k]) || ld16(p + 2) != (k < 0 ? 1u : versions[k])
        || ld32(p + 4) != 1u) {
        return NULL;
    }
    n = ld32(p + 8);
    if (n > len - *o - 16u || crc(0, p, 12u + n) != ld32(p + 12 + n)) {
        return NULL;
    }
    *plen = n;
    *o += 16u + n;
    return p + 12;
}

static int hand_load(const uint8_t *blob, size_t len, const uint8_t *desc, size_t desc_len,
                     struct vfg_example_nic_state *s, crc_fn crc)
{
    const uint8_t *pay[5], *d, *p;
    uint32_t plen[5], dlen;
    size_t o = 8, n, words, i;
    int k;
    struct vfg_header_state *h = &s->header;
    struct vfg_sriov_state *v = &s->sriov;
    if (len < 8u || memcmp(blob, "VFGS", 4) != 0 || ld16(blob + 4) != 1u || ld16(blob + 6) != 5u) {
        return 1;
    }
    d = frame(blob, len, &o, -1, &dlen, crc);
    if (d == NULL || dlen != desc_len || memcmp(d, desc, desc_len) != 0) {
        return 1;
    }
    for (k = 0; k < 5; k++) {
        pay[k] = frame(blob, len, &o, k, &plen[k], crc);
        if (pay[k] == NULL) {
            return 1;
        }
    }
    if (o != len) {
        return 1;
    }
    /* check everything ... */
    p = pay[0];
    if (plen[0] != 8u || (ld32(p) & 0xfu) != 0u || (ld32(p + 4) & 0xc018u) != 0u || ((ld32(p + 4) >> 5) & 7u) != 1u
        || !rebar_size_ok(ld32(p), ld32(p + 4))) {
        return 1;
    }
    p = pay[1];
    if (plen[1] != 57u || (ld16(p + 4) & 0xf800u) != 0u || (ld16(p + 6) & 0x46u) != 0u || (p[15] & 0x30u) != 0u
        || (ld32(p + 48) & 0x700u) != 0u || (p[52] & 0x3u) != 0u || (p[14] & 0x7fu) != 0u || p[54] > 4u
        || (ld32(p + 16) & 7u) != 4u || (ld32(p + 24) & 7u) != 4u || bar_type(ld32(p + 32)) == 3u
        || bar_type(ld32(p + 36)) == 3u || ((ld32(p + 36) & 1u) == 0u && bar_type(ld32(p + 36)) == 2u)) {
        return 1;
    }
    p = pay[2];
    if (plen[2] != 8u || (ld16(p) & 0xf980u) != 0u || ((ld16(p) >> 4) & 7u) > ((ld16(p) >> 1) & 7u)
        || ((ld16(p) >> 1) & 7u) > 5u) {
        return 1;
    }
    p = pay[3];
    n = (ld16(p) & 0x7ffu) + 1u;
    words = (n + 63u) / 64u;
    if ((ld16(p) & 0x3800u) != 0u || plen[3] != 10u + 16u * n + 8u * words || (ld32(p + 2) & 7u) > 5u
        || (ld32(p + 6) & 7u) > 5u) {
        return 1;
    }
    p = pay[4];
    if (plen[4] != 60u || (ld32(p) & 0x1ffff0u) != 0u || (ld16(p + 4) & 0xff80u) != 0u
        || (ld16(p + 6) & 0xfffeu) != 0u || ld16(p + 57) != 0u || p[59] > 1u || ld16(p + 12) > ld16(p + 10)
        || ld32(p + 25) == 0u || (ld32(p + 25) & (ld32(p + 25) - 1u)) != 0u || (ld32(p + 25) & ~ld32(p + 21)) != 0u
        || !vf_bars_ok(p + 29)) {
        return 1;
    }
    /* ... then store it */
    s->rebar.cap0 = ld32(pay[0]);
    s->rebar.ctrl0 = ld32(pay[0] + 4);
    p = pay[1];
    h->vendor_id = ld16(p); h->device_id = ld16(p + 2); h->command = ld16(p + 4); h->status = ld16(p + 6);
    h->revision_id = p[8]; h->class_prog_if = p[9]; h->class_subclass = p[10]; h->class_base = p[11];
    h->cache_line_size = p[12]; h->latency_timer = p[13]; h->header_type = p[14]; h->bist = p[15];
    h->bar0 = ld32(p + 16); h->bar1_upper = ld32(p + 20); h->bar2 = ld32(p + 24); h->bar3_upper = ld32(p + 28);
    h->bar4 = ld32(p + 32); h->bar5 = ld32(p + 36); h->cardbus_cis = ld32(p + 40);
    h->subsystem_vendor_id = ld16(p + 44); h->subsystem_id = ld16(p + 46); h->rom_base = ld32(p + 48);
    h->cap_ptr = p[52]; h->interrupt_line = p[53]; h->interrupt_pin = p[54]; h->min_gnt = p[55];
    h->max_lat = p[56];
    p = pay[2];
    s->msi.control = ld16(p); s->msi.address_lo = ld32(p + 2); s->msi.data = ld16(p + 6);
    p = pay[3];
    s->msix.control = ld16(p); s->msix.table = ld32(p + 2); s->msix.pba = ld32(p + 6);
    for (i = 0; i < n; i++) {
        struct vfg_msix_vectors_entry *e = &s->msix.vectors[i];
        const uint8_t *q = p + 10 + 16 * i;
        e->address_lo = ld32(q); e->address_hi = ld32(q + 4); e->data = ld32(q + 8); e->vector_control = ld32(q + 12);
    }
    for (i = 0; i < words; i++) {
        s->msix.pending[i] = ld64(p + 10 + 16 * n + 8 * i);
    }
    p = pay[4];
    v->sriov_cap = ld32(p); v->sriov_ctrl = ld16(p + 4); v->sriov_status = ld16(p + 6); v->initial_vfs = ld16(p + 8);
    v->total_vfs = ld16(p + 10); v->num_vfs = ld16(p + 12); v->func_dep_link = p[14];
    v->first_vf_offset = ld16(p + 15); v->vf_stride = ld16(p + 17); v->vf_device_id = ld16(p + 19);
    v->supported_page_sizes = ld32(p + 21); v->system_page_size = ld32(p + 25); v->vf_bar0 = ld32(p + 29);
    v->vf_bar1_upper = ld32(p + 33); v->vf_bar2 = ld32(p + 37); v->vf_bar3 = ld32(p + 41); v->vf_bar4 = ld32(p + 45);
    v->vf_bar5 = ld32(p + 49); v->vf_migration_state_array_offset = ld32(p + 53); v->vfs_created = ld16(p + 57);
    v->vf_user_created = p[59] != 0u;
    return 0;
}

/* --- the benchmark ----------------------------------------------------------------------------------- */

#ifdef VFG_BENCH_BASELINE
enum { GEN_SIMD, GEN_PORTABLE, HAND_SIMD, HAND_PORTABLE, MEMCPY, CRC_SIMD, CRC_PORTABLE, BASE_SIMD, BASE_PORTABLE,
       IMPLS };
static const char *const names[IMPLS] = {"generated", "generated-no-simd", "hand", "hand-no-simd", "memcpy",
                                         "crc32c", "crc32c-no-simd", "baseline", "baseline-no-simd"};
#else
enum { GEN_SIMD, GEN_PORTABLE, HAND_SIMD, HAND_PORTABLE, MEMCPY, CRC_SIMD, CRC_PORTABLE, IMPLS };
static const char *const names[IMPLS] = {"generated", "generated-no-simd", "hand", "hand-no-simd", "memcpy",
                                         "crc32c", "crc32c-no-simd"};
#endif
static const unsigned sizes[] = {1, 64, 2048};
#define SIZES (sizeof sizes / sizeof sizes[0])

static struct vfg_example_nic_state state[SIZES], in;
static struct vfg_example_nic_descriptor desc[SIZES], src;
static uint8_t blob[SIZES][VFG_EXAMPLE_NIC_MAX_SIZE], out[VFG_EXAMPLE_NIC_MAX_SIZE];
static size_t blob_len[SIZES], desc_len[SIZES];
static const uint8_t *desc_bytes[SIZES];
static double samples[SIZES][2][IMPLS][BENCH_MAX_ROUNDS];

static void setup(void)
{
    size_t k;
    unsigned i;
    for (k = 0; k < SIZES; k++) {
        struct vfg_example_nic_state *s = &state[k];
        memset(s, 0, sizeof *s);
        vfg_rebar_init(&s->rebar);
        vfg_header_init(&s->header);
        vfg_msi_init(&s->msi);
        vfg_msix_init(&s->msix);
        vfg_sriov_init(&s->sriov);
        s->rebar.cap0 = 1u << 4;
        s->rebar.ctrl0 = 1u << VFG_REBAR_CTRL0_NUM_BARS_SHIFT;
        s->header.vendor_id = 0x8086;
        s->header.device_id = 0x1572;
        s->header.command = 0x6;
        s->header.bar0 = 0xfe000004u;
        s->header.bar2 = 0xfd000004u;
        s->sriov.vf_bar0 = 0x4u;
        s->sriov.supported_page_sizes = 0x553u;
        s->sriov.system_page_size = 0x1u;
        s->msix.control = (uint16_t)(0x8000u | (sizes[k] - 1u));
        for (i = 0; i < sizes[k]; i++) {
            s->msix.vectors[i].address_lo = 0xfee00000u | (i << 12);
            s->msix.vectors[i].data = 0x4000u + i;
            s->msix.vectors[i].vector_control = i & 1u;
        }
    }
}

static int run(int impl, int op, size_t k)
{
    size_t len = 0;
    switch (impl) {
    case GEN_SIMD:
        return op == 0 ? simd_example_nic_load(blob[k], blob_len[k], NULL, NULL, NULL, &in, &src, NULL, NULL, NULL)
                       : simd_example_nic_save(&state[k], NULL, &desc[k], NULL, NULL, NULL, out, sizeof out, &len, NULL);
    case GEN_PORTABLE:
        return op == 0 ? portable_example_nic_load(blob[k], blob_len[k], NULL, NULL, NULL, &in, &src, NULL, NULL, NULL)
                       : portable_example_nic_save(&state[k], NULL, &desc[k], NULL, NULL, NULL, out, sizeof out, &len,
                                                   NULL);
#ifdef VFG_BENCH_BASELINE
    case BASE_SIMD:
        return op == 0 ? base_simd_example_nic_load(blob[k], blob_len[k], NULL, NULL, NULL, &in, &src, NULL, NULL,
                                                    NULL)
                       : base_simd_example_nic_save(&state[k], NULL, &desc[k], NULL, NULL, NULL, out, sizeof out,
                                                    &len, NULL);
    case BASE_PORTABLE:
        return op == 0 ? base_portable_example_nic_load(blob[k], blob_len[k], NULL, NULL, NULL, &in, &src, NULL,
                                                        NULL, NULL)
                       : base_portable_example_nic_save(&state[k], NULL, &desc[k], NULL, NULL, NULL, out,
                                                        sizeof out, &len, NULL);
#endif
    case HAND_SIMD:
    case HAND_PORTABLE: {
        crc_fn crc = impl == HAND_SIMD ? simd_crc32c : portable_crc32c;
        return op == 0 ? hand_load(blob[k], blob_len[k], desc_bytes[k], desc_len[k], &in, crc)
                       : hand_save(&state[k], desc_bytes[k], desc_len[k], out, sizeof out, &len, crc);
    }
    case CRC_SIMD:
    case CRC_PORTABLE: {
        crc_fn crc = impl == CRC_SIMD ? simd_crc32c : portable_crc32c;
        size_t o = 8;
        unsigned acc = 0;
        while (o < blob_len[k]) { /* every frame, as a load checks them */
            uint32_t n = ld32(blob[k] + o + 8);
            acc += crc(0, blob[k] + o, 12u + n);
            o += 16u + n;
        }
        return (int)(acc & 1u);
    }
    default:
        memcpy(out, blob[k], blob_len[k]);
        __asm__ __volatile__("" : : "r"(out) : "memory");
        return 0;
    }
}

/* Both loads refuse blob k with the MSI-X table BIR set to 7 (reserved) and the frame's CRC made right. */
static int refuses_bir_7(size_t k)
{
    size_t o = 8;
    int refused;
    uint8_t keep[4];
    struct vfg_error err;
    uint32_t n;
    while (ld16(blob[k] + o) != ids[3] || o == 8u) {
        o += 16u + ld32(blob[k] + o + 8);
    }
    n = ld32(blob[k] + o + 8);
    memcpy(keep, blob[k] + o + 12 + n, 4);
    blob[k][o + 12 + 5] |= 7u; /* table: bytes 2-5 of the payload, BIR in the low bits */
    st32(blob[k] + o + 12 + n, portable_crc32c(0, blob[k] + o, 12u + n));
    memset(&in, 0, sizeof in);
    refused = hand_load(blob[k], blob_len[k], desc_bytes[k], desc_len[k], &in, portable_crc32c) != 0
              && simd_example_nic_load(blob[k], blob_len[k], NULL, NULL, NULL, &in, &src, NULL, NULL, &err) != VFG_OK;
    blob[k][o + 12 + 5] &= (uint8_t)~7u;
    memcpy(blob[k] + o + 12 + n, keep, 4);
    return refused ? 0 : 1;
}

static int self_check(void)
{
    size_t k, len;
    struct vfg_error err;
    for (k = 0; k < SIZES; k++) {
        /* the state's own descriptor: a load holds the stream's descriptor to the frames' registers */
        if (vfg_example_nic_derive_descriptor(&desc[k], &state[k], NULL, &err) != VFG_OK) {
            fprintf(stderr, "derive: %s.%s: %s\n", err.section, err.field, err.message);
            return 1;
        }
        if (simd_example_nic_save(&state[k], NULL, &desc[k], NULL, NULL, NULL, blob[k], sizeof blob[k], &blob_len[k],
                                  &err) != VFG_OK) {
            fprintf(stderr, "save: %s.%s: %s\n", err.section, err.field, err.message);
            return 1;
        }
        desc_len[k] = ld32(blob[k] + 16);
        desc_bytes[k] = blob[k] + 20;
        if (portable_example_nic_save(&state[k], NULL, &desc[k], NULL, NULL, NULL, out, sizeof out, &len, &err) != 0
            || len != blob_len[k] || memcmp(out, blob[k], len) != 0) {
            fprintf(stderr, "the two builds save different blobs\n");
            return 1;
        }
        if (hand_save(&state[k], desc_bytes[k], desc_len[k], out, sizeof out, &len, portable_crc32c) != 0
            || len != blob_len[k] || memcmp(out, blob[k], len) != 0) {
            fprintf(stderr, "the hand-written codec saves another blob at %u vectors\n", sizes[k]);
            return 1;
        }
        memset(&in, 0, sizeof in);
        if (hand_load(blob[k], blob_len[k], desc_bytes[k], desc_len[k], &in, simd_crc32c) != 0
            || memcmp(&in.msix, &state[k].msix, sizeof in.msix) != 0
            || memcmp(&in.header, &state[k].header, sizeof in.header) != 0) {
            fprintf(stderr, "the hand-written load differs\n");
            return 1;
        }
        out[0] = blob[k][blob_len[k] - 1];
        blob[k][blob_len[k] - 1] ^= 1u;
        if (hand_load(blob[k], blob_len[k], desc_bytes[k], desc_len[k], &in, portable_crc32c) == 0
            || simd_example_nic_load(blob[k], blob_len[k], NULL, NULL, NULL, &in, &src, NULL, NULL, &err) == VFG_OK) {
            fprintf(stderr, "a corrupted CRC was accepted\n");
            return 1;
        }
        blob[k][blob_len[k] - 1] = out[0];
#ifdef VFG_BENCH_BASELINE
        /* the baseline saves the same bytes (the wire format is the same) and loads them */
        if (base_simd_example_nic_save(&state[k], NULL, &desc[k], NULL, NULL, NULL, out, sizeof out, &len, &err) != 0
            || len != blob_len[k] || memcmp(out, blob[k], len) != 0
            || base_portable_example_nic_load(blob[k], blob_len[k], NULL, NULL, NULL, &in, &src, NULL, NULL,
                                              &err) != VFG_OK) {
            fprintf(stderr, "the baseline saves another blob or refuses this one\n");
            return 1;
        }
#endif
        if (refuses_bir_7(k) != 0) {
            fprintf(stderr, "an MSI-X table BIR of 7 (CRC right) was accepted\n");
            return 1;
        }
        if (simd_example_nic_load(blob[k], blob_len[k], NULL, NULL, NULL, &in, &src, NULL, NULL, &err) != VFG_OK
            || portable_example_nic_load(blob[k], blob_len[k], NULL, NULL, NULL, &in, &src, NULL, NULL, &err) != VFG_OK) {
            fprintf(stderr, "load: %s.%s: %s\n", err.section, err.field, err.message);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 31;
    size_t k;
    static char prefix[SIZES][64];
    const char *prefixes[SIZES];
    setup();
    if (self_check() != 0) {
        return 1;
    }
    if (rounds < 1 || rounds > BENCH_MAX_ROUNDS) {
        return 2;
    }
    bench_rounds(rounds, SIZES, IMPLS, sizes, run, &samples[0][0][0][0]);
    for (k = 0; k < SIZES; k++) {
        snprintf(prefix[k], sizeof prefix[k], "%u\t%zu", sizes[k], blob_len[k]);
        prefixes[k] = prefix[k];
    }
    bench_print(rounds, SIZES, IMPLS, prefixes, names, &samples[0][0][0][0]);
    return 0;
}
