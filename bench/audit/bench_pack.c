/* bench_pack: the access audit's per-object CPU work outside the database,
 * on one thread, in CPU time (bench/audit/README.md, "Per object"):
 *   pack   store_read_pack_put of every object of a page (audit_note, on
 *          the request thread);
 *   merge  store_read_merge_put of the pages of one round into merged rows
 *          (audit_write_pages, on serve's audit thread);
 *   count  store_read_unpack_count of every merged row (the check
 *          store_reads_record makes of what it stores).
 * Pages of 100 indicators as bench/taxii/gen.py makes them ("TYPE--UUID"
 * ids, lowercase, one version: runs), and pages whose every object has a
 * version of its own (no runs). Figures: ns of CPU per object.
 *
 *   bench_pack [PAGES]      (default 200000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "store/store.h"

#include "../bench.h"

#define PAGE 100
#define ROUND 120 /* pages merged into one row (of at most 256 KiB) */

static char ids[PAGE][64];
static uint8_t pages[ROUND][PAGE * STORE_READ_PACKED_MAX];
static size_t lens[ROUND];

static void run(const char *what, size_t n_pages, int versions)
{
    struct store_read_pack pk;
    struct mrd_buf out;
    double t_pack = 0, t_merge = 0, t_count = 0, t0;
    size_t bytes = 0, counted = 0;

    n_pages = n_pages / ROUND * ROUND;
    mrd_buf_init(&out, STORE_READ_MERGED_MAX);
    for (size_t done = 0; done < n_pages; done += ROUND) {
        int64_t prev = 0;
        t0 = bench_cpu();
        for (size_t p = 0; p < ROUND; p++) {
            store_read_pack_init(&pk, pages[p], sizeof(pages[p]));
            for (size_t i = 0; i < PAGE; i++)
                if (!store_read_pack_put(&pk, ids[i], strlen(ids[i]),
                                         1767225600000000 + (versions ? (int64_t)i * 1000 : 0), 4))
                    abort();
            lens[p] = pk.len;
        }
        t_pack += bench_cpu() - t0;
        bytes += lens[0] * ROUND;
        t0 = bench_cpu();
        out.len = 0;
        for (size_t p = 0; p < ROUND; p++)
            if (store_read_merge_put(&out, &prev, pages[p], lens[p], 1767225600000000 + (int64_t)p,
                                     NULL) != MRD_OK) {
                /* full: counted and started again, as audit_write_pages
                 * splits */
                counted += store_read_unpack_count((const uint8_t *)out.data, out.len);
                out.len = 0;
                prev = 0;
                p--;
            }
        t_merge += bench_cpu() - t0;
        t0 = bench_cpu();
        counted += store_read_unpack_count((const uint8_t *)out.data, out.len);
        t_count += bench_cpu() - t0;
    }
    if (counted != n_pages * PAGE) {
        fprintf(stderr, "bench_pack: counted %zu, packed %zu\n", counted, n_pages * PAGE);
        exit(1);
    }
    printf("%-26s %6.1f B/object  pack %5.1f  merge %4.1f  count %5.1f ns/object (CPU)\n", what,
           (double)bytes / (double)(n_pages * PAGE), t_pack * 1e9 / (double)(n_pages * PAGE),
           t_merge * 1e9 / (double)(n_pages * PAGE), t_count * 1e9 / (double)(n_pages * PAGE));
    mrd_buf_release(&out);
}

int main(int argc, char **argv)
{
    size_t n_pages = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;

    if (n_pages < ROUND) {
        fprintf(stderr, "usage: bench_pack [PAGES >= %d]\n", ROUND);
        return 2;
    }
    for (size_t i = 0; i < PAGE; i++)
        (void)snprintf(ids[i], sizeof(ids[i]), "indicator--%08x-%04x-4%03x-%04x-%08x%04x",
                       bench_rnd(), bench_rnd() & 0xffff, bench_rnd() & 0xfff,
                       0x8000 | (bench_rnd() & 0x3fff), bench_rnd(), bench_rnd() & 0xffff);
    run("one version (gen.py)", n_pages, 0);
    run("a version per object", n_pages, 1);
    return 0;
}
