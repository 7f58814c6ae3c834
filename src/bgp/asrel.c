/*
 * asrel.c: AS relationships in CAIDA's serial-1 format (`a|b|-1`: a is a
 * provider of b; `a|b|0`: a and b are peers), also accepting serial-2's
 * fourth field (the inference source), for route-leak detection.
 *
 * Each link is stored once, as (low ASN, high ASN) with the relation seen
 * from the low one, in an open-addressing hash table (key 0, two equal
 * ASNs, marks an empty slot): a route's every link is looked up, and one
 * probe in a cache line beats twenty in a sorted array. A link listed
 * twice keeps its first relation.
 */
#include <string.h>

#include "bgp/bgp.h"
#include "bgp/bgp_int.h"
#include "core/alloc.h"
#include "core/str.h"

struct link {
    uint64_t key; /* low ASN << 32 | high ASN */
    uint8_t rel;  /* enum bgp_rel from low to high */
};

struct bgp_asrel {
    struct link *v; /* as parsed */
    size_t n, cap;
    struct link *tab; /* hash table: tab[i].key == 0 is empty; key and relation
                       * in one cache line, one miss per lookup */
    size_t mask;
};

void bgp_asrel_free(struct bgp_asrel *rel)
{
    if (rel == NULL)
        return;
    mrd_free(rel->v);
    mrd_free(rel->tab);
    mrd_free(rel);
}

size_t bgp_asrel_count(const struct bgp_asrel *rel)
{
    return rel == NULL ? 0 : rel->n;
}

static size_t slot_of(uint64_t key, size_t mask)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & mask;
}

static enum mrd_code build_table(struct bgp_asrel *rel, struct mrd_err *err)
{
    size_t n = 16;
    while (n < rel->n * 2)
        n *= 2;
    rel->tab = mrd_calloc(n, sizeof(*rel->tab));
    if (rel->tab == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "as-rel: out of memory");
    rel->mask = n - 1;
    for (size_t i = 0; i < rel->n; i++) {
        size_t j = slot_of(rel->v[i].key, rel->mask);
        while (rel->tab[j].key != 0 && rel->tab[j].key != rel->v[i].key)
            j = (j + 1) & rel->mask;
        if (rel->tab[j].key == 0)
            rel->tab[j] = rel->v[i];
    }
    mrd_free(rel->v); /* the table is all lookups need */
    rel->v = NULL;
    rel->cap = 0;
    return MRD_OK;
}

static enum bgp_rel flip(enum bgp_rel r)
{
    if (r == BGP_REL_TO_PROVIDER)
        return BGP_REL_TO_CUSTOMER;
    if (r == BGP_REL_TO_CUSTOMER)
        return BGP_REL_TO_PROVIDER;
    return r;
}

/* One line: "a|b|rel" or "a|b|rel|source". */
static enum mrd_code parse_line(struct bgp_asrel *rel, const char *s, size_t n, size_t lineno,
                                struct mrd_err *err)
{
    const char *f[5];
    size_t fl[5], nf = 0, start = 0;
    uint64_t a, b;
    struct link l;

    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '|') {
            if (nf == 5)
                break;
            f[nf] = s + start;
            fl[nf++] = i - start;
            start = i + 1;
        }
    }
    if (nf < 3 || nf > 4)
        return mrd_err_set(err, MRD_E_PARSE,
                           "as-rel: line %zu: expected AS|AS|-1 or AS|AS|0 (CAIDA serial-1)",
                           lineno);
    if (mrd_str_to_u64(f[0], fl[0], UINT32_MAX, &a, NULL) != MRD_OK ||
        mrd_str_to_u64(f[1], fl[1], UINT32_MAX, &b, NULL) != MRD_OK)
        return mrd_err_set(err, MRD_E_PARSE, "as-rel: line %zu: \"%s\" or \"%s\" is not an ASN",
                           lineno, MRD_ESCN(f[0], fl[0]), MRD_ESCN(f[1], fl[1]));
    if (fl[2] == 2 && memcmp(f[2], "-1", 2) == 0) {
        l.rel = BGP_REL_TO_CUSTOMER; /* a to b goes down */
    } else if (fl[2] == 1 && f[2][0] == '0') {
        l.rel = BGP_REL_TO_PEER;
    } else {
        return mrd_err_set(err, MRD_E_PARSE,
                           "as-rel: line %zu: relationship \"%s\" is neither -1 nor 0", lineno,
                           MRD_ESCN(f[2], fl[2]));
    }
    if (a == b)
        return mrd_err_set(err, MRD_E_PARSE, "as-rel: line %zu: AS%u related to itself", lineno,
                           (unsigned)a);
    if (a > b) {
        uint64_t t = a;
        a = b;
        b = t;
        l.rel = (uint8_t)flip((enum bgp_rel)l.rel);
    }
    l.key = a << 32 | b;
    if (rel->n >= BGP_ASREL_MAX_LINKS)
        return mrd_err_set(err, MRD_E_TOOBIG, "as-rel: more than %zu relationships",
                           BGP_ASREL_MAX_LINKS);
    if (mrd_array_grow(&rel->v, rel->n, &rel->cap, sizeof(*rel->v), 4096) != MRD_OK)
        return mrd_err_set(err, MRD_E_NOMEM, "as-rel: out of memory");
    rel->v[rel->n++] = l;
    return MRD_OK;
}

enum mrd_code bgp_asrel_parse(const char *buf, size_t len, struct bgp_asrel **ret_rel,
                              struct mrd_err *err)
{
    struct bgp_asrel *rel = mrd_calloc(1, sizeof(*rel));
    enum mrd_code rc = MRD_OK;
    size_t pos = 0, lineno = 0;

    if (rel == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "as-rel: out of memory");
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos;
        const char *s = buf + pos;
        pos += n + 1;
        lineno++;
        if (n > BGP_ASREL_MAX_LINE) {
            rc = mrd_err_set(err, MRD_E_TOOBIG, "as-rel: line %zu: longer than %d bytes", lineno,
                             BGP_ASREL_MAX_LINE);
            goto out;
        }
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if (n == 0 || s[0] == '#')
            continue;
        rc = parse_line(rel, s, n, lineno, err);
        if (rc != MRD_OK)
            goto out;
    }
    rc = build_table(rel, err);
    if (rc != MRD_OK)
        goto out;
    *ret_rel = rel;
    rel = NULL;
out:
    bgp_asrel_free(rel);
    return rc;
}

enum bgp_rel bgp_asrel_get(const struct bgp_asrel *rel, uint32_t a, uint32_t b)
{
    uint64_t key;
    size_t j;

    if (rel == NULL || a == b || rel->tab == NULL)
        return BGP_REL_UNKNOWN;
    key = a < b ? (uint64_t)a << 32 | b : (uint64_t)b << 32 | a;
    for (j = slot_of(key, rel->mask); rel->tab[j].key != 0; j = (j + 1) & rel->mask) {
        if (rel->tab[j].key == key)
            return a < b ? (enum bgp_rel)rel->tab[j].rel : flip((enum bgp_rel)rel->tab[j].rel);
    }
    return BGP_REL_UNKNOWN;
}

void bgp__asrel_prefetch(const struct bgp_asrel *rel, uint32_t a, uint32_t b)
{
    uint64_t key = a < b ? (uint64_t)a << 32 | b : (uint64_t)b << 32 | a;
    if (rel != NULL && rel->tab != NULL)
        __builtin_prefetch(&rel->tab[slot_of(key, rel->mask)]);
}
