/*
 * gen: deterministic corpus, indicator sets and ground truth for the
 * `meridian match` benchmark (issue #5). Fixed seed; same output every run.
 *
 *   gen OUTDIR [--scale F]
 *
 * Writes OUTDIR/access.log (nginx combined, ~4M lines at scale 1),
 * OUTDIR/dns.log (Zeek dns.log, ~3.4M), OUTDIR/fw.csv (firewall CSV, ~4M),
 * OUTDIR/ind-10k.json, ind-100k.json, ind-1m.json (STIX bundles; each set is
 * a prefix of the next), OUTDIR/values-N.txt (the raw values, for grep -F /
 * rg -F), OUTDIR/truth.tsv (file, line, indicator number, id: every
 * (line, indicator) hit under --subdomains semantics) and OUTDIR/near.tsv
 * (the planted near misses).
 *
 * Ground truth is exact by construction: indicator values and background
 * values come from disjoint spaces (IPv4 exact 10-41.x, CIDR 50-99.x,
 * background 100-223.x; indicator domain labels 11-14 letters not starting
 * with 'n', URL hosts 15-18, background labels 3-10; IPv6 indicators end in
 * one hex digit), so only planted values can hit.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIND 1000000
#define LINE_MAX_GEN 4096

static uint64_t rng_state = 0x6d657269646961ull; /* fixed seed */

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned rn(unsigned n)
{
    return (unsigned)(rnd() % n);
}

enum itype { T_IPV4, T_IPV6, T_CIDR, T_DOMAIN, T_URL, T_SHA256 };

/* 25% IPv4, 5% IPv6, 5% CIDR, 30% domains, 20% URLs, 15% SHA-256, spread
 * evenly so every prefix (10k, 100k) has the same mix. */
static const enum itype mix[20] = {
    T_IPV4,   T_DOMAIN, T_URL,  T_SHA256, T_IPV4, T_DOMAIN, T_URL,  T_IPV6,   T_IPV4,   T_DOMAIN,
    T_SHA256, T_URL,    T_IPV4, T_DOMAIN, T_CIDR, T_URL,    T_IPV4, T_DOMAIN, T_SHA256, T_DOMAIN};

struct ind {
    enum itype t;
    char v[160];
    uint32_t net; /* CIDR */
    uint8_t plen;
    uint32_t ip; /* IPv4 */
};

static struct ind *inds;
static const char *tlds[] = {"com", "net", "org", "info", "io"};

static void label(char *out, size_t n, bool no_n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (char)('a' + rn(26));
    if (no_n && out[0] == 'n')
        out[0] = 'm';
    out[n] = '\0';
}

static void hexstr(char *out, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++)
        out[i] = hx[rn(16)];
    out[n] = '\0';
}

static void ip4str(char *out, uint32_t a)
{
    snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void make_indicators(void)
{
    unsigned nshort = 0, nlong = 0, n6 = 0;

    inds = calloc(NIND, sizeof(*inds));
    for (uint32_t i = 0; i < NIND; i++) {
        struct ind *d = &inds[i];
        char l[32];
        d->t = mix[i % 20];
        switch (d->t) {
        case T_IPV4:
            /* a bijection of i onto 2^29 addresses from 10.0.0.0 */
            d->ip = (10u << 24) + (uint32_t)(((uint64_t)i * 2654435761u) & ((1u << 29) - 1));
            ip4str(d->v, d->ip);
            break;
        case T_IPV6:
            snprintf(d->v, sizeof(d->v), "2001:db8:%x:%x::%x", (n6 >> 16) + 1, n6 & 0xffff,
                     1 + n6 % 15);
            n6++;
            break;
        case T_CIDR:
            if (rn(10) == 0 && nshort < 7680) {
                /* /16-/23 in its own /16 of 50-79.x */
                uint32_t blk = (uint32_t)((nshort * 4099u) % 7680u);
                d->plen = (uint8_t)(16 + rn(8));
                d->net = ((50u << 24) + (blk << 16)) |
                         ((uint32_t)rn(256) << 8 & (0xffffffffu << (32 - d->plen)));
                nshort++;
            } else {
                /* /24-/32 in its own /24 of 80-99.x */
                uint32_t blk = (uint32_t)(((uint64_t)nlong * 2654435761u) % (20u << 16));
                d->plen = (uint8_t)(24 + rn(9));
                d->net = ((80u << 24) + (blk << 8)) |
                         ((uint32_t)rn(256) & (d->plen == 24 ? 0 : 0xffu << (32 - d->plen)));
                nlong++;
            }
            ip4str(d->v, d->net);
            snprintf(d->v + strlen(d->v), 8, "/%u", d->plen);
            break;
        case T_DOMAIN:
            label(l, 11 + rn(4), true);
            snprintf(d->v, sizeof(d->v), "%s.%s", l, tlds[rn(5)]);
            break;
        case T_URL: {
            char p[24];
            label(l, 15 + rn(4), false);
            hexstr(p, 6 + rn(10));
            snprintf(d->v, sizeof(d->v), "%s://%s.%s/p/%s%s", rn(2) ? "http" : "https", l,
                     tlds[rn(5)], p, rn(2) ? "" : "?id=42");
            break;
        }
        case T_SHA256:
            hexstr(d->v, 64);
            break;
        }
    }
}

static void ind_id(char *out, uint32_t i)
{
    uint64_t h = (uint64_t)i * 0x9e3779b97f4a7c15ull;
    snprintf(out, 48, "indicator--%08x-%04x-4%03x-8%03x-%012" PRIx64, i, (unsigned)(h >> 48),
             (unsigned)(h >> 36) & 0xfff, (unsigned)(h >> 24) & 0xfff,
             (uint64_t)(h & 0xffffffffffffull));
}

static void write_sets(const char *dir)
{
    static const uint32_t sizes[] = {10000, 100000, 1000000};
    static const char *names[] = {"10k", "100k", "1m"};
    char path[1024], id[48];

    for (int s = 0; s < 3; s++) {
        FILE *f, *g;
        snprintf(path, sizeof(path), "%s/ind-%s.json", dir, names[s]);
        f = fopen(path, "w");
        snprintf(path, sizeof(path), "%s/values-%s.txt", dir, names[s]);
        g = fopen(path, "w");
        if (f == NULL || g == NULL) {
            perror(path);
            exit(2);
        }
        setvbuf(f, NULL, _IOFBF, 1 << 20);
        fputs("{\"type\":\"bundle\",\"id\":\"bundle--6d657269-6469-4e00-8000-00000000000", f);
        fprintf(f, "%d\",\"objects\":[\n", s);
        for (uint32_t i = 0; i < sizes[s]; i++) {
            const struct ind *d = &inds[i];
            const char *path_s = "";
            switch (d->t) {
            case T_IPV4:
            case T_CIDR:
                path_s = "ipv4-addr:value";
                break;
            case T_IPV6:
                path_s = "ipv6-addr:value";
                break;
            case T_DOMAIN:
                path_s = "domain-name:value";
                break;
            case T_URL:
                path_s = "url:value";
                break;
            case T_SHA256:
                path_s = "file:hashes.'SHA-256'";
                break;
            }
            ind_id(id, i);
            fprintf(f,
                    "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                    "\"created\":\"2026-01-01T00:00:00.000Z\","
                    "\"modified\":\"2026-01-01T00:00:00.000Z\",\"name\":\"bench %u\","
                    "\"indicator_types\":[\"malicious-activity\"],"
                    "\"pattern\":\"[%s = '%s']\",\"pattern_type\":\"stix\","
                    "\"valid_from\":\"2026-01-01T00:00:00Z\"}",
                    i ? ",\n" : "", id, i, path_s, d->v);
            fprintf(g, "%s\n", d->v);
        }
        fputs("\n]}\n", f);
        fclose(f);
        fclose(g);
    }
}

/* ---- planting ---- */

static FILE *truth, *near;

/* Planted indicators: half from the first 10k, a quarter from 10k-100k, a
 * quarter from the rest, so every set has hits. */
static uint32_t pick(const enum itype *ok, int nok)
{
    for (;;) {
        unsigned r = rn(4);
        uint32_t i = r < 2 ? rn(10000) : r == 2 ? 10000 + rn(90000) : 100000 + rn(900000);
        for (int k = 0; k < nok; k++)
            if (inds[i].t == ok[k])
                return i;
    }
}

static void record(const char *file, uint64_t line, uint32_t i)
{
    char id[48];
    ind_id(id, i);
    fprintf(truth, "%s\t%" PRIu64 "\t%u\t%s\n", file, line, i, id);
}

static void cidr_member(const struct ind *d, char *out)
{
    uint32_t span = d->plen == 32 ? 1 : 1u << (32 - d->plen);
    ip4str(out, d->net + (span > 1 ? rn(span) : 0));
}

/* IPv6 indicator in another textual form: upper case or fully expanded. */
static void v6_form(const char *v, char *out, size_t max)
{
    unsigned a, b, c;
    if (rn(2) == 0 || sscanf(v, "2001:db8:%x:%x::%x", &a, &b, &c) != 3) {
        size_t i;
        for (i = 0; v[i] && i + 1 < max; i++)
            out[i] = (char)(v[i] >= 'a' && v[i] <= 'f' ? v[i] - 32 : v[i]);
        out[i] = '\0';
        return;
    }
    snprintf(out, max, "2001:0db8:%04x:%04x:0000:0000:0000:%04x", a, b, c);
}

/* Host of a domain indicator as seen: itself, a subdomain, upper case. */
static void domain_form(const char *v, char *out, size_t max)
{
    char l[12];
    switch (rn(5)) {
    case 0:
        snprintf(out, max, "%s", v);
        break;
    case 1:
        snprintf(out, max, "www.%s", v);
        break;
    case 2:
        label(l, 3 + rn(5), false);
        snprintf(out, max, "%s.cdn.%s", l, v);
        break;
    case 3: {
        size_t i;
        for (i = 0; v[i] && i + 1 < max; i++)
            out[i] = (char)(v[i] >= 'a' && v[i] <= 'z' ? v[i] - 32 : v[i]);
        out[i] = '\0';
        break;
    }
    default:
        snprintf(out, max, "api.%s", v);
        break;
    }
}

/* URL indicator as seen: as is, upper-case scheme/host, explicit default port. */
static void url_form(const char *v, char *out, size_t max)
{
    const char *h = strstr(v, "://") + 3;
    const char *p = strchr(h, '/');
    bool https = v[4] == 's';
    switch (rn(3)) {
    case 0:
        snprintf(out, max, "%s", v);
        break;
    case 1: {
        size_t i;
        for (i = 0; v + i < p && i + 1 < max; i++)
            out[i] = (char)(v[i] >= 'a' && v[i] <= 'z' ? v[i] - 32 : v[i]);
        snprintf(out + i, max - i, "%s", p);
        break;
    }
    default:
        snprintf(out, max, "%.*s:%s%s", (int)(p - v), v, https ? "443" : "80", p);
        break;
    }
}

/* ---- background values ---- */

static void bg_ip4(char *out)
{
    uint32_t a;
    do {
        a = (100u + rn(124)) << 24 | (uint32_t)rn(1u << 24);
    } while ((a >> 24) == 127);
    ip4str(out, a);
}

static void bg_ip6(char *out)
{
    snprintf(out, 48, "2a02:%x:%x:%x::%x", rn(65536), rn(65536), rn(65536), rn(65536));
}

static void bg_host(char *out)
{
    static const char *subs[] = {"www", "api", "cdn", "static", "mail", "img", "m"};
    char a[12], b[12];
    label(a, 3 + rn(8), false);
    if (rn(3) == 0) {
        label(b, 3 + rn(8), false);
        snprintf(out, 64, "%s.%s.%s.%s", subs[rn(7)], b, a, tlds[rn(5)]);
    } else {
        snprintf(out, 64, "%s.%s.%s", subs[rn(7)], a, tlds[rn(5)]);
    }
}

static void bg_path(char *out)
{
    static const char *dirs[] = {
        "/",      "/index.html", "/api/v1/items", "/static/js/app.js", "/images/logo.png",
        "/login", "/search"};
    char q[16];
    hexstr(q, 8);
    snprintf(out, 96, "%s?q=%s", dirs[rn(7)], q);
}

static void ts_combined(char *out, uint64_t sec)
{
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    /* 2026-11-01 + sec, no month rollover within the 30-day window */
    unsigned day = 1 + (unsigned)(sec / 86400), h = (unsigned)(sec / 3600 % 24),
             m = (unsigned)(sec / 60 % 60), s = (unsigned)(sec % 60);
    snprintf(out, 40, "%02u/%s/2026:%02u:%02u:%02u +0000", day, mon[10], h, m, s);
}

#define T0 ((uint64_t)1793491200) /* 2026-11-01T00:00:00Z */

static const char *uas[] = {
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
     "Safari/537.36"),
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "curl/8.4.0", "python-requests/2.31.0"};

static void gen_access(const char *dir, uint64_t nlines)
{
    char path[1024], client[200], target[512], ref[512], host[200], p[200], ts[40];
    FILE *f;
    static const enum itype ok[] = {T_IPV4, T_CIDR, T_IPV6, T_DOMAIN, T_URL};

    snprintf(path, sizeof(path), "%s/access.log", dir);
    f = fopen(path, "w");
    setvbuf(f, NULL, _IOFBF, 1 << 22);
    for (uint64_t ln = 1; ln <= nlines; ln++) {
        unsigned r = rn(10000);
        const char *method = rn(5) ? "GET" : "POST";
        if (rn(10) == 0)
            bg_ip6(client);
        else
            bg_ip4(client);
        bg_path(target);
        if (rn(100) < 15) {
            bg_host(host);
            bg_path(p);
            snprintf(target, sizeof(target), "http://%s%s", host, p);
        }
        if (rn(2)) {
            bg_host(host);
            bg_path(p);
            snprintf(ref, sizeof(ref), "https://%s%s", host, p);
        } else {
            snprintf(ref, sizeof(ref), "-");
        }
        if (r < 10) {
            /* planted hit */
            uint32_t i = pick(ok, 5);
            const struct ind *d = &inds[i];
            switch (d->t) {
            case T_IPV4:
                snprintf(client, sizeof(client), "%s", d->v);
                break;
            case T_CIDR:
                cidr_member(d, client);
                break;
            case T_IPV6:
                v6_form(d->v, client, sizeof(client));
                break;
            case T_DOMAIN:
                domain_form(d->v, host, sizeof(host));
                if (rn(3) == 0) {
                    method = "CONNECT";
                    snprintf(target, sizeof(target), "%s:443", host);
                } else if (rn(2)) {
                    snprintf(target, sizeof(target), "http://%s/", host);
                } else {
                    snprintf(ref, sizeof(ref), "https://%s/landing", host);
                }
                break;
            default:
                url_form(d->v, p, sizeof(p));
                if (rn(2))
                    snprintf(target, sizeof(target), "%s", p);
                else
                    snprintf(ref, sizeof(ref), "%s", p);
                break;
            }
            record("access.log", ln, i);
        } else if (r < 15) {
            /* near miss */
            static const enum itype nok[] = {T_IPV4, T_IPV6, T_DOMAIN, T_URL};
            uint32_t i = pick(nok, 4);
            const struct ind *d = &inds[i];
            switch (d->t) {
            case T_IPV4:
                snprintf(client, sizeof(client), "1%s", d->v);
                break;
            case T_IPV6:
                snprintf(client, sizeof(client), "%sf", d->v);
                break;
            case T_DOMAIN:
                if (rn(2))
                    snprintf(target, sizeof(target), "http://not%s/", d->v);
                else
                    snprintf(ref, sizeof(ref), "https://%s.cdn.net/x", d->v);
                break;
            default:
                snprintf(ref, sizeof(ref), "%s%s", d->v, rn(2) ? "x" : "/more");
                break;
            }
            fprintf(near, "access.log\t%" PRIu64 "\t%u\n", ln, i);
        }
        ts_combined(ts, (ln - 1) * 2592000ull / nlines);
        fprintf(f, "%s - - [%s] \"%s %s HTTP/1.1\" %d %u \"%s\" \"%s\"\n", client, ts, method,
                target, rn(10) ? 200 : 404, 200 + rn(50000), ref, uas[rn(4)]);
    }
    fclose(f);
}

static void gen_dns(const char *dir, uint64_t nlines)
{
    char path[1024], query[256], ans[1024], ttls[128], uid[20], a[200];
    FILE *f;
    static const enum itype ok[] = {T_IPV4, T_CIDR, T_IPV6, T_DOMAIN};

    snprintf(path, sizeof(path), "%s/dns.log", dir);
    f = fopen(path, "w");
    setvbuf(f, NULL, _IOFBF, 1 << 22);
    fputs("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
          "#path\tdns\n#open\t2026-11-01-00-00-00\n"
          "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\t"
          "query\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\t"
          "answers\tTTLs\trejected\n"
          "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\t"
          "string\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\t"
          "vector[interval]\tbool\n",
          f);
    for (uint64_t ln = 9; ln < nlines + 9; ln++) {
        unsigned r = rn(10000);
        bool aaaa = rn(5) == 0;
        int ncname = rn(5) == 0 ? 1 + (int)rn(3) : 0;
        size_t o = 0;

        bg_host(query);
        ans[0] = '\0';
        for (int k = 0; k < ncname; k++) {
            char h[80];
            bg_host(h);
            o += (size_t)snprintf(ans + o, sizeof(ans) - o, "%s,", h);
        }
        if (aaaa)
            bg_ip6(a);
        else
            bg_ip4(a);
        snprintf(ans + o, sizeof(ans) - o, "%s", a);
        if (r < 10) {
            uint32_t i = pick(ok, 4);
            const struct ind *d = &inds[i];
            char h[200];
            switch (d->t) {
            case T_DOMAIN:
                domain_form(d->v, h, sizeof(h));
                if (rn(3) == 0) {
                    /* answer side: a CNAME in the chain */
                    snprintf(ans, sizeof(ans), "%s,%s", h, a);
                    ncname = 1;
                } else {
                    snprintf(query, sizeof(query), "%s", h);
                }
                break;
            case T_IPV4:
                snprintf(ans + o, sizeof(ans) - o, "%s", d->v);
                aaaa = false;
                break;
            case T_CIDR:
                cidr_member(d, a);
                snprintf(ans + o, sizeof(ans) - o, "%s", a);
                aaaa = false;
                break;
            default:
                v6_form(d->v, h, sizeof(h));
                snprintf(ans + o, sizeof(ans) - o, "%s", h);
                aaaa = true;
                break;
            }
            record("dns.log", ln, i);
        } else if (r < 15) {
            static const enum itype nok[] = {T_IPV4, T_IPV6, T_DOMAIN};
            uint32_t i = pick(nok, 3);
            const struct ind *d = &inds[i];
            switch (d->t) {
            case T_DOMAIN:
                snprintf(query, sizeof(query), rn(2) ? "not%s" : "%s.cdn.net", d->v);
                break;
            case T_IPV4:
                snprintf(ans + o, sizeof(ans) - o, "1%s", d->v);
                aaaa = false;
                break;
            default:
                snprintf(ans + o, sizeof(ans) - o, "%sf", d->v);
                aaaa = true;
                break;
            }
            fprintf(near, "dns.log\t%" PRIu64 "\t%u\n", ln, i);
        }
        o = 0;
        for (int k = 0; k <= ncname; k++)
            o += (size_t)snprintf(ttls + o, sizeof(ttls) - o, "%s%u.000000", k ? "," : "",
                                  60 + rn(3600));
        hexstr(uid, 17);
        uid[0] = 'C';
        fprintf(f,
                "%" PRIu64
                ".%06u\t%s\t192.168.%u.%u\t%u\t192.168.0.53\t53\tudp\t%u\t0.%06u\t%s\t1\t"
                "C_INTERNET\t%u\t%s\t0\tNOERROR\tF\tF\tT\tT\t0\t%s\t%s\tF\n",
                (uint64_t)(T0 + (ln - 9) * 2592000u / nlines), rn(1000000), uid, rn(256),
                1 + rn(254), 1024 + rn(60000), rn(65536), rn(100000), query, aaaa ? 28 : 1,
                aaaa ? "AAAA" : "A", ans, ttls);
    }
    fputs("#close\t2026-12-01-00-00-00\n", f);
    fclose(f);
}

static void gen_csv(const char *dir, uint64_t nlines)
{
    char path[1024], dst[200], host[256], sha[200];
    FILE *f;
    static const enum itype ok[] = {T_IPV4, T_CIDR, T_IPV6, T_DOMAIN, T_SHA256};

    snprintf(path, sizeof(path), "%s/fw.csv", dir);
    f = fopen(path, "w");
    setvbuf(f, NULL, _IOFBF, 1 << 22);
    fputs("timestamp,action,proto,src,sport,dst,dport,host,sha256,bytes\n", f);
    for (uint64_t ln = 2; ln < nlines + 2; ln++) {
        unsigned r = rn(10000);
        uint64_t t = T0 + (ln - 2) * 2592000ull / nlines;
        if (rn(10) == 0)
            bg_ip6(dst);
        else
            bg_ip4(dst);
        bg_host(host);
        if (rn(5) < 3)
            hexstr(sha, 64);
        else
            sha[0] = '\0';
        if (r < 10) {
            uint32_t i = pick(ok, 5);
            const struct ind *d = &inds[i];
            switch (d->t) {
            case T_IPV4:
                snprintf(dst, sizeof(dst), "%s", d->v);
                break;
            case T_CIDR:
                cidr_member(d, dst);
                break;
            case T_IPV6:
                v6_form(d->v, dst, sizeof(dst));
                break;
            case T_DOMAIN:
                domain_form(d->v, host, sizeof(host));
                if (rn(4) == 0 && strlen(host) + 1 < sizeof(host))
                    memcpy(host + strlen(host), ".", 2);
                break;
            default:
                snprintf(sha, sizeof(sha), "%s", d->v);
                if (rn(2))
                    for (char *c = sha; *c; c++)
                        if (*c >= 'a' && *c <= 'f')
                            *c = (char)(*c - 32);
                break;
            }
            record("fw.csv", ln, i);
        } else if (r < 15) {
            static const enum itype nok[] = {T_IPV4, T_DOMAIN, T_SHA256};
            uint32_t i = pick(nok, 3);
            const struct ind *d = &inds[i];
            switch (d->t) {
            case T_IPV4:
                snprintf(dst, sizeof(dst), "1%s", d->v);
                break;
            case T_DOMAIN:
                snprintf(host, sizeof(host), rn(2) ? "not%s" : "%s.cdn.net", d->v);
                break;
            default:
                snprintf(sha, sizeof(sha), "%s", d->v);
                sha[63] = sha[63] == '0' ? '1' : '0';
                break;
            }
            fprintf(near, "fw.csv\t%" PRIu64 "\t%u\n", ln, i);
        }
        fprintf(f, "2026-11-%02uT%02u:%02u:%02uZ,%s,tcp,172.16.%u.%u,%u,%s,%u,%s,%s,%u\n",
                (unsigned)(1 + (t - T0) / 86400), (unsigned)((t - T0) / 3600 % 24),
                (unsigned)((t - T0) / 60 % 60), (unsigned)((t - T0) % 60),
                rn(10) ? "allow" : "deny", rn(256), 1 + rn(254), 1024 + rn(60000), dst,
                rn(2) ? 443 : 80, host, sha, rn(1000000));
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    double scale = 1.0;
    char path[1024];

    if (argc < 2) {
        fprintf(stderr, "usage: gen OUTDIR [--scale F]\n");
        return 2;
    }
    if (argc >= 4 && strcmp(argv[2], "--scale") == 0)
        scale = atof(argv[3]);
    if (scale <= 0 || scale > 10) {
        fprintf(stderr, "gen: --scale must be in (0, 10]\n");
        return 2;
    }
    make_indicators();
    write_sets(argv[1]);
    snprintf(path, sizeof(path), "%s/truth.tsv", argv[1]);
    truth = fopen(path, "w");
    snprintf(path, sizeof(path), "%s/near.tsv", argv[1]);
    near = fopen(path, "w");
    if (truth == NULL || near == NULL) {
        perror(path);
        return 2;
    }
    gen_access(argv[1], (uint64_t)(4000000 * scale));
    gen_dns(argv[1], (uint64_t)(3400000 * scale));
    gen_csv(argv[1], (uint64_t)(4000000 * scale));
    fclose(truth);
    fclose(near);
    return 0;
}
