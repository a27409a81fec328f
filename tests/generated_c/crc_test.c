/*
 * vfg_crc32c over a fixed pattern: prints one line per case, "length offset split crc" in hex, for
 * test_c_crc.py to compare with the compiler's reference CRC-32C. Every length up to 2100 bytes (past
 * the three-stream path's 1536-byte step, with every tail) at 4 misalignments, chained at a split
 * point, and a 33,464-byte blob's size. Exits 1 if the check value of "123456789" is wrong.
 */
#include <stdio.h>

#include "vfg_runtime.h"

#define MAX_BYTES 33464u

static uint8_t data[MAX_BYTES + 8u];

static void one(size_t len, size_t offset)
{
    size_t split = len / 3u;
    const uint8_t *p = data + offset;
    uint32_t whole = vfg_crc32c(0u, p, len);
    uint32_t chained = vfg_crc32c(vfg_crc32c(0u, p, split), p + split, len - split);
    printf("%zx %zx %x %x\n", len, offset, (unsigned)whole, (unsigned)chained);
}

int main(void)
{
    size_t i, len, offset;
    for (i = 0; i < sizeof data; i++) {
        data[i] = (uint8_t)((i * 2654435761u) >> 13);
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
    for (len = 0; len <= 2100u; len++) {
        for (offset = 0; offset < 4u; offset++) {
            one(len, offset);
        }
    }
    one(MAX_BYTES, 0u);
    one(MAX_BYTES - 1u, 1u);
    return 0;
}
