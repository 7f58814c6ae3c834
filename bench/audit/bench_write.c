/* bench_write: the CPU serve's audit thread spends writing pages to a
 * SQLite store (bench/audit/README.md, "The writer"), in CPU time of the
 * whole process (the checkpoint thread included): ROUNDS rounds of PAGES
 * pages of 100 indicators (one reader, as the bench's wrk), each round as
 * serve's audit thread writes it every 200 ms (audit_write_pages: merged
 * rows, one transaction). Figures: CPU per page of 100 and per read, and
 * the database's growth per read.
 *
 *   bench_write DIR [PAGES] [ROUNDS]     (DIR: a new store; default 1340 x 20) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit/audit.h"
#include "core/timestamp.h"
#include "store/store.h"

#include "../bench.h"

#define PAGE 100

static long long file_size(const char *dir, const char *name)
{
    char path[4096];
    struct stat sb;

    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

int main(int argc, char **argv)
{
    struct store_open_opts opts = {.create = true, .max_conn = 4};
    struct store *st = NULL;
    struct mrd_err err = {0};
    size_t pages = argc > 2 ? strtoul(argv[2], NULL, 10) : 1340;
    size_t rounds = argc > 3 ? strtoul(argv[3], NULL, 10) : 20;
    static uint8_t buf[PAGE * STORE_READ_PACKED_MAX];
    struct store_read_pack pk;
    struct store_read_batch *g;
    char id[64];
    double t0, used;
    long long before;
    uint64_t seed = 88172645463325252ULL;

    if (argc < 2 || pages == 0 || rounds == 0) {
        fprintf(stderr, "usage: bench_write DIR [PAGES] [ROUNDS]\n");
        return 2;
    }
    if (store_open(argv[1], &opts, &st, &err) != MRD_OK) {
        fprintf(stderr, "bench_write: %s\n", err.msg);
        return 1;
    }
    store_read_pack_init(&pk, buf, sizeof(buf));
    for (int i = 0; i < PAGE; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (void)snprintf(id, sizeof(id), "indicator--%08x-%04x-4%03x-8%03x-%012llx", (unsigned)seed,
                       (unsigned)(seed >> 32) & 0xffff, (unsigned)(seed >> 48) & 0xfff,
                       (unsigned)(seed >> 20) & 0xfff,
                       (unsigned long long)(seed >> 8) & 0xffffffffffffULL);
        if (!store_read_pack_put(&pk, id, strlen(id), 1767225600000000, 4))
            return 1;
    }
    g = calloc(pages, sizeof(*g));
    if (g == NULL)
        return 1;
    before = file_size(argv[1], "meridian.db") + file_size(argv[1], "meridian.db-wal");
    t0 = bench_cpu();
    for (size_t r = 0; r < rounds; r++) {
        int64_t now = mrd_time_now_usec();
        for (size_t i = 0; i < pages; i++)
            g[i] = (struct store_read_batch){
                {"bench", "bench-token", "taxii", now + (int64_t)i}, pk.buf, pk.len, PAGE};
        if (audit_write_pages(st, g, pages, &err) != MRD_OK) {
            fprintf(stderr, "bench_write: %s\n", err.msg);
            return 1;
        }
    }
    used = bench_cpu() - t0;
    store_close(st);
    printf("%zu rounds of %zu pages: %.2f us CPU a page of 100, %.1f ns a read; "
           "%.1f bytes a read on disk\n",
           rounds, pages, used * 1e6 / (double)(rounds * pages),
           used * 1e9 / (double)(rounds * pages * PAGE),
           (double)(file_size(argv[1], "meridian.db") + file_size(argv[1], "meridian.db-wal") -
                    before) /
               (double)(rounds * pages * PAGE));
    free(g);
    return 0;
}
