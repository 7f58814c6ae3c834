/*
 * pattern-bench: throughput of the STIX pattern module on one core.
 *
 *   1. parse + check: pat_check over every line of PATTERNS (the output of
 *      pattern-gen), best of three passes, in patterns per second;
 *   2. evaluation: one complex pattern (FOLLOWEDBY, WITHIN, REPEATS, refs,
 *      ISSUBSET, MATCHES, LIKE) against a 1,000-object bundle (200
 *      observed-data + 800 SCOs), through pat_eval_json with a reused
 *      scratch (indexing the bundle included), in evaluations per second;
 *   3. the log matcher's path: pat_eval_obs on one SCO with a reused
 *      scratch, in evaluations per second.
 *
 * Times are CPU seconds of the (single-threaded) process.
 *
 * usage: pattern-bench PATTERNS [SECONDS_PER_EVAL_RUN]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "pattern/pattern.h"

#define BENCH_MAX_FILE ((size_t)512 * 1024 * 1024)

/* CPU time of this process: on a shared machine it measures our one core,
 * not the neighbours' load. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    struct mrd_buf b;
    char chunk[65536];
    size_t n;
    struct mrd_err err = {0};

    if (f == NULL)
        return NULL;
    mrd_buf_init(&b, BENCH_MAX_FILE);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (mrd_buf_append(&b, chunk, n, &err) != MRD_OK)
            break;
    fclose(f);
    return mrd_buf_take(&b, ret_len);
}

static void bench_check(const char *path)
{
    size_t len, count = 0, valid = 0;
    char *text = slurp(path, &len);
    double best = 1e30;

    if (text == NULL) {
        fprintf(stderr, "pattern-bench: cannot read %s\n", path);
        exit(2);
    }
    for (int pass = 0; pass < 3; pass++) {
        double t0 = now();
        char *p = text, *end = text + len;
        count = valid = 0;
        while (p < end) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
            struct mrd_err err;
            err.msg[0] = '\0';
            if (pat_check(p, n, &err) == MRD_OK)
                valid++;
            count++;
            p += n + 1;
        }
        double dt = now() - t0;
        if (dt < best)
            best = dt;
    }
    printf("parse+check: %zu patterns (%zu valid) in %.3f s = %.0f patterns/s\n", count, valid,
           best, (double)count / best);
    mrd_free(text);
}

static json_t *dataset(void)
{
    json_t *objs = json_array(), *bundle;
    char id[96], id2[96], id3[96], id4[96], ts[40], buf[128];

    for (int i = 0; i < 200; i++) {
        json_t *od = json_object(), *refs = json_array(), *sco;
        snprintf(id, sizeof(id), "ipv4-addr--00000000-0000-4000-8000-%012d", i);
        snprintf(id2, sizeof(id2), "network-traffic--00000000-0000-4000-8000-%012d", i);
        snprintf(id3, sizeof(id3), "file--00000000-0000-4000-8000-%012d", i);
        snprintf(id4, sizeof(id4), "domain-name--00000000-0000-4000-8000-%012d", i);
        snprintf(ts, sizeof(ts), "2026-11-29T%02d:%02d:%02dZ", 10 + i / 3600, (i / 60) % 60,
                 i % 60);
        json_object_set_new(od, "type", json_string("observed-data"));
        snprintf(buf, sizeof(buf), "observed-data--00000000-0000-4000-8000-%012d", i);
        json_object_set_new(od, "id", json_string(buf));
        json_object_set_new(od, "first_observed", json_string(ts));
        json_object_set_new(od, "last_observed", json_string(ts));
        json_object_set_new(od, "number_observed", json_integer(1 + i % 3));
        json_array_append_new(refs, json_string(id));
        json_array_append_new(refs, json_string(id2));
        json_array_append_new(refs, json_string(id3));
        json_array_append_new(refs, json_string(id4));
        json_object_set_new(od, "object_refs", refs);
        json_array_append_new(objs, od);

        sco = json_object();
        json_object_set_new(sco, "type", json_string("ipv4-addr"));
        json_object_set_new(sco, "id", json_string(id));
        snprintf(buf, sizeof(buf), "198.51.%d.%d", i % 7 == 0 ? 100 : 99, i % 250);
        json_object_set_new(sco, "value", json_string(buf));
        json_array_append_new(objs, sco);

        sco = json_object();
        json_object_set_new(sco, "type", json_string("network-traffic"));
        json_object_set_new(sco, "id", json_string(id2));
        json_object_set_new(sco, "dst_ref", json_string(id));
        json_object_set_new(sco, "dst_port", json_integer(i % 5 == 0 ? 443 : 8080));
        json_array_append_new(objs, sco);

        sco = json_object();
        json_object_set_new(sco, "type", json_string("file"));
        json_object_set_new(sco, "id", json_string(id3));
        snprintf(buf, sizeof(buf), "%s%d.exe", i % 11 == 0 ? "evil" : "setup", i);
        json_object_set_new(sco, "name", json_string(buf));
        json_object_set_new(sco, "hashes",
                            json_pack("{s:s}", "SHA-256",
                                      "aec070645fe53ee3b3763059376134f058cc337247c978add178b6"
                                      "ccdfb0019f"));
        json_array_append_new(objs, sco);

        sco = json_object();
        json_object_set_new(sco, "type", json_string("domain-name"));
        json_object_set_new(sco, "id", json_string(id4));
        snprintf(buf, sizeof(buf), "host%d.%s", i, i % 13 == 0 ? "example.net" : "example.org");
        json_object_set_new(sco, "value", json_string(buf));
        json_array_append_new(objs, sco);
    }
    bundle = json_pack("{s:s,s:s,s:o}", "type", "bundle", "id",
                       "bundle--00000000-0000-4000-8000-000000000000", "objects", objs);
    return bundle;
}

static const char complex_pattern[] =
    "([network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24' AND network-traffic:dst_port = "
    "443] FOLLOWEDBY [file:hashes.'SHA-256' = "
    "'AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F' AND file:name MATCHES "
    "'^evil[0-9]+\\\\.exe$']) WITHIN 600 SECONDS AND [domain-name:value LIKE '%.example.net'] "
    "REPEATS 3 TIMES";

static void bench_eval(double seconds)
{
    json_t *data = dataset();
    struct pat_prog *prog = NULL;
    struct pat_scratch *s = pat_scratch_new();
    struct mrd_err err = {0};
    bool match = false;
    long n = 0;
    double t0, dt;

    if (pat_prog_new(complex_pattern, strlen(complex_pattern), &prog, &err) != MRD_OK) {
        fprintf(stderr, "pattern-bench: %s\n", err.msg);
        exit(2);
    }
    printf("eval pattern: %s\n", complex_pattern);
    printf("eval data: %zu objects\n", json_array_size(json_object_get(data, "objects")));
    t0 = now();
    do {
        if (pat_eval_json(prog, data, s, &match, &err) != MRD_OK) {
            fprintf(stderr, "pattern-bench: %s\n", err.msg);
            exit(2);
        }
        n++;
        dt = now() - t0;
    } while (dt < seconds);
    printf("eval (pat_eval_json, 1000 objects): %s, %ld evaluations in %.3f s = %.0f evals/s\n",
           match ? "match" : "no match", n, dt, (double)n / dt);
    pat_prog_free(prog);
    pat_scratch_free(s);
    json_decref(data);
}

/* The log matcher's path: one observation (one SCO) per log line, one
 * scratch reused, no JSON front end. */
static void bench_eval_line(double seconds)
{
    static const char src[] = "[url:value LIKE 'http://%.example.net/%' AND url:value MATCHES "
                              "'/(wp-admin|xmlrpc)\\\\.php$']";
    json_t *sco =
        json_pack("{s:s,s:s}", "type", "url", "value", "http://cdn.example.net/blog/xmlrpc.php");
    const json_t *scos[1] = {sco};
    struct pat_obs obs = {NULL, scos, 1, 0, 0, 1};
    struct pat_prog *prog = NULL;
    struct pat_scratch *s = pat_scratch_new();
    struct mrd_err err = {0};
    bool match = false;
    long n = 0;
    double t0, dt;

    if (pat_prog_new(src, strlen(src), &prog, &err) != MRD_OK) {
        fprintf(stderr, "pattern-bench: %s\n", err.msg);
        exit(2);
    }
    t0 = now();
    do {
        for (int i = 0; i < 1000; i++)
            (void)pat_eval_obs(prog, &obs, 1, s, &match, &err);
        n += 1000;
        dt = now() - t0;
    } while (dt < seconds);
    printf("eval (pat_eval_obs, one SCO per log line): %s, %ld evaluations in %.3f s = %.0f "
           "evals/s\n  pattern: %s\n",
           match ? "match" : "no match", n, dt, (double)n / dt, src);
    pat_prog_free(prog);
    pat_scratch_free(s);
    json_decref(sco);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: pattern-bench PATTERNS [SECONDS_PER_EVAL_RUN]\n");
        return 2;
    }
    bench_check(argv[1]);
    bench_eval(argc > 2 ? atof(argv[2]) : 3.0);
    bench_eval_line(argc > 2 ? atof(argv[2]) : 3.0);
    return 0;
}
