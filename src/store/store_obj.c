/*
 * store_obj.c: STIX object versions and TAXII status resources, written
 * once for both backends (store_int.h, "objects, whichever the backend").
 *
 * Every function here runs on a struct store_tx: a connection inside a
 * transaction the backend opened (SQLite: BEGIN IMMEDIATE, the group
 * commit of store_sqlite_obj.c; PostgreSQL: a transaction holding the
 * store's write lock, store_pg.c). The SQL is the dialect both engines
 * take: ?N parameters, `IS [NOT] DISTINCT FROM`, `ON CONFLICT`,
 * `RETURNING`, integers for flags. `INDEXED BY` hints are SQLite's; the
 * PostgreSQL driver drops them (store_pg.c, pg_sql).
 *
 * date_added: each collection row keeps last_added, the newest date_added
 * it ever handed out (deleted rows included), and every insert runs under
 * the backend's write lock, so max(now, last_added + 1) is strictly
 * increasing whatever the clock or other writers do, and a row becomes
 * visible only after every row with a smaller date_added (docs/store.md).
 * Queries: one SQL statement per filter shape, rows streamed in
 * (date_added, seq) order through the caller's policy callback, so the
 * limit counts visible rows only and `more` is exact.
 */
#include "store/store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/str.h"
#include "core/timestamp.h"

#define SQL_MAX 8192 /* the longest generated query: STORE_MATCH_MAX values per filter */
/* The arguments of the longest generated query: collection, added_after,
 * the cursor (3), then ids, types, spec versions and timestamps. */
#define QUERY_ARGS_MAX (5 + 4 * STORE_MATCH_MAX)

/* The columns of a row (store__row_from), then its version flags packed in
 * one column (ROW_FLAGS_COL, F_* bits: one column to fetch per row, not
 * five), then the body when asked for (ROW_BODY_COL). */
#define ROW_COLS SQ_ROW_COLS
#define ROW_FLAGS_COL 15
#define ROW_BODY_COL SQ_ROW_BODY_COL
#define F_FIRST 0x1
#define F_LAST 0x2
#define F_TWIN 0x4
#define F_SHADOWED 0x8
#define F_SHADOWED_FIRST 0x10
#define F_WRITER_ONLY 0x20

/* One statement on the transaction's connection. */
static enum mrd_code run(const struct store_tx *tx, const char *what, const char *sql,
                         const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                         uint64_t *ret_n, struct mrd_err *err)
{
    return tx->ops->run(tx->conn, false, what, sql, args, nargs, row, ctx, ret_n, err);
}

/* A statement whose rows may be many (the backend may fetch them in
 * batches). */
static enum mrd_code scan(const struct store_tx *tx, const char *what, const char *sql,
                          const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                          struct mrd_err *err)
{
    return tx->ops->run(tx->conn, true, what, sql, args, nargs, row, ctx, NULL, err);
}

/* What a row function returns to stop its statement early: no message is
 * set, and the caller, seeing its own flag, turns it back into MRD_OK. */
#define STOP_CODE MRD_E_TOOBIG

static int64_t version_of(const struct store_object_in *o)
{
    if (o->modified_usec != STORE_TIME_NONE)
        return o->modified_usec;
    if (o->created_usec != STORE_TIME_NONE)
        return o->created_usec;
    return STORE_VERSION_NONE;
}

/* Text that may be NULL, as an argument: NULL binds SQL NULL (typed as
 * text, which PostgreSQL needs where the column does not say). */
static struct sq_arg opt_text(const char *s, size_t n)
{
    return (struct sq_arg){.type = SQ_ARG_TEXT, .p = s, .len = s == NULL ? 0 : (int)n};
}

/* Recipients are kept as "1,5,9": few per object, read only with RED.
 * Appended to b. */
static enum mrd_code recipients_text(const struct store_object_in *o, struct mrd_buf *b,
                                     struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; i < o->n_recipients && rc == MRD_OK; i++)
        rc = mrd_buf_printf(b, err, "%s%" PRId64, i > 0 ? "," : "", o->recipients[i]);
    return rc;
}

void store__row_from(const struct store_rowrd *r, bool body, struct store_row *row,
                     int64_t *recipients)
{
    size_t n;
    const char *t;

    memset(row, 0, sizeof(*row));
    row->seq = r->i64(r, 0);
    row->date_added = r->i64(r, 1);
    row->id = r->text(r, 2, &row->id_len);
    row->type = r->text(r, 3, &row->type_len);
    row->spec_version = r->text(r, 4, &row->spec_version_len);
    row->created_usec = r->null(r, 5) ? STORE_TIME_NONE : r->i64(r, 5);
    row->modified_usec = r->null(r, 6) ? STORE_TIME_NONE : r->i64(r, 6);
    row->version_usec = r->i64(r, 7);
    row->revoked = r->i64(r, 8) != 0;
    row->policy.tlp = (enum policy_tlp)r->i64(r, 9);
    row->policy.local = r->i64(r, 10) != 0;
    row->policy.creator_org = r->i64(r, 11);
    if (!r->null(r, 12))
        row->source_peer = r->text(r, 12, &row->source_peer_len);
    row->policy.community = r->text(r, 13, &row->policy.community_len);
    /* Recipients: parse "1,5,9"; anything malformed simply yields fewer
     * recipients, which only ever denies. */
    t = r->text(r, 14, &n);
    for (size_t i = 0; i < n && row->policy.n_recipients < STORE_RECIPIENTS_MAX;) {
        int64_t v = 0;
        size_t j = i;
        while (j < n && t[j] >= '0' && t[j] <= '9' && v < INT64_MAX / 10 - 10)
            v = v * 10 + (t[j++] - '0');
        if (j > i && v > 0)
            recipients[row->policy.n_recipients++] = v;
        i = j + 1;
    }
    row->policy.recipients = row->policy.n_recipients > 0 ? recipients : NULL;
    row->policy.writer_only = (r->i64(r, ROW_FLAGS_COL) & F_WRITER_ONLY) != 0;
    if (body)
        row->body = r->blob(r, ROW_BODY_COL, &row->body_len);
}

/* ---- insert ---- */

/* Clears the first/last flag of the other versions of (collection, id)
 * when a new version takes it over. */
static enum mrd_code clear_flag(const struct store_tx *tx, int64_t collection,
                                const struct store_object_in *o, int64_t version, bool last,
                                struct mrd_err *err)
{
    return run(tx, "object insert",
               last ? "UPDATE objects SET is_last = 0 WHERE collection = ?1 AND stix_id = ?2"
                      " AND is_last = 1 AND version <> ?3"
                    : "UPDATE objects SET is_first = 0 WHERE collection = ?1 AND"
                      " stix_id = ?2 AND is_first = 1 AND version <> ?3",
               SQ_ARGS(SQ_INT(collection), SQ_TEXT(o->id, o->id_len), SQ_INT(version)), NULL, NULL,
               NULL, err);
}

/* Whether the writer of o may read a stored row (or wrote it). */
static bool writer_sees(const struct store_object_in *o, const struct store_row *row)
{
    return o->writer_sees == NULL ||
           (o->creator_org != 0 && row->policy.creator_org == o->creator_org) ||
           o->writer_sees(o->writer_ctx, row);
}

static bool same_signer(const char *a, size_t an, const char *b, size_t bn)
{
    if (a == NULL || b == NULL)
        return a == NULL && b == NULL;
    return an == bn && memcmp(a, b, an) == 0;
}

/* unsigned < a key this node does not know < a key it trusts */
static int signer_rank(const struct store_object_in *o, const char *key, size_t len)
{
    if (key == NULL)
        return 0;
    return o->signer_trusted != NULL && o->signer_trusted(o->signer_ctx, key, len) ? 2 : 1;
}

/* What the stored copies of (collection, id, version) say about o. */
struct copies {
    size_t n;          /* rows of this version, writer-only ones included */
    size_t genuine;    /* ... not writer-only */
    bool dup;          /* one has o's bytes and the writer sees it (or wrote it) */
    int64_t dup_date;  /* its date_added */
    bool seen;         /* the writer sees (or wrote) one of them */
    int64_t seen_date; /* the first such one's date_added */
    int64_t other_seq; /* a genuine copy by o's signer with other content; 0 none */
    bool other_seen;   /* the writer sees (or wrote) that copy */
};

/* Reads the stored copies of o's version. The writer is asked about the
 * stored rows only: nothing of a hidden row reaches the caller, and its
 * date_added is reported only for a copy that makes a duplicate. */
struct scan_ctx {
    const struct store_object_in *o;
    struct copies *ret;
};

static enum mrd_code scan_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct scan_ctx *sc = ctx;
    const struct store_object_in *o = sc->o;
    struct copies *ret = sc->ret;
    struct store_row row;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    size_t kn = 0;
    const char *key = r->null(r, ROW_BODY_COL + 1) ? NULL : r->text(r, ROW_BODY_COL + 1, &kn);
    bool same, sees;

    (void)err;
    store__row_from(r, true, &row, recipients);
    same = row.body_len == o->body_len && memcmp(row.body, o->body, o->body_len) == 0;
    /* other bytes by the same signer: the same content signed another way
     * (store_object_in.same_content) is the same copy */
    if (!same && o->same_content != NULL && same_signer(key, kn, o->signer, o->signer_len))
        same = o->same_content(row.body, row.body_len, o->body, o->body_len);
    sees = writer_sees(o, &row);
    ret->n++;
    if (!row.policy.writer_only)
        ret->genuine++;
    if (sees && !ret->seen)
        ret->seen_date = row.date_added;
    ret->seen = ret->seen || sees;
    if (same && sees && !ret->dup) {
        ret->dup = true;
        ret->dup_date = row.date_added;
    }
    if (!same && !row.policy.writer_only && ret->other_seq == 0 &&
        same_signer(key, kn, o->signer, o->signer_len)) {
        ret->other_seq = row.seq;
        ret->other_seen = sees;
    }
    return MRD_OK;
}

static enum mrd_code scan_copies(const struct store_tx *tx, int64_t collection,
                                 const struct store_object_in *o, int64_t version,
                                 struct copies *ret, struct mrd_err *err)
{
    struct scan_ctx sc = {o, ret};

    memset(ret, 0, sizeof(*ret));
    return run(tx, "object insert",
               "SELECT " ROW_COLS ", o.body, o.signer FROM objects o INDEXED BY"
               " objects_version WHERE o.collection = ?1 AND o.stix_id = ?2"
               " AND o.version = ?3 ORDER BY o.seq",
               SQ_ARGS(SQ_INT(collection), SQ_TEXT(o->id, o->id_len), SQ_INT(version)), scan_row,
               &sc, NULL, err);
}

/* The key that signs the rows of (collection, id) this node holds as
 * genuine (they share one, or are all unsigned): *ret_any false when there
 * is no such row. The key is copied into key (STORE_SIGNER_MAX + 1). */
struct signer_ctx {
    int64_t *seq;
    char *key;
    size_t *len;
    int64_t *local_creator;
};

static enum mrd_code signer_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct signer_ctx *sc = ctx;

    (void)err;
    *sc->seq = r->i64(r, 0);
    if (!r->null(r, 1)) {
        store__copy_col(r, 1, sc->key, STORE_SIGNER_MAX + 1);
        *sc->len = strlen(sc->key);
    }
    *sc->local_creator = r->i64(r, 3) != 0 ? r->i64(r, 2) : 0;
    return MRD_OK;
}

/* ... and *ret_local_creator: the org that wrote the oldest of those rows
 * when it was created on this node (policy_origin_local), else 0. */
static enum mrd_code object_signer(const struct store_tx *tx, int64_t collection,
                                   const struct store_object_in *o, bool *ret_any, int64_t *ret_seq,
                                   char *key, size_t *ret_len, int64_t *ret_local_creator,
                                   struct mrd_err *err)
{
    struct signer_ctx sc = {ret_seq, key, ret_len, ret_local_creator};
    uint64_t n = 0;
    enum mrd_code rc;

    *ret_len = 0;
    *ret_local_creator = 0;
    key[0] = '\0';
    rc = run(tx, "object insert",
             "SELECT seq, signer, creator_org, local FROM objects INDEXED BY objects_version"
             " WHERE collection = ?1 AND stix_id = ?2 AND writer_only = 0"
             " ORDER BY version, seq LIMIT 1",
             SQ_ARGS(SQ_INT(collection), SQ_TEXT(o->id, o->id_len)), signer_row, &sc, &n, err);
    *ret_any = rc == MRD_OK && n > 0;
    return rc;
}

/* Whether o's writer is the one that stored the first of the genuine rows
 * of (collection, id), in insert order: the same org or the same source
 * peer (below). */
struct writer_ctx {
    const struct store_object_in *o;
    bool same;
};

static enum mrd_code writer_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct writer_ctx *wc = ctx;
    const struct store_object_in *o = wc->o;
    int64_t org = r->i64(r, 0);
    size_t pn = 0;
    const char *peer = r->null(r, 1) ? NULL : r->text(r, 1, &pn);

    (void)err;
    /* The same org, or the same peer: a peer's pulls and the POSTs of the
     * partner org of its name (source_peer is the org's name) are one
     * writer, also when the pulls were stored before that org existed
     * (creator_org 0). Neither on both sides: a writer of no name. */
    if (org != 0 && org == o->creator_org)
        wc->same = true;
    else if (peer != NULL && o->source_peer != NULL)
        wc->same = pn == o->source_peer_len && memcmp(peer, o->source_peer, pn) == 0;
    else
        wc->same = org == 0 && o->creator_org == 0 && peer == NULL && o->source_peer == NULL;
    return MRD_OK;
}

static enum mrd_code first_writer_is(const struct store_tx *tx, int64_t collection,
                                     const struct store_object_in *o, bool *ret,
                                     struct mrd_err *err)
{
    struct writer_ctx wc = {o, false};
    enum mrd_code rc;

    rc = run(tx, "object insert",
             "SELECT creator_org, source_peer FROM objects INDEXED BY objects_version"
             " WHERE collection = ?1 AND stix_id = ?2 AND writer_only = 0"
             " ORDER BY seq LIMIT 1",
             SQ_ARGS(SQ_INT(collection), SQ_TEXT(o->id, o->id_len)), writer_row, &wc, NULL, err);
    *ret = rc == MRD_OK && wc.same;
    return rc;
}

struct sees_ctx {
    const struct store_object_in *o;
    bool others; /* only rows another org wrote count */
    bool sees;
};

static enum mrd_code sees_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct sees_ctx *sc = ctx;
    const struct store_object_in *o = sc->o;
    struct store_row row;
    int64_t recipients[STORE_RECIPIENTS_MAX];

    (void)err;
    store__row_from(r, false, &row, recipients);
    if (sc->others && o->creator_org != 0 && row.policy.creator_org == o->creator_org)
        return MRD_OK;
    sc->sees = sc->others ? o->writer_sees == NULL || o->writer_sees(o->writer_ctx, &row)
                          : writer_sees(o, &row);
    return sc->sees ? STOP_CODE : MRD_OK; /* decided: stop */
}

/* Whether the writer of o may read (or wrote) a genuine row of the object:
 * then refusing its copy tells it nothing it could not read. With others,
 * only a row another org wrote that the writer may read counts: a refusal
 * that says another org stored the object first must not rest on the
 * writer's own copy of a version (it may have re-posted one it could not
 * read, a writer-scoped copy). */
static enum mrd_code sees_object(const struct store_tx *tx, int64_t collection,
                                 const struct store_object_in *o, bool others, bool *ret,
                                 struct mrd_err *err)
{
    struct sees_ctx sc = {o, others, false};
    enum mrd_code rc;

    rc = run(tx, "object insert",
             "SELECT " ROW_COLS " FROM objects o INDEXED BY objects_version"
             " WHERE o.collection = ?1 AND o.stix_id = ?2 AND o.writer_only = 0",
             SQ_ARGS(SQ_INT(collection), SQ_TEXT(o->id, o->id_len)), sees_row, &sc, NULL, err);
    if (rc == STOP_CODE && sc.sees)
        rc = MRD_OK;
    *ret = rc == MRD_OK && sc.sees;
    return rc;
}

/* The rows of o's object that version `version` of o would break the
 * history of (STIX 2.1 §3.2, §3.6): another `created`, a revoked version
 * older than this one, or (o revoked) a version newer than it. Among the
 * genuine rows and the writer's own writer-only ones: a writer whose
 * object is hidden keeps a history of its own, exactly as if the object
 * were new to the node, so what it is told never depends on rows it may
 * not read. *ret_seq is a breaking row (0: none); *ret_seen says whether
 * the writer sees (or wrote) one of them, then refusing tells it nothing. */
struct history_ctx {
    const struct store_object_in *o;
    int64_t seq;
    bool seen;
};

static enum mrd_code history_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct history_ctx *h = ctx;
    struct store_row row;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    bool sees;

    (void)err;
    store__row_from(r, false, &row, recipients);
    sees = writer_sees(h->o, &row);
    if (h->seq == 0 || sees)
        h->seq = row.seq;
    h->seen = sees;
    return sees ? STOP_CODE : MRD_OK; /* decided: stop */
}

static enum mrd_code history_breaks(const struct store_tx *tx, int64_t collection,
                                    const struct store_object_in *o, int64_t version,
                                    int64_t *ret_seq, bool *ret_seen, struct mrd_err *err)
{
    bool created = o->created_usec != STORE_TIME_NONE;
    struct history_ctx h = {o, 0, false};
    enum mrd_code rc;

    rc = run(tx, "object insert",
             "SELECT " ROW_COLS " FROM objects o INDEXED BY objects_version"
             " WHERE o.collection = ?1 AND o.stix_id = ?2"
             " AND (o.writer_only = 0 OR (?7 <> 0 AND o.creator_org = ?7))"
             " AND ((o.revoked <> 0 AND o.version < ?3) OR (?5 <> 0 AND o.version > ?3)"
             " OR (?6 <> 0 AND o.created IS DISTINCT FROM ?4))",
             SQ_ARGS(SQ_INT(collection), SQ_TEXT(o->id, o->id_len), SQ_INT(version),
                     SQ_INT(created ? o->created_usec : 0), SQ_INT(o->revoked ? 1 : 0),
                     SQ_INT(created ? 1 : 0), SQ_INT(o->creator_org)),
             history_row, &h, NULL, err);
    if (rc == STOP_CODE && h.seen)
        rc = MRD_OK;
    *ret_seq = h.seq;
    *ret_seen = h.seen;
    return rc;
}

/* Whether a refused copy of o's version with o's content is recorded
 * already: by o's signer (or both unsigned), its bytes the same or, by
 * o->same_content, the same content signed another way (the node signs
 * what its orgs create, with the selective-disclosure block or without as
 * the privacy policy in force says: refused again, the same copy is not a
 * new conflict). */
/* The newest such records compared (each costs two parses); a copy like
 * an older one is recorded once more, nothing worse. */
#define KNOWN_REFUSED_MAX 16
struct known_ctx {
    const struct store_object_in *o;
    bool known;
};

static enum mrd_code known_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct known_ctx *k = ctx;
    size_t bn = 0, kn = 0;
    const char *body = r->null(r, 0) ? NULL : r->blob(r, 0, &bn);
    const char *key = r->null(r, 1) ? NULL : r->text(r, 1, &kn);

    (void)err;
    if (body == NULL || !same_signer(key, kn, k->o->signer, k->o->signer_len))
        return MRD_OK;
    k->known = k->o->same_content(body, bn, k->o->body, k->o->body_len);
    return k->known ? STOP_CODE : MRD_OK;
}

static enum mrd_code rejected_known(const struct store_tx *tx, int64_t collection,
                                    const struct store_object_in *o, int64_t version, bool *ret,
                                    struct mrd_err *err)
{
    struct known_ctx k = {o, false};
    enum mrd_code rc;

    *ret = false;
    if (o->same_content == NULL)
        return MRD_OK; /* the unique index keeps the same bytes once */
    rc = run(tx, "conflict",
             "SELECT other_body, other_signer FROM conflicts WHERE collection = ?1"
             " AND stix_id = ?2 AND version = ?3 AND other_seq IS NULL"
             " AND other_signer IS NOT DISTINCT FROM ?4 ORDER BY id DESC LIMIT ?5",
             SQ_ARGS(SQ_INT(collection), SQ_TEXT(o->id, o->id_len), SQ_INT(version),
                     opt_text(o->signer, o->signer_len), SQ_INT(KNOWN_REFUSED_MAX)),
             known_row, &k, NULL, err);
    if (rc == STOP_CODE && k.known)
        rc = MRD_OK;
    *ret = rc == MRD_OK && k.known;
    return rc;
}

/* Records a copy of o that is not genuine: refused (its bytes kept here,
 * once per distinct content: rejected_known) or stored as writer-only row
 * other_seq. */
static enum mrd_code conflict_add(const struct store_tx *tx, int64_t collection,
                                  const struct store_object_in *o, int64_t version,
                                  enum store_conflict_reason reason,
                                  enum store_conflict_action action, int64_t kept_seq,
                                  const char *kept, size_t kept_len, int64_t other_seq,
                                  struct mrd_err *err)
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    bool rejected = action == STORE_CONFLICT_REJECTED, known = false;
    enum mrd_code rc;

    if (rejected) {
        rc = rejected_known(tx, collection, o, version, &known, err);
        if (rc != MRD_OK || known)
            return rc;
        (void)crypto_hash_sha256(hash, (const unsigned char *)o->body, o->body_len);
    }
    return run(tx, "conflict",
               "INSERT INTO conflicts (time, collection, stix_id, version, reason,"
               " action, kept_seq, kept_signer, other_seq, other_signer, other_org,"
               " other_peer, other_hash, other_body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
               " ?8, ?9, ?10, ?11, ?12, ?13, ?14) ON CONFLICT DO NOTHING",
               SQ_ARGS(SQ_INT(mrd_time_now_usec()), SQ_INT(collection), SQ_TEXT(o->id, o->id_len),
                       SQ_INT(version), SQ_INT(reason), SQ_INT(action),
                       kept_seq > 0 ? SQ_INT(kept_seq) : SQ_NUL,
                       opt_text(kept_len > 0 ? kept : NULL, kept_len),
                       other_seq > 0 ? SQ_INT(other_seq) : SQ_NUL,
                       opt_text(o->signer, o->signer_len), SQ_INT(o->creator_org),
                       opt_text(o->source_peer, o->source_peer_len),
                       rejected ? SQ_BLOB(hash, sizeof(hash)) : SQ_NUL,
                       rejected ? SQ_BLOB(o->body, o->body_len) : SQ_NUL),
               NULL, NULL, NULL, err);
}

/* o (row new_seq) outranks the signer of the object's genuine rows: those
 * by another (or no) signer become writer-only, each recorded as a
 * conflict; the flags that compared policies with them are cleared (safe:
 * look-ups) as a DELETE does. */
static enum mrd_code demote_others(const struct store_tx *tx, int64_t collection,
                                   const struct store_object_in *o, int64_t new_seq,
                                   struct mrd_err *err)
{
    static const char *const sql[] = {
        "INSERT INTO conflicts (time, collection, stix_id, version, reason, action, kept_seq,"
        " kept_signer, other_seq, other_signer, other_org, other_peer) SELECT ?4, collection,"
        " stix_id, version, CASE WHEN version = (SELECT version FROM objects WHERE seq = ?5)"
        " THEN 2 ELSE 1 END, 3, ?5, ?3, seq, signer, creator_org, source_peer FROM objects"
        " WHERE collection = ?1 AND stix_id = ?2 AND writer_only = 0"
        " AND signer IS DISTINCT FROM ?3",
        "UPDATE objects SET writer_only = 1 WHERE collection = ?1 AND stix_id = ?2"
        " AND writer_only = 0 AND signer IS DISTINCT FROM ?3",
        "UPDATE objects SET shadowed = 0, shadowed_first = 0 WHERE collection = ?1"
        " AND stix_id = ?2",
    };
    /* ?1..?5 in order; each statement binds the first ones it uses */
    const struct sq_arg args[] = {SQ_INT(collection), SQ_TEXT(o->id, o->id_len),
                                  opt_text(o->signer, o->signer_len), SQ_INT(mrd_time_now_usec()),
                                  SQ_INT(new_seq)};
    static const size_t nargs[] = {5, 3, 2};
    enum mrd_code rc = MRD_OK;

    for (size_t k = 0; k < sizeof(sql) / sizeof(sql[0]) && rc == MRD_OK; k++)
        rc = run(tx, "object insert", sql[k], args, nargs[k], NULL, NULL, NULL, err);
    return rc;
}

/* Marks every copy of (collection, id, version) as one of several, so
 * queries choose among them (store_objects_query). */
static enum mrd_code mark_twins(const struct store_tx *tx, int64_t collection,
                                const struct store_object_in *o, int64_t version,
                                struct mrd_err *err)
{
    return run(tx, "object insert",
               "UPDATE objects SET twin = 1 WHERE collection = ?1 AND stix_id = ?2"
               " AND version = ?3 AND twin = 0",
               SQ_ARGS(SQ_INT(collection), SQ_TEXT(o->id, o->id_len), SQ_INT(version)), NULL, NULL,
               NULL, err);
}

/* The policy columns of row `a` equal those of table row `objects`. */
#define SAME_POLICY(a)                                                                             \
    " " a ".tlp = objects.tlp AND " a ".local = objects.local AND " a ".creator_org ="             \
    " objects.creator_org AND " a ".community = objects.community AND " a ".recipients IS NOT"     \
    " DISTINCT FROM objects.recipients AND " a ".source_peer IS NOT DISTINCT FROM"                 \
    " objects.source_peer AND " a ".writer_only = objects.writer_only"

/* Keeps `shadowed` (towards the newest copies) or `shadowed_first`
 * (towards the oldest) after an insert of row seq (see the schema): a new
 * newest (oldest) version decides it for every other one; any other new
 * version gets it against the current newest (oldest) copies. (A copy of
 * the newest version changes nothing: flags that hold stay true; one it
 * could set stays 0, which only costs a look-up. DELETE clears the flags
 * of the object it touches.) */
static enum mrd_code set_shadowed(const struct store_tx *tx, int64_t collection,
                                  const struct store_object_in *o, int64_t version, int64_t seq,
                                  bool first, bool extreme, struct mrd_err *err)
{
    static const char *const sql[2][2] = {
        {"UPDATE objects SET shadowed = CASE WHEN EXISTS (SELECT 1 FROM objects l WHERE"
         " l.collection = objects.collection AND l.stix_id = objects.stix_id AND l.is_last = 1"
         " AND" SAME_POLICY("l") ") THEN 1 ELSE 0 END WHERE seq = ?4",
         "UPDATE objects SET shadowed = CASE WHEN" SAME_POLICY(
             "n") " THEN 1 ELSE 0 END FROM (SELECT * FROM objects WHERE seq = ?4) AS n"
                  " WHERE objects.collection = ?1 AND objects.stix_id = ?2 AND objects.version < "
                  "?3"},
        {"UPDATE objects SET shadowed_first = CASE WHEN EXISTS (SELECT 1 FROM objects l WHERE"
         " l.collection = objects.collection AND l.stix_id = objects.stix_id AND l.is_first = 1"
         " AND" SAME_POLICY("l") ") THEN 1 ELSE 0 END WHERE seq = ?4",
         "UPDATE objects SET shadowed_first = CASE WHEN" SAME_POLICY(
             "n") " THEN 1 ELSE 0 END FROM (SELECT * FROM objects WHERE seq = ?4) AS n"
                  " WHERE objects.collection = ?1 AND objects.stix_id = ?2 AND objects.version > "
                  "?3"},
    };
    const struct sq_arg args[] = {SQ_INT(collection), SQ_TEXT(o->id, o->id_len), SQ_INT(version),
                                  SQ_INT(seq)};

    return run(tx, "object insert", sql[first][extreme], args, 4, NULL, NULL, NULL, err);
}

static enum mrd_code span_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    int64_t *span = ctx;

    (void)err;
    for (int i = 0; i < 3; i++)
        span[i] = r->i64(r, i);
    return MRD_OK;
}

static enum mrd_code seq_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    (void)err;
    *(int64_t *)ctx = r->i64(r, 0);
    return MRD_OK;
}

/* The value index (store.h, "search by value"): one row per value the
 * version mentions, written with it, so search is never behind. */
struct put_ctx {
    const struct store_tx *tx;
    int64_t seq;
};

static enum mrd_code put_value(void *ctx, const struct store_value *v, struct mrd_err *err)
{
    struct put_ctx *p = ctx;

    return run(p->tx, "value index",
               "INSERT INTO value_index (kind, key, seq, how) VALUES (?1, ?2, ?3, ?4)"
               " ON CONFLICT DO NOTHING",
               SQ_ARGS(SQ_INT(v->kind), SQ_BLOB(v->key, v->len), SQ_INT(p->seq), SQ_INT(v->how)),
               NULL, NULL, NULL, err);
}

enum mrd_code store__index_values(const struct store_tx *tx, int64_t seq, const char *body,
                                  size_t len, struct mrd_err *err)
{
    struct put_ctx p = {.tx = tx, .seq = seq};

    return store_values_of_object(body, len, put_value, &p, err);
}

/* The columns of a new version's row, in OBJ_INSERT's order. */
#define OBJ_COLS 21
#define OBJ_INTO                                                                                   \
    "INSERT INTO objects (collection, date_added, stix_id, type, spec_version,"                    \
    " created, modified, version, revoked, tlp, local, creator_org, source_peer,"                  \
    " community, recipients, body, is_first, is_last, twin, signer, writer_only)"
#define OBJ_INSERT OBJ_INTO " VALUES "
/* the same, one array per column (store_txops.array_rows) */
#define OBJ_INSERT_ARRAYS                                                                          \
    OBJ_INTO " SELECT * FROM unnest(?1::bigint[], ?2::bigint[], ?3::text[], ?4::text[],"           \
             " ?5::text[], ?6::bigint[], ?7::bigint[], ?8::bigint[], ?9::bigint[], ?10::bigint[]," \
             " ?11::bigint[], ?12::bigint[], ?13::text[], ?14::text[], ?15::text[], ?16::bytea[]," \
             " ?17::bigint[], ?18::bigint[], ?19::bigint[], ?20::text[], ?21::bigint[])"
static const enum sq_arg_type obj_types[OBJ_COLS] = {
    SQ_ARG_INT,  SQ_ARG_INT,  SQ_ARG_TEXT, SQ_ARG_TEXT, SQ_ARG_TEXT, SQ_ARG_INT,  SQ_ARG_INT,
    SQ_ARG_INT,  SQ_ARG_INT,  SQ_ARG_INT,  SQ_ARG_INT,  SQ_ARG_INT,  SQ_ARG_TEXT, SQ_ARG_TEXT,
    SQ_ARG_TEXT, SQ_ARG_BLOB, SQ_ARG_INT,  SQ_ARG_INT,  SQ_ARG_INT,  SQ_ARG_TEXT, SQ_ARG_INT,
};
struct obj_flags {
    bool first, last, twin, writer_only;
};

static void object_args(int64_t collection, const char *root, const struct store_object_in *o,
                        int64_t date_added, const char *rcpt, size_t rcpt_len, struct obj_flags f,
                        struct sq_arg *a)
{
    const struct sq_arg v[OBJ_COLS] = {
        SQ_INT(collection),
        SQ_INT(date_added),
        SQ_TEXT(o->id, o->id_len),
        SQ_TEXT(o->type, o->type_len),
        SQ_TEXT(o->spec_version, o->spec_version_len),
        SQ_TIME(o->created_usec),
        SQ_TIME(o->modified_usec),
        SQ_INT(version_of(o)),
        SQ_INT(o->revoked ? 1 : 0),
        SQ_INT(o->tlp),
        SQ_INT(o->local ? 1 : 0),
        SQ_INT(o->creator_org),
        opt_text(o->source_peer, o->source_peer_len),
        o->community != NULL ? SQ_TEXT(o->community, o->community_len) : SQ_STR(root),
        opt_text(o->n_recipients > 0 ? rcpt : NULL, rcpt_len),
        SQ_BLOB(o->body, o->body_len),
        SQ_INT(f.first ? 1 : 0),
        SQ_INT(f.last ? 1 : 0),
        SQ_INT(f.twin ? 1 : 0),
        opt_text(o->signer, o->signer_len),
        SQ_INT(f.writer_only ? 1 : 0),
    };

    memcpy(a, v, sizeof(v));
}

/* Appends ", ?k" (or "?k" when first): a parameter, without printf (a
 * multi-row statement's text has up to 1,536 of them). */
static enum mrd_code param_sql(struct mrd_buf *sql, size_t k, bool first, struct mrd_err *err)
{
    char t[24];
    size_t i = sizeof(t);

    do {
        t[--i] = (char)('0' + k % 10);
        k /= 10;
    } while (k > 0);
    t[--i] = '?';
    if (!first) {
        t[--i] = ' ';
        t[--i] = ',';
    }
    return mrd_buf_append(sql, t + i, sizeof(t) - i, err);
}

/* Appends "(?k, ?k+1, ...), (...)": rows tuples of cols parameters,
 * numbered from ?1. */
static enum mrd_code values_sql(struct mrd_buf *sql, size_t rows, size_t cols, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    for (size_t r = 0; r < rows && rc == MRD_OK; r++) {
        rc = mrd_buf_puts(sql, r == 0 ? "(" : ", (", err);
        for (size_t c = 0; c < cols && rc == MRD_OK; c++)
            rc = param_sql(sql, r * cols + c + 1, c == 0, err);
        if (rc == MRD_OK)
            rc = mrd_buf_putc(sql, ')', err);
    }
    return rc;
}

/* How many of n rows the next multi-row statement writes: max when n
 * allows, else the largest power of four at most n. A statement's text is
 * its key in the backend's cache of prepared statements (SQLite's
 * sq__prepare): a few shapes are prepared once and reused, where a
 * statement for each odd count was compiled for one use (its thousand
 * parameters parsed and planned: a fifth of an import's storing thread). */
static size_t chunk_rows(size_t n, size_t max)
{
    size_t k = 1;

    if (n >= max)
        return max;
    while (k * 4 <= n)
        k *= 4;
    return k;
}

/* Runs sql, whose parameters are lead (nlead of them) then one array per
 * column of the rows x cols arguments at a (row after row), the column's
 * elements of types[column] (store_txops.array_rows). */
#define ARRAY_ARGS_MAX (OBJ_COLS + 1)
static enum mrd_code run_arrays(const struct store_tx *tx, const char *what, const char *sql,
                                const struct sq_arg *lead, size_t nlead, const struct sq_arg *a,
                                size_t rows, const enum sq_arg_type *types, size_t cols,
                                store_row_fn row, void *ctx, uint64_t *ret_n, struct mrd_err *err)
{
    struct sq_arg args[ARRAY_ARGS_MAX];

    if (nlead + cols > ARRAY_ARGS_MAX)
        return mrd_err_set(err, MRD_E_INTERNAL, "store: %s: too many columns", what);
    for (size_t i = 0; i < nlead; i++)
        args[i] = lead[i];
    for (size_t c = 0; c < cols; c++)
        args[nlead + c] = SQ_ARRAY(types[c], &a[c], rows, cols);
    return run(tx, what, sql, args, nlead + cols, row, ctx, ret_n, err);
}

static enum mrd_code insert_one(const struct store_tx *tx, int64_t collection, const char *root,
                                const struct store_object_in *o, int64_t date_added,
                                struct mrd_buf *rcpt, enum store_insert_outcome *ret_out,
                                int64_t *ret_date, int64_t *ret_seq, struct mrd_err *err)
{
    int64_t version = version_of(o);
    int64_t span[3] = {0}; /* versions stored, oldest, newest */
    int64_t vmin, vmax, nver, kept_seq = 0, seq = 0;
    struct copies cp = {0};
    char kept[STORE_SIGNER_MAX + 1] = "";
    size_t kept_len = 0;
    enum store_conflict_reason reason = 0;
    bool first, last, any = false, outranks = false, writer_only = false, twin;
    bool history_seen = false, same_writer = false, other_writer = false;
    int64_t creator = 0, history_at = 0;
    enum mrd_code rc;

    *ret_out = STORE_INS_ADDED;
    *ret_date = 0;
    *ret_seq = 0;
    mrd_buf_reset(rcpt);
    rc = recipients_text(o, rcpt, err);
    if (rc != MRD_OK)
        return rc;
    /* Where the new version falls among the stored ones decides the
     * first/last flags (a covering index range, usually empty). */
    rc = run(tx, "object insert",
             "SELECT COUNT(*), MIN(version), MAX(version) FROM objects"
             " WHERE collection = ?1 AND stix_id = ?2",
             SQ_ARGS(SQ_INT(collection), SQ_TEXT(o->id, o->id_len)), span_row, span, NULL, err);
    if (rc != MRD_OK)
        return rc;
    nver = span[0];
    vmin = span[1];
    vmax = span[2];
    /* Copies of one version share its flags: first/last is "no other
     * version is older/newer". */
    first = nver == 0 || version <= vmin;
    last = nver == 0 || version >= vmax;
    if (nver > 0 && version >= vmin && version <= vmax) {
        rc = scan_copies(tx, collection, o, version, &cp, err);
        if (rc != MRD_OK)
            return rc;
        /* the same bytes, for this writer: a no-op (loops end here) */
        if (cp.dup || (version == STORE_VERSION_NONE && cp.seen)) {
            /* (an SCO: any copy the writer sees is the one it has) */
            *ret_out = STORE_INS_DUPLICATE;
            *ret_date = cp.dup ? cp.dup_date : cp.seen_date;
            return MRD_OK;
        }
    }
    /* Only the key that signs an object makes its versions, and one
     * version has one content (STIX 2.1 §3.6; store.h). SCOs are not
     * versioned and every node may make the same one. */
    if (nver > 0 && version != STORE_VERSION_NONE) {
        rc = object_signer(tx, collection, o, &any, &kept_seq, kept, &kept_len, &creator, err);
        /* unsigned rows and an unsigned version that is no copy of a
         * stored one: is its writer the first? (another look-up, here only) */
        if (rc == MRD_OK && any && kept_len == 0 && o->signer == NULL && !o->versions_any &&
            !o->creator_only && cp.genuine == 0) {
            rc = first_writer_is(tx, collection, o, &same_writer, err);
            other_writer = !same_writer; /* not the writer that stored it first */
        }
        if (rc != MRD_OK)
            return rc;
        /* A writer that shares the node's key with others (a constituent:
         * its objects are signed here) versions only what it created. */
        if (any && o->creator_only && (creator == 0 || creator != o->creator_org))
            reason = STORE_CONFLICT_CREATOR;
        /* Unsigned, nothing but the store's record says who created an
         * object: the writer that stored it first. Another's new version
         * (a revocation too) is not genuine; a copy of a stored version is
         * a re-post (the copy rule below), and the own org versions any. */
        else if (other_writer)
            reason = STORE_CONFLICT_CREATOR;
        else if (any &&
                 !same_signer(kept_len > 0 ? kept : NULL, kept_len, o->signer, o->signer_len)) {
            if (signer_rank(o, o->signer, o->signer_len) >
                signer_rank(o, kept_len > 0 ? kept : NULL, kept_len))
                outranks = true;
            else
                reason = STORE_CONFLICT_SIGNER;
        } else if (cp.other_seq != 0) {
            reason = STORE_CONFLICT_COPY;
            kept_seq = cp.other_seq;
        }
    }
    /* One object, one history (STIX 2.1 §3.2, §3.6): its `created` never
     * changes and revoking it is final. A copy that outranks the stored
     * rows replaces their history instead. Asked also of a copy refused
     * for another reason: one hidden from its writer becomes the writer's
     * own, and the writer's own history must answer as it would for an
     * object new to the node. */
    if (!outranks && any) {
        rc = history_breaks(tx, collection, o, version, &history_at, &history_seen, err);
        if (rc != MRD_OK)
            return rc;
        if (reason == 0 && history_at != 0) {
            reason = STORE_CONFLICT_HISTORY;
            kept_seq = history_at;
        }
    }
    if (reason != 0) {
        /* refuse only what the writer could tell anyway: that the object
         * is signed or not its own (it reads a genuine row), that this
         * copy differs (it reads that copy), or that it breaks a history it
         * reads (its own writer-only rows included) */
        bool sees = (reason == STORE_CONFLICT_COPY && cp.other_seen) ||
                    (reason == STORE_CONFLICT_HISTORY && history_seen);
        if (reason == STORE_CONFLICT_SIGNER || reason == STORE_CONFLICT_CREATOR)
            rc = sees_object(tx, collection, o, other_writer, &sees, err);
        if (rc == MRD_OK && !sees && history_seen) {
            reason = STORE_CONFLICT_HISTORY; /* its own history, as for a new object */
            kept_seq = history_at;
            sees = true;
        }
        if (rc == MRD_OK && sees) {
            *ret_out = reason == STORE_CONFLICT_SIGNER    ? STORE_INS_NOT_SIGNER
                       : reason == STORE_CONFLICT_HISTORY ? STORE_INS_HISTORY
                       : reason == STORE_CONFLICT_CREATOR ? STORE_INS_NOT_CREATOR
                                                          : STORE_INS_OTHER_COPY;
            rc = conflict_add(tx, collection, o, version, reason, STORE_CONFLICT_REJECTED, kept_seq,
                              kept, kept_len, 0, err);
            return rc;
        }
        if (rc != MRD_OK)
            return rc;
        writer_only = true; /* hidden from the writer: its own copy, nobody else's */
    }
    twin = cp.n > 0;

    {
        struct sq_arg a[OBJ_COLS];
        object_args(collection, root, o, date_added, rcpt->data, rcpt->len,
                    (struct obj_flags){first, last, twin, writer_only}, a);
        rc = run(tx, "object insert",
                 OBJ_INSERT "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
                            " ?16, ?17, ?18, ?19, ?20, ?21) RETURNING seq",
                 a, OBJ_COLS, seq_row, &seq, NULL, err);
    }
    if (rc != MRD_OK)
        return rc;
    *ret_out = writer_only ? STORE_INS_WRITER_ONLY
               : outranks  ? STORE_INS_REPLACED
                           : STORE_INS_ADDED;
    *ret_date = date_added;
    *ret_seq = seq;
    if (rc == MRD_OK && nver > 0 && last)
        rc = clear_flag(tx, collection, o, version, true, err);
    if (rc == MRD_OK && nver > 0 && first)
        rc = clear_flag(tx, collection, o, version, false, err);
    if (rc == MRD_OK && twin)
        rc = mark_twins(tx, collection, o, version, err);
    if (rc == MRD_OK && nver > 0 && version != vmax)
        rc = set_shadowed(tx, collection, o, version, seq, false, version > vmax, err);
    if (rc == MRD_OK && nver > 0 && version != vmin)
        rc = set_shadowed(tx, collection, o, version, seq, true, version < vmin, err);
    if (rc == MRD_OK && writer_only)
        rc = conflict_add(tx, collection, o, version, reason, STORE_CONFLICT_WRITER_ONLY, kept_seq,
                          kept, kept_len, seq, err);
    /* last: it clears the flags set_shadowed just computed */
    if (rc == MRD_OK && outranks)
        rc = demote_others(tx, collection, o, seq, err);
    /* The indexes are written with the version: search is never behind. */
    if (rc == MRD_OK && o->values_given) {
        struct put_ctx p = {.tx = tx, .seq = seq};
        for (size_t i = 0; i < o->n_values && rc == MRD_OK; i++)
            rc = put_value(&p, &o->values[i], err);
    } else if (rc == MRD_OK) {
        rc = store__index_values(tx, seq, o->body, o->body_len, err);
    }
    return rc; /* the text index follows, once per request (store__insert_req) */
}

/* ---- a request in few statements (store_txops.batch_rows) ----
 *
 * Where every statement is a round trip to a server (PostgreSQL), a
 * request's versions of ids the collection does not hold yet -- nearly
 * all of an ingest -- take no look-up each: one statement finds which ids
 * of the request exist, and the new ones are written with multi-row
 * INSERTs (their rows and value index rows). A version of an id that
 * exists, or that the request holds twice, goes through insert_one, the
 * batch written before it. Both run under the write lock, so "new" cannot
 * change meanwhile, and the rows are those insert_one writes for a first
 * version (first and last, no twin, not writer-only); date_added is
 * handed out in request order either way. */

#define BATCH_ROWS_MAX 64                               /* new versions per INSERT */
#define BATCH_VALUES (STORE_BATCH_PARAMS / 4)           /* value index rows per INSERT */
#define BATCH_IDS (STORE_BATCH_PARAMS - 1)              /* ids per existence look-up */
#define BATCH_DETAILS (STORE_BATCH_PARAMS / 6)          /* status detail rows per INSERT */
#define BATCH_SQL_MAX ((size_t)STORE_BATCH_PARAMS * 12) /* "?1536, " per parameter, and more */
_Static_assert(BATCH_ROWS_MAX *OBJ_COLS <= STORE_BATCH_PARAMS, "a batch fits one statement");
/* With array parameters (store_txops.array_rows): rows per statement, at
 * most (new versions, status details; value index rows: 4 per version)
 * and the bodies of one statement's versions, at most (the batch is
 * written when the next would pass it) */
#define BATCH_ARRAY_ROWS 1024
#define BATCH_ARRAY_VALUES (4 * BATCH_ARRAY_ROWS)
#define BATCH_ARRAY_BYTES ((size_t)16 << 20)
#define BATCH_CAP BATCH_ARRAY_ROWS /* BATCH_ROWS_MAX or array_rows */
_Static_assert(BATCH_ROWS_MAX <= BATCH_CAP, "a batch of either kind fits");

struct batch {
    const struct store_tx *tx;
    int64_t collection;
    const char *root;
    size_t n, max;
    bool arrays;           /* one array parameter per column (store_txops.array_rows) */
    size_t bytes;          /* the batched versions' bodies */
    size_t idx[BATCH_CAP]; /* into the request's objects */
    int64_t date[BATCH_CAP];
    int64_t seq[BATCH_CAP];
    struct store_value *vals; /* value index rows waiting (vmax) */
    int64_t *vseq;
    size_t nv, vmax;
    int64_t cur_seq; /* the version whose values are being collected */
    int64_t *seqs;   /* the request's: each stored version's seq (NULL: not kept) */
    bool paused;     /* the backend's per-row aggregate count (store_txops.agg_pause) */
};

/* Restarts the backend's per-row aggregate count: before a version goes
 * through insert_one (its rows and triggers count it), and at the end of
 * the request. */
static enum mrd_code batch_unpause(struct batch *b, struct mrd_err *err)
{
    if (!b->paused)
        return MRD_OK;
    b->paused = false;
    return b->tx->ops->agg_pause(b->tx->conn, false, err);
}

static size_t arg_len(const struct sq_arg *x)
{
    return x->len < 0 ? strlen(x->p) : (size_t)x->len;
}

/* Whether two arguments bind the same value (NULL text is NULL). */
static bool same_arg(const struct sq_arg *x, const struct sq_arg *y)
{
    if (x->type != y->type || (x->type == SQ_ARG_INT && x->i != y->i))
        return false;
    if (x->type != SQ_ARG_TEXT && x->type != SQ_ARG_BLOB)
        return true;
    if (x->p == NULL || y->p == NULL)
        return x->p == y->p;
    return arg_len(x) == arg_len(y) && memcmp(x->p, y->p, arg_len(x)) == 0;
}

/* The overview's counts of the rows a (k rows of OBJ_COLS arguments):
 * grouped here by the columns agg_objects counts by, in the order the rows
 * first use them, one agg_count per group. */
static enum mrd_code batch_agg_rows(struct batch *b, const struct sq_arg *a, size_t k,
                                    struct mrd_err *err)
{
    /* collection, tlp, local, creator_org, community, recipients,
     * writer_only, source_peer (store_txops.agg_count), then type */
    static const unsigned char col[STORE_AGG_COLS] = {0, 9, 10, 11, 13, 14, 20, 12, 3};
    size_t first[BATCH_ROWS_MAX]; /* each group's first row */
    int64_t hour[BATCH_ROWS_MAX], n[BATCH_ROWS_MAX];
    size_t ng = 0;
    enum mrd_code rc = MRD_OK;

    for (size_t r = 0; r < k; r++) {
        const struct sq_arg *row = &a[r * OBJ_COLS];
        int64_t h = row[1].i / STORE_HOUR_USEC;
        size_t i = 0;

        for (; i < ng; i++) {
            const struct sq_arg *g = &a[first[i] * OBJ_COLS];
            size_t c = 0;

            while (c < STORE_AGG_COLS && same_arg(&g[col[c]], &row[col[c]]))
                c++;
            if (c == STORE_AGG_COLS && hour[i] == h)
                break;
        }
        if (i == ng) {
            first[ng] = r;
            hour[ng] = h;
            n[ng++] = 0;
        }
        n[i]++;
    }
    for (size_t i = 0; i < ng && rc == MRD_OK; i++) {
        struct sq_arg cols[STORE_AGG_COLS];

        for (size_t c = 0; c < STORE_AGG_COLS; c++)
            cols[c] = a[first[i] * OBJ_COLS + col[c]];
        rc = b->tx->ops->agg_count(b->tx->conn, cols, hour[i], n[i], err);
    }
    return rc;
}

/* batch_agg_rows, BATCH_ROWS_MAX rows at a time (its groups' arrays) */
static enum mrd_code batch_agg(struct batch *b, const struct sq_arg *a, size_t k,
                               struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; i < k && rc == MRD_OK; i += BATCH_ROWS_MAX)
        rc = batch_agg_rows(b, &a[i * OBJ_COLS], k - i < BATCH_ROWS_MAX ? k - i : BATCH_ROWS_MAX,
                            err);
    return rc;
}

static enum mrd_code values_flush(struct batch *b, struct mrd_err *err)
{
    struct mrd_buf sql;
    struct sq_arg *a;
    enum mrd_code rc = MRD_OK;

    if (b->nv == 0)
        return MRD_OK;
    a = mrd_calloc(b->nv * 4, sizeof(*a));
    if (a == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    for (size_t i = 0; i < b->nv; i++) {
        a[4 * i] = SQ_INT(b->vals[i].kind);
        a[4 * i + 1] = SQ_BLOB(b->vals[i].key, b->vals[i].len);
        a[4 * i + 2] = SQ_INT(b->vseq[i]);
        a[4 * i + 3] = SQ_INT(b->vals[i].how);
    }
    if (b->arrays) {
        static const enum sq_arg_type t[4] = {SQ_ARG_INT, SQ_ARG_BLOB, SQ_ARG_INT, SQ_ARG_INT};

        rc = run_arrays(b->tx, "value index",
                        "INSERT INTO value_index (kind, key, seq, how) SELECT * FROM"
                        " unnest(?1::bigint[], ?2::bytea[], ?3::bigint[], ?4::bigint[])"
                        " ON CONFLICT DO NOTHING",
                        NULL, 0, a, b->nv, t, 4, NULL, NULL, NULL, err);
        mrd_free(a);
        b->nv = 0;
        return rc;
    }
    mrd_buf_init(&sql, BATCH_SQL_MAX);
    for (size_t i = 0, k; i < b->nv && rc == MRD_OK; i += k) {
        k = chunk_rows(b->nv - i, BATCH_VALUES);
        mrd_buf_reset(&sql);
        rc = mrd_buf_puts(&sql, "INSERT INTO value_index (kind, key, seq, how) VALUES ", err);
        if (rc == MRD_OK)
            rc = values_sql(&sql, k, 4, err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(&sql, " ON CONFLICT DO NOTHING", err);
        if (rc == MRD_OK)
            rc = run(b->tx, "value index", sql.data, &a[4 * i], k * 4, NULL, NULL, NULL, err);
    }
    mrd_buf_release(&sql);
    mrd_free(a);
    b->nv = 0;
    return rc;
}

static enum mrd_code value_add(void *ctx, const struct store_value *v, struct mrd_err *err)
{
    struct batch *b = ctx;

    b->vals[b->nv] = *v;
    b->vseq[b->nv++] = b->cur_seq;
    return b->nv == b->vmax ? values_flush(b, err) : MRD_OK;
}

static enum mrd_code batch_seq_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct batch *b = ctx;
    int64_t date = r->i64(r, 1);
    size_t lo = 0, hi = b->n;

    /* dates are increasing along the batch: find this row's */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (b->date[mid] < date)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == b->n || b->date[lo] != date || b->seq[lo] != 0)
        return mrd_err_set(err, MRD_E_INTERNAL, "object insert: unexpected row returned");
    b->seq[lo] = r->i64(r, 0);
    return MRD_OK;
}

/* Writes the batched versions and their value index rows. */
static enum mrd_code batch_flush(struct batch *b, const struct store_ins_req *q,
                                 struct mrd_err *err)
{
    struct mrd_buf sql, rcpt;
    size_t roff[BATCH_CAP + 1];
    struct sq_arg *a = NULL;
    uint64_t got = 0;
    enum mrd_code rc = MRD_OK;

    if (b->n == 0)
        return MRD_OK;
    mrd_buf_init(&sql, BATCH_SQL_MAX);
    mrd_buf_init(&rcpt, (size_t)BATCH_CAP * STORE_RECIPIENTS_MAX * 21);
    for (size_t k = 0; k < b->n && rc == MRD_OK; k++) { /* every row's recipients first: */
        roff[k] = rcpt.len;                             /* rcpt.data moves as it grows */
        rc = recipients_text(&q->objs[b->idx[k]], &rcpt, err);
    }
    roff[b->n] = rcpt.len;
    a = rc == MRD_OK ? mrd_calloc(b->n * OBJ_COLS, sizeof(*a)) : NULL;
    if (rc == MRD_OK && a == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    for (size_t k = 0; k < b->n && rc == MRD_OK; k++) {
        b->seq[k] = 0;
        object_args(b->collection, b->root, &q->objs[b->idx[k]], b->date[k],
                    rcpt.data != NULL ? rcpt.data + roff[k] : NULL, roff[k + 1] - roff[k],
                    (struct obj_flags){true, true, false, false}, &a[k * OBJ_COLS]);
    }
    if (rc == MRD_OK && b->tx->ops->agg_pause != NULL && !b->paused) { /* batch_agg counts */
        rc = b->tx->ops->agg_pause(b->tx->conn, true, err);
        b->paused = rc == MRD_OK;
    }
    if (rc == MRD_OK && b->arrays) {
        rc = run_arrays(b->tx, "object insert", OBJ_INSERT_ARRAYS " RETURNING seq, date_added",
                        NULL, 0, a, b->n, obj_types, OBJ_COLS, batch_seq_row, b, &got, err);
    }
    for (size_t i = 0, k; i < b->n && rc == MRD_OK && !b->arrays; i += k) {
        uint64_t n = 0;

        k = chunk_rows(b->n - i, b->max);
        mrd_buf_reset(&sql);
        rc = mrd_buf_puts(&sql, OBJ_INSERT, err);
        if (rc == MRD_OK)
            rc = values_sql(&sql, k, OBJ_COLS, err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(&sql, " RETURNING seq, date_added", err);
        if (rc == MRD_OK)
            rc = run(b->tx, "object insert", sql.data, &a[i * OBJ_COLS], k * OBJ_COLS,
                     batch_seq_row, b, &n, err);
        got += n;
    }
    if (rc == MRD_OK && got != b->n)
        rc = mrd_err_set(err, MRD_E_INTERNAL, "object insert: %llu rows of %zu written",
                         (unsigned long long)got, b->n);
    for (size_t k = 0; k < b->n && rc == MRD_OK && b->seqs != NULL; k++)
        b->seqs[b->idx[k]] = b->seq[k];
    if (rc == MRD_OK && b->paused)
        rc = batch_agg(b, a, b->n, err);
    /* the value index, written with the versions: search is never behind */
    for (size_t k = 0; k < b->n && rc == MRD_OK; k++) {
        const struct store_object_in *o = &q->objs[b->idx[k]];

        b->cur_seq = b->seq[k];
        if (o->values_given)
            for (size_t i = 0; i < o->n_values && rc == MRD_OK; i++)
                rc = value_add(b, &o->values[i], err);
        else
            rc = store_values_of_object(o->body, o->body_len, value_add, b, err);
    }
    if (rc == MRD_OK)
        rc = values_flush(b, err);
    mrd_free(a);
    mrd_buf_release(&rcpt);
    mrd_buf_release(&sql);
    b->n = 0;
    b->bytes = 0;
    return rc;
}

/* A request position by id: sorted, they find the ids held twice and the
 * position of an id the look-up returns. */
struct id_pos {
    const char *id;
    size_t len, i;
};

static int id_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);

    return c != 0 ? c : (an > bn) - (an < bn);
}

static int by_id(const void *x, const void *y)
{
    const struct id_pos *a = x, *b = y;

    return id_cmp(a->id, a->len, b->id, b->len);
}

struct exists_ctx {
    const struct id_pos *pos; /* sorted by id */
    size_t n;
    bool *fresh;
};

static enum mrd_code exists_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct exists_ctx *e = ctx;
    size_t len, lo = 0, hi = e->n;
    const char *id = r->text(r, 0, &len);

    (void)err;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (id_cmp(e->pos[mid].id, e->pos[mid].len, id, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < e->n && id_cmp(e->pos[lo].id, e->pos[lo].len, id, len) == 0)
        e->fresh[e->pos[lo].i] = false;
    return MRD_OK;
}

/* Which of the ids ?2.. (each once) the collection ?1 holds: one index
 * look-up per id, whatever the statistics say. The shape is the plan: a
 * scalar subquery with a LIMIT is neither pulled up nor turned into a
 * join, so PostgreSQL runs it for each row of the VALUES list (a SubPlan),
 * and objects_version, both of whose leading columns it binds, answers it
 * cheapest; the ORDER BY (the index's own order) settles the tie an empty
 * table leaves with objects_type, which a plan kept for a prepared
 * statement (store_pg.c) would keep scanning as the collection grows.
 * "stix_id IN (?2, ...)" left the choice to the planner: on a young table
 * (no ANALYZE yet, the collection's selectivity guessed) it read the whole
 * collection for each look-up, a second at 100,000 objects
 * (bench/pg/README.md). SQLite runs the same look-ups through the index it
 * is told. */
#define EXISTS_HEAD "SELECT v.column1 FROM (VALUES "
#define EXISTS_TAIL                                                                                \
    ") v WHERE (SELECT 1 FROM objects o INDEXED BY objects_version WHERE o.collection = ?1"        \
    " AND o.stix_id = v.column1 ORDER BY o.version LIMIT 1) = 1"

/* fresh[i]: the request's version i is of an id the collection does not
 * hold and the request holds once. */
static enum mrd_code find_fresh(const struct store_tx *tx, const struct store_ins_req *q,
                                bool *fresh, struct mrd_err *err)
{
    struct id_pos *pos = mrd_calloc(q->n, sizeof(*pos));
    size_t *cand = mrd_calloc(q->n > 0 ? q->n : 1, sizeof(*cand)), nc = 0;
    struct sq_arg *a = mrd_calloc(BATCH_IDS + 1, sizeof(*a));
    struct exists_ctx e = {pos, q->n, fresh};
    struct mrd_buf sql;
    enum mrd_code rc = MRD_OK;

    mrd_buf_init(&sql, BATCH_SQL_MAX);
    if (pos == NULL || cand == NULL || a == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    for (size_t i = 0; i < q->n && rc == MRD_OK; i++) {
        pos[i] = (struct id_pos){q->objs[i].id, q->objs[i].id_len, i};
        fresh[i] = true;
    }
    if (rc == MRD_OK)
        qsort(pos, q->n, sizeof(*pos), by_id);
    for (size_t i = 1; i < q->n && rc == MRD_OK; i++)
        if (by_id(&pos[i - 1], &pos[i]) == 0)
            fresh[pos[i - 1].i] = fresh[pos[i].i] = false;
    for (size_t i = 0; i < q->n && rc == MRD_OK; i++) /* the ids to look up */
        if (fresh[i])
            cand[nc++] = i;
    for (size_t c = 0, k; c < nc && rc == MRD_OK && tx->ops->array_rows > 0; c += k) {
        const struct sq_arg coll = SQ_INT(q->collection);
        static const enum sq_arg_type text = SQ_ARG_TEXT;

        k = nc - c < BATCH_IDS ? nc - c : BATCH_IDS;
        for (size_t j = 0; j < k; j++)
            a[j] = SQ_TEXT(q->objs[cand[c + j]].id, q->objs[cand[c + j]].id_len);
        /* one index probe per id whatever the statistics: the scalar
         * subquery of EXISTS_TAIL (a join of the array with objects was
         * planned as a scan of the whole collection on a table with no
         * statistics yet) */
        rc = run_arrays(tx, "object insert",
                        "SELECT i.id FROM unnest(?2::text[]) AS i(id)"
                        " WHERE (SELECT 1 FROM objects o INDEXED BY objects_version"
                        " WHERE o.collection = ?1 AND o.stix_id = i.id"
                        " ORDER BY o.version LIMIT 1) = 1",
                        &coll, 1, a, k, &text, 1, exists_row, &e, NULL, err);
    }
    for (size_t c = 0, k; c < nc && rc == MRD_OK && tx->ops->array_rows == 0; c += k) {
        k = chunk_rows(nc - c, BATCH_IDS);
        mrd_buf_reset(&sql);
        rc = mrd_buf_puts(&sql, EXISTS_HEAD, err);
        a[0] = SQ_INT(q->collection);
        for (size_t j = 0; j < k && rc == MRD_OK; j++) {
            const struct store_object_in *o = &q->objs[cand[c + j]];

            a[j + 1] = SQ_TEXT(o->id, o->id_len);
            rc = mrd_buf_puts(&sql, j == 0 ? "(" : ", (", err);
            if (rc == MRD_OK)
                rc = param_sql(&sql, j + 2, true, err);
            if (rc == MRD_OK)
                rc = mrd_buf_putc(&sql, ')', err);
        }
        if (rc == MRD_OK)
            rc = mrd_buf_puts(&sql, EXISTS_TAIL, err);
        if (rc == MRD_OK)
            rc = run(tx, "object insert", sql.data, a, k + 1, exists_row, &e, NULL, err);
    }
    mrd_buf_release(&sql);
    mrd_free(a);
    mrd_free(cand);
    mrd_free(pos);
    return rc;
}

/* The request's versions, in order, with the batch (see above). */
static enum mrd_code insert_batched(const struct store_tx *tx, const struct store_ins_req *q,
                                    const char *root, int64_t *next, int64_t *last, bool *any,
                                    struct mrd_buf *rcpt, int64_t *seqs, struct mrd_err *err)
{
    struct batch *b = mrd_calloc(1, sizeof(*b));
    bool *fresh = mrd_calloc(q->n > 0 ? q->n : 1, sizeof(*fresh));
    enum mrd_code rc = MRD_OK;

    if (b == NULL || fresh == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
        goto out;
    }
    *b = (struct batch){.tx = tx, .collection = q->collection, .root = root, .seqs = seqs};
    b->arrays = tx->ops->array_rows > 0;
    if (b->arrays) {
        b->max = tx->ops->array_rows < BATCH_ARRAY_ROWS ? tx->ops->array_rows : BATCH_ARRAY_ROWS;
        b->vmax = BATCH_ARRAY_VALUES;
    } else {
        b->max = tx->ops->batch_rows < BATCH_ROWS_MAX ? tx->ops->batch_rows : BATCH_ROWS_MAX;
        b->vmax = BATCH_VALUES;
    }
    b->vals = mrd_calloc(b->vmax, sizeof(*b->vals));
    b->vseq = mrd_calloc(b->vmax, sizeof(*b->vseq));
    if (b->vals == NULL || b->vseq == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
        goto out;
    }
    rc = find_fresh(tx, q, fresh, err);
    for (size_t i = 0; i < q->n && rc == MRD_OK; i++) {
        enum store_insert_outcome out = STORE_INS_ADDED;
        int64_t date = *next, seq = 0;

        if (fresh[i]) {
            /* an array statement's bodies stay below BATCH_ARRAY_BYTES */
            if (b->arrays && b->n > 0 && b->bytes + q->objs[i].body_len > BATCH_ARRAY_BYTES)
                rc = batch_flush(b, q, err);
            if (rc != MRD_OK)
                break;
            b->idx[b->n] = i;
            b->bytes += q->objs[i].body_len;
            b->date[b->n++] = date;
            if (b->n == b->max)
                rc = batch_flush(b, q, err);
        } else {
            rc = batch_flush(b, q, err); /* insert_one sees every row before it */
            if (rc == MRD_OK)
                rc = batch_unpause(b, err); /* and its triggers count it */
            if (rc == MRD_OK)
                rc = insert_one(tx, q->collection, root, &q->objs[i], date, rcpt, &out, &date, &seq,
                                err);
            if (rc == MRD_OK && seqs != NULL)
                seqs[i] = seq;
            if (rc != MRD_OK)
                mrd_err_prefix(err, "object %zu", i);
        }
        if (rc != MRD_OK)
            break;
        if (q->outcomes != NULL)
            q->outcomes[i] = out;
        if (q->dates != NULL)
            q->dates[i] = date;
        if (out == STORE_INS_ADDED || out == STORE_INS_REPLACED || out == STORE_INS_WRITER_ONLY) {
            *last = *next;
            (*next)++;
            *any = true;
        }
    }
    if (rc == MRD_OK)
        rc = batch_flush(b, q, err);
    if (rc == MRD_OK)
        rc = batch_unpause(b, err);
out:
    if (b != NULL) {
        mrd_free(b->vals);
        mrd_free(b->vseq);
    }
    mrd_free(b);
    mrd_free(fresh);
    return rc;
}

struct coll_last {
    int64_t last;
    char root[STORE_NAME_MAX + 1];
    int64_t max_seq; /* the newest version before the request */
};

static enum mrd_code coll_last_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct coll_last *cl = ctx;

    (void)err;
    cl->last = r->i64(r, 0);
    store__copy_col(r, 1, cl->root, sizeof(cl->root));
    cl->max_seq = r->i64(r, 2);
    return MRD_OK;
}

enum mrd_code store__insert_req(const struct store_tx *tx, const struct store_ins_req *q,
                                struct mrd_buf *rcpt, struct mrd_err *err)
{
    struct coll_last cl;
    uint64_t found = 0;
    int64_t last, next, now, *seqs = NULL;
    bool any = false;
    enum mrd_code rc;

    rc = run(tx, "object insert",
             "SELECT last_added, api_root, (SELECT coalesce(max(seq), 0) FROM objects)"
             " FROM collections WHERE key = ?1",
             SQ_ARGS(SQ_INT(q->collection)), coll_last_row, &cl, &found, err);
    if (rc != MRD_OK)
        return rc;
    if (found == 0)
        return mrd_err_set(err, MRD_E_NOTFOUND, "collection: not found");
    last = cl.last;
    /* Taken under the write lock: a writer that waited behind another sees
     * that one's last_added and a clock at least as late. */
    now = mrd_time_now_usec();
    next = now > last ? now : last + 1;
    if (tx->ops->index_text_rows != NULL && q->n > 0) {
        seqs = mrd_calloc(q->n, sizeof(*seqs));
        if (seqs == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    }
    if (tx->ops->batch_rows > 0)
        rc = insert_batched(tx, q, cl.root, &next, &last, &any, rcpt, seqs, err);
    for (size_t i = 0; i < q->n && rc == MRD_OK && tx->ops->batch_rows == 0; i++) {
        enum store_insert_outcome out = STORE_INS_ADDED;
        bool added;
        int64_t date = 0, seq = 0;

        rc =
            insert_one(tx, q->collection, cl.root, &q->objs[i], next, rcpt, &out, &date, &seq, err);
        if (rc != MRD_OK) {
            mrd_err_prefix(err, "object %zu", i);
            break;
        }
        if (seqs != NULL)
            seqs[i] = seq;
        added = out == STORE_INS_ADDED || out == STORE_INS_REPLACED || out == STORE_INS_WRITER_ONLY;
        if (q->outcomes != NULL)
            q->outcomes[i] = out;
        if (q->dates != NULL)
            q->dates[i] = date;
        if (added) {
            last = next;
            next++;
            any = true;
        }
    }
    if (rc == MRD_OK && any && seqs != NULL)
        rc = tx->ops->index_text_rows(tx->conn, q, seqs, err);
    else if (rc == MRD_OK && any && tx->ops->index_text_after != NULL)
        rc = tx->ops->index_text_after(tx->conn, cl.max_seq, err);
    mrd_free(seqs);
    if (rc != MRD_OK)
        return rc;
    if (any) {
        rc = run(tx, "object insert", "UPDATE collections SET last_added = ?2 WHERE key = ?1",
                 SQ_ARGS(SQ_INT(q->collection), SQ_INT(last)), NULL, NULL, NULL, err);
        if (rc != MRD_OK)
            return rc;
    }
    /* The status rides in the same transaction: one commit for both; its
     * writer first learns which objects were refused (store.h). */
    if (q->status != NULL && q->status->finish != NULL && q->outcomes != NULL)
        q->status->finish(q->status->finish_ctx, q->outcomes, q->n);
    if (q->status != NULL)
        rc = store__status_write(tx, q->status, err);
    return rc;
}

/* ---- queries ---- */

/* A statement under construction: its text and its arguments. */
struct stmt {
    struct mrd_buf sql;
    struct sq_arg args[QUERY_ARGS_MAX];
    size_t nargs;
};

static void arg_add(struct stmt *s, struct sq_arg a)
{
    if (s->nargs < QUERY_ARGS_MAX) /* the match limits keep it below */
        s->args[s->nargs++] = a;
}

/* Appends " AND col IN (?N,...)" for the n strings vals. */
static enum mrd_code sql_in(struct stmt *s, const char *col, const char *const *vals, size_t n,
                            struct mrd_err *err)
{
    enum mrd_code rc = mrd_buf_printf(&s->sql, err, " AND %s IN (", col);

    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        rc = mrd_buf_printf(&s->sql, err, "%s?%zu", i > 0 ? "," : "", s->nargs + 1);
        arg_add(s, SQ_STR(vals[i]));
    }
    if (rc == MRD_OK)
        rc = mrd_buf_putc(&s->sql, ')', err);
    return rc;
}

static unsigned match_versions(const struct store_match *m)
{
    return m != NULL && m->versions != 0 ? m->versions : STORE_VER_LAST;
}

/* The SQL part of match[version]. FIRST/LAST depend on what the reader
 * may read, so the scan decides them row by row (row_selected;
 * alternatives are OR-ed there); SQL only drops rows that cannot be
 * selected for any reader: for LAST alone, older versions shadowed by a
 * newest copy with the same policy columns (the common case: a new version
 * keeps its markings), so those cost what they did when LAST was the
 * is_last flag alone. Timestamps alone are an IN list. */
static enum mrd_code sql_versions(struct stmt *s, const struct store_match *m, struct mrd_err *err)
{
    unsigned v = match_versions(m);
    enum mrd_code rc = MRD_OK;

    if (v == STORE_VER_LAST)
        return mrd_buf_puts(&s->sql, " AND (o.is_last = 1 OR o.shadowed = 0)", err);
    if (v == STORE_VER_FIRST)
        return mrd_buf_puts(&s->sql, " AND (o.is_first = 1 OR o.shadowed_first = 0)", err);
    if (v == (STORE_VER_FIRST | STORE_VER_LAST))
        return mrd_buf_puts(&s->sql,
                            " AND (o.is_last = 1 OR o.shadowed = 0 OR o.is_first = 1"
                            " OR o.shadowed_first = 0)",
                            err);
    if (v & (STORE_VER_ALL | STORE_VER_FIRST | STORE_VER_LAST))
        return MRD_OK;
    rc = mrd_buf_puts(&s->sql, " AND o.version IN (", err);
    for (size_t i = 0; i < m->n_timestamps && rc == MRD_OK; i++) {
        rc = mrd_buf_printf(&s->sql, err, "%s?%zu", i > 0 ? "," : "", s->nargs + 1);
        arg_add(s, SQ_INT(m->timestamps[i]));
    }
    if (rc == MRD_OK)
        rc = mrd_buf_putc(&s->sql, ')', err);
    return rc;
}

static enum mrd_code sql_match(struct stmt *s, const struct store_match *m, bool with_ids,
                               struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    if (m != NULL && with_ids && m->n_ids > 0)
        rc = sql_in(s, "o.stix_id", m->ids, m->n_ids, err);
    if (rc == MRD_OK && m != NULL && m->n_types > 0)
        rc = sql_in(s, "o.type", m->types, m->n_types, err);
    if (rc == MRD_OK && m != NULL && m->n_spec_versions > 0)
        rc = sql_in(s, "o.spec_version", m->spec_versions, m->n_spec_versions, err);
    if (rc == MRD_OK)
        rc = sql_versions(s, m, err);
    return rc;
}

enum other_kind {
    OTHER_NEWER = 0,  /* a newer version of the object */
    OTHER_OLDER = 1,  /* an older version */
    OTHER_EARLIER = 2 /* an earlier-stored copy of the same version */
};

struct other_ctx {
    bool (*visible)(void *ctx, const struct store_row *row);
    void *ctx;
    bool found;
};

static enum mrd_code other_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct other_ctx *oc = ctx;
    struct store_row other;
    int64_t recipients[STORE_RECIPIENTS_MAX];

    (void)err;
    store__row_from(r, false, &other, recipients);
    oc->found = oc->visible == NULL || oc->visible(oc->ctx, &other);
    return oc->found ? STOP_CODE : MRD_OK;
}

/* Whether the reader may read another row of row's object (kind says
 * which): one index seek, stepping only until the first visible row. */
static enum mrd_code other_visible(const struct store_tx *tx, int64_t collection,
                                   const struct store_row *row, enum other_kind kind,
                                   bool (*visible)(void *ctx, const struct store_row *row),
                                   void *ctx, bool *ret, struct mrd_err *err)
{
    static const char *const sql[] = {
        "SELECT " ROW_COLS " FROM objects o INDEXED BY objects_version WHERE o.collection = ?1"
        " AND o.stix_id = ?2 AND o.version > ?3 ORDER BY o.version DESC",
        "SELECT " ROW_COLS " FROM objects o INDEXED BY objects_version WHERE o.collection = ?1"
        " AND o.stix_id = ?2 AND o.version < ?3 ORDER BY o.version",
        "SELECT " ROW_COLS " FROM objects o INDEXED BY objects_version WHERE o.collection = ?1"
        " AND o.stix_id = ?2 AND o.version = ?3 AND o.seq < ?4",
    };
    const struct sq_arg args[] = {SQ_INT(collection), SQ_TEXT(row->id, row->id_len),
                                  SQ_INT(row->version_usec), SQ_INT(row->seq)};
    struct other_ctx oc = {visible, ctx, false};
    enum mrd_code rc;

    rc = run(tx, "object query", sql[kind], args, kind == OTHER_EARLIER ? 4 : 3, other_row, &oc,
             NULL, err);
    if (rc == STOP_CODE && oc.found)
        rc = MRD_OK;
    *ret = rc == MRD_OK && oc.found;
    return rc;
}

/* Whether a visible row (r, read by store__row_from into row) answers
 * match[version] for this reader: its timestamp is asked for, or it is
 * the last/first of the versions the reader may read. The stored
 * is_last/is_first flags (over all versions) are the fast path: a visible
 * row that has one needs no look-up. one_copy: of several copies of one
 * version (writer-scoped, store_objects_insert) only the earliest visible
 * one is selected. */
static enum mrd_code row_selected(const struct store_tx *tx, const struct store_rowrd *r,
                                  int64_t collection, const struct store_match *m, bool one_copy,
                                  const struct store_row *row,
                                  bool (*visible)(void *ctx, const struct store_row *row),
                                  void *ctx, bool *ret, struct mrd_err *err)
{
    unsigned v = match_versions(m);
    int64_t flags = r->i64(r, ROW_FLAGS_COL);
    bool sel = (v & STORE_VER_ALL) != 0;
    bool other = false;
    enum mrd_code rc = MRD_OK;

    if (!sel && (v & STORE_VER_TIMESTAMPS))
        for (size_t i = 0; i < m->n_timestamps && !sel; i++)
            sel = m->timestamps[i] == row->version_usec;
    if (!sel && (v & STORE_VER_LAST)) {
        sel = (flags & F_LAST) != 0;
        /* shadowed: a newest copy this reader may read too (same policy
         * columns), so not the last for it */
        if (!sel && !(flags & F_SHADOWED)) {
            rc = other_visible(tx, collection, row, OTHER_NEWER, visible, ctx, &other, err);
            sel = !other;
        }
    }
    if (rc == MRD_OK && !sel && (v & STORE_VER_FIRST)) {
        sel = (flags & F_FIRST) != 0;
        if (!sel && !(flags & F_SHADOWED_FIRST)) { /* as above, towards the oldest */
            rc = other_visible(tx, collection, row, OTHER_OLDER, visible, ctx, &other, err);
            sel = !other;
        }
    }
    if (rc == MRD_OK && sel && one_copy && (flags & F_TWIN)) {
        rc = other_visible(tx, collection, row, OTHER_EARLIER, visible, ctx, &other, err);
        sel = !other;
    }
    *ret = rc == MRD_OK && sel;
    return rc;
}

/* The ids of m the reader may read a row of, into ids (*ret_n of them).
 * Every row's policy columns equal those of a row in objects_current (a
 * newest copy, or a row no newest copy shadows: `shadowed` is set only
 * when a newest copy has the same policy columns, and cleared whenever
 * that may stop being so), and visible() depends on those columns only
 * (store.h), so the reader may read some row of an id exactly when it may
 * read one of these: usually one per id, whatever the number of versions. */
static enum mrd_code readable_ids(const struct store_tx *tx, int64_t collection,
                                  const struct store_match *m,
                                  bool (*visible)(void *ctx, const struct store_row *row),
                                  void *ctx, const char **ids, size_t *ret_n, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    *ret_n = 0;
    for (size_t i = 0; i < m->n_ids && rc == MRD_OK; i++) {
        struct other_ctx oc = {visible, ctx, false};

        rc = run(tx, "object query",
                 "SELECT " ROW_COLS " FROM objects o INDEXED BY objects_current"
                 " WHERE o.collection = ?1 AND o.stix_id = ?2"
                 " AND (o.is_last = 1 OR o.shadowed = 0)",
                 SQ_ARGS(SQ_INT(collection), SQ_STR(m->ids[i])), other_row, &oc, NULL, err);
        if (rc == STOP_CODE && oc.found)
            rc = MRD_OK;
        if (rc == MRD_OK && oc.found)
            ids[(*ret_n)++] = m->ids[i];
    }
    return rc;
}

static bool genuine_only(void *ctx, const struct store_row *row)
{
    (void)ctx;
    return !row->policy.writer_only;
}

struct query_ctx {
    const struct store_tx *tx;
    const struct store_query *q;
    const struct store_match *match;
    bool (*visible)(void *ctx, const struct store_row *row);
    enum mrd_code (*emit)(void *ctx, const struct store_row *row, struct mrd_err *err);
    void *ctx;
    struct store_query_result res;
    bool stop;
    /* rows the statement returned so far, and the last one's place
     * (query_paged resumes after it) */
    size_t scanned;
    int64_t scan_date_added, scan_seq;
};

static enum mrd_code query_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct query_ctx *qc = ctx;
    struct store_row row;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    bool sel = false;
    enum mrd_code rc;

    store__row_from(r, false, &row, recipients);
    qc->scanned++;
    qc->scan_date_added = row.date_added;
    qc->scan_seq = row.seq;
    if (!qc->visible(qc->ctx, &row))
        return MRD_OK;
    rc = row_selected(qc->tx, r, qc->q->collection, qc->match, true, &row, qc->visible, qc->ctx,
                      &sel, err);
    if (rc != MRD_OK || !sel)
        return rc;
    if (qc->q->want_body) /* only now: a skipped row's body is never read */
        row.body = r->blob(r, ROW_BODY_COL, &row.body_len);
    if (qc->q->limit > 0 && qc->res.delivered == qc->q->limit) {
        qc->res.more = true; /* a visible row beyond the page: stop here */
        qc->stop = true;
        return STOP_CODE;
    }
    if (qc->emit != NULL) {
        rc = qc->emit(qc->ctx, &row, err);
        if (rc != MRD_OK)
            return rc;
    }
    if (qc->res.delivered == 0)
        qc->res.first_date_added = row.date_added;
    qc->res.last_date_added = row.date_added;
    qc->res.last_seq = row.seq;
    qc->res.delivered++;
    return MRD_OK;
}

/* The query of q over match (the ids readable_ids left), walking index,
 * resuming after (after_date_added, after_seq) when has_cursor, at most
 * limit rows (0: all), into s. */
static enum mrd_code query_sql(struct stmt *s, const struct store_query *q,
                               const struct store_match *match, const char *index, bool has_cursor,
                               int64_t after_date_added, int64_t after_seq, size_t limit,
                               struct mrd_err *err)
{
    enum mrd_code rc;

    mrd_buf_reset(&s->sql);
    s->nargs = 0;
    arg_add(s, SQ_INT(q->collection));
    rc = mrd_buf_printf(
        &s->sql, err, "SELECT " ROW_COLS "%s FROM objects o INDEXED BY %s WHERE o.collection = ?1",
        q->want_body ? ", o.body" : "", index);
    if (rc == MRD_OK && q->added_after != STORE_TIME_NONE) {
        rc = mrd_buf_printf(&s->sql, err, " AND o.date_added > ?%zu", s->nargs + 1);
        arg_add(s, SQ_INT(q->added_after));
    }
    /* Written so the (collection, date_added) index serves it as a range. */
    if (rc == MRD_OK && has_cursor) {
        rc = mrd_buf_printf(&s->sql, err,
                            " AND o.date_added >= ?%zu AND NOT (o.date_added = ?%zu AND"
                            " o.seq <= ?%zu)",
                            s->nargs + 1, s->nargs + 1, s->nargs + 2);
        arg_add(s, SQ_INT(after_date_added));
        arg_add(s, SQ_INT(after_seq));
    }
    if (rc == MRD_OK)
        rc = sql_match(s, match, true, err);
    /* date_added is unique in a collection (the objects_added index), so
     * it orders alone: (date_added, seq) would cost PostgreSQL a sort of
     * every page on seq (an incremental sort above the index scan). */
    if (rc == MRD_OK)
        rc = mrd_buf_puts(&s->sql, " ORDER BY o.date_added", err);
    /* a literal: the text (and a prepared statement's plan) knows it */
    if (rc == MRD_OK && limit > 0)
        rc = mrd_buf_printf(&s->sql, err, " LIMIT %zu", limit);
    return rc;
}

/* store__objects_query on a backend that reads a statement's rows in
 * batches (store_txops.page_rows, PostgreSQL): not a cursor but plain
 * statements of at most page_rows rows each. The first asks for a page
 * and its look-ahead (limit + 1); when the rows it returned all ran
 * through without filling the page (rows the reader may not read, versions
 * not selected), the next resumes after the last row scanned: the order
 * (date_added, seq) is total, and every statement runs in the caller's
 * transaction, one snapshot. A page that fits is one statement, which the
 * backend can prepare (a cursor cannot be). */
static enum mrd_code query_paged(const struct store_tx *tx, struct query_ctx *qc, struct stmt *s,
                                 const char *index, struct mrd_err *err)
{
    const struct store_query *q = qc->q;
    size_t max = tx->ops->page_rows;
    size_t batch = q->limit > 0 && q->limit < max ? q->limit + 1 : max;
    bool has_cursor = q->has_cursor;
    int64_t after_date_added = q->after_date_added, after_seq = q->after_seq;
    enum mrd_code rc;

    for (;;) {
        rc = query_sql(s, q, qc->match, index, has_cursor, after_date_added, after_seq, batch, err);
        if (rc != MRD_OK)
            return rc;
        qc->scanned = 0;
        rc = run(tx, "object query", s->sql.data, s->args, s->nargs, query_row, qc, NULL, err);
        if (rc == STOP_CODE && qc->stop)
            return MRD_OK;
        if (rc != MRD_OK || qc->scanned < batch)
            return rc; /* the whole result was read */
        has_cursor = true;
        after_date_added = qc->scan_date_added;
        after_seq = qc->scan_seq;
        batch = max;
    }
}

enum mrd_code store__objects_query(const struct store_tx *tx, const struct store_query *q,
                                   bool (*visible)(void *ctx, const struct store_row *row),
                                   enum mrd_code (*emit)(void *ctx, const struct store_row *row,
                                                         struct mrd_err *err),
                                   void *ctx, struct store_query_result *ret, struct mrd_err *err)
{
    struct query_ctx *qc = NULL;
    struct stmt *s = NULL;
    struct store_match m;
    const char *ids[STORE_MATCH_MAX];
    const char *index;
    enum mrd_code rc = MRD_OK;

    s = mrd_calloc(1, sizeof(*s)); /* ~10 KiB of arguments: off small thread stacks */
    qc = mrd_calloc(1, sizeof(*qc));
    if (s == NULL || qc == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
        goto out;
    }
    mrd_buf_init(&s->sql, SQL_MAX);
    qc->tx = tx;
    qc->q = q;
    qc->match = q->match;
    /* Admin reads (visible NULL) see what the node holds as genuine. */
    qc->visible = visible != NULL ? visible : genuine_only;
    qc->emit = emit;
    qc->ctx = ctx;
    qc->res = (struct store_query_result){0, false, STORE_TIME_NONE, STORE_TIME_NONE, 0};
    /* Ids the reader may read no row of are dropped before the scan: their
     * versions, however many, cost nothing (store.h, "Hidden objects").
     * Not for the last versions (the object endpoint's default, match[id]
     * alone): the scan's SQL then keeps only the rows readable_ids would
     * read (`is_last = 1 OR shadowed = 0`, sql_versions), so a hidden id
     * costs the scan what it would cost readable_ids, and the request one
     * statement (on PostgreSQL a round trip) less. */
    if (q->match != NULL && q->match->n_ids > 0 && match_versions(q->match) != STORE_VER_LAST) {
        m = *q->match;
        m.ids = ids;
        rc = readable_ids(tx, q->collection, q->match, qc->visible, ctx, ids, &m.n_ids, err);
        if (rc != MRD_OK)
            goto out;
        if (m.n_ids == 0)
            goto done;
        qc->match = &m;
    }
    /* The index is chosen here, not left to the planner: without
     * statistics SQLite prefers a full scan of objects_added (to avoid a
     * sort) over a seek by id, and with several types it would sort every
     * matching row before the first one streams out. A single type walks
     * objects_type in date_added order; ids seek objects_version and sort
     * their few rows; everything else walks objects_added. */
    if (qc->match != NULL && qc->match->n_ids > 0)
        index = "objects_version";
    else if (qc->match != NULL && qc->match->n_types == 1)
        index = "objects_type";
    else
        index = "objects_added";
    if (tx->ops->page_rows > 0) {
        rc = query_paged(tx, qc, s, index, err);
    } else {
        rc = query_sql(s, q, qc->match, index, q->has_cursor, q->after_date_added, q->after_seq, 0,
                       err);
        if (rc == MRD_OK)
            rc = scan(tx, "object query", s->sql.data, s->args, s->nargs, query_row, qc, err);
        if (rc == STOP_CODE && qc->stop)
            rc = MRD_OK;
    }
    if (rc != MRD_OK)
        goto out;
done:
    if (ret != NULL)
        *ret = qc->res;
out:
    if (s != NULL)
        mrd_buf_release(&s->sql);
    mrd_free(s);
    mrd_free(qc);
    return rc;
}

/* ---- delete ---- */

enum mrd_code store__refresh_ends(const struct store_tx *tx, int64_t collection, const char *id,
                                  size_t id_len, struct mrd_err *err)
{
    return run(tx, "object delete",
               "UPDATE objects SET"
               " is_first = CASE WHEN version = (SELECT MIN(v.version) FROM objects v"
               "  WHERE v.collection = ?1 AND v.stix_id = ?2) THEN 1 ELSE 0 END,"
               " is_last = CASE WHEN version = (SELECT MAX(v.version) FROM objects v"
               "  WHERE v.collection = ?1 AND v.stix_id = ?2) THEN 1 ELSE 0 END,"
               " shadowed = 0, shadowed_first = 0" /* safe (look-ups) till an insert */
               " WHERE collection = ?1 AND stix_id = ?2",
               SQ_ARGS(SQ_INT(collection), SQ_TEXT(id, id_len)), NULL, NULL, NULL, err);
}

struct doomed_ctx {
    const struct store_tx *tx;
    int64_t collection;
    const struct store_match *m;
    bool (*visible)(void *ctx, const struct store_row *row);
    void *ctx;
    int64_t *seqs;
    size_t n, cap;
};

static enum mrd_code doomed_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct doomed_ctx *dc = ctx;
    struct store_row row;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    bool sel = false;
    enum mrd_code rc;

    store__row_from(r, false, &row, recipients);
    if (dc->visible != NULL && !dc->visible(dc->ctx, &row))
        return MRD_OK;
    /* first/last: among the versions the deleter may read */
    rc = row_selected(dc->tx, r, dc->collection, dc->m, false, &row, dc->visible, dc->ctx, &sel,
                      err);
    if (rc != MRD_OK || !sel)
        return rc;
    if (dc->n == dc->cap) {
        size_t ncap = dc->cap == 0 ? 16 : dc->cap * 2;
        int64_t *p = mrd_realloc(dc->seqs, ncap * sizeof(*p));
        if (p == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
        dc->seqs = p;
        dc->cap = ncap;
    }
    dc->seqs[dc->n++] = row.seq;
    return MRD_OK;
}

enum mrd_code store__objects_delete(const struct store_tx *tx, int64_t collection, const char *id,
                                    size_t id_len, const struct store_match *match,
                                    bool (*visible)(void *ctx, const struct store_row *row),
                                    void *ctx, size_t *ret_deleted, struct mrd_err *err)
{
    struct stmt *s = NULL;
    struct store_match m = {0};
    struct doomed_ctx dc = {tx, collection, &m, visible, ctx, NULL, 0, 0};
    enum mrd_code rc;

    /* Only versions and spec_versions select what DELETE removes
     * (TAXII 2.1 §5.7); no match[version] means every version. */
    if (match != NULL) {
        m.spec_versions = match->spec_versions;
        m.n_spec_versions = match->n_spec_versions;
        m.versions = match->versions;
        m.timestamps = match->timestamps;
        m.n_timestamps = match->n_timestamps;
    }
    if (m.versions == 0)
        m.versions = STORE_VER_ALL;
    s = mrd_calloc(1, sizeof(*s));
    if (s == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    mrd_buf_init(&s->sql, SQL_MAX);
    arg_add(s, SQ_INT(collection));
    arg_add(s, SQ_TEXT(id, id_len));
    rc = mrd_buf_puts(&s->sql,
                      "SELECT " ROW_COLS
                      " FROM objects o INDEXED BY objects_version WHERE o.collection = ?1"
                      " AND o.stix_id = ?2",
                      err);
    if (rc == MRD_OK)
        rc = sql_match(s, &m, false, err);
    /* Collect first, delete after: never modify a table under a running
     * SELECT on it. */
    if (rc == MRD_OK)
        rc = scan(tx, "object delete", s->sql.data, s->args, s->nargs, doomed_row, &dc, err);
    if (rc != MRD_OK)
        goto out;
    /* A version under an active legal hold is never deleted. */
    rc = store__check_holds(tx, dc.seqs, dc.n, err);
    for (size_t i = 0; i < dc.n && rc == MRD_OK && tx->ops->unindex_text != NULL; i++)
        rc = tx->ops->unindex_text(tx->conn, dc.seqs[i], err);
    for (size_t i = 0; i < dc.n && rc == MRD_OK; i++)
        rc = run(tx, "object delete", "DELETE FROM objects WHERE seq = ?1",
                 SQ_ARGS(SQ_INT(dc.seqs[i])), NULL, NULL, NULL, err);
    /* The surviving versions may have become the first or the last. */
    if (rc == MRD_OK && dc.n > 0)
        rc = store__refresh_ends(tx, collection, id, id_len, err);
    if (rc == MRD_OK)
        *ret_deleted = dc.n;
out:
    mrd_buf_release(&s->sql);
    mrd_free(s);
    mrd_free(dc.seqs);
    return rc;
}

enum mrd_code store__objects_count(struct store *st, int64_t collection, uint64_t *ret,
                                   struct mrd_err *err)
{
    const struct sq_arg arg = SQ_INT(collection);
    int64_t n = 0;
    enum mrd_code rc;

    rc =
        st->ops->driver->query(st, false, "object count",
                               collection > 0 ? "SELECT COUNT(*) FROM objects WHERE collection = ?1"
                                              : "SELECT COUNT(*) FROM objects",
                               &arg, collection > 0 ? 1 : 0, seq_row, &n, NULL, err);
    if (rc == MRD_OK)
        *ret = (uint64_t)n;
    return rc;
}

/* ---- status resources ---- */

/* A status's details in multi-row INSERTs (store_txops.batch_rows). */
static enum mrd_code details_batched(const struct store_tx *tx, const struct store_status *sts,
                                     struct mrd_err *err)
{
    /* status_id, ord, kind, stix_id, version, message */
    static const enum sq_arg_type t[6] = {SQ_ARG_TEXT, SQ_ARG_INT, SQ_ARG_INT,
                                          SQ_ARG_TEXT, SQ_ARG_INT, SQ_ARG_TEXT};
    bool arrays = tx->ops->array_rows > 0;
    size_t per = arrays ? BATCH_ARRAY_ROWS : BATCH_DETAILS; /* rows per statement */
    struct sq_arg *a = mrd_calloc(per * 6, sizeof(*a));
    struct mrd_buf sql;
    enum mrd_code rc = MRD_OK;

    if (a == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    mrd_buf_init(&sql, BATCH_SQL_MAX);
    for (size_t i = 0; i < sts->n_details && rc == MRD_OK;) {
        size_t k = 0;

        for (; i < sts->n_details && k < per; i++, k++) {
            const struct store_status_detail *d = &sts->details[i];
            const struct sq_arg v[6] = {
                SQ_STR(sts->id),
                SQ_INT(i),
                SQ_INT(d->kind),
                SQ_TEXT(d->id, strnlen(d->id, sizeof(d->id))),
                SQ_INT(d->version_usec),
                SQ_TEXT(d->message, strnlen(d->message, sizeof(d->message))),
            };
            memcpy(&a[k * 6], v, sizeof(v));
        }
        if (arrays) {
            rc = run_arrays(tx, "status",
                            "INSERT INTO status_details (status_id, ord, kind, stix_id, version,"
                            " message) SELECT * FROM unnest(?1::text[], ?2::bigint[],"
                            " ?3::bigint[], ?4::text[], ?5::bigint[], ?6::text[])",
                            NULL, 0, a, k, t, 6, NULL, NULL, NULL, err);
            continue;
        }
        mrd_buf_reset(&sql);
        rc = mrd_buf_puts(&sql,
                          "INSERT INTO status_details (status_id, ord, kind, stix_id, version,"
                          " message) VALUES ",
                          err);
        if (rc == MRD_OK)
            rc = values_sql(&sql, k, 6, err);
        if (rc == MRD_OK)
            rc = run(tx, "status", sql.data, a, k * 6, NULL, NULL, NULL, err);
    }
    mrd_buf_release(&sql);
    mrd_free(a);
    return rc;
}

enum mrd_code store__status_write(const struct store_tx *tx, const struct store_status *sts,
                                  struct mrd_err *err)
{
    enum mrd_code rc;

    rc = run(tx, "status", "DELETE FROM status_details WHERE status_id = ?1",
             SQ_ARGS(SQ_STR(sts->id)), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = run(tx, "status",
                 "INSERT INTO status (id, api_root, org, request, complete, total, success,"
                 " failure, pending) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                 " ON CONFLICT (id) DO UPDATE SET complete = excluded.complete,"
                 " total = excluded.total, success = excluded.success,"
                 " failure = excluded.failure, pending = excluded.pending",
                 SQ_ARGS(SQ_STR(sts->id), SQ_STR(sts->api_root), SQ_INT(sts->org_key),
                         SQ_INT(sts->request_usec), SQ_INT(sts->complete ? 1 : 0),
                         SQ_INT(sts->total_count), SQ_INT(sts->success_count),
                         SQ_INT(sts->failure_count), SQ_INT(sts->pending_count)),
                 NULL, NULL, NULL, err);
    if (tx->ops->batch_rows > 0) /* few statements: multi-row INSERTs */
        return rc == MRD_OK ? details_batched(tx, sts, err) : rc;
    for (size_t i = 0; i < sts->n_details && rc == MRD_OK; i++) {
        const struct store_status_detail *d = &sts->details[i];

        rc = run(tx, "status",
                 "INSERT INTO status_details (status_id, ord, kind, stix_id, version, message)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                 SQ_ARGS(SQ_STR(sts->id), SQ_INT(i), SQ_INT(d->kind),
                         SQ_TEXT(d->id, strnlen(d->id, sizeof(d->id))), SQ_INT(d->version_usec),
                         SQ_TEXT(d->message, strnlen(d->message, sizeof(d->message)))),
                 NULL, NULL, NULL, err);
    }
    return rc;
}

static enum mrd_code status_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct store_status *sts = ctx;

    (void)err;
    store__copy_col(r, 0, sts->id, sizeof(sts->id));
    store__copy_col(r, 1, sts->api_root, sizeof(sts->api_root));
    sts->org_key = r->i64(r, 2);
    sts->request_usec = r->i64(r, 3);
    sts->complete = r->i64(r, 4) != 0;
    sts->total_count = (uint64_t)r->i64(r, 5);
    sts->success_count = (uint64_t)r->i64(r, 6);
    sts->failure_count = (uint64_t)r->i64(r, 7);
    sts->pending_count = (uint64_t)r->i64(r, 8);
    return MRD_OK;
}

struct status_ctx {
    struct store_status *sts;
    size_t cap; /* of sts->details */
};

static enum mrd_code detail_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct status_ctx *sc = ctx;
    struct store_status *sts = sc->sts;
    struct store_status_detail *d;

    if (sts->n_details == sc->cap) {
        size_t ncap = sc->cap == 0 ? 16 : sc->cap * 2;
        struct store_status_detail *p = mrd_realloc(sts->details, ncap * sizeof(*p));
        if (p == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
        sts->details = p;
        sc->cap = ncap;
    }
    d = &sts->details[sts->n_details++];
    memset(d, 0, sizeof(*d));
    d->kind = (enum store_status_kind)r->i64(r, 0);
    store__copy_col(r, 1, d->id, sizeof(d->id));
    d->version_usec = r->i64(r, 2);
    store__copy_col(r, 3, d->message, sizeof(d->message));
    return MRD_OK;
}

enum mrd_code store__status_get(const struct store_tx *tx, const char *id, size_t len,
                                struct store_status **ret, struct mrd_err *err)
{
    struct status_ctx sc = {NULL, 0};
    uint64_t n = 0;
    enum mrd_code rc;

    sc.sts = mrd_calloc(1, sizeof(*sc.sts));
    if (sc.sts == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    rc = run(tx, "status",
             "SELECT id, api_root, org, request, complete, total, success, failure,"
             " pending FROM status WHERE id = ?1",
             SQ_ARGS(SQ_TEXT(id, len)), status_row, sc.sts, &n, err);
    if (rc == MRD_OK && n == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "status: not found");
    if (rc == MRD_OK)
        rc = run(tx, "status",
                 "SELECT kind, stix_id, version, message FROM status_details"
                 " WHERE status_id = ?1 ORDER BY ord",
                 SQ_ARGS(SQ_TEXT(id, len)), detail_row, &sc, NULL, err);
    if (rc == MRD_OK) {
        *ret = sc.sts;
        sc.sts = NULL;
    }
    store_status_free(sc.sts);
    return rc;
}

enum mrd_code store__status_purge(const struct store_tx *tx, int64_t older_than_usec,
                                  uint64_t *ret_purged, struct mrd_err *err)
{
    uint64_t n = 0;
    enum mrd_code rc;

    rc = run(tx, "status purge",
             "DELETE FROM status_details WHERE status_id IN"
             " (SELECT id FROM status WHERE request < ?1)",
             SQ_ARGS(SQ_INT(older_than_usec)), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = run(tx, "status purge", "DELETE FROM status WHERE request < ?1",
                 SQ_ARGS(SQ_INT(older_than_usec)), NULL, NULL, &n, err);
    if (rc == MRD_OK && ret_purged != NULL)
        *ret_purged = n;
    return rc;
}

/* ---- conflicts ---- */

struct conflict_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_conflict *c, struct mrd_err *err);
    void *ctx;
};

static const char *opt_col(const struct store_rowrd *r, int col, bool blob, size_t *ret_len)
{
    *ret_len = 0;
    if (r->null(r, col))
        return NULL;
    return blob ? r->blob(r, col, ret_len) : r->text(r, col, ret_len);
}

static enum mrd_code conflict_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct conflict_ctx *cc = ctx;
    struct store_conflict k;
    size_t n;

    memset(&k, 0, sizeof(k));
    k.id = r->i64(r, 0);
    k.time_usec = r->i64(r, 1);
    k.collection = r->i64(r, 2);
    k.collection_id = r->text(r, 3, &n);
    k.stix_id = r->text(r, 4, &n);
    k.version_usec = r->i64(r, 5);
    k.reason = (enum store_conflict_reason)r->i64(r, 6);
    k.action = (enum store_conflict_action)r->i64(r, 7);
    k.kept_seq = r->i64(r, 8);
    k.kept_signer = opt_col(r, 9, false, &n);
    k.other_seq = r->i64(r, 10);
    k.other_signer = opt_col(r, 11, false, &n);
    k.other_org = r->i64(r, 12);
    k.other_org_name = opt_col(r, 13, false, &n);
    k.other_peer = opt_col(r, 14, false, &n);
    k.body = opt_col(r, 15, true, &k.body_len);
    return cc->cb(cc->ctx, &k, err);
}

enum mrd_code store__conflict_list(struct store *st, int64_t collection, int64_t id,
                                   enum mrd_code (*cb)(void *ctx, const struct store_conflict *c,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err)
{
    struct conflict_ctx cc = {cb, ctx};

    /* one statement: one snapshot */
    return st->ops->driver->query(
        st, true, "conflicts",
        "SELECT k.id, k.time, k.collection, cl.id, k.stix_id, k.version, k.reason,"
        " k.action, k.kept_seq, k.kept_signer, k.other_seq, k.other_signer,"
        " k.other_org, g.name, k.other_peer, COALESCE(k.other_body, o.body)"
        " FROM conflicts k JOIN collections cl ON cl.key = k.collection"
        " LEFT JOIN orgs g ON g.key = k.other_org"
        " LEFT JOIN objects o ON o.seq = k.other_seq"
        " WHERE (?1 = 0 OR k.collection = ?1) AND (?2 = 0 OR k.id = ?2)"
        " ORDER BY k.id",
        SQ_ARGS(SQ_INT(collection), SQ_INT(id)), conflict_row, &cc, NULL, err);
}
