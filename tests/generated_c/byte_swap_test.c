/*
 * vfg_get_be_array and vfg_put_be_array against a byte-reversal reference: every width, every count up
 * to several vector blocks, every misalignment of source and destination. Prints the number of cases
 * checked; exits 1 at the first wrong byte.
 */
#include <stdio.h>

#include "vfg_runtime.h"

#define MAX_BYTES 200u

/* Host order is little-endian here (the test skips other hosts), so each word's bytes come reversed. */
static int reversed(const char *what, unsigned width, size_t count, const uint8_t *got, const uint8_t *wire)
{
    size_t i;
    for (i = 0; i < count * width; i++) {
        uint8_t want = wire[i / width * width + (width - 1u - i % width)];
        if (got[i] != want) {
            fprintf(stderr, "%s width %u count %zu: byte %zu is %02x, want %02x\n", what, width, count, i, got[i],
                    want);
            return 0;
        }
    }
    return 1;
}

int main(void)
{
    static const unsigned widths[] = {1u, 2u, 4u, 8u};
    uint8_t wire[MAX_BYTES + 8u], host[MAX_BYTES + 8u], back[MAX_BYTES + 8u];
    unsigned long cases = 0;
    size_t w, count, wire_shift, host_shift, i;
    for (i = 0; i < sizeof wire; i++) {
        wire[i] = (uint8_t)(i * 37u + 11u);
    }
    for (w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        unsigned width = widths[w];
        for (count = 0; count * width <= MAX_BYTES; count++) {
            size_t bytes = count * width;
            for (wire_shift = 0; wire_shift < 4u; wire_shift++) {
                for (host_shift = 0; host_shift < 4u; host_shift++) {
                    const uint8_t *src = wire + wire_shift;
                    memset(host, 0xee, sizeof host);
                    vfg_get_be_array(host + host_shift, src, count, width);
                    if (!reversed("get", width, count, host + host_shift, src)) {
                        return 1;
                    }
                    if (host[host_shift + bytes] != 0xeeu || (host_shift > 0u && host[host_shift - 1u] != 0xeeu)) {
                        fprintf(stderr, "get width %u count %zu: wrote outside the array\n", width, count);
                        return 1;
                    }
                    memset(back, 0xee, sizeof back);
                    vfg_put_be_array(back + wire_shift, host + host_shift, count, width);
                    if (memcmp(back + wire_shift, src, bytes) != 0 || back[wire_shift + bytes] != 0xeeu) {
                        fprintf(stderr, "put width %u count %zu: not the inverse of get\n", width, count);
                        return 1;
                    }
                    cases++;
                }
            }
        }
    }
    printf("%lu\n", cases);
    return 0;
}
