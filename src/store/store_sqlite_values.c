/*
 * store_sqlite_values.c: the value index in the SQLite store (store.h,
 * "search by value").
 *
 * value_index holds (kind, key, seq, how): one row per value an object
 * version mentions, written by the insert path in the same transaction as
 * the version itself (sq__index_object), so the index is never behind the
 * objects. Keys are laid out (store_values.c) so that every search is a few
 * index seeks: exact = one key; "contained in an indicator's CIDR" = one
 * seek per shorter prefix length; "inside the searched CIDR" = one range;
 * parent domains = one seek per label; subdomains = one range.
 * Deleted versions leave their index rows behind: every search joins the
 * objects table, so they are never shown, and seqs are never reused.
 */
#include "store/store_int.h"

#include <string.h>

#include "core/alloc.h"

#define INDEX_META "value_index"
#define INDEX_VERSION "1"
#define BACKFILL_BATCH 2000

enum mrd_code sq__index_object(struct sq_conn *c, int64_t seq, const char *body, size_t len,
                               struct mrd_err *err)
{
    struct store_tx tx = SQ_TX(c);

    return store__index_values(&tx, seq, body, len, err);
}

struct fill {
    struct sq_conn *c;
    int64_t after, n;
    enum mrd_code (*index)(struct sq_conn *c, int64_t seq, const char *body, size_t len,
                           struct mrd_err *err);
};

static enum mrd_code fill_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct fill *f = ctx;

    f->after = sqlite3_column_int64(st, 0);
    f->n++;
    return f->index(f->c, f->after, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                    err);
}

static enum mrd_code done_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    (void)err;
    sq__copy(st, 0, ctx, 8);
    return MRD_OK;
}

/* Fills one index for every version stored before it existed, once: meta
 * key names it, done when it holds version. The check is repeated inside
 * the write transaction, so two processes opening an old file at once
 * index it once (the text index would otherwise hold its words twice). */
static enum mrd_code values_all(struct sq_conn *c, struct mrd_err *err)
{
    struct fill f = {.c = c, .index = sq__index_object};
    enum mrd_code rc;

    do {
        f.n = 0;
        rc = sq__run(c, "index",
                     "SELECT seq, body FROM objects WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                     SQ_ARGS(SQ_INT(f.after), SQ_INT(BACKFILL_BATCH)), fill_row, &f, NULL, err);
    } while (rc == MRD_OK && f.n == BACKFILL_BATCH);
    return rc;
}

static enum mrd_code text_all(struct sq_conn *c, struct mrd_err *err)
{
    return sq__index_text_after(c, 0, err);
}

static enum mrd_code backfill(struct sq_conn *c, const char *key, const char *version,
                              enum mrd_code (*index_all)(struct sq_conn *c, struct mrd_err *err),
                              struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;
    bool began = false;

    for (int pass = 0; pass < 2; pass++) {
        char done[8] = "";
        rc = sq__run(c, "index", "SELECT value FROM meta WHERE key = ?1", SQ_ARGS(SQ_STR(key)),
                     done_row, done, NULL, err);
        if (rc != MRD_OK || strcmp(done, version) == 0)
            goto out;
        if (pass == 0) {
            rc = sq__exec(c, "BEGIN IMMEDIATE", err);
            if (rc != MRD_OK)
                return rc;
            began = true;
        }
    }
    /* A database from before the index: index what it holds, once, in one
     * transaction (a second process opening it meanwhile waits). */
    rc = index_all(c, err);
    if (rc == MRD_OK)
        rc = sq__run(c, "index",
                     "INSERT INTO meta (key, value) VALUES (?1, ?2)"
                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     SQ_ARGS(SQ_STR(key), SQ_STR(version)), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    began = began && rc != MRD_OK;
out:
    if (began)
        sq__rollback(c);
    return rc;
}

enum mrd_code sq__index_backfill(struct sq_conn *c, struct mrd_err *err)
{
    enum mrd_code rc = backfill(c, INDEX_META, INDEX_VERSION, values_all, err);

    if (rc == MRD_OK)
        rc = backfill(c, "text_index", "1", text_all, err);
    return rc;
}

/* ---- search ---- */

#define SEARCH_COLS                                                                                \
    "SELECT " SQ_ROW_COLS ", o.body, v.how, v.key, o.collection FROM value_index v"                \
    " JOIN objects o ON o.seq = v.seq WHERE v.kind = ?1 AND "
#define COL_HOW 17
#define COL_KEY 18
#define COL_COLL 19

struct search {
    struct sq_conn *c;
    const struct store_value *q;
    size_t limit, delivered;
    bool more;
    sqlite3_stmt *exact_st; /* prepared once per search: one look-up per prefix length */
    int64_t *seen;          /* seqs already handed out */
    size_t nseen;
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

/* Steps a prepared candidate statement; filter (may be NULL) drops rows
 * by their stored key. Stops (s->more) at the first visible row past the
 * limit. */
static enum mrd_code run(struct search *s, sqlite3_stmt *st, enum store_vmatch match,
                         bool (*filter)(const struct search *s, const struct store_value *k),
                         struct mrd_err *err)
{
    struct store_row row;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    struct store_value stored;
    enum mrd_code rc = MRD_OK;
    int src;

    while (!s->more && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const void *k = sqlite3_column_blob(st, COL_KEY);
        int kn = sqlite3_column_bytes(st, COL_KEY);
        int64_t coll = sqlite3_column_int64(st, COL_COLL);
        struct store_value_hit h;

        if (kn < 0 || kn > STORE_VALUE_KEY_MAX)
            continue;
        memset(&stored, 0, sizeof(stored));
        stored.kind = s->q->kind;
        stored.how = (uint8_t)sqlite3_column_int(st, COL_HOW);
        stored.len = (uint16_t)kn;
        memcpy(stored.key, k, (size_t)kn);
        if (filter != NULL && !filter(s, &stored))
            continue;
        sq__row_from_stmt(st, true, &row, recipients);
        if (seen(s, row.seq) || !s->visible(s->ctx, coll, &row))
            continue;
        if (s->delivered == s->limit) {
            s->more = true;
            break;
        }
        h = (struct store_value_hit){.row = &row,
                                     .collection = coll,
                                     .how = (enum store_vhow)stored.how,
                                     .match = match,
                                     .stored = &stored};
        rc = s->emit(s->ctx, &h, err);
        if (rc != MRD_OK)
            break;
        s->seen[s->nseen++] = row.seq;
        s->delivered++;
    }
    (void)sqlite3_reset(st);
    return rc;
}

static enum mrd_code exact(struct search *s, const uint8_t *key, size_t len,
                           enum store_vmatch match, struct mrd_err *err)
{
    sqlite3_stmt *st = s->exact_st;
    enum mrd_code rc;

    /* The statement cache compares SQL texts: finding this one again for
     * each of an address's 33 (or 129) prefix lengths would cost more
     * than the look-ups themselves. */
    if (st == NULL) {
        rc = sq__prepare(s->c, SEARCH_COLS "v.key = ?2 ORDER BY v.seq DESC", &st, err);
        if (rc != MRD_OK)
            return rc;
        s->exact_st = st;
    } else {
        (void)sqlite3_reset(st);
        (void)sqlite3_clear_bindings(st);
    }
    (void)sqlite3_bind_int(st, 1, s->q->kind);
    (void)sqlite3_bind_blob(st, 2, key, (int)len, SQLITE_STATIC);
    return run(s, st, match, NULL, err);
}

/* Keys in [lo, hi] (inclusive) or [lo, hi) when hi_open. */
static enum mrd_code range(struct search *s, const uint8_t *lo, size_t lon, const uint8_t *hi,
                           size_t hin, bool hi_open,
                           bool (*filter)(const struct search *s, const struct store_value *k),
                           struct mrd_err *err)
{
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;

    s->exact_st = NULL; /* preparing another statement may evict it from the cache */
    rc = sq__prepare(s->c,
                     hi_open ? SEARCH_COLS "v.key >= ?2 AND v.key < ?3 ORDER BY v.key, v.seq DESC"
                             : SEARCH_COLS "v.key >= ?2 AND v.key <= ?3 ORDER BY v.key, v.seq DESC",
                     &st, err);
    if (rc != MRD_OK)
        return rc;
    (void)sqlite3_bind_int(st, 1, s->q->kind);
    (void)sqlite3_bind_blob(st, 2, lo, (int)lon, SQLITE_STATIC);
    (void)sqlite3_bind_blob(st, 3, hi, (int)hin, SQLITE_STATIC);
    return run(s, st, STORE_VM_WITHIN, filter, err);
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
    uint8_t key[17], hi[17];
    enum mrd_code rc = MRD_OK;

    /* the searched value itself, then every shorter prefix holding it */
    for (int l = (int)plen; l >= 0 && rc == MRD_OK && !s->more; l--) {
        memcpy(key, q->key, alen);
        for (size_t i = 0; i < alen; i++) {
            int keep = l - (int)i * 8;
            key[i] &= (uint8_t)(keep >= 8 ? 0xff : keep <= 0 ? 0 : 0xff << (8 - keep));
        }
        key[alen] = (uint8_t)l;
        rc = exact(s, key, alen + 1, l == (int)plen ? STORE_VM_EXACT : STORE_VM_CONTAINS, err);
    }
    if (rc != MRD_OK || s->more || plen == alen * 8)
        return rc;
    /* addresses and ranges inside the searched range */
    memcpy(key, q->key, alen);
    key[alen] = 0;
    memcpy(hi, q->key, alen);
    for (size_t i = 0; i < alen; i++) {
        int keep = (int)plen - (int)i * 8;
        hi[i] |= (uint8_t)(keep >= 8 ? 0 : keep <= 0 ? 0xff : 0xff >> keep);
    }
    hi[alen] = 0xff;
    return range(s, key, alen + 1, hi, alen + 1, false, longer_prefix, err);
}

static enum mrd_code search_domain(struct search *s, struct mrd_err *err)
{
    const struct store_value *q = s->q;
    uint8_t lo[STORE_VALUE_KEY_MAX + 1], hi[STORE_VALUE_KEY_MAX + 1];
    enum mrd_code rc;

    rc = exact(s, q->key, q->len, STORE_VM_EXACT, err);
    /* parent domains: the reversed key cut at each '.' ("com.evil.a" ->
     * "com.evil"; the bare top-level label is no indicator anyone means) */
    for (size_t i = q->len; rc == MRD_OK && !s->more && i-- > 0;) {
        if (q->key[i] != '.' || memchr(q->key, '.', i) == NULL)
            continue;
        rc = exact(s, q->key, i, STORE_VM_CONTAINS, err);
    }
    if (rc != MRD_OK || s->more || q->len + 1 > STORE_VALUE_KEY_MAX)
        return rc;
    /* subdomains: keys starting with "com.evil." */
    memcpy(lo, q->key, q->len);
    lo[q->len] = '.';
    memcpy(hi, q->key, q->len);
    hi[q->len] = '.' + 1;
    return range(s, lo, q->len + 1u, hi, q->len + 1u, true, NULL, err);
}

enum mrd_code sq__value_search(struct store *stp, const struct store_value *v, size_t limit,
                               bool (*visible)(void *ctx, int64_t collection,
                                               const struct store_row *row),
                               enum mrd_code (*emit)(void *ctx, const struct store_value_hit *h,
                                                     struct mrd_err *err),
                               void *ctx, bool *ret_more, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct search x = {.q = v, .limit = limit, .visible = visible, .emit = emit, .ctx = ctx};
    bool began = false;
    enum mrd_code rc;

    x.seen = mrd_calloc(limit + 1, sizeof(*x.seen));
    if (x.seen == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "search: out of memory");
    rc = sq__acquire_read(s, &x.c, err);
    if (rc != MRD_OK)
        goto out;
    if (sqlite3_get_autocommit(x.c->db)) {
        rc = sq__exec(x.c, "BEGIN", err);
        if (rc != MRD_OK)
            goto out;
        began = true;
    }
    if (v->kind == STORE_V_IPV4 || v->kind == STORE_V_IPV6)
        rc = search_ip(&x, err);
    else if (v->kind == STORE_V_DOMAIN)
        rc = search_domain(&x, err);
    else
        rc = exact(&x, v->key, v->len, STORE_VM_EXACT, err);
    if (rc == MRD_OK && ret_more != NULL)
        *ret_more = x.more;
out:
    if (began)
        sq__rollback(x.c); /* read-only */
    sq__release(s, x.c);
    mrd_free(x.seen);
    return rc;
}
