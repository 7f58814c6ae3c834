/*
 * bench_store: the store's share of the TAXII benchmark scenarios, without
 * HTTP: ingest in 100-object batches (durable commits), GET object by id,
 * a page of 100 objects, a manifest page, and a filtered page
 * (match[type] + added_after). See README.md.
 *
 * usage: bench_store DIR N [READERS [WRITERS]]   (DIR: an empty directory)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timestamp.h"
#include "store/store.h"

#define BATCH 100
#define OPS 20000

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* CPU seconds of the calling thread: on a shared, loaded machine this says
 * more about the store than wall time. */
static double cpu(void)
{
    return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static void obj_id(char *out, size_t size, long n)
{
    (void)snprintf(out, size, "indicator--%08lx-0000-4000-8000-%012lx", n, n);
}

static bool all_visible(void *ctx, const struct store_row *row)
{
    (void)ctx;
    return row->policy.tlp <= POLICY_TLP_AMBER;
}

static enum mrd_code sink(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    (void)err;
    *(size_t *)ctx += row->body_len + row->id_len;
    return MRD_OK;
}

struct job {
    struct store *st;
    int64_t coll;
    long n;
    int kind; /* 0 by id, 1 page, 2 manifest, 3 filtered */
    int64_t first, last;
    unsigned seed;
    double secs, cpu;
};

static void *reader(void *arg)
{
    struct job *j = arg;
    size_t bytes = 0;
    double t0 = now(), c0 = cpu();

    for (int i = 0; i < OPS; i++) {
        char id[80];
        const char *ids[1] = {id};
        const char *types[1] = {"indicator"};
        struct store_match m = {0};
        struct store_query q = {.collection = j->coll, .added_after = STORE_TIME_NONE};
        struct store_query_result r;
        long k = (long)(rand_r(&j->seed) % (unsigned)j->n);

        switch (j->kind) {
        case 0:
            obj_id(id, sizeof(id), k);
            m.ids = ids;
            m.n_ids = 1;
            q.match = &m;
            q.want_body = true;
            break;
        case 1:
        case 2:
            q.added_after = j->first + (j->last - j->first) * k / j->n;
            q.limit = 100;
            q.want_body = j->kind == 1;
            break;
        default:
            m.types = types;
            m.n_types = 1;
            q.match = &m;
            q.added_after = j->first + (j->last - j->first) * k / j->n;
            q.limit = 100;
            q.want_body = true;
            break;
        }
        if (store_objects_query(j->st, &q, all_visible, sink, &bytes, &r, NULL) != MRD_OK) {
            fprintf(stderr, "query failed\n");
            exit(1);
        }
    }
    j->secs = now() - t0;
    j->cpu = cpu() - c0;
    return NULL;
}

struct writer {
    struct store *st;
    int64_t coll;
    int index, count;
    long n;
    double cpu;
};

/* Writer index i inserts the batches i, i + count, i + 2 count, ... */
static void *writer_main(void *arg)
{
    struct writer *w = arg;
    static __thread char bodies[BATCH][600];
    static __thread char ids[BATCH][80];
    struct store_object_in in[BATCH];
    struct mrd_err err = {0};
    double c0 = cpu();

    for (long base = (long)w->index * BATCH; base < w->n; base += (long)w->count * BATCH) {
        size_t k = 0;
        for (; k < BATCH && base + (long)k < w->n; k++) {
            long i = base + (long)k;
            obj_id(ids[k], sizeof(ids[k]), i);
            int len = snprintf(bodies[k], sizeof(bodies[k]),
                               "{\"created\":\"2024-01-01T00:00:00.000Z\",\"id\":\"%s\","
                               "\"modified\":\"2024-01-01T00:00:00.000Z\",\"pattern\":"
                               "\"[ipv4-addr:value = '10.%ld.%ld.%ld']\",\"pattern_type\":"
                               "\"stix\",\"spec_version\":\"2.1\",\"type\":\"indicator\","
                               "\"valid_from\":\"2024-01-01T00:00:00Z\"}",
                               ids[k], (i >> 16) & 255, (i >> 8) & 255, i & 255);
            in[k] = (struct store_object_in){
                .id = ids[k],
                .id_len = strlen(ids[k]),
                .type = i % 10 == 9 ? "malware" : "indicator",
                .spec_version = "2.1",
                .spec_version_len = 3,
                .created_usec = 1704067200000000,
                .modified_usec = 1704067200000000,
                .tlp = POLICY_TLP_GREEN,
                .local = true,
                .creator_org = 1,
                .body = bodies[k],
                .body_len = (size_t)len,
            };
            in[k].type_len = strlen(in[k].type);
        }
        if (store_objects_insert(w->st, w->coll, in, k, NULL, NULL, &err) != MRD_OK) {
            fprintf(stderr, "insert: %s\n", err.msg);
            exit(1);
        }
    }
    w->cpu = cpu() - c0;
    return NULL;
}

int main(int argc, char **argv)
{
    struct store_open_opts opts = {.create = true};
    struct store_api_root root = {.name = "bench", .title = "bench", .max_content_length = 1000000};
    struct store_collection coll = {.api_root = "bench", .title = "bench"};
    struct store *st = NULL;
    struct mrd_err err = {0};
    struct store_query_result r;
    long n;
    int threads, writers;
    double t0, t;
    const char *names[] = {"GET object by id", "GET objects limit=100", "GET manifest limit=100",
                           "filtered GET type+added_after limit=100"};

    if (argc < 3) {
        fprintf(stderr, "usage: bench_store DIR N [READERS [WRITERS]]\n");
        return 2;
    }
    n = atol(argv[2]);
    threads = argc > 3 ? atoi(argv[3]) : 1;
    writers = argc > 4 ? atoi(argv[4]) : 1;
    if (store_open(argv[1], &opts, &st, &err) != MRD_OK ||
        store_api_root_put(st, &root, NULL, &err) != MRD_OK ||
        store_collection_create(st, &coll, &err) != MRD_OK) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return 1;
    }
    t0 = now();
    {
        pthread_t wt[16];
        struct writer w[16];
        double cpus = 0;
        if (writers > 16)
            writers = 16;
        for (int i = 0; i < writers; i++) {
            w[i] = (struct writer){st, coll.key, i, writers, n, 0};
            pthread_create(&wt[i], NULL, writer_main, &w[i]);
        }
        for (int i = 0; i < writers; i++) {
            pthread_join(wt[i], NULL);
            cpus += w[i].cpu;
        }
        t = now() - t0;
        printf("ingest %ld objects in batches of %d by %d writer%s: %.2f s, %.0f objects/s wall, "
               "%.0f objects per CPU-second\n",
               n, BATCH, writers, writers == 1 ? "" : "s", t, (double)n / t, (double)n / cpus);
    }

    {
        struct store_query q = {.collection = coll.key, .added_after = STORE_TIME_NONE, .limit = 1};
        struct store_match m = {.versions = STORE_VER_ALL};
        int64_t first, last;
        q.match = &m;
        (void)store_objects_query(st, &q, NULL, NULL, NULL, &r, &err);
        first = r.first_date_added;
        /* the newest: page from a late added_after */
        last = first + (int64_t)(t * 1e6) + 1;
        for (int kind = 0; kind < 4; kind++) {
            pthread_t th[16];
            struct job jobs[16];
            double ops = 0, worst = 0, cpus = 0;
            if (threads > 16)
                threads = 16;
            for (int i = 0; i < threads; i++) {
                jobs[i] = (struct job){st, coll.key, n, kind, first, last, (unsigned)(i + 1), 0, 0};
                pthread_create(&th[i], NULL, reader, &jobs[i]);
            }
            for (int i = 0; i < threads; i++) {
                pthread_join(th[i], NULL);
                ops += OPS;
                if (jobs[i].secs > worst)
                    worst = jobs[i].secs;
                cpus += jobs[i].cpu;
            }
            printf("%-42s %8.0f queries/s wall (%d thread%s), %8.0f queries per CPU-second\n",
                   names[kind], ops / worst, threads, threads == 1 ? "" : "s", ops / cpus);
        }
    }
    store_close(st);
    return 0;
}
