/* bench_notify: routes a generated stream of STIX objects through the asset
 * index of a generated constituency (notify.h), on one thread, and reports
 * the rate, the index build time and peak memory against the input's size.
 * See README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "notify/notify.h"

#include "../bench.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum mrd_code count(void *ctx, const struct notify_hit *h, struct mrd_err *err)
{
    (void)h;
    (void)err;
    ++*(size_t *)ctx;
    return MRD_OK;
}

int main(int argc, char **argv)
{
    size_t orgs = 10000, prefixes = 100000, domains = 100000, objects = 1000000;
    size_t n = 0, in_bytes = 0, hits = 0, routed_hit = 0;
    struct notify_asset *a;
    struct notify_index *ix = NULL;
    struct mrd_err err = {0};
    char **obj;
    size_t *len;
    double t0, c0, build, route_wall, route_cpu;
    struct rusage ru;

    for (int i = 1; i + 1 < argc; i += 2) {
        size_t v = strtoul(argv[i + 1], NULL, 10);
        if (strcmp(argv[i], "--orgs") == 0)
            orgs = v;
        else if (strcmp(argv[i], "--prefixes") == 0)
            prefixes = v;
        else if (strcmp(argv[i], "--domains") == 0)
            domains = v;
        else if (strcmp(argv[i], "--objects") == 0)
            objects = v;
    }
    a = calloc(prefixes + domains, sizeof(*a));
    obj = calloc(objects, sizeof(*obj));
    len = calloc(objects, sizeof(*len));
    if (a == NULL || obj == NULL || len == NULL || orgs == 0)
        return 1;
    /* constituents' prefixes: /16 to /24 IPv4 inside 10/8..100/8, and /32
     * to /48 IPv6 under 2001:db8::/32's neighbours; one in ten nests in
     * another org's (an ISP's customer) */
    for (size_t i = 0; i < prefixes; i++) {
        char t[64];
        unsigned len4 = 16 + bench_rnd() % 9;
        uint32_t addr =
            ((10u + bench_rnd() % 90) << 24 | (bench_rnd() & 0xffffffu)) & (~0u << (32 - len4));
        if (i % 5 == 4)
            snprintf(t, sizeof(t), "2001:%x:%x::/48", 0xd00 + bench_rnd() % 256,
                     bench_rnd() % 65536);
        else
            snprintf(t, sizeof(t), "%u.%u.%u.%u/%u", addr >> 24, addr >> 16 & 255, addr >> 8 & 255,
                     addr & 255, len4);
        if (notify_asset_parse("prefix", t, &a[n], &err) != MRD_OK) {
            fprintf(stderr, "%s: %s\n", t, err.msg);
            return 1;
        }
        in_bytes += strlen(t) + 16;
        a[n].org = (int64_t)(i % orgs) + 1;
        a[n].id = (int64_t)n + 1;
        n++;
    }
    for (size_t i = 0; i < domains; i++) {
        char t[64];
        snprintf(t, sizeof(t), "org%zu-%zu.%s", i % orgs, i, i % 3 ? "example" : "gov.example");
        if (notify_asset_parse("domain", t, &a[n], &err) != MRD_OK)
            return 1;
        in_bytes += strlen(t) + 16;
        a[n].org = (int64_t)(i % orgs) + 1;
        a[n].id = (int64_t)n + 1;
        n++;
    }
    /* the stream: indicators (addresses, CIDRs, domains, URLs, hashes),
     * SCOs and sightings-shaped objects; about one in eight concerns a
     * constituent */
    for (size_t i = 0; i < objects; i++) {
        char b[512];
        int k = (int)(bench_rnd() % 8), m;
        uint32_t ip = bench_rnd();
        switch (k) {
        case 0:
        case 1:
            m = snprintf(b, sizeof(b),
                         "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
                         "%08x-0000-4000-8000-%012zx\",\"pattern_type\":\"stix\",\"pattern\":"
                         "\"[ipv4-addr:value = '%u.%u.%u.%u']\",\"valid_from\":"
                         "\"2026-12-01T00:00:00Z\"}",
                         bench_rnd(), i, ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
            break;
        case 2:
            m = snprintf(b, sizeof(b),
                         "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
                         "%08x-0000-4000-8000-%012zx\",\"pattern_type\":\"stix\",\"pattern\":"
                         "\"[domain-name:value = 'x%u.org%u-%u.%s']\",\"valid_from\":"
                         "\"2026-12-01T00:00:00Z\"}",
                         bench_rnd(), i, bench_rnd() % 100, bench_rnd() % (unsigned)orgs,
                         bench_rnd() % (unsigned)(domains * 2),
                         bench_rnd() % 2 ? "example" : "evil.test");
            break;
        case 3:
            m = snprintf(b, sizeof(b),
                         "{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv4-addr--"
                         "%08x-0000-5000-8000-%012zx\",\"value\":\"%u.%u.%u.%u\"}",
                         bench_rnd(), i, ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
            break;
        case 4:
            m = snprintf(b, sizeof(b),
                         "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
                         "%08x-0000-4000-8000-%012zx\",\"pattern_type\":\"stix\",\"pattern\":"
                         "\"[url:value = 'http://h%u.org%u-%u.example/p']\",\"valid_from\":"
                         "\"2026-12-01T00:00:00Z\"}",
                         bench_rnd(), i, bench_rnd() % 100, bench_rnd() % (unsigned)orgs,
                         bench_rnd() % (unsigned)(domains * 2));
            break;
        case 5:
            m = snprintf(b, sizeof(b),
                         "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
                         "%08x-0000-4000-8000-%012zx\",\"pattern_type\":\"stix\",\"pattern\":"
                         "\"[ipv6-addr:value = '2001:%x:%x::%x']\",\"valid_from\":"
                         "\"2026-12-01T00:00:00Z\"}",
                         bench_rnd(), i, 0xd00 + bench_rnd() % 512, bench_rnd() % 65536,
                         bench_rnd() % 65536);
            break;
        case 6:
            m = snprintf(b, sizeof(b),
                         "{\"type\":\"file\",\"spec_version\":\"2.1\",\"id\":\"file--"
                         "%08x-0000-5000-8000-%012zx\",\"hashes\":{\"SHA-256\":\"%08x%08x%08x%08x"
                         "%08x%08x%08x%08x\"}}",
                         bench_rnd(), i, bench_rnd(), bench_rnd(), bench_rnd(), bench_rnd(),
                         bench_rnd(), bench_rnd(), bench_rnd(), bench_rnd());
            break;
        default:
            m = snprintf(b, sizeof(b),
                         "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--"
                         "%08x-0000-4000-8000-%012zx\",\"sighting_of_ref\":\"indicator--"
                         "%08x-0000-4000-8000-000000000000\",\"count\":1}",
                         bench_rnd(), i, bench_rnd());
            break;
        }
        obj[i] = strdup(b);
        len[i] = (size_t)m;
        in_bytes += (size_t)m;
    }

    t0 = now();
    if (notify_index_build(a, n, &ix, &err) != MRD_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    build = now() - t0;
    free(a);

    t0 = now();
    c0 = bench_cpu();
    for (size_t i = 0; i < objects; i++) {
        size_t before = hits;
        if (notify_route_object(ix, obj[i], len[i], count, &hits, &err) != MRD_OK) {
            fprintf(stderr, "object %zu: %s\n", i, err.msg);
            return 1;
        }
        routed_hit += hits > before;
    }
    route_wall = now() - t0;
    route_cpu = bench_cpu() - c0;
    getrusage(RUSAGE_SELF, &ru);
    printf("assets %zu (%zu orgs, %zu prefixes, %zu domains), index built in %.3f s\n", n, orgs,
           prefixes, domains, build);
    printf("objects %zu: %.2f s wall, %.2f s CPU, %.0f objects/s (CPU), %zu concern a "
           "constituent, %zu notifications\n",
           objects, route_wall, route_cpu, (double)objects / route_cpu, routed_hit, hits);
    printf("input %.1f MB, peak RSS %.1f MB (%.2fx the input)\n", (double)in_bytes / 1e6,
           (double)ru.ru_maxrss / 1e3, (double)ru.ru_maxrss * 1e3 / (double)in_bytes);
    for (size_t i = 0; i < objects; i++)
        free(obj[i]);
    free(obj);
    free(len);
    notify_index_free(ix);
    return 0;
}
