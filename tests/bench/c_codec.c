/*
 * Generated C save/load of the header + MSI-X record against hand-written C and memcpy.
 * Built and run by tests/bench/bench_c_codec.py; not a test.
 *
 * The record is the type-0 header (57 bytes with no 64-bit BARs) followed by
 * the MSI-X payload at N vectors. The hand-written codec is what a careful
 * engineer would write for the same contract on the load side: one bounds
 * check per run, the same reserved-bit, enum and constraint checks as the
 * schemas, straight into the caller's state (single pass, so not
 * transactional: the generated load's check-then-store is the price of that
 * guarantee and is what this measures). memcpy copies the same number of bytes.
 *
 * Usage: c_codec VECTORS ROUNDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfg_header.h"
#include "vfg_msix.h"

#define BUF (57u + 10u + 2048u * 16u + 32u * 8u)

static struct vfg_header_state header, header_in;
static struct vfg_msix_state msix, msix_in;
static uint8_t blob[BUF];
static uint8_t copy[BUF];
static size_t blob_len;
static volatile unsigned sink;

/* --- hand-written --------------------------------------------------------------------------------- */

static size_t hand_save(const struct vfg_header_state *h, const struct vfg_msix_state *x, uint8_t *b, size_t cap)
{
    size_t n = (size_t)(x->control & 0x7ffu) + 1u;
    size_t pba = (n + 63u) / 64u;
    size_t need = 57u + 10u + n * 16u + pba * 8u;
    size_t i;
    uint8_t *p = b;
    if (cap < need) {
        return 0;
    }
    vfg_put_be16(p, h->vendor_id); vfg_put_be16(p + 2, h->device_id);
    vfg_put_be16(p + 4, h->command); vfg_put_be16(p + 6, h->status);
    p[8] = h->revision_id; p[9] = h->class_prog_if; p[10] = h->class_subclass; p[11] = h->class_base;
    p[12] = h->cache_line_size; p[13] = h->latency_timer; p[14] = h->header_type; p[15] = h->bist;
    vfg_put_be32(p + 16, h->bar0); vfg_put_be32(p + 20, h->bar1); vfg_put_be32(p + 24, h->bar2);
    vfg_put_be32(p + 28, h->bar3); vfg_put_be32(p + 32, h->bar4); vfg_put_be32(p + 36, h->bar5);
    vfg_put_be32(p + 40, h->cardbus_cis); vfg_put_be16(p + 44, h->subsystem_vendor_id);
    vfg_put_be16(p + 46, h->subsystem_id); vfg_put_be32(p + 48, h->rom_base);
    p[52] = h->cap_ptr; p[53] = h->interrupt_line; p[54] = h->interrupt_pin; p[55] = h->min_gnt; p[56] = h->max_lat;
    p += 57;
    vfg_put_be16(p, x->control); vfg_put_be32(p + 2, x->table); vfg_put_be32(p + 6, x->pba);
    p += 10;
    for (i = 0; i < n; i++, p += 16) {
        vfg_put_be32(p, x->vectors[i].address_lo);
        vfg_put_be32(p + 4, x->vectors[i].address_hi);
        vfg_put_be32(p + 8, x->vectors[i].data);
        vfg_put_be32(p + 12, x->vectors[i].vector_control);
    }
    for (i = 0; i < pba; i++, p += 8) {
        vfg_put_be64(p, x->pending[i]);
    }
    return need;
}

static int bar_ok(uint32_t bar)
{
    uint32_t type = (bar >> 1) & 3u;
    /* memory BAR: type 1 and 3 are reserved; and with no 64-bit BARs declared, none may say 64-bit */
    return (bar & 1u) || (type != 1u && type != 3u && type != 2u);
}

static int hand_load(struct vfg_header_state *h, struct vfg_msix_state *x, const uint8_t *b, size_t len)
{
    const uint8_t *p = b;
    size_t n, pba, i;
    uint16_t control;
    if (len < 57u + 10u) {
        return -1;
    }
    if ((vfg_get_be16(p + 4) & 0xf800u) || (vfg_get_be16(p + 6) & 0x46u) || (p[14] & 0x7fu) != 0u
        || (p[15] & 0x30u) || (vfg_get_be32(p + 48) & 0x700u) || (p[52] & 3u) || p[54] > 4u
        || !bar_ok(vfg_get_be32(p + 16)) || !bar_ok(vfg_get_be32(p + 20)) || !bar_ok(vfg_get_be32(p + 24))
        || !bar_ok(vfg_get_be32(p + 28)) || !bar_ok(vfg_get_be32(p + 32)) || !bar_ok(vfg_get_be32(p + 36))) {
        return -1;
    }
    control = vfg_get_be16(p + 57);
    n = (size_t)(control & 0x7ffu) + 1u;
    pba = (n + 63u) / 64u;
    if ((control & 0x3800u) || (vfg_get_be32(p + 59) & 7u) > 5u || (vfg_get_be32(p + 63) & 7u) > 5u
        || len != 57u + 10u + n * 16u + pba * 8u) {
        return -1;
    }
    h->vendor_id = vfg_get_be16(p); h->device_id = vfg_get_be16(p + 2);
    h->command = vfg_get_be16(p + 4); h->status = vfg_get_be16(p + 6);
    h->revision_id = p[8]; h->class_prog_if = p[9]; h->class_subclass = p[10]; h->class_base = p[11];
    h->cache_line_size = p[12]; h->latency_timer = p[13]; h->header_type = p[14]; h->bist = p[15];
    h->bar0 = vfg_get_be32(p + 16); h->bar1 = vfg_get_be32(p + 20); h->bar2 = vfg_get_be32(p + 24);
    h->bar3 = vfg_get_be32(p + 28); h->bar4 = vfg_get_be32(p + 32); h->bar5 = vfg_get_be32(p + 36);
    h->cardbus_cis = vfg_get_be32(p + 40); h->subsystem_vendor_id = vfg_get_be16(p + 44);
    h->subsystem_id = vfg_get_be16(p + 46); h->rom_base = vfg_get_be32(p + 48);
    h->cap_ptr = p[52]; h->interrupt_line = p[53]; h->interrupt_pin = p[54]; h->min_gnt = p[55]; h->max_lat = p[56];
    p += 57;
    x->control = control; x->table = vfg_get_be32(p + 2); x->pba = vfg_get_be32(p + 6);
    p += 10;
    for (i = 0; i < n; i++, p += 16) {
        x->vectors[i].address_lo = vfg_get_be32(p);
        x->vectors[i].address_hi = vfg_get_be32(p + 4);
        x->vectors[i].data = vfg_get_be32(p + 8);
        x->vectors[i].vector_control = vfg_get_be32(p + 12);
    }
    for (i = 0; i < pba; i++, p += 8) {
        x->pending[i] = vfg_get_be64(p);
    }
    return 0;
}

/* --- generated ------------------------------------------------------------------------------------ */

static size_t generated_save(const struct vfg_header_state *h, const struct vfg_msix_state *x, uint8_t *b, size_t cap)
{
    size_t head = 0, tail = 0;
    if (vfg_header_save(h, VFG_HEADER_VERSION, NULL, b, cap, &head, NULL) != VFG_OK
        || vfg_msix_save(x, VFG_MSIX_VERSION, NULL, b + head, cap - head, &tail, NULL) != VFG_OK) {
        return 0;
    }
    return head + tail;
}

static int generated_load(struct vfg_header_state *h, struct vfg_msix_state *x, const uint8_t *b, size_t len)
{
    /* store checks each payload, then decodes it: one check and one decode each, as before store checked. */
    if (vfg_header_store(h, b, 0, 57u, VFG_HEADER_VERSION, NULL, NULL) != VFG_OK
        || vfg_msix_store(x, b, 57u, len, VFG_MSIX_VERSION, NULL, NULL) != VFG_OK) {
        return -1;
    }
    return 0;
}

/* --- timing --------------------------------------------------------------------------------------- */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

enum { GEN_SAVE, HAND_SAVE, COPY_SAVE, GEN_LOAD, HAND_LOAD, COPY_LOAD, CODECS };
static const char *const names[CODECS] = {"generated save", "hand save", "memcpy (save)",
                                          "generated load", "hand load", "memcpy (load)"};

static void run(int codec, long iterations)
{
    long i;
    for (i = 0; i < iterations; i++) {
        switch (codec) {
        case GEN_SAVE: sink += (unsigned)generated_save(&header, &msix, blob, sizeof blob); break;
        case HAND_SAVE: sink += (unsigned)hand_save(&header, &msix, blob, sizeof blob); break;
        case GEN_LOAD: sink += (unsigned)generated_load(&header_in, &msix_in, blob, blob_len); break;
        case HAND_LOAD: sink += (unsigned)hand_load(&header_in, &msix_in, blob, blob_len); break;
        default: memcpy(copy, blob, blob_len); sink += copy[i % (long)blob_len]; break;
        }
        __asm__ __volatile__("" : : "r"(blob), "r"(copy) : "memory"); /* keep each call's memory effects */
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    unsigned vectors = argc > 1 ? (unsigned)atoi(argv[1]) : 64u;
    int rounds = argc > 2 ? atoi(argv[2]) : 31;
    long iterations = vectors > 256u ? 2000 : 40000;
    double samples[CODECS][101];
    unsigned i;
    int r, c;
    uint8_t check[BUF];
    size_t check_len;
    vfg_header_init(&header);
    vfg_msix_init(&msix);
    header.vendor_id = 0x8086;
    header.device_id = 0x1572;
    header.command = 0x6;
    header.bar0 = 0xfe000000u;
    msix.control = (uint16_t)(0x8000u | (vectors - 1u));
    for (i = 0; i < vectors; i++) {
        msix.vectors[i].address_lo = 0xfee00000u | (i << 12);
        msix.vectors[i].data = 0x4000u + i;
        msix.vectors[i].vector_control = i & 1u;
    }
    blob_len = generated_save(&header, &msix, blob, sizeof blob);
    check_len = hand_save(&header, &msix, check, sizeof check);
    if (blob_len == 0 || check_len != blob_len || memcmp(check, blob, blob_len) != 0) {
        fprintf(stderr, "the codecs disagree on the bytes\n");
        return 1;
    }
    if (generated_load(&header_in, &msix_in, blob, blob_len) != 0 || hand_load(&header_in, &msix_in, blob, blob_len) != 0) {
        fprintf(stderr, "a codec refuses the record\n");
        return 1;
    }
    if (rounds > 101) {
        rounds = 101;
    }
    for (r = 0; r < rounds; r++) {
        for (c = 0; c < CODECS; c++) {
            double start = now();
            run(c, iterations);
            samples[c][r] = (now() - start) / (double)iterations;
        }
    }
    printf("%u vectors, %zu bytes\n", vectors, blob_len);
    for (c = 0; c < CODECS; c++) {
        qsort(samples[c], (size_t)rounds, sizeof samples[c][0], cmp);
        printf("%s\t%.1f\n", names[c], samples[c][rounds / 2]);
    }
    return 0;
}
