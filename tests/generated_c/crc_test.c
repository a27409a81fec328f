/*
 * vfg_crc32c over pseudo-random bytes, by one implementation: `crc_test PATH` forces path PATH
 * (vfg_crc32c_force: 0 slicing-by-8, 1 SSE4.2, 2 PCLMULQDQ, 3 VPCLMULQDQ 256-bit, 4 512-bit) or,
 * with -1, lets vfg_crc32c choose. Prints one line per case, "length offset whole chained" in hex,
 * for test_c_crc.py to compare with the compiler's reference CRC-32C: every length to 640 at 16
 * offsets, then longer lengths at offsets up to 63; "chained" is the CRC of the first third given
 * to the call for the rest. Exits 77 (printing why) where the build or the CPU lacks the path, 1 if
 * the check value of "123456789" is wrong. `crc_test -1 LEN...` prints the path vfg_crc32c takes for
 * each LEN instead.
 */
#include <stdio.h>
#include <stdlib.h>

#include "vfg_runtime.h"

int vfg_crc32c_force(int path);
int vfg_crc32c_path(size_t len);

#define MAX_BYTES 65600u

static uint8_t data[MAX_BYTES];

/* test_c_crc.py's copy: the same lengths and offsets, in this order */
static const size_t long_lengths[] = {641u, 777u, 1024u, 1535u, 1536u, 2100u, 4099u,
                                      8192u, 12345u, 33464u, 33763u, 65536u};
static const size_t long_offsets[] = {0u, 1u, 7u, 8u, 15u, 16u, 31u, 33u, 63u};

static void one(size_t len, size_t offset)
{
    size_t split = len / 3u;
    const uint8_t *p = data + offset;
    uint32_t whole = vfg_crc32c(0u, p, len);
    uint32_t chained = vfg_crc32c(vfg_crc32c(0u, p, split), p + split, len - split);
    printf("%zx %zx %x %x\n", len, offset, (unsigned)whole, (unsigned)chained);
}

int main(int argc, char **argv)
{
    size_t i, len, offset;
    uint64_t state = UINT64_C(0x9e3779b97f4a7c15);
    int path = argc > 1 ? atoi(argv[1]) : -1;
    if (argc > 2) { /* "crc_test -1 LEN...": the path vfg_crc32c takes for each LEN */
        for (i = 2; i < (size_t)argc; i++) {
            len = (size_t)strtoul(argv[i], NULL, 10);
            printf("%zu %d\n", len, vfg_crc32c_path(len));
        }
        return 0;
    }
    if (!vfg_crc32c_force(path)) {
        printf("path %d: not in this build or not on this CPU\n", path);
        return 77;
    }
    for (i = 0; i < sizeof data; i++) {
        /* xorshift64, the top byte of each step */
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data[i] = (uint8_t)(state >> 56);
    }
    if (vfg_crc32c(0u, (const uint8_t *)"123456789", 9u) != 0xe3069283u) {
        fprintf(stderr, "CRC-32C(\"123456789\") is %08x\n",
                (unsigned)vfg_crc32c(0u, (const uint8_t *)"123456789", 9u));
        return 1;
    }
    if (vfg_crc32c(0x1234u, NULL, 5u) != 0x1234u) {
        fprintf(stderr, "NULL data changed the CRC\n");
        return 1;
    }
    for (len = 0; len <= 640u; len++) {
        for (offset = 0; offset < 16u; offset++) {
            one(len, offset);
        }
    }
    for (i = 0; i < sizeof long_lengths / sizeof long_lengths[0]; i++) {
        for (offset = 0; offset < sizeof long_offsets / sizeof long_offsets[0]; offset++) {
            one(long_lengths[i], long_offsets[offset]);
        }
    }
    return 0;
}
