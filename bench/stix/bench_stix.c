/*
 * bench_stix: validation throughput of the STIX validator on one core.
 *
 * Reads FILE into memory (not timed), then ROUNDS times: parses it with
 * mrd_json_parse (timed: "parse"), validates the document (timed:
 * "validate"), frees it. Reports the best round in MB/s for parse alone,
 * validate alone and both together, in wall-clock and CPU time. The best
 * round is reported because the machine is shared; all rounds are printed.
 *
 * usage: bench_stix FILE [ROUNDS] [--no-sco-idcheck] [--keep-heap]
 *
 * --keep-heap tells glibc not to return freed memory to the kernel between
 * rounds (M_TRIM_THRESHOLD), as a long-running `meridian serve` keeps its
 * heap warm; without it every round pays the page faults of a cold process.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/json.h"
#include "stix/stix.h"

static double now(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int read_all(const char *path, struct mrd_buf *b)
{
    FILE *f = fopen(path, "rb");
    char chunk[1 << 16];
    size_t n;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (mrd_buf_append(b, chunk, n, NULL) != MRD_OK) {
            fprintf(stderr, "%s: larger than STIX_MAX_DOCUMENT\n", path);
            fclose(f);
            return -1;
        }
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    struct mrd_buf b;
    struct mrd_json_limits lim = {STIX_MAX_DOCUMENT, MRD_JSON_MAX_DEPTH};
    int rounds = 3;
    unsigned flags = 0;
    double best_p = 1e30, best_v = 1e30, best_pc = 1e30, best_vc = 1e30;
    double mb;

    if (argc < 2) {
        fprintf(stderr, "usage: bench_stix FILE [ROUNDS] [--no-sco-idcheck] [--keep-heap]\n");
        return 2;
    }
    if (argc > 2 && argv[2][0] != '-')
        rounds = atoi(argv[2]);
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--no-sco-idcheck") == 0)
            flags |= STIX_NO_SCO_IDCHECK;
        else if (strcmp(argv[i], "--keep-heap") == 0)
            (void)mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mrd_buf_init(&b, STIX_MAX_DOCUMENT);
    if (read_all(argv[1], &b) != 0)
        return 2;
    mb = (double)b.len / 1e6;
    printf("file: %s, %.1f MB, %d rounds%s\n", argv[1], mb, rounds,
           flags ? ", without the SCO id check" : "");
    for (int r = 0; r < rounds; r++) {
        json_t *doc = NULL;
        struct stix_report rep;
        struct mrd_err err = {0};
        double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        double t1, c1, t2, c2;

        if (mrd_json_parse(b.data, b.len, &lim, &doc, &err) != MRD_OK) {
            fprintf(stderr, "parse: %s\n", err.msg);
            return 1;
        }
        t1 = now(CLOCK_MONOTONIC);
        c1 = now(CLOCK_PROCESS_CPUTIME_ID);
        stix_report_init(&rep);
        if (stix_validate_document(doc, flags, &rep, &err) != MRD_OK) {
            fprintf(stderr, "validate: %s\n", err.msg);
            return 1;
        }
        t2 = now(CLOCK_MONOTONIC);
        c2 = now(CLOCK_PROCESS_CPUTIME_ID);
        printf("round %d: %zu objects, %zu errors, %zu warnings; parse %.3f s, validate %.3f s "
               "(cpu %.3f + %.3f s)\n",
               r + 1, rep.objects, rep.errors, rep.warnings, t1 - t0, t2 - t1, c1 - c0, c2 - c1);
        if (t1 - t0 + t2 - t1 < best_p + best_v) {
            best_p = t1 - t0;
            best_v = t2 - t1;
            best_pc = c1 - c0;
            best_vc = c2 - c1;
        }
        stix_report_release(&rep);
        json_decref(doc);
    }
    printf("parse only:       %7.1f MB/s (cpu %7.1f MB/s)\n", mb / best_p, mb / best_pc);
    printf("validate only:    %7.1f MB/s (cpu %7.1f MB/s)\n", mb / best_v, mb / best_vc);
    printf("parse + validate: %7.1f MB/s (cpu %7.1f MB/s)\n", mb / (best_p + best_v),
           mb / (best_pc + best_vc));
    mrd_buf_release(&b);
    return 0;
}
