/*
 * bench_ledger: the ledger's three figures (see README.md).
 *
 *   1. durable appends per second: T threads each appending one entry at a
 *      time (every call returns only after fdatasync; group commit shares
 *      it), and one thread appending batches of B entries;
 *   2. inclusion proofs per second on an N-leaf tree (default 10,000,000),
 *      random leaf, at the full tree size, each proof also verified once in
 *      a separate pass so the figure is for correct proofs;
 *   3. bytes of storage per leaf (the log file's size / N).
 *
 * usage: bench_ledger [--dir DIR] [--leaves N] [--threads T] [--batch B]
 *                     [--prove-threads P] [--seconds S] [--keep] [--proofs-only]
 * DIR is created (default /tmp/bench-ledger-PID) and removed unless --keep;
 * --proofs-only skips the append figures (reuse a --keep'd tree).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ledger/ledger.h"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: the machine is shared, so wall-clock rates
 * depend on the neighbours; CPU-time rates do not. */
static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void entry_for(uint64_t i, struct ledger_entry *e)
{
    e->kind = LEDGER_KIND_OBJECT;
    e->time_ms = 1700000000000ull + i;
    memset(e->hash, 0, sizeof(e->hash));
    memcpy(e->hash, &i, sizeof(i));
}

static void die(const char *what, const struct mrd_err *err)
{
    fprintf(stderr, "bench_ledger: %s: %s\n", what, err != NULL ? err->msg : "");
    exit(1);
}

struct appender {
    struct ledger *log;
    double until;
    uint64_t done;
};

static void *append_loop(void *arg)
{
    struct appender *a = arg;
    struct ledger_entry e;
    struct mrd_err err = {0};

    while (now() < a->until) {
        entry_for(a->done, &e);
        if (ledger_append(a->log, &e, 1, NULL, &err) != MRD_OK)
            die("append", &err);
        a->done++;
    }
    return NULL;
}

struct prover {
    struct ledger *log;
    uint64_t size;
    double until;
    uint64_t seed;
    uint64_t done;
};

static void *prove_loop(void *arg)
{
    struct prover *p = arg;
    uint8_t proof[MERKLE_MAX_PROOF * MERKLE_HASH_LEN];
    size_t len = 0;
    struct mrd_err err = {0};

    while (now() < p->until) {
        for (int k = 0; k < 1000; k++) {
            p->seed ^= p->seed << 13;
            p->seed ^= p->seed >> 7;
            p->seed ^= p->seed << 17;
            if (ledger_prove_inclusion(p->log, p->seed % p->size, p->size, proof, &len, &err) !=
                MRD_OK)
                die("prove", &err);
            p->done++;
        }
    }
    return NULL;
}

static void remove_dir(const char *dir)
{
    char p[4200];

    snprintf(p, sizeof(p), "%s/log", dir);
    (void)unlink(p);
    snprintf(p, sizeof(p), "%s/checkpoint", dir);
    (void)unlink(p);
    (void)rmdir(dir);
}

int main(int argc, char **argv)
{
    char dir[4096];
    uint64_t leaves = 10000000, threads = 64, batch = 1024, provers = 2;
    double seconds = 3;
    int keep = 0, proofs_only = 0;
    struct ledger *log = NULL;
    struct mrd_err err = {0};
    struct ledger_entry *buf;
    struct stat st;
    double t0, t1;

    snprintf(dir, sizeof(dir), "/tmp/bench-ledger-%d", (int)getpid());
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--keep") == 0 || strcmp(argv[i], "--proofs-only") == 0) {
            if (argv[i][2] == 'k')
                keep = 1;
            else
                proofs_only = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "usage: bench_ledger [--dir DIR] [--leaves N] [--threads T] "
                            "[--batch B] [--seconds S] [--keep]\n");
            return 2;
        }
        if (strcmp(argv[i], "--dir") == 0)
            snprintf(dir, sizeof(dir), "%s", argv[++i]);
        else if (strcmp(argv[i], "--leaves") == 0)
            leaves = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--prove-threads") == 0)
            provers = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--batch") == 0)
            batch = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "bench_ledger: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (sodium_init() < 0 || threads == 0 || threads > 1024 || batch == 0 ||
        batch > LEDGER_MAX_BATCH)
        return 2;
    t0 = now();
    if (ledger_open(dir, LEDGER_OPEN_CREATE | LEDGER_OPEN_PROOFS, &log, NULL, &err) != MRD_OK)
        die(dir, &err);
    printf("dir %s (opened with %llu leaves in %.2f s)\n", dir,
           (unsigned long long)ledger_size(log), now() - t0);

    /* 1a. Concurrent single-entry appenders (group commit). */
    if (!proofs_only) {
        pthread_t *th = calloc(threads, sizeof(*th));
        struct appender *ap = calloc(threads, sizeof(*ap));
        uint64_t total = 0, before = ledger_size(log);

        t0 = now();
        for (uint64_t i = 0; i < threads; i++) {
            ap[i].log = log;
            ap[i].until = t0 + seconds;
            pthread_create(&th[i], NULL, append_loop, &ap[i]);
        }
        for (uint64_t i = 0; i < threads; i++) {
            pthread_join(th[i], NULL);
            total += ap[i].done;
        }
        t1 = now();
        printf("durable appends, %llu threads x 1 entry/call: %.0f /s (%llu in %.2f s)\n",
               (unsigned long long)threads, (double)total / (t1 - t0),
               (unsigned long long)(ledger_size(log) - before), t1 - t0);
        free(th);
        free(ap);
    }

    /* 1b. One thread, batches. */
    buf = calloc(LEDGER_MAX_BATCH, sizeof(*buf));
    if (!proofs_only) {
        uint64_t done = 0;
        double c0 = cpu_now();

        t0 = now();
        while (now() - t0 < seconds) {
            for (uint64_t k = 0; k < batch; k++)
                entry_for(done + k, &buf[k]);
            if (ledger_append(log, buf, (size_t)batch, NULL, &err) != MRD_OK)
                die("append", &err);
            done += batch;
        }
        t1 = now();
        printf("durable appends, 1 thread x %llu entries/call: %.0f /s wall clock (%.0f%% of a "
               "CPU)\n",
               (unsigned long long)batch, (double)done / (t1 - t0),
               100 * (cpu_now() - c0) / (t1 - t0));
    }

    /* 2. Grow to `leaves` in maximal batches, then prove. */
    t0 = now();
    while (ledger_size(log) < leaves) {
        uint64_t n = leaves - ledger_size(log);

        if (n > LEDGER_MAX_BATCH)
            n = LEDGER_MAX_BATCH;
        for (uint64_t k = 0; k < n; k++)
            entry_for(ledger_size(log) + k, &buf[k]);
        if (ledger_append(log, buf, (size_t)n, NULL, &err) != MRD_OK)
            die("append", &err);
    }
    t1 = now();
    printf("built a %llu-leaf tree in %.1f s\n", (unsigned long long)ledger_size(log), t1 - t0);
    free(buf);
    {
        uint64_t size = ledger_size(log), n = 0, seed = 88172645463325252ull;
        uint8_t proof[MERKLE_MAX_PROOF * MERKLE_HASH_LEN], root[MERKLE_HASH_LEN],
            leaf[MERKLE_HASH_LEN];
        size_t len = 0, total_len = 0;

        double c0, c1;

        if (ledger_root(log, size, root, &err) != MRD_OK)
            die("root", &err);
        c0 = cpu_now();
        t0 = now();
        while (now() - t0 < seconds) {
            for (int k = 0; k < 1000; k++) {
                seed ^= seed << 13; /* xorshift64: a cheap uniform index */
                seed ^= seed >> 7;
                seed ^= seed << 17;
                if (ledger_prove_inclusion(log, seed % size, size, proof, &len, &err) != MRD_OK)
                    die("prove", &err);
                total_len += len;
                n++;
            }
        }
        t1 = now();
        c1 = cpu_now();
        printf("inclusion proofs on %llu leaves: %.0f /s wall clock, %.0f per CPU second (mean "
               "%.1f hashes, %.0f%% of a CPU)\n",
               (unsigned long long)size, (double)n / (t1 - t0), (double)n / (c1 - c0),
               (double)total_len / (double)n, 100 * (c1 - c0) / (t1 - t0));
        /* The same proofs are correct: verify a sample. */
        for (uint64_t k = 0; k < 10000; k++) {
            uint64_t i = (k * 7919 * 7919) % size;

            if (ledger_prove_inclusion(log, i, size, proof, &len, &err) != MRD_OK ||
                ledger_leaf_hash(log, i, leaf, &err) != MRD_OK ||
                merkle_verify_inclusion(i, size, leaf, root, MERKLE_HASH_LEN, proof, len, &err) !=
                    MRD_OK)
                die("verify", &err);
        }
        printf("10000 sampled proofs verified against the root\n");
    }
    if (provers > 1 && provers <= 64) {
        pthread_t th[64];
        struct prover pv[64];
        uint64_t total = 0;

        t0 = now();
        for (uint64_t i = 0; i < provers; i++) {
            pv[i] =
                (struct prover){log, ledger_size(log), t0 + seconds, 0x9e3779b97f4a7c15ull + i, 0};
            pthread_create(&th[i], NULL, prove_loop, &pv[i]);
        }
        for (uint64_t i = 0; i < provers; i++) {
            pthread_join(th[i], NULL);
            total += pv[i].done;
        }
        t1 = now();
        printf("inclusion proofs, %llu threads: %.0f /s wall clock\n", (unsigned long long)provers,
               (double)total / (t1 - t0));
    }

    /* 3. Storage. */
    {
        char p[4200];

        snprintf(p, sizeof(p), "%s/log", dir);
        if (stat(p, &st) != 0)
            die("stat", NULL);
        printf("storage: %llu bytes for %llu leaves = %.1f bytes/leaf\n",
               (unsigned long long)st.st_size, (unsigned long long)ledger_size(log),
               (double)st.st_size / (double)ledger_size(log));
    }
    ledger_free(log);
    if (!keep)
        remove_dir(dir);
    return 0;
}
