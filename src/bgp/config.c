/*
 * config.c: the watch configuration of `meridian bgp scan --config`, in the
 * style of ARTEMIS: owned prefixes with their legitimate origins, first-hop
 * neighbours and most specific length, and groups of ASNs for outage
 * detection.
 *
 * Prefixes are kept sorted by (family, address, length) so that the most
 * specific one covering a route is found by masking the route to each
 * length present in the configuration, longest first, one binary search
 * each. Every error names the member it comes from, e.g.
 * `prefixes[2].origins[0]`, so an operator can find it in the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/bgp.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"

#define CFG_MAX_BYTES ((size_t)64 * 1024 * 1024) /* one configuration document */
#define CFG_MAX_DEPTH 8                          /* nesting of the document */

void bgp_config_free(struct bgp_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->nprefixes; i++) {
        mrd_free(cfg->prefixes[i].origins);
        mrd_free(cfg->prefixes[i].neighbors);
    }
    for (size_t i = 0; i < cfg->ngroups; i++)
        mrd_free(cfg->groups[i].asns);
    mrd_free(cfg->prefixes);
    mrd_free(cfg->groups);
    mrd_free(cfg);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_prefix(const struct bgp_prefix *a, const struct bgp_prefix *b)
{
    int c;
    if (a->addr.afi != b->addr.afi)
        return a->addr.afi < b->addr.afi ? -1 : 1;
    c = memcmp(a->addr.bytes, b->addr.bytes, sizeof(a->addr.bytes));
    if (c != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

static int cmp_cfg_prefix(const void *a, const void *b)
{
    return cmp_prefix(&((const struct bgp_cfg_prefix *)a)->prefix,
                      &((const struct bgp_cfg_prefix *)b)->prefix);
}

/* An array of ASNs (integers 0..2^32-1) at `where`; null allowed when
 * ret_null is given. The result is sorted and free of duplicates. */
static enum mrd_code asn_list(json_t *j, const char *where, uint32_t **ret, size_t *ret_n,
                              bool *ret_null, struct mrd_err *err)
{
    size_t i, n, k = 0;
    json_t *v;
    uint32_t *a;

    if (json_is_null(j) && ret_null != NULL) {
        *ret_null = true;
        return MRD_OK;
    }
    if (!json_is_array(j))
        return mrd_err_set(err, MRD_E_PARSE, "config: %s: not an array of ASNs", where);
    n = json_array_size(j);
    if (n > BGP_CFG_MAX_LIST)
        return mrd_err_set(err, MRD_E_TOOBIG, "config: %s: more than %d ASNs", where,
                           BGP_CFG_MAX_LIST);
    a = mrd_calloc(n == 0 ? 1 : n, sizeof(*a));
    if (a == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "config: out of memory");
    json_array_foreach(j, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > (json_int_t)UINT32_MAX) {
            mrd_free(a);
            return mrd_err_set(err, MRD_E_PARSE, "config: %s[%zu]: not an ASN (0 to 4294967295)",
                               where, i);
        }
        a[i] = (uint32_t)json_integer_value(v);
    }
    if (n > 1)
        qsort(a, n, sizeof(*a), cmp_u32);
    for (i = 0; i < n; i++) {
        if (k == 0 || a[k - 1] != a[i])
            a[k++] = a[i];
    }
    *ret = a;
    *ret_n = k;
    return MRD_OK;
}

/* "policies": what the owner's announcements of the prefix ask of its
 * neighbours (ARTEMIS's policy dimension). Known: "no-export". */
static enum mrd_code policies(json_t *v, size_t idx, struct bgp_cfg_prefix *ret,
                              struct mrd_err *err)
{
    size_t i;
    json_t *p;

    if (!json_is_array(v))
        return mrd_err_set(err, MRD_E_PARSE, "config: prefixes[%zu].policies: not an array", idx);
    json_array_foreach(v, i, p)
    {
        if (json_is_string(p) && strcmp(json_string_value(p), "no-export") == 0)
            ret->no_export = true;
        else
            return mrd_err_set(err, MRD_E_PARSE,
                               "config: prefixes[%zu].policies[%zu]: not a known policy "
                               "(no-export)",
                               idx, i);
    }
    return MRD_OK;
}

static enum mrd_code parse_prefix(json_t *e, size_t idx, struct bgp_cfg_prefix *ret,
                                  struct mrd_err *err)
{
    char where[64];
    const char *key;
    json_t *v;
    enum mrd_code rc;
    struct mrd_err perr = {0};
    unsigned width;
    bool seen_prefix = false, seen_max = false;
    json_int_t max_len = 0;

    if (!json_is_object(e))
        return mrd_err_set(err, MRD_E_PARSE, "config: prefixes[%zu]: not an object", idx);
    ret->any_neighbor = true;
    json_object_foreach(e, key, v)
    {
        if (strcmp(key, "prefix") == 0) {
            if (!json_is_string(v) || bgp_prefix_parse(json_string_value(v), json_string_length(v),
                                                       &ret->prefix, &perr) != MRD_OK)
                return mrd_err_set(err, MRD_E_PARSE, "config: prefixes[%zu].prefix: %s", idx,
                                   json_is_string(v) ? perr.msg : "not a string");
            seen_prefix = true;
        } else if (strcmp(key, "origins") == 0) {
            (void)snprintf(where, sizeof(where), "prefixes[%zu].origins", idx);
            rc = asn_list(v, where, &ret->origins, &ret->norigins, NULL, err);
            if (rc != MRD_OK)
                return rc;
        } else if (strcmp(key, "neighbors") == 0) {
            bool is_null = false;
            (void)snprintf(where, sizeof(where), "prefixes[%zu].neighbors", idx);
            rc = asn_list(v, where, &ret->neighbors, &ret->nneighbors, &is_null, err);
            if (rc != MRD_OK)
                return rc;
            ret->any_neighbor = is_null;
        } else if (strcmp(key, "policies") == 0) {
            rc = policies(v, idx, ret, err);
            if (rc != MRD_OK)
                return rc;
        } else if (strcmp(key, "max_length") == 0) {
            if (!json_is_integer(v))
                return mrd_err_set(err, MRD_E_PARSE,
                                   "config: prefixes[%zu].max_length: not an integer", idx);
            max_len = json_integer_value(v);
            seen_max = true;
        } else {
            return mrd_err_set(err, MRD_E_PARSE,
                               "config: prefixes[%zu]: unknown member \"%s\" (prefix, origins, "
                               "neighbors, max_length, policies)",
                               idx, MRD_ESC(key));
        }
    }
    if (!seen_prefix)
        return mrd_err_set(err, MRD_E_PARSE, "config: prefixes[%zu]: no \"prefix\"", idx);
    width = ret->prefix.addr.afi == BGP_AFI_IPV6 ? 128 : 32;
    if (!seen_max)
        max_len = ret->prefix.len;
    if (max_len < ret->prefix.len || max_len > (json_int_t)width)
        return mrd_err_set(err, MRD_E_PARSE,
                           "config: prefixes[%zu].max_length: %lld is not between %u and %u", idx,
                           (long long)max_len, ret->prefix.len, width);
    ret->max_len = (uint8_t)max_len;
    return MRD_OK;
}

static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '|')
            return false;
    }
    return n > 0;
}

static enum mrd_code parse_groups(json_t *g, struct bgp_config *cfg, struct mrd_err *err)
{
    const char *key;
    json_t *v;
    enum mrd_code rc;

    if (!json_is_object(g))
        return mrd_err_set(err, MRD_E_PARSE, "config: groups: not an object of ASN lists");
    if (json_object_size(g) > BGP_CFG_MAX_GROUPS)
        return mrd_err_set(err, MRD_E_TOOBIG, "config: groups: more than %d groups",
                           BGP_CFG_MAX_GROUPS);
    cfg->groups = mrd_calloc(json_object_size(g) + 1, sizeof(*cfg->groups));
    if (cfg->groups == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "config: out of memory");
    json_object_foreach(g, key, v)
    {
        char where[BGP_CFG_MAX_NAME + 16];
        struct bgp_cfg_group *grp = &cfg->groups[cfg->ngroups];
        size_t klen = strlen(key);
        if (klen > BGP_CFG_MAX_NAME || !printable(key, klen))
            return mrd_err_set(err, MRD_E_PARSE,
                               "config: groups: name \"%s\" is empty, longer than %d bytes or "
                               "holds a control character or '|'",
                               MRD_ESC(key), BGP_CFG_MAX_NAME);
        memcpy(grp->name, key, klen + 1);
        (void)snprintf(where, sizeof(where), "groups.%s", key);
        rc = asn_list(v, where, &grp->asns, &grp->nasns, NULL, err);
        if (rc != MRD_OK)
            return rc;
        cfg->ngroups++;
        for (size_t i = 0; i < grp->nasns; i++) {
            int other = bgp_config_group_of(cfg, grp->asns[i]);
            if (other >= 0 && (size_t)other != cfg->ngroups - 1)
                return mrd_err_set(err, MRD_E_PARSE, "config: groups: AS%u is in both %s and %s",
                                   grp->asns[i], cfg->groups[other].name, grp->name);
        }
    }
    return MRD_OK;
}

enum mrd_code bgp_config_parse(const char *buf, size_t len, struct bgp_config **ret_cfg,
                               struct mrd_err *err)
{
    const struct mrd_json_limits lim = {.max_bytes = CFG_MAX_BYTES, .max_depth = CFG_MAX_DEPTH};
    struct bgp_config *cfg = NULL;
    json_t *doc = NULL;
    json_t *pfx = NULL, *grp = NULL, *v;
    const char *key;
    enum mrd_code rc;
    size_t i;

    rc = mrd_json_parse(buf, len, &lim, &doc, err);
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "config");
        goto out;
    }
    if (!json_is_object(doc)) {
        rc = mrd_err_set(err, MRD_E_PARSE, "config: not a JSON object");
        goto out;
    }
    json_object_foreach(doc, key, v)
    {
        if (strcmp(key, "prefixes") == 0) {
            pfx = v;
        } else if (strcmp(key, "groups") == 0) {
            grp = v;
        } else {
            rc = mrd_err_set(err, MRD_E_PARSE, "config: unknown member \"%s\" (prefixes, groups)",
                             MRD_ESC(key));
            goto out;
        }
    }
    cfg = mrd_calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "config: out of memory");
        goto out;
    }
    if (pfx != NULL && !json_is_array(pfx)) {
        rc = mrd_err_set(err, MRD_E_PARSE, "config: prefixes: not an array");
        goto out;
    }
    if (pfx != NULL && json_array_size(pfx) > BGP_CFG_MAX_PREFIXES) {
        rc = mrd_err_set(err, MRD_E_TOOBIG, "config: prefixes: more than %d entries",
                         BGP_CFG_MAX_PREFIXES);
        goto out;
    }
    if (pfx != NULL) {
        cfg->prefixes = mrd_calloc(json_array_size(pfx) + 1, sizeof(*cfg->prefixes));
        if (cfg->prefixes == NULL) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "config: out of memory");
            goto out;
        }
        json_array_foreach(pfx, i, v)
        {
            rc = parse_prefix(v, i, &cfg->prefixes[i], err);
            cfg->nprefixes = i + 1; /* freed even when half parsed */
            if (rc != MRD_OK)
                goto out;
        }
    }
    if (cfg->nprefixes > 1)
        qsort(cfg->prefixes, cfg->nprefixes, sizeof(*cfg->prefixes), cmp_cfg_prefix);
    for (i = 0; i < cfg->nprefixes; i++) {
        const struct bgp_prefix *p = &cfg->prefixes[i].prefix;
        if (i > 0 && cmp_prefix(&cfg->prefixes[i - 1].prefix, p) == 0) {
            struct mrd_buf b;
            mrd_buf_init(&b, 64);
            (void)bgp_prefix_format(p, &b, NULL);
            rc = mrd_err_set(err, MRD_E_PARSE, "config: prefixes: %.*s is listed twice", (int)b.len,
                             b.data != NULL ? b.data : "");
            mrd_buf_release(&b);
            goto out;
        }
        cfg->lens[p->addr.afi - 1][p->len] = 1;
    }
    if (grp != NULL) {
        rc = parse_groups(grp, cfg, err);
        if (rc != MRD_OK)
            goto out;
    }
    *ret_cfg = cfg;
    cfg = NULL;
out:
    bgp_config_free(cfg);
    json_decref(doc);
    return rc;
}

static void mask_to(const struct bgp_prefix *p, unsigned len, struct bgp_prefix *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->addr.afi = p->addr.afi;
    ret->len = (uint8_t)len;
    memcpy(ret->addr.bytes, p->addr.bytes, len / 8);
    if (len % 8 != 0)
        ret->addr.bytes[len / 8] = p->addr.bytes[len / 8] & (uint8_t)(0xff00 >> (len % 8));
}

const struct bgp_cfg_prefix *bgp_config_match(const struct bgp_config *cfg,
                                              const struct bgp_prefix *p)
{
    if (cfg == NULL || cfg->nprefixes == 0 || p->addr.afi < 1 || p->addr.afi > 2)
        return NULL;
    for (int l = p->len; l >= 0; l--) {
        struct bgp_prefix key;
        size_t lo = 0, hi = cfg->nprefixes;
        if (!cfg->lens[p->addr.afi - 1][l])
            continue;
        mask_to(p, (unsigned)l, &key);
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int c = cmp_prefix(&cfg->prefixes[mid].prefix, &key);
            if (c == 0)
                return &cfg->prefixes[mid];
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    return NULL;
}

int bgp_config_group_of(const struct bgp_config *cfg, uint32_t asn)
{
    /* Groups are few (country or organisation lists): a binary search in
     * each sorted list is enough. */
    for (size_t g = 0; cfg != NULL && g < cfg->ngroups; g++) {
        if (bsearch(&asn, cfg->groups[g].asns, cfg->groups[g].nasns, sizeof(uint32_t), cmp_u32) !=
            NULL)
            return (int)g;
    }
    return -1;
}
