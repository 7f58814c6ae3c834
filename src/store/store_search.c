/*
 * store_search.c: the searches of store.h ("search by value", "free text
 * and references"), written once for both backends over their driver.
 *
 * value_index holds (kind, key, seq, how): one row per value an object
 * version mentions, written by the insert path in the same transaction as
 * the version itself (store__index_values), so the index is never behind
 * the objects. Keys are laid out (store_values.c) so that every search is
 * a few index seeks: exact = one key; "contained in an indicator's CIDR" =
 * one seek per shorter prefix length; "inside the searched CIDR" = one
 * range; parent domains = one seek per label; subdomains = one range.
 * Deleted versions leave their index rows behind: every search joins the
 * objects table, so they are never shown, and seqs are never reused.
 *
 * The free-text index differs per backend (SQLite: FTS5; PostgreSQL:
 * tsvector), so each gives its statement to store__found_query; the
 * reference index (ref_index) is the same table on both.
 */
#include "store/store_int.h"

#include <string.h>

#include "core/alloc.h"

/* Stops a streamed statement at the first visible row past the limit;
 * turned back into MRD_OK (with more set). */
#define STOP_CODE MRD_E_TOOBIG

/* ---- values ---- */

#define SEARCH_COLS                                                                                \
    "SELECT " SQ_ROW_COLS ", o.body, v.how, v.key, o.collection FROM value_index v"                \
    " JOIN objects o ON o.seq = v.seq WHERE v.kind = ?1 AND "
#define COL_HOW (SQ_ROW_BODY_COL + 1)
#define COL_KEY (SQ_ROW_BODY_COL + 2)
#define COL_COLL (SQ_ROW_BODY_COL + 3)

struct search {
    const struct store_tx *tx;
    const struct store_value *q;
    size_t limit, delivered;
    bool more;
    int64_t *seen; /* seqs already handed out */
    size_t nseen;
    /* the statement running: what its rows match, and a filter on the
     * stored key (may be NULL) */
    enum store_vmatch match;
    bool (*filter)(const struct search *s, const struct store_value *k);
    bool (*visible)(void *ctx, int64_t collection, const struct store_row *row);
    enum mrd_code (*emit)(void *ctx, const struct store_value_hit *h, struct mrd_err *err);
    void *ctx;
};

static bool seen(const struct search *s, int64_t seq)
{
    for (size_t i = 0; i < s->nseen; i++)
        if (s->seen[i] == seq)
            return true;
    return false;
}

static enum mrd_code value_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct search *s = ctx;
    struct store_row row;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    struct store_value stored;
    struct store_value_hit h;
    size_t kn = 0;
    const char *k = r->blob(r, COL_KEY, &kn);
    int64_t coll = r->i64(r, COL_COLL);
    enum mrd_code rc;

    if (kn > STORE_VALUE_KEY_MAX)
        return MRD_OK;
    memset(&stored, 0, sizeof(stored));
    stored.kind = s->q->kind;
    stored.how = (uint8_t)r->i64(r, COL_HOW);
    stored.len = (uint16_t)kn;
    memcpy(stored.key, k, kn);
    if (s->filter != NULL && !s->filter(s, &stored))
        return MRD_OK;
    store__row_from(r, true, &row, recipients);
    if (seen(s, row.seq) || !s->visible(s->ctx, coll, &row))
        return MRD_OK;
    if (s->delivered == s->limit) {
        s->more = true;
        return STOP_CODE;
    }
    h = (struct store_value_hit){.row = &row,
                                 .collection = coll,
                                 .how = (enum store_vhow)stored.how,
                                 .match = s->match,
                                 .stored = &stored};
    rc = s->emit(s->ctx, &h, err);
    if (rc != MRD_OK)
        return rc;
    s->seen[s->nseen++] = row.seq;
    s->delivered++;
    return MRD_OK;
}

/* One candidate statement, its rows streamed (a range may hold many). */
static enum mrd_code candidates(struct search *s, const char *sql, const struct sq_arg *args,
                                size_t nargs, enum store_vmatch match,
                                bool (*filter)(const struct search *s, const struct store_value *k),
                                struct mrd_err *err)
{
    enum mrd_code rc;

    s->match = match;
    s->filter = filter;
    rc = s->tx->ops->run(s->tx->conn, true, "search", sql, args, nargs, value_row, s, NULL, err);
    return rc == STOP_CODE && s->more ? MRD_OK : rc;
}

static enum mrd_code exact(struct search *s, const uint8_t *key, size_t len,
                           enum store_vmatch match, struct mrd_err *err)
{
    return candidates(s, SEARCH_COLS "v.key = ?2 ORDER BY v.seq DESC",
                      SQ_ARGS(SQ_INT(s->q->kind), SQ_BLOB(key, len)), match, NULL, err);
}

/* The keys an exact look-up may find (the value, then each wider prefix
 * or parent domain holding it), probed in one statement first: most are in
 * no index row, and a look-up costs PostgreSQL several round trips. */
#define PROBE_MAX 129 /* an IPv6 address: 129 prefix lengths */
struct probe {
    const uint8_t *key[PROBE_MAX];
    size_t len[PROBE_MAX];
    enum store_vmatch match[PROBE_MAX];
    bool present[PROBE_MAX];
    size_t n;
};

static enum mrd_code probe_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct probe *p = ctx;
    size_t len = 0;
    const char *k = r->blob(r, 0, &len);

    (void)err;
    for (size_t i = 0; i < p->n; i++)
        if (p->len[i] == len && memcmp(p->key[i], k, len) == 0)
            p->present[i] = true;
    return MRD_OK;
}

/* Looks up each probed key that is in the index, in order. */
static enum mrd_code exact_all(struct search *s, struct probe *p, struct mrd_err *err)
{
    struct sq_arg args[PROBE_MAX + 1];
    char sql[128 + PROBE_MAX * 6];
    size_t o;
    enum mrd_code rc = MRD_OK;

    o = (size_t)snprintf(
        sql, sizeof(sql),
        "SELECT DISTINCT v.key FROM value_index v WHERE v.kind = ?1 AND v.key IN (");
    args[0] = SQ_INT(s->q->kind);
    for (size_t i = 0; i < p->n; i++) {
        args[i + 1] = SQ_BLOB(p->key[i], p->len[i]);
        o += (size_t)snprintf(sql + o, sizeof(sql) - o, "%s?%zu", i > 0 ? "," : "", i + 2);
    }
    (void)snprintf(sql + o, sizeof(sql) - o, ")");
    rc = store__tx_run(s->tx, "search", sql, args, p->n + 1, probe_row, p, NULL, err);
    for (size_t i = 0; i < p->n && rc == MRD_OK && !s->more; i++)
        if (p->present[i])
            rc = exact(s, p->key[i], p->len[i], p->match[i], err);
    return rc;
}

/* Keys in [lo, hi] (inclusive) or [lo, hi) when hi_open. */
static enum mrd_code range(struct search *s, const uint8_t *lo, size_t lon, const uint8_t *hi,
                           size_t hin, bool hi_open,
                           bool (*filter)(const struct search *s, const struct store_value *k),
                           struct mrd_err *err)
{
    return candidates(s,
                      hi_open ? SEARCH_COLS "v.key >= ?2 AND v.key < ?3 ORDER BY v.key, v.seq DESC"
                              : SEARCH_COLS
                          "v.key >= ?2 AND v.key <= ?3 ORDER BY v.key, v.seq DESC",
                      SQ_ARGS(SQ_INT(s->q->kind), SQ_BLOB(lo, lon), SQ_BLOB(hi, hin)),
                      STORE_VM_WITHIN, filter, err);
}

/* A stored prefix inside the searched range is longer than the searched
 * prefix (an equal one is the exact match, found first). */
static bool longer_prefix(const struct search *s, const struct store_value *k)
{
    return k->len == s->q->len && k->key[k->len - 1] > s->q->key[s->q->len - 1];
}

static enum mrd_code search_ip(struct search *s, struct mrd_err *err)
{
    const struct store_value *q = s->q;
    size_t alen = q->len - 1;
    unsigned plen = q->key[alen];
    uint8_t keys[PROBE_MAX][17], hi[17];
    struct probe p = {.n = 0};
    enum mrd_code rc;

    /* the searched value itself, then every shorter prefix holding it */
    for (int l = (int)plen; l >= 0 && p.n < PROBE_MAX; l--) {
        uint8_t *key = keys[p.n];

        memcpy(key, q->key, alen);
        for (size_t i = 0; i < alen; i++) {
            int keep = l - (int)i * 8;
            key[i] &= (uint8_t)(keep >= 8 ? 0xff : keep <= 0 ? 0 : 0xff << (8 - keep));
        }
        key[alen] = (uint8_t)l;
        p.key[p.n] = key;
        p.len[p.n] = alen + 1;
        p.match[p.n++] = l == (int)plen ? STORE_VM_EXACT : STORE_VM_CONTAINS;
    }
    rc = exact_all(s, &p, err);
    if (rc != MRD_OK || s->more || plen == alen * 8)
        return rc;
    /* addresses and ranges inside the searched range */
    memcpy(keys[0], q->key, alen);
    keys[0][alen] = 0;
    memcpy(hi, q->key, alen);
    for (size_t i = 0; i < alen; i++) {
        int keep = (int)plen - (int)i * 8;
        hi[i] |= (uint8_t)(keep >= 8 ? 0 : keep <= 0 ? 0xff : 0xff >> keep);
    }
    hi[alen] = 0xff;
    return range(s, keys[0], alen + 1, hi, alen + 1, false, longer_prefix, err);
}

static enum mrd_code search_domain(struct search *s, struct mrd_err *err)
{
    const struct store_value *q = s->q;
    uint8_t lo[STORE_VALUE_KEY_MAX + 1], hi[STORE_VALUE_KEY_MAX + 1];
    struct probe p = {.key = {q->key}, .len = {q->len}, .match = {STORE_VM_EXACT}, .n = 1};
    enum mrd_code rc;

    /* parent domains: the reversed key cut at each '.' ("com.evil.a" ->
     * "com.evil"; the bare top-level label is no indicator anyone means) */
    for (size_t i = q->len; p.n < PROBE_MAX && i-- > 0;) {
        if (q->key[i] != '.' || memchr(q->key, '.', i) == NULL)
            continue;
        p.key[p.n] = q->key;
        p.len[p.n] = i;
        p.match[p.n++] = STORE_VM_CONTAINS;
    }
    rc = exact_all(s, &p, err);
    if (rc != MRD_OK || s->more || q->len + 1 > STORE_VALUE_KEY_MAX)
        return rc;
    /* subdomains: keys starting with "com.evil." */
    memcpy(lo, q->key, q->len);
    lo[q->len] = '.';
    memcpy(hi, q->key, q->len);
    hi[q->len] = '.' + 1;
    return range(s, lo, q->len + 1u, hi, q->len + 1u, true, NULL, err);
}

static enum mrd_code value_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct search *s = args;

    s->tx = tx;
    if (s->q->kind == STORE_V_IPV4 || s->q->kind == STORE_V_IPV6)
        return search_ip(s, err);
    if (s->q->kind == STORE_V_DOMAIN)
        return search_domain(s, err);
    return exact(s, s->q->key, s->q->len, STORE_VM_EXACT, err);
}

enum mrd_code store__value_search(struct store *st, const struct store_value *v, size_t limit,
                                  bool (*visible)(void *ctx, int64_t collection,
                                                  const struct store_row *row),
                                  enum mrd_code (*emit)(void *ctx, const struct store_value_hit *h,
                                                        struct mrd_err *err),
                                  void *ctx, bool *ret_more, struct mrd_err *err)
{
    struct search x = {.q = v, .limit = limit, .visible = visible, .emit = emit, .ctx = ctx};
    enum mrd_code rc;

    x.seen = mrd_calloc(limit + 1, sizeof(*x.seen));
    if (x.seen == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "search: out of memory");
    /* one read snapshot for all the look-ups (the thread's pinned one
     * where the backend has one) */
    rc = st->ops->driver->read_tx(st, value_op, &x, err);
    if (rc == MRD_OK && ret_more != NULL)
        *ret_more = x.more;
    mrd_free(x.seen);
    return rc;
}

/* ---- free text and references ---- */

#define COL_FOUND_COLL (SQ_ROW_BODY_COL + 1)
#define COL_FOUND_ROLE (SQ_ROW_BODY_COL + 2)

struct found {
    size_t limit, delivered;
    bool more;
    bool (*visible)(void *ctx, int64_t collection, const struct store_row *row);
    enum mrd_code (*emit)(void *ctx, const struct store_found *f, struct mrd_err *err);
    void *ctx;
};

/* Each row to visible, the first limit visible ones to emit; the first
 * visible one past the limit stops the statement. */
static enum mrd_code found_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct found *x = ctx;
    struct store_row row;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    int64_t coll = r->i64(r, COL_FOUND_COLL);
    struct store_found f;

    store__row_from(r, true, &row, recipients);
    if (!x->visible(x->ctx, coll, &row))
        return MRD_OK;
    if (x->delivered == x->limit) {
        x->more = true;
        return STOP_CODE;
    }
    f = (struct store_found){
        .row = &row, .collection = coll, .role = (enum store_ref_role)r->i64(r, COL_FOUND_ROLE)};
    x->delivered++;
    return x->emit(x->ctx, &f, err);
}

struct found_stmt {
    struct found *x;
    const char *sql;
    const struct sq_arg *args;
    size_t nargs;
};

static enum mrd_code found_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct found_stmt *f = args;

    return tx->ops->run(tx->conn, true, "search", f->sql, f->args, f->nargs, found_row, f->x, NULL,
                        err);
}

enum mrd_code store__found_query(
    struct store *st, const char *sql, const struct sq_arg *args, size_t nargs, size_t limit,
    bool (*visible)(void *ctx, int64_t collection, const struct store_row *row),
    enum mrd_code (*emit)(void *ctx, const struct store_found *f, struct mrd_err *err), void *ctx,
    bool *ret_more, struct mrd_err *err)
{
    struct found x = {.limit = limit, .visible = visible, .emit = emit, .ctx = ctx};
    struct found_stmt f = {&x, sql, args, nargs};
    /* One statement, streamed, in one read snapshot (the thread's pinned
     * one when it has one). */
    enum mrd_code rc = st->ops->driver->read_tx(st, found_op, &f, err);

    if (rc == STOP_CODE && x.more)
        rc = MRD_OK;
    if (rc == MRD_OK && ret_more != NULL)
        *ret_more = x.more;
    return rc;
}

enum mrd_code
store__refs_to(struct store *st, const char *id, size_t len, unsigned roles, size_t limit,
               bool (*visible)(void *ctx, int64_t collection, const struct store_row *row),
               enum mrd_code (*emit)(void *ctx, const struct store_found *f, struct mrd_err *err),
               void *ctx, bool *ret_more, struct mrd_err *err)
{
    return store__found_query(st,
                              STORE_FOUND_COLS ", r.role FROM ref_index r JOIN objects o"
                                               " ON o.seq = r.seq WHERE r.ref = ?1"
                                               " AND (CAST(?2 AS BIGINT) >> r.role) & 1 = 1"
                                               " ORDER BY r.seq DESC",
                              SQ_ARGS(SQ_TEXT(id, len), SQ_INT(roles)), limit, visible, emit, ctx,
                              ret_more, err);
}
