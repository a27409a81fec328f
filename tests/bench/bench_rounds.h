/*
 * The interleaved rounds of the whole-blob C benchmarks (c_device.c, c_vfio_pci.c), and their output.
 *
 * Each round times every case, load then save, every codec in turn, the codecs' order rotating by one each
 * round: a slow stretch of the machine falls on all of them, and bench_common.ratio takes the ratios round
 * by round. `samples` is `double [cases][2][impls][BENCH_MAX_ROUNDS]`, ns per call.
 */
#ifndef BENCH_ROUNDS_H
#define BENCH_ROUNDS_H

#include <stdio.h>
#include <time.h>

#define BENCH_MAX_ROUNDS 1001

/* One call of codec `impl` (an index into the caller's names) on case k; op 0 loads, 1 saves. */
typedef int (*bench_run_fn)(int impl, int op, size_t k);

static volatile unsigned bench_sink;

static double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* Calls per sample: fewer for the 2048-vector blobs (about 3 to 20 us each) than the small ones. */
static long bench_calls(unsigned vectors)
{
    return vectors > 256u ? 200 : 4000;
}

static void bench_rounds(int rounds, size_t cases, int impls, const unsigned *vectors, bench_run_fn run,
                         double *samples)
{
    int r, j, op;
    size_t k;
    long i;
    for (r = 0; r < rounds; r++) {
        for (k = 0; k < cases; k++) {
            long n = bench_calls(vectors[k]);
            for (op = 0; op < 2; op++) {
                for (j = 0; j < impls; j++) {
                    int impl = (j + r) % impls;
                    double start = bench_now();
                    for (i = 0; i < n; i++) {
                        bench_sink += (unsigned)run(impl, op, k);
                    }
                    samples[((k * 2u + (size_t)op) * (size_t)impls + (size_t)impl) * BENCH_MAX_ROUNDS
                            + (size_t)r] = (bench_now() - start) / (double)n;
                }
            }
        }
    }
}

/* One line per (case, operation, codec): `prefix[k]`, the operation, the codec, then every round's ns. */
static void bench_print(int rounds, size_t cases, int impls, const char *const *prefix, const char *const *names,
                        const double *samples)
{
    int r, j, op;
    size_t k;
    for (k = 0; k < cases; k++) {
        for (op = 0; op < 2; op++) {
            for (j = 0; j < impls; j++) {
                const double *s = samples + ((k * 2u + (size_t)op) * (size_t)impls + (size_t)j) * BENCH_MAX_ROUNDS;
                printf("%s\t%s\t%s\t", prefix[k], op == 0 ? "load" : "save", names[j]);
                for (r = 0; r < rounds; r++) {
                    printf("%s%.3f", r ? "," : "", s[r]);
                }
                printf("\n");
            }
        }
    }
}

#endif
