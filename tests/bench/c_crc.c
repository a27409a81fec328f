/*
 * The generated C runtime's CRC-32C by implementation, and where a 2048-vector load's bulk work goes.
 * Built (with -DVFG_CRC_TESTING, for vfg_crc32c_force) and run by tests/bench/bench_c_crc.py; not a
 * test.
 *
 * Usage: c_crc ROUNDS    one line per measurement: "crc PATH BYTES" or "pass NAME BYTES", a tab,
 *                        then every round's ns per call, comma-separated. PATH is vfg_crc32c_force's
 *                        number (-1: as vfg_crc32c chooses); a path this CPU lacks is left out.
 *
 * The passes, over the example device's blob at 2048 vectors (33,763 bytes, of which the MSI-X
 * table is 32 KiB of 4-byte words): memcpy of the blob; the table's byte-swapping copy
 * (vfg_get_be_array) alone; the CRC of the blob alone; the two one after the other (what a load
 * does: the frame's CRC is checked before anything is stored); and the two interleaved 4 KiB at a
 * time, so that each block is still in L1 when the second pass reads it (what fusing the two
 * passes could at most save in memory traffic).
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfg_runtime.h"

int vfg_crc32c_force(int path);

#define BLOB 33763u
#define TABLE 32768u
#define BLOCK 4096u

static uint8_t blob[BLOB + 64u];
static uint32_t table[TABLE / 4u];
static uint8_t copy[BLOB + 64u];
static volatile uint32_t sink;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void pass(int which)
{
    size_t i;
    uint32_t crc = 0u;
    switch (which) {
    case 0:
        memcpy(copy, blob, BLOB);
        __asm__ volatile("" : : "r"(copy) : "memory"); /* the copy is used */
        break;
    case 1:
        vfg_get_be_array(table, blob + 16, TABLE / 4u, 4u);
        __asm__ volatile("" : : "r"(table) : "memory");
        break;
    case 2:
        crc = vfg_crc32c(0u, blob, BLOB);
        break;
    case 3:
        crc = vfg_crc32c(0u, blob, BLOB);
        vfg_get_be_array(table, blob + 16, TABLE / 4u, 4u);
        break;
    default:
        crc = vfg_crc32c(0u, blob, 16u);
        for (i = 0; i < TABLE; i += BLOCK) {
            crc = vfg_crc32c(crc, blob + 16 + i, BLOCK);
            vfg_get_be_array(table + i / 4u, blob + 16 + i, BLOCK / 4u, 4u);
        }
        crc = vfg_crc32c(crc, blob + 16 + TABLE, BLOB - 16u - TABLE);
        break;
    }
    sink += crc;
}

static const char *const pass_names[] = {"memcpy", "swap", "crc", "crc_then_swap", "interleaved"};
static const size_t lengths[] = {16, 32, 64, 96, 128, 192, 256, 384, 512, 1024, 2048, 4096, 33763};

static void print_times(const double *t, int rounds)
{
    int r;
    for (r = 0; r < rounds; r++) {
        printf("%s%.2f", r ? "," : "\t", t[r]);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 31;
    double *t = calloc((size_t)rounds > 0 ? (size_t)rounds : 1u, sizeof *t);
    size_t i, l;
    int path, r, k;
    if (t == NULL || rounds < 1) {
        return 1;
    }
    for (i = 0; i < sizeof blob; i++) {
        blob[i] = (uint8_t)(i * 131u + 7u);
    }
    for (path = -1; path <= 4; path++) {
        if (!vfg_crc32c_force(path)) {
            continue;
        }
        for (l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
            long reps = lengths[l] < 1024u ? 20000 : lengths[l] < 8192u ? 2000 : 300;
            for (r = 0; r < rounds; r++) {
                double start = now();
                for (k = 0; k < reps; k++) {
                    sink += vfg_crc32c(sink, blob + 1, lengths[l]);
                }
                t[r] = (now() - start) / (double)reps;
            }
            printf("crc %d %zu", path, lengths[l]);
            print_times(t, rounds);
        }
    }
    vfg_crc32c_force(-1);
    for (k = 0; k < 5; k++) {
        for (r = 0; r < rounds; r++) {
            double start = now();
            long rep;
            for (rep = 0; rep < 300; rep++) {
                pass(k);
            }
            t[r] = (now() - start) / 300.0;
        }
        printf("pass %s %u", pass_names[k], BLOB);
        print_times(t, rounds);
    }
    free(t);
    return 0;
}
