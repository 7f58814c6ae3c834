/* bench_private: the cost of the RFC 9497 OPRF (privacy/privacy.h) against
 * the bare elliptic-curve work it is made of, measured in the same run.
 *
 *   server  privacy_oprf_blind_evaluate     vs one crypto_scalarmult_ristretto255
 *   client  privacy_oprf_blind + _finalize  vs two scalar multiplications and
 *                                              one crypto_core_ristretto255_from_hash
 *
 * Each figure runs T threads for S seconds (default 2 threads, 1 s), in R
 * interleaved rounds (default 5), and reports the median operations per
 * second in total (both cores used) and the median cost ratios. See
 * README.md for the figures and how to read them. */
#include <pthread.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "privacy/privacy.h"

enum kind { BARE_SERVER, OPRF_SERVER, BARE_CLIENT, OPRF_CLIENT, OPRF_BATCH, NKINDS };

static const char *const names[] = {
    "bare server: 1 scalarmult",
    "oprf BlindEvaluate",
    "bare client: from_hash + 2 scalarmult",
    "oprf Blind + Finalize",
    "oprf Blind + Finalize (batch of 64)",
};

struct job {
    enum kind kind;
    double seconds;
    unsigned long ops;
    uint8_t sk[32];
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
    fprintf(stderr, "bench_private: %s failed\n", what);
    exit(1);
}

/* 64 values blinded one by one, then finalised together. */
static int batch(const struct job *j, const uint8_t ev1[32])
{
    static _Thread_local uint8_t in[64][16], blinds[64][32], ev[64][32], out[64][64];
    const uint8_t *inputs[64];
    size_t lens[64];
    uint8_t blinded[32];

    for (int k = 0; k < 64; k++) {
        randombytes_buf(in[k], sizeof(in[k]));
        inputs[k] = in[k];
        lens[k] = sizeof(in[k]);
        memcpy(ev[k], ev1, 32);
        if (privacy_oprf_blind_random(in[k], lens[k], blinds[k], blinded, NULL) != MRD_OK)
            return -1;
    }
    (void)j;
    return privacy_oprf_finalize_batch(64, inputs, lens, blinds[0], ev[0], out[0], NULL) == MRD_OK
               ? 0
               : -1;
}

static void *worker(void *arg)
{
    struct job *j = arg;
    uint8_t blind[32], blinded[32], ev[32], out[64], pt[32], tmp[32], h[64];
    uint8_t input[16];
    double end = now() + j->seconds;
    unsigned long n = 0;

    randombytes_buf(input, sizeof(input));
    crypto_core_ristretto255_scalar_random(blind);
    if (privacy_oprf_blind(input, sizeof(input), blind, blinded, NULL) != MRD_OK ||
        privacy_oprf_blind_evaluate(j->sk, blinded, ev, NULL) != MRD_OK)
        fail("blind");
    /* The client loop finalises this one evaluated element with each fresh
     * blind: the output is then meaningless, but the work (inversion, one
     * multiplication, the hash) is exactly Finalize's. */
    while (now() < end) {
        if (j->kind == OPRF_BATCH) {
            if (batch(j, ev) != 0)
                fail("batch");
            n += 64;
            continue;
        }
        for (int k = 0; k < 64; k++, n++) {
            input[0] = (uint8_t)n; /* a different value each time */
            input[1] = (uint8_t)(n >> 8);
            switch (j->kind) {
            case BARE_SERVER:
                if (crypto_scalarmult_ristretto255(ev, j->sk, blinded) != 0)
                    fail("scalarmult");
                break;
            case OPRF_SERVER:
                if (privacy_oprf_blind_evaluate(j->sk, blinded, ev, NULL) != MRD_OK)
                    fail("blind_evaluate");
                break;
            case BARE_CLIENT:
                crypto_generichash(h, sizeof(h), input, sizeof(input), NULL, 0);
                crypto_core_ristretto255_from_hash(pt, h);
                if (crypto_scalarmult_ristretto255(tmp, blind, pt) != 0 ||
                    crypto_scalarmult_ristretto255(pt, j->sk, tmp) != 0)
                    fail("scalarmult");
                break;
            case OPRF_CLIENT:
                if (privacy_oprf_blind_random(input, sizeof(input), blind, blinded, NULL) !=
                        MRD_OK ||
                    privacy_oprf_finalize(input, sizeof(input), blind, ev, out, NULL) != MRD_OK)
                    fail("blind/finalize");
                break;
            default: /* OPRF_BATCH runs above */
                break;
            }
        }
    }
    j->ops = n;
    return NULL;
}

/* CPU seconds (user + system) this process has used. */
static double cpu_now(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Operations per second (all threads), and CPU microseconds per operation
 * in *ret_cpu_us: the figure a shared machine's load does not inflate. */
static double measure(enum kind kind, int threads, double seconds, const uint8_t sk[32],
                      double *ret_cpu_us)
{
    pthread_t tid[64];
    struct job jobs[64];
    unsigned long total = 0;
    double t0 = now(), c0 = cpu_now(), el;

    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct job){.kind = kind, .seconds = seconds};
        memcpy(jobs[i].sk, sk, 32);
        if (pthread_create(&tid[i], NULL, worker, &jobs[i]) != 0)
            fail("pthread_create");
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        total += jobs[i].ops;
    }
    el = now() - t0;
    *ret_cpu_us = total > 0 ? (cpu_now() - c0) * 1e6 / (double)total : 0;
    return (double)total / el;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int threads = 2, rounds = 5;
    double seconds = 1;
    uint8_t seed[32], sk[32], pk[32];
    double rate[NKINDS][64], cpu[NKINDS][64], ratio[3][64];

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--rounds") == 0)
            rounds = atoi(argv[i + 1]);
    }
    if (threads < 1 || threads > 64 || seconds <= 0 || rounds < 1 || rounds > 64) {
        fprintf(stderr, "usage: bench_private [--threads 1..64] [--seconds S] [--rounds 1..64]\n");
        return 2;
    }
    if (sodium_init() < 0)
        fail("sodium_init");
    randombytes_buf(seed, sizeof(seed));
    if (privacy_oprf_derive_key_pair(seed, (const uint8_t *)"bench", 5, sk, pk, NULL) != MRD_OK)
        fail("derive_key_pair");
    printf("threads %d, %d rounds, %.1f s per figure per round\n", threads, rounds, seconds);
    /* Rounds interleave the bare and the OPRF figures, so that a shared
     * machine's changing load hits both alike; the medians are reported. */
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < NKINDS; k++)
            rate[k][r] = measure((enum kind)k, threads, seconds, sk, &cpu[k][r]);
        ratio[0][r] = rate[BARE_SERVER][r] / rate[OPRF_SERVER][r];
        ratio[1][r] = rate[BARE_CLIENT][r] / rate[OPRF_CLIENT][r];
        ratio[2][r] = rate[BARE_CLIENT][r] / rate[OPRF_BATCH][r];
    }
    for (int k = 0; k < NKINDS; k++) {
        qsort(rate[k], (size_t)rounds, sizeof(double), cmp_double);
        qsort(cpu[k], (size_t)rounds, sizeof(double), cmp_double);
        printf("%-40s %10.0f ops/s (median) %8.1f cpu-us/op\n", names[k], rate[k][rounds / 2],
               cpu[k][rounds / 2]);
    }
    qsort(ratio[0], (size_t)rounds, sizeof(double), cmp_double);
    qsort(ratio[1], (size_t)rounds, sizeof(double), cmp_double);
    qsort(ratio[2], (size_t)rounds, sizeof(double), cmp_double);
    printf(
        "server: oprf costs %.2fx the bare scalar multiplication (median of rounds; %.2f-%.2f)\n",
        ratio[0][rounds / 2], ratio[0][0], ratio[0][rounds - 1]);
    printf("client: oprf costs %.2fx the bare hash-to-group + 2 multiplications (median; "
           "%.2f-%.2f)\n",
           ratio[1][rounds / 2], ratio[1][0], ratio[1][rounds - 1]);
    printf("client, batch of 64: %.2fx (median; %.2f-%.2f)\n", ratio[2][rounds / 2], ratio[2][0],
           ratio[2][rounds - 1]);
    return 0;
}
