/*
 * What the C benchmarks share: the process's CPU time (every thread's) and a
 * fixed xorshift64 stream, so each run draws the same data.
 */
#ifndef MERIDIAN_BENCH_H
#define MERIDIAN_BENCH_H

#include <stdint.h>
#include <time.h>

/* CPU seconds (user + system) of the whole process so far. */
static inline double bench_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The next 32 bits of a stream that starts at the same seed in every run. */
static inline uint32_t bench_rnd(void)
{
    static uint64_t rng = 88172645463325252ULL;

    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

#endif
