/* libFuzzer target for match/: log readers, index lookups, the STIX
 * walker, the simple-pattern extractor and timestamp parsing.
 *
 * The first byte picks the reader (combined, Zeek incl. intel.log, CSV, JSON
 * lines, Suricata EVE) and the scan flags; the rest is a log. Each hit must point inside the input
 * and at a line the scanner counted. Every observable kind is also looked up with the whole input
 * as the value, the input is walked as a STIX document and parsed as a pattern, and every pair a
 * pattern yields must be accepted or cleanly rejected by a fresh index. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct match_index *shared;
static char scratch[MATCH_MAX_PATTERN];
static char pscratch[MATCH_MAX_PATTERN];

struct ctx {
    const char *base;
    size_t size;
    uint64_t lines;
};

static bool on_hit(void *vctx, const struct match_hit *h)
{
    struct ctx *c = vctx;
    if (h->value_off + h->value_len > c->size || h->line_off > h->value_off)
        abort();
    c->lines = h->line > c->lines ? h->line : c->lines;
    return true;
}

static bool on_line(void *vctx, const struct match_hit *line, const struct match_field *f,
                    size_t nf)
{
    struct ctx *c = vctx;
    if (nf == 0 || nf > MATCH_MAX_LINE_FIELDS || line->line_off > c->size)
        abort();
    for (size_t i = 0; i < nf; i++)
        if (f[i].n == 0 || f[i].field == NULL || f[i].v < c->base ||
            f[i].v + f[i].n > c->base + c->size)
            abort();
    return true;
}

static struct match_index *index_once(void)
{
    static const struct {
        enum match_type t;
        const char *v;
    } inds[] = {
        {MATCH_T_DOMAIN, "evil.com"},
        {MATCH_T_DOMAIN, "a.b"},
        {MATCH_T_IPV4, "45.6.7.8"},
        {MATCH_T_IPV4, "10.0.0.0/8"},
        {MATCH_T_IPV4, "0.0.0.0/0"},
        {MATCH_T_IPV6, "2001:db8::1"},
        {MATCH_T_IPV6, "::/0"},
        {MATCH_T_URL, "http://bad.example/x"},
        {MATCH_T_EMAIL, "a@b.c"},
        {MATCH_T_MD5, "d41d8cd98f00b204e9800998ecf8427e"},
        {MATCH_T_ID, "indicator--00000000-0000-4000-8000-000000000001"},
    };
    struct mrd_err err = {0};

    if (shared != NULL)
        return shared;
    if (match_index_new(&shared, &err) != MRD_OK)
        abort();
    for (uint32_t i = 0; i < sizeof(inds) / sizeof(inds[0]); i++)
        if (match_index_add(shared, inds[i].t, inds[i].v, strlen(inds[i].v), i, &err) != MRD_OK)
            abort();
    if (match_index_build(shared, &err) != MRD_OK)
        abort();
    return shared;
}

static enum mrd_code on_ind(void *ctx, const struct match_stix_ind *ind, struct mrd_err *err)
{
    (void)ctx;
    (void)err;
    /* the pattern is either inside the input or in the scratch buffer */
    if (ind->pattern != NULL && ind->pattern != scratch && ind->pattern_len > MATCH_MAX_PATTERN &&
        ind->id == NULL)
        abort();
    return MRD_OK;
}

static enum mrd_code on_pair(void *ctx, enum match_type type, const char *v, size_t n,
                             struct mrd_err *err)
{
    struct match_index *idx = ctx;
    enum mrd_code rc = match_index_add(idx, type, v, n, 0, err);
    return rc == MRD_E_INVAL ? MRD_OK : rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* bits 0-1 and 4 of the first byte */
    static const enum match_format fmts[] = {MATCH_FMT_COMBINED, MATCH_FMT_ZEEK, MATCH_FMT_CSV,
                                             MATCH_FMT_JSONL,    MATCH_FMT_EVE,  MATCH_FMT_ZEEK,
                                             MATCH_FMT_EVE,      MATCH_FMT_JSONL};
    static const enum match_obs obs[] = {MATCH_O_IP,    MATCH_O_HOST, MATCH_O_HOSTLIST, MATCH_O_URL,
                                         MATCH_O_EMAIL, MATCH_O_HASH, MATCH_O_ID};
    struct match_index *idx = index_once();
    struct match_reader r;
    struct match_stats st = {0};
    struct ctx c;
    struct mrd_err err = {0};
    const char *s = (const char *)data;
    uint32_t out[64];

    if (size == 0)
        return 0;
    /* readers */
    match_reader_init(&r, fmts[(data[0] & 3) | ((data[0] >> 2) & 4)]);
    c.base = s + 1;
    c.size = size - 1;
    c.lines = 0;
    match_scan_ex(idx, &r, s + 1, size - 1, (data[0] & 4) ? MATCH_F_SUBDOMAINS : 0, on_hit, &c,
                  (data[0] & 8) ? on_line : NULL, &c, &st);
    if (st.hits > 0 && c.lines >= st.lines)
        abort();
    (void)match_format_detect(s, size);
    (void)match_line_time(&r, s, size);
    (void)match_time_parse(s, size);
    /* lookups of the whole input as each kind of value */
    for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
        (void)match_index_lookup(idx, obs[i], s, size, MATCH_F_SUBDOMAINS, out, 64);
    /* STIX walker and the pattern extractor into a fresh index */
    mrd_err_clear(&err);
    (void)match_stix_each(s, size, scratch, on_ind, NULL, &err);
    {
        struct match_index *fresh = NULL;
        mrd_err_clear(&err);
        if (match_index_new(&fresh, &err) == MRD_OK) {
            (void)match_pattern_pairs(s, size, pscratch, on_pair, fresh, &err);
            mrd_err_clear(&err);
            if (match_index_build(fresh, &err) == MRD_OK)
                (void)match_index_lookup(fresh, MATCH_O_HOST, s, size, MATCH_F_SUBDOMAINS, out, 64);
            match_index_free(fresh);
        }
    }
    return 0;
}
