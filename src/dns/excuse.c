/*
 * excuse.c: the documented excuses of a diverging answer (docs/dns.md,
 * "Excuses"): the prefix-to-origin-ASN table (CAIDA Routeviews pfx2as
 * format) with its longest-prefix lookup, and the decision rule. The TLS
 * handshake itself is I/O and lives in tls.c (mrd_dnsnet).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/bgp.h"
#include "core/alloc.h"
#include "dns/dns.h"

struct asn_row {
    struct bgp_prefix prefix; /* host bits zero */
    uint8_t nasn;
    uint32_t asn[DNS_MAX_ORIGINS];
};

struct dns_asn_table {
    size_t n, cap;
    struct asn_row *rows; /* sorted by (family, length, address) */
};

static int row_cmp(const void *a, const void *b)
{
    const struct bgp_prefix *x = &((const struct asn_row *)a)->prefix,
                            *y = &((const struct asn_row *)b)->prefix;
    if (x->addr.afi != y->addr.afi)
        return x->addr.afi < y->addr.afi ? -1 : 1;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return memcmp(x->addr.bytes, y->addr.bytes, sizeof(x->addr.bytes));
}

/* "13335", "4134_4812" (origins) or "4134,4812" (an AS set). */
static bool parse_asns(const char *s, size_t n, struct asn_row *row)
{
    size_t i = 0;

    row->nasn = 0;
    while (i < n) {
        uint64_t v = 0;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 10)
            v = v * 10 + (uint64_t)(s[i++] - '0');
        if (i == start || v > UINT32_MAX || (i < n && s[i] != '_' && s[i] != ','))
            return false;
        if (row->nasn < DNS_MAX_ORIGINS)
            row->asn[row->nasn++] = (uint32_t)v;
        if (i < n && ++i == n)
            return false; /* a separator at the end */
    }
    return row->nasn > 0;
}

/* One line "PREFIX<TAB>LENGTH<TAB>ASNS" (spaces accepted too). */
static bool parse_line(const char *s, size_t n, struct asn_row *row)
{
    const char *f[3];
    size_t fl[3], nf = 0, i = 0;
    char pfx[DNS_MAX_PFX2AS_LINE + 8];
    int w;

    while (i < n && nf < 3) {
        while (i < n && (s[i] == '\t' || s[i] == ' '))
            i++;
        if (i == n)
            break;
        f[nf] = s + i;
        while (i < n && s[i] != '\t' && s[i] != ' ')
            i++;
        fl[nf] = (size_t)(s + i - f[nf]);
        nf++;
    }
    while (i < n && (s[i] == '\t' || s[i] == ' ' || s[i] == '\r'))
        i++;
    if (nf != 3 || i != n || fl[1] > 3)
        return false;
    if (fl[2] > 0 && f[2][fl[2] - 1] == '\r')
        fl[2]--;
    w = snprintf(pfx, sizeof(pfx), "%.*s/%.*s", (int)fl[0], f[0], (int)fl[1], f[1]);
    if (w < 0 || (size_t)w >= sizeof(pfx) ||
        bgp_prefix_parse(pfx, (size_t)w, &row->prefix, NULL) != MRD_OK)
        return false;
    return parse_asns(f[2], fl[2], row);
}

enum mrd_code dns_asn_table_parse(const char *text, size_t len, struct dns_asn_table **ret_table,
                                  struct mrd_err *err)
{
    struct dns_asn_table *t = NULL;
    enum mrd_code rc = MRD_OK;
    size_t line = 0, off = 0;

    if (len > DNS_MAX_PFX2AS_FILE)
        return mrd_err_set(err, MRD_E_TOOBIG, "pfx2as: more than %zu bytes",
                           (size_t)DNS_MAX_PFX2AS_FILE);
    t = mrd_calloc(1, sizeof(*t));
    if (t == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "pfx2as: out of memory");
    while (off < len) {
        const char *s = text + off, *nl = memchr(s, '\n', len - off);
        size_t n = nl != NULL ? (size_t)(nl - s) : len - off;
        struct asn_row row;

        off += n + (nl != NULL);
        line++;
        if (n > DNS_MAX_PFX2AS_LINE) {
            rc = mrd_err_set(err, MRD_E_TOOBIG, "pfx2as: line %zu: longer than %d bytes", line,
                             DNS_MAX_PFX2AS_LINE);
            goto out;
        }
        while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n == 0 || s[0] == '#')
            continue;
        if (memchr(s, '\0', n) != NULL || !parse_line(s, n, &row)) {
            rc = mrd_err_set(err, MRD_E_PARSE,
                             "pfx2as: line %zu: not \"PREFIX<TAB>LENGTH<TAB>ASN[_ASN|,ASN]\" with "
                             "the host bits zero",
                             line);
            goto out;
        }
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 1024;
            struct asn_row *rows;
            if (t->n >= DNS_MAX_PFX2AS_ROWS) {
                rc = mrd_err_set(err, MRD_E_TOOBIG, "pfx2as: line %zu: more than %d prefixes", line,
                                 DNS_MAX_PFX2AS_ROWS);
                goto out;
            }
            if (cap > DNS_MAX_PFX2AS_ROWS)
                cap = DNS_MAX_PFX2AS_ROWS;
            rows = mrd_realloc(t->rows, cap * sizeof(*rows));
            if (rows == NULL) {
                rc = mrd_err_set(err, MRD_E_NOMEM, "pfx2as: out of memory");
                goto out;
            }
            t->rows = rows;
            t->cap = cap;
        }
        t->rows[t->n++] = row;
    }
    if (t->n > 0)
        qsort(t->rows, t->n, sizeof(*t->rows), row_cmp);
    *ret_table = t;
    t = NULL;
out:
    dns_asn_table_free(t);
    return rc;
}

void dns_asn_table_free(struct dns_asn_table *table)
{
    if (table == NULL)
        return;
    mrd_free(table->rows);
    mrd_free(table);
}

size_t dns_asn_lookup(const struct dns_asn_table *table, const char *addr,
                      uint32_t out[DNS_MAX_ORIGINS])
{
    struct asn_row key = {0};
    int max;

    if (table == NULL || table->n == 0 || addr == NULL)
        return 0;
    if (inet_pton(AF_INET, addr, key.prefix.addr.bytes) == 1) {
        key.prefix.addr.afi = BGP_AFI_IPV4;
        max = 32;
    } else if (inet_pton(AF_INET6, addr, key.prefix.addr.bytes) == 1) {
        key.prefix.addr.afi = BGP_AFI_IPV6;
        max = 128;
    } else {
        return 0;
    }
    /* longest first: mask the address to each length and look it up */
    for (int len = max; len >= 0; len--) {
        const struct asn_row *hit;
        if (len < max) {
            key.prefix.addr.bytes[len / 8] &= (uint8_t)(0xff00u >> (len % 8));
            for (int b = len / 8 + 1; b < 16; b++)
                key.prefix.addr.bytes[b] = 0;
        }
        key.prefix.len = (uint8_t)len;
        hit = bsearch(&key, table->rows, table->n, sizeof(*table->rows), row_cmp);
        if (hit != NULL) {
            memcpy(out, hit->asn, hit->nasn * sizeof(*out));
            return hit->nasn;
        }
    }
    return 0;
}

const char *dns_excuse_decide(const uint32_t *addr_asns, size_t naddr, const uint32_t *exp_asns,
                              size_t nexp, enum dns_tls_verdict tls)
{
    for (size_t i = 0; i < naddr; i++)
        for (size_t k = 0; k < nexp; k++)
            if (addr_asns[i] == exp_asns[k])
                return "asn";
    return tls == DNS_TLS_VALID ? "tls" : NULL;
}

/* ---- TLS verdicts kept between rounds ---- */

static const char *const TLS_VERDICT_NAMES[] = {"not tried", "valid", "invalid", "failed"};

static bool tls_entry_fresh(const json_t *e, int64_t now, unsigned ttl, unsigned fail_ttl)
{
    const char *v = json_string_value(json_object_get(e, "verdict"));
    int64_t at = json_integer_value(json_object_get(e, "at"));
    unsigned keep = v != NULL && strcmp(v, "valid") == 0 ? ttl : fail_ttl;

    return v != NULL && json_is_integer(json_object_get(e, "at")) && at <= now &&
           now - at < (int64_t)keep;
}

bool dns_tls_cache_get(const json_t *cache, const char *addr, const char *name, int64_t now,
                       unsigned ttl, unsigned fail_ttl, struct dns_tls_result *ret, int64_t *ret_at)
{
    char key[DNS_MAX_NAME_STR + 64];
    const json_t *e;
    const char *v, *detail;

    (void)snprintf(key, sizeof(key), "%s %s", addr, name);
    e = json_object_get(cache, key);
    if (e == NULL || !tls_entry_fresh(e, now, ttl, fail_ttl))
        return false;
    v = json_string_value(json_object_get(e, "verdict"));
    detail = json_string_value(json_object_get(e, "detail"));
    for (size_t i = DNS_TLS_VALID; i <= DNS_TLS_FAILED; i++) {
        if (strcmp(v, TLS_VERDICT_NAMES[i]) != 0)
            continue;
        ret->verdict = (enum dns_tls_verdict)i;
        (void)snprintf(ret->detail, sizeof(ret->detail), "%s", detail != NULL ? detail : "");
        for (size_t k = 0; ret->detail[k] != '\0'; k++) /* the state is a file: printable only */
            if (ret->detail[k] < 0x20 || ret->detail[k] > 0x7e)
                ret->detail[k] = '?';
        *ret_at = json_integer_value(json_object_get(e, "at"));
        return true;
    }
    return false;
}

enum mrd_code dns_tls_cache_put(json_t *cache, const char *addr, const char *name,
                                const struct dns_tls_result *res, int64_t now, unsigned ttl,
                                unsigned fail_ttl, struct mrd_err *err)
{
    char key[DNS_MAX_NAME_STR + 64];
    const char *k, *oldest = NULL;
    json_t *e, *tmp;
    int64_t oldest_at = 0;

    if (res->verdict == DNS_TLS_NOT_TRIED || res->verdict > DNS_TLS_FAILED)
        return MRD_OK;
    json_object_foreach_safe(cache, tmp, k, e)
    {
        if (!tls_entry_fresh(e, now, ttl, fail_ttl))
            (void)json_object_del(cache, k);
    }
    if (json_object_size(cache) >= DNS_TLS_CACHE_MAX) {
        json_object_foreach(cache, k, e)
        {
            int64_t at = json_integer_value(json_object_get(e, "at"));
            if (oldest == NULL || at < oldest_at)
                oldest = k, oldest_at = at;
        }
        if (oldest != NULL) {
            char *victim = mrd_strdup(oldest);
            if (victim == NULL)
                return mrd_err_set(err, MRD_E_NOMEM, "dns: out of memory");
            (void)json_object_del(cache, victim);
            mrd_free(victim);
        }
    }
    (void)snprintf(key, sizeof(key), "%s %s", addr, name);
    if (json_object_set_new(cache, key,
                            json_pack("{s:s, s:s, s:I}", "verdict", TLS_VERDICT_NAMES[res->verdict],
                                      "detail", res->detail, "at", (json_int_t)now)) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "dns: out of memory");
    return MRD_OK;
}
