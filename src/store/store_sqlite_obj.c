/*
 * store_sqlite_obj.c: STIX object versions and TAXII status resources in the
 * SQLite store.
 *
 * date_added: each collection row keeps last_added, the newest date_added it
 * ever handed out (deleted rows included), and every insert runs under the
 * database write lock (BEGIN IMMEDIATE), so max(now, last_added + 1) is
 * strictly increasing whatever the clock or other writers do.
 * Queries: one SQL statement per filter shape (cached per connection),
 * rows streamed in (date_added, seq) order through the caller's policy
 * callback, so the limit counts visible rows only and `more` is exact.
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

/* The columns of a row (row_from_stmt), then its version flags packed in
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

static void row_from_stmt(sqlite3_stmt *st, bool body, struct store_row *row, int64_t *recipients);

static int64_t version_of(const struct store_object_in *o)
{
    if (o->modified_usec != STORE_TIME_NONE)
        return o->modified_usec;
    if (o->created_usec != STORE_TIME_NONE)
        return o->created_usec;
    return STORE_VERSION_NONE;
}

/* Recipients are kept as "1,5,9": few per object, read only with RED. */
static enum mrd_code recipients_text(const struct store_object_in *o, struct mrd_buf *b,
                                     struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    mrd_buf_reset(b);
    for (size_t i = 0; i < o->n_recipients && rc == MRD_OK; i++)
        rc = mrd_buf_printf(b, err, "%s%" PRId64, i > 0 ? "," : "", o->recipients[i]);
    return rc;
}

/* Clears the first/last flag of the other versions of (collection, id)
 * when a new version takes it over. */
static enum mrd_code clear_flag(struct sq_conn *c, int64_t collection,
                                const struct store_object_in *o, int64_t version, bool last,
                                struct mrd_err *err)
{
    return sq__run(c, "object insert",
                   last ? "UPDATE objects SET is_last = 0 WHERE collection = ?1 AND stix_id = ?2"
                          " AND is_last = 1 AND version <> ?3"
                        : "UPDATE objects SET is_first = 0 WHERE collection = ?1 AND"
                          " stix_id = ?2 AND is_first = 1 AND version <> ?3",
                   SQ_ARGS(SQ_INT(collection), SQ_TEXT(o->id, o->id_len), SQ_INT(version)), NULL,
                   NULL, NULL, err);
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
    bool dup;          /* one has o's bytes and the writer sees it (or wrote it) */
    int64_t dup_date;  /* its date_added */
    bool seen;         /* the writer sees (or wrote) one of them */
    int64_t seen_date; /* the first such one's date_added */
    int64_t other_seq; /* a genuine copy by o's signer with other bytes; 0 none */
    bool other_seen;   /* the writer sees (or wrote) that copy */
};

/* Reads the stored copies of o's version. The writer is asked about the
 * stored rows only: nothing of a hidden row reaches the caller, and its
 * date_added is reported only for a copy that makes a duplicate. */
struct scan_ctx {
    const struct store_object_in *o;
    struct copies *ret;
};

static enum mrd_code scan_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct scan_ctx *sc = ctx;
    const struct store_object_in *o = sc->o;
    struct copies *ret = sc->ret;
    struct store_row row;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    size_t kn = 0;
    const char *key = sqlite3_column_type(st, ROW_BODY_COL + 1) == SQLITE_NULL
                          ? NULL
                          : sq__text(st, ROW_BODY_COL + 1, &kn);
    bool same, sees;

    (void)err;
    row_from_stmt(st, true, &row, recipients);
    same = row.body_len == o->body_len && memcmp(row.body, o->body, o->body_len) == 0;
    sees = writer_sees(o, &row);
    ret->n++;
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

static enum mrd_code scan_copies(struct sq_conn *c, int64_t collection,
                                 const struct store_object_in *o, int64_t version,
                                 struct copies *ret, struct mrd_err *err)
{
    struct scan_ctx sc = {o, ret};

    memset(ret, 0, sizeof(*ret));
    return sq__run(c, "object insert",
                   "SELECT " ROW_COLS ", o.body, o.signer FROM objects o INDEXED BY"
                   " objects_version WHERE o.collection = ?1 AND o.stix_id = ?2"
                   " AND o.version = ?3 ORDER BY o.seq",
                   SQ_ARGS(SQ_INT(collection), SQ_TEXT(o->id, o->id_len), SQ_INT(version)),
                   scan_row, &sc, NULL, err);
}

/* The key that signs the rows of (collection, id) this node holds as
 * genuine (they share one, or are all unsigned): *ret_any false when there
 * is no such row. The key is copied into key (STORE_SIGNER_MAX + 1). */
struct signer_ctx {
    int64_t *seq;
    char *key;
    size_t *len;
};

static enum mrd_code signer_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct signer_ctx *sc = ctx;

    (void)err;
    *sc->seq = sqlite3_column_int64(st, 0);
    if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
        sq__copy(st, 1, sc->key, STORE_SIGNER_MAX + 1);
        *sc->len = strlen(sc->key);
    }
    return MRD_OK;
}

static enum mrd_code object_signer(struct sq_conn *c, int64_t collection,
                                   const struct store_object_in *o, bool *ret_any, int64_t *ret_seq,
                                   char *key, size_t *ret_len, struct mrd_err *err)
{
    struct signer_ctx sc = {ret_seq, key, ret_len};
    uint64_t n = 0;
    enum mrd_code rc;

    *ret_len = 0;
    key[0] = '\0';
    rc = sq__run(c, "object insert",
                 "SELECT seq, signer FROM objects INDEXED BY objects_version"
                 " WHERE collection = ?1 AND stix_id = ?2 AND writer_only = 0 LIMIT 1",
                 SQ_ARGS(SQ_INT(collection), SQ_TEXT(o->id, o->id_len)), signer_row, &sc, &n, err);
    *ret_any = rc == MRD_OK && n > 0;
    return rc;
}

struct sees_ctx {
    const struct store_object_in *o;
    bool sees;
};

static enum mrd_code sees_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct sees_ctx *sc = ctx;
    struct store_row row;
    int64_t recipients[STORE_RECIPIENTS_MAX];

    (void)err;
    if (sc->sees)
        return MRD_OK; /* decided: the other rows are only stepped over */
    row_from_stmt(st, false, &row, recipients);
    sc->sees = writer_sees(sc->o, &row);
    return MRD_OK;
}

/* Whether the writer of o may read (or wrote) a genuine row of the object:
 * then refusing its copy tells it nothing it could not read. */
static enum mrd_code sees_object(struct sq_conn *c, int64_t collection,
                                 const struct store_object_in *o, bool *ret, struct mrd_err *err)
{
    struct sees_ctx sc = {o, false};
    enum mrd_code rc;

    rc = sq__run(c, "object insert",
                 "SELECT " ROW_COLS " FROM objects o INDEXED BY objects_version"
                 " WHERE o.collection = ?1 AND o.stix_id = ?2 AND o.writer_only = 0",
                 SQ_ARGS(SQ_INT(collection), SQ_TEXT(o->id, o->id_len)), sees_row, &sc, NULL, err);
    *ret = rc == MRD_OK && sc.sees;
    return rc;
}

/* Text that may be NULL, as an argument of sq__run. */
static struct sq_arg opt_text(const char *s, size_t n)
{
    return s == NULL ? SQ_NUL : SQ_TEXT(s, n);
}

/* Records a copy of o that is not genuine: refused (its bytes kept here,
 * once per distinct bytes) or stored as writer-only row other_seq. */
static enum mrd_code conflict_add(struct sq_conn *c, int64_t collection,
                                  const struct store_object_in *o, int64_t version,
                                  enum store_conflict_reason reason,
                                  enum store_conflict_action action, int64_t kept_seq,
                                  const char *kept, size_t kept_len, int64_t other_seq,
                                  struct mrd_err *err)
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    bool rejected = action == STORE_CONFLICT_REJECTED;

    if (rejected)
        (void)crypto_hash_sha256(hash, (const unsigned char *)o->body, o->body_len);
    return sq__run(c, "conflict",
                   "INSERT OR IGNORE INTO conflicts (time, collection, stix_id, version, reason,"
                   " action, kept_seq, kept_signer, other_seq, other_signer, other_org,"
                   " other_peer, other_hash, other_body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
                   " ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                   SQ_ARGS(SQ_INT(mrd_time_now_usec()), SQ_INT(collection),
                           SQ_TEXT(o->id, o->id_len), SQ_INT(version), SQ_INT(reason),
                           SQ_INT(action), kept_seq > 0 ? SQ_INT(kept_seq) : SQ_NUL,
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
static enum mrd_code demote_others(struct sq_conn *c, int64_t collection,
                                   const struct store_object_in *o, int64_t new_seq,
                                   struct mrd_err *err)
{
    static const char *const sql[] = {
        "INSERT INTO conflicts (time, collection, stix_id, version, reason, action, kept_seq,"
        " kept_signer, other_seq, other_signer, other_org, other_peer) SELECT ?4, collection,"
        " stix_id, version, CASE WHEN version = (SELECT version FROM objects WHERE seq = ?5)"
        " THEN 2 ELSE 1 END, 3, ?5, ?3, seq, signer, creator_org, source_peer FROM objects"
        " WHERE collection = ?1 AND stix_id = ?2 AND writer_only = 0 AND signer IS NOT ?3",
        "UPDATE objects SET writer_only = 1 WHERE collection = ?1 AND stix_id = ?2"
        " AND writer_only = 0 AND signer IS NOT ?3",
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
        rc = sq__run(c, "object insert", sql[k], args, nargs[k], NULL, NULL, NULL, err);
    return rc;
}

/* Marks every copy of (collection, id, version) as one of several, so
 * queries choose among them (store_objects_query). */
static enum mrd_code mark_twins(struct sq_conn *c, int64_t collection,
                                const struct store_object_in *o, int64_t version,
                                struct mrd_err *err)
{
    return sq__run(c, "object insert",
                   "UPDATE objects SET twin = 1 WHERE collection = ?1 AND stix_id = ?2"
                   " AND version = ?3 AND twin = 0",
                   SQ_ARGS(SQ_INT(collection), SQ_TEXT(o->id, o->id_len), SQ_INT(version)), NULL,
                   NULL, NULL, err);
}

/* The policy columns of row `a` equal those of table row `objects`. */
#define SAME_POLICY(a)                                                                             \
    " " a ".tlp = objects.tlp AND " a ".local = objects.local AND " a ".creator_org ="             \
    " objects.creator_org AND " a ".community = objects.community AND " a ".recipients IS"         \
    " objects.recipients AND " a ".source_peer IS objects.source_peer AND " a ".writer_only ="     \
    " objects.writer_only"

/* Keeps `shadowed` (towards the newest copies) or `shadowed_first`
 * (towards the oldest) after an insert (see the schema): a new newest
 * (oldest) version decides it for every other one; any other new version
 * gets it against the current newest (oldest) copies. (A copy of the
 * newest version changes nothing: flags that hold stay true; one it could
 * set stays 0, which only costs a look-up. DELETE clears the flags of the
 * object it touches.) */
static enum mrd_code set_shadowed(struct sq_conn *c, int64_t collection,
                                  const struct store_object_in *o, int64_t version, bool first,
                                  bool extreme, struct mrd_err *err)
{
    static const char *const sql[2][2] = {
        {"UPDATE objects SET shadowed = EXISTS (SELECT 1 FROM objects l WHERE l.collection ="
         " objects.collection AND l.stix_id = objects.stix_id AND l.is_last = 1 AND" SAME_POLICY(
             "l") ") WHERE seq = last_insert_rowid()",
         "UPDATE objects SET shadowed = (" SAME_POLICY(
             "n") ") FROM (SELECT * FROM objects WHERE seq = last_insert_rowid()) AS n"
                  " WHERE objects.collection = ?1 AND objects.stix_id = ?2 AND objects.version < "
                  "?3"},
        {"UPDATE objects SET shadowed_first = EXISTS (SELECT 1 FROM objects l WHERE l.collection ="
         " objects.collection AND l.stix_id = objects.stix_id AND l.is_first = 1 AND" SAME_POLICY(
             "l") ") WHERE seq = last_insert_rowid()",
         "UPDATE objects SET shadowed_first = (" SAME_POLICY(
             "n") ") FROM (SELECT * FROM objects WHERE seq = last_insert_rowid()) AS n"
                  " WHERE objects.collection = ?1 AND objects.stix_id = ?2 AND objects.version > "
                  "?3"},
    };
    const struct sq_arg args[] = {SQ_INT(collection), SQ_TEXT(o->id, o->id_len), SQ_INT(version)};

    return sq__run(c, "object insert", sql[first][extreme], args, extreme ? 3 : 0, NULL, NULL, NULL,
                   err);
}

static enum mrd_code span_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    int64_t *span = ctx;

    (void)err;
    for (int i = 0; i < 3; i++)
        span[i] = sqlite3_column_int64(st, i);
    return MRD_OK;
}

static enum mrd_code insert_one(struct sq_conn *c, int64_t collection, const char *root,
                                const struct store_object_in *o, int64_t date_added,
                                struct mrd_buf *rcpt, enum store_insert_outcome *ret_out,
                                int64_t *ret_date, struct mrd_err *err)
{
    int64_t version = version_of(o);
    int64_t span[3] = {0}; /* versions stored, oldest, newest */
    int64_t vmin, vmax, nver, kept_seq = 0, seq;
    struct copies cp = {0};
    char kept[STORE_SIGNER_MAX + 1] = "";
    size_t kept_len = 0;
    enum store_conflict_reason reason = 0;
    bool first, last, any = false, outranks = false, writer_only = false, twin;
    enum mrd_code rc;

    *ret_out = STORE_INS_ADDED;
    *ret_date = 0;
    rc = recipients_text(o, rcpt, err);
    if (rc != MRD_OK)
        return rc;
    /* Where the new version falls among the stored ones decides the
     * first/last flags (a covering index range, usually empty). */
    rc = sq__run(c, "object insert",
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
        rc = scan_copies(c, collection, o, version, &cp, err);
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
        rc = object_signer(c, collection, o, &any, &kept_seq, kept, &kept_len, err);
        if (rc != MRD_OK)
            return rc;
        if (any && !same_signer(kept_len > 0 ? kept : NULL, kept_len, o->signer, o->signer_len)) {
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
    if (reason != 0) {
        /* refuse only what the writer could tell anyway: that the object
         * is signed (it reads a genuine row), or that this copy differs
         * (it reads that copy) */
        bool sees = reason == STORE_CONFLICT_COPY && cp.other_seen;
        if (reason == STORE_CONFLICT_SIGNER)
            rc = sees_object(c, collection, o, &sees, err);
        if (rc == MRD_OK && sees) {
            *ret_out =
                reason == STORE_CONFLICT_SIGNER ? STORE_INS_NOT_SIGNER : STORE_INS_OTHER_COPY;
            rc = conflict_add(c, collection, o, version, reason, STORE_CONFLICT_REJECTED, kept_seq,
                              kept, kept_len, 0, err);
            return rc;
        }
        if (rc != MRD_OK)
            return rc;
        writer_only = true; /* hidden from the writer: its own copy, nobody else's */
    }
    twin = cp.n > 0;

    rc = sq__run(
        c, "object insert",
        "INSERT INTO objects (collection, date_added, stix_id, type, spec_version,"
        " created, modified, version, revoked, tlp, local, creator_org, source_peer,"
        " community, recipients, body, is_first, is_last, twin, signer, writer_only)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
        " ?16, ?17, ?18, ?19, ?20, ?21)",
        SQ_ARGS(SQ_INT(collection), SQ_INT(date_added), SQ_TEXT(o->id, o->id_len),
                SQ_TEXT(o->type, o->type_len), SQ_TEXT(o->spec_version, o->spec_version_len),
                SQ_TIME(o->created_usec), SQ_TIME(o->modified_usec), SQ_INT(version),
                SQ_INT(o->revoked ? 1 : 0), SQ_INT(o->tlp), SQ_INT(o->local ? 1 : 0),
                SQ_INT(o->creator_org), opt_text(o->source_peer, o->source_peer_len),
                o->community != NULL ? SQ_TEXT(o->community, o->community_len) : SQ_STR(root),
                o->n_recipients > 0 ? SQ_TEXT(rcpt->data, rcpt->len) : SQ_NUL,
                SQ_BLOB(o->body, o->body_len), SQ_INT(first ? 1 : 0), SQ_INT(last ? 1 : 0),
                SQ_INT(twin ? 1 : 0), opt_text(o->signer, o->signer_len),
                SQ_INT(writer_only ? 1 : 0)),
        NULL, NULL, NULL, err);
    if (rc != MRD_OK)
        return rc;
    *ret_out = writer_only ? STORE_INS_WRITER_ONLY
               : outranks  ? STORE_INS_REPLACED
                           : STORE_INS_ADDED;
    *ret_date = date_added;
    /* set_shadowed reads the new row as last_insert_rowid(): the conflict
     * rows come after it */
    seq = sqlite3_last_insert_rowid(c->db);
    if (rc == MRD_OK && nver > 0 && last)
        rc = clear_flag(c, collection, o, version, true, err);
    if (rc == MRD_OK && nver > 0 && first)
        rc = clear_flag(c, collection, o, version, false, err);
    if (rc == MRD_OK && twin)
        rc = mark_twins(c, collection, o, version, err);
    if (rc == MRD_OK && nver > 0 && version != vmax)
        rc = set_shadowed(c, collection, o, version, false, version > vmax, err);
    if (rc == MRD_OK && nver > 0 && version != vmin)
        rc = set_shadowed(c, collection, o, version, true, version < vmin, err);
    if (rc == MRD_OK && writer_only)
        rc = conflict_add(c, collection, o, version, reason, STORE_CONFLICT_WRITER_ONLY, kept_seq,
                          kept, kept_len, seq, err);
    /* last: it clears the flags set_shadowed just computed */
    if (rc == MRD_OK && outranks)
        rc = demote_others(c, collection, o, seq, err);
    /* The value index is written with the version: search is never behind. */
    if (rc == MRD_OK)
        rc = sq__index_object(c, seq, o->body, o->body_len, err);
    return rc; /* the text index follows, once per request (insert_req) */
}

static enum mrd_code status_write(struct sq_conn *c, const struct store_status *sts,
                                  struct mrd_err *err);

/* Writes one request's objects, and its status when it has one, inside
 * the open transaction. */
struct coll_last {
    int64_t last;
    char root[STORE_NAME_MAX + 1];
    int64_t max_seq; /* the newest version before the request */
};

static enum mrd_code coll_last_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct coll_last *cl = ctx;

    (void)err;
    cl->last = sqlite3_column_int64(st, 0);
    sq__copy(st, 1, cl->root, sizeof(cl->root));
    cl->max_seq = sqlite3_column_int64(st, 2);
    return MRD_OK;
}

static enum mrd_code insert_req(struct sq_conn *c, struct sq_ins_req *q, struct mrd_buf *rcpt,
                                struct mrd_err *err)
{
    struct coll_last cl;
    uint64_t found = 0;
    int64_t last, next, now;
    bool any = false;
    enum mrd_code rc;

    rc = sq__run(c, "object insert",
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
    for (size_t i = 0; i < q->n; i++) {
        enum store_insert_outcome out = STORE_INS_ADDED;
        bool added;
        int64_t date = 0;

        rc = insert_one(c, q->collection, cl.root, &q->objs[i], next, rcpt, &out, &date, err);
        if (rc != MRD_OK) {
            mrd_err_prefix(err, "object %zu", i);
            return rc;
        }
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
    if (any)
        rc = sq__index_text_after(c, cl.max_seq, err);
    if (rc != MRD_OK)
        return rc;
    if (any) {
        rc = sq__run(c, "object insert", "UPDATE collections SET last_added = ?2 WHERE key = ?1",
                     SQ_ARGS(SQ_INT(q->collection), SQ_INT(last)), NULL, NULL, NULL, err);
        if (rc != MRD_OK)
            return rc;
    }
    /* The status rides in the same transaction: one commit for both; its
     * writer first learns which objects were refused (store.h). */
    if (q->status != NULL && q->status->finish != NULL && q->outcomes != NULL)
        q->status->finish(q->status->finish_ctx, q->outcomes, q->n);
    if (q->status != NULL)
        rc = status_write(c, q->status, err);
    return rc;
}

enum mrd_code sq__objects_insert_in(struct sq_conn *c, int64_t collection,
                                    const struct store_object_in *objs, size_t n,
                                    enum store_insert_outcome *ret_outcomes, struct mrd_err *err)
{
    struct sq_ins_req req;
    struct mrd_buf rcpt;
    enum mrd_code rc;

    memset(&req, 0, sizeof(req));
    req.collection = collection;
    req.objs = objs;
    req.n = n;
    req.outcomes = ret_outcomes;
    mrd_buf_init(&rcpt, (size_t)STORE_RECIPIENTS_MAX * 21);
    rc = insert_req(c, &req, &rcpt, err);
    mrd_buf_release(&rcpt);
    return rc;
}

/* Writes a queue of requests in one transaction: each request in its own
 * savepoint, so one failing request (unknown collection, database error)
 * leaves the others whole; then one COMMIT, one fsync, for all. */
static void run_group(struct sq_store *s, struct sq_ins_req *head)
{
    struct sq_conn *c = NULL;
    struct mrd_buf rcpt;
    struct mrd_err err = {0};
    enum mrd_code rc;

    mrd_buf_init(&rcpt, (size_t)STORE_RECIPIENTS_MAX * 21);
    rc = sq__acquire(s, &c, &err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "BEGIN IMMEDIATE", &err);
    if (rc == MRD_OK && head->next == NULL) {
        /* Alone in its group (an import batch, most posts): no savepoint,
         * its failure rolls back the transaction (below). Inside a named
         * savepoint every statement journal is cut back to the savepoint's
         * start on release by walking SQLite's in-memory journal from its
         * first chunk: quadratic in the request's size (a 4096-object
         * batch spent a third of its time there). */
        head->rc = insert_req(c, head, &rcpt, &head->err);
        if (head->rc == MRD_OK)
            rc = sq__exec(c, "COMMIT", &err);
        goto done;
    }
    for (struct sq_ins_req *q = head; q != NULL && rc == MRD_OK; q = q->next) {
        q->rc = sq__exec(c, "SAVEPOINT ins", &q->err);
        if (q->rc == MRD_OK) {
            q->rc = insert_req(c, q, &rcpt, &q->err);
            if (q->rc != MRD_OK)
                (void)sqlite3_exec(c->db, "ROLLBACK TO ins", NULL, NULL, NULL);
            rc = sq__exec(c, "RELEASE ins", &err);
        }
    }
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", &err);
done:
    /* Without the COMMIT nothing of the group is stored: every request
     * that had succeeded fails with the commit's error. */
    for (struct sq_ins_req *q = head; q != NULL; q = q->next) {
        if (rc != MRD_OK && q->rc == MRD_OK) {
            q->rc = rc;
            q->err = err;
        }
    }
    sq__release(s, c); /* rolls back unless committed */
    mrd_buf_release(&rcpt);
}

enum mrd_code sq__objects_insert(struct store *stp, int64_t collection,
                                 const struct store_object_in *objs, size_t n,
                                 enum store_insert_outcome *ret_outcomes, int64_t *ret_date_added,
                                 struct mrd_err *err)
{
    return sq__objects_insert_status(stp, collection, objs, n, ret_outcomes, ret_date_added, NULL,
                                     err);
}

enum mrd_code sq__objects_insert_status(struct store *stp, int64_t collection,
                                        const struct store_object_in *objs, size_t n,
                                        enum store_insert_outcome *ret_outcomes,
                                        int64_t *ret_date_added, const struct store_status *status,
                                        struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_ins_req req;
    struct sq_ins_req *group;

    memset(&req, 0, sizeof(req));
    req.collection = collection;
    req.objs = objs;
    req.n = n;
    req.outcomes = ret_outcomes;
    req.dates = ret_date_added;
    req.status = status;
    req.rc = MRD_OK; /* run_group overwrites it with any failure */
    /* Group commit: queue the request; whoever finds no leader becomes it,
     * takes everything queued so far and writes it; the others wait for
     * their request to be marked done. Durability per request is the
     * same as alone (committed before returning), at one fsync per group. */
    (void)pthread_mutex_lock(&s->ins_mu);
    if (s->ins_tail != NULL)
        s->ins_tail->next = &req;
    else
        s->ins_head = &req;
    s->ins_tail = &req;
    while (!req.done) {
        if (s->ins_leader) {
            (void)pthread_cond_wait(&s->ins_cv, &s->ins_mu);
            continue;
        }
        s->ins_leader = true;
        group = s->ins_head;
        s->ins_head = NULL;
        s->ins_tail = NULL;
        (void)pthread_mutex_unlock(&s->ins_mu);
        run_group(s, group);
        (void)pthread_mutex_lock(&s->ins_mu);
        for (struct sq_ins_req *q = group; q != NULL; q = q->next)
            q->done = true;
        s->ins_leader = false;
        (void)pthread_cond_broadcast(&s->ins_cv);
    }
    (void)pthread_mutex_unlock(&s->ins_mu);
    if (req.rc != MRD_OK)
        return mrd_err_set(err, req.rc, "%s", req.err.msg);
    return MRD_OK;
}

/* ---- queries ---- */

/* Appends " AND col IN (?,?,...)" for n values. */
static enum mrd_code sql_in(struct mrd_buf *sql, const char *col, size_t n, struct mrd_err *err)
{
    enum mrd_code rc = mrd_buf_printf(sql, err, " AND %s IN (", col);

    for (size_t i = 0; i < n && rc == MRD_OK; i++)
        rc = mrd_buf_puts(sql, i > 0 ? ",?" : "?", err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(sql, ')', err);
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
static enum mrd_code sql_versions(struct mrd_buf *sql, const struct store_match *m,
                                  struct mrd_err *err)
{
    unsigned v = match_versions(m);
    enum mrd_code rc = MRD_OK;

    if (v == STORE_VER_LAST)
        return mrd_buf_puts(sql, " AND (o.is_last = 1 OR o.shadowed = 0)", err);
    if (v == STORE_VER_FIRST)
        return mrd_buf_puts(sql, " AND (o.is_first = 1 OR o.shadowed_first = 0)", err);
    if (v == (STORE_VER_FIRST | STORE_VER_LAST))
        return mrd_buf_puts(sql,
                            " AND (o.is_last = 1 OR o.shadowed = 0 OR o.is_first = 1"
                            " OR o.shadowed_first = 0)",
                            err);
    if (v & (STORE_VER_ALL | STORE_VER_FIRST | STORE_VER_LAST))
        return MRD_OK;
    rc = mrd_buf_puts(sql, " AND o.version IN (", err);
    for (size_t i = 0; i < m->n_timestamps && rc == MRD_OK; i++)
        rc = mrd_buf_puts(sql, i > 0 ? ",?" : "?", err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(sql, ')', err);
    return rc;
}

/* Binds the match values in the order sql_match wrote them, from *idx. */
static void bind_match(sqlite3_stmt *st, const struct store_match *m, bool with_ids, int *idx)
{
    if (m == NULL)
        return;
    if (with_ids)
        for (size_t i = 0; i < m->n_ids; i++)
            (void)sqlite3_bind_text(st, (*idx)++, m->ids[i], -1, SQLITE_STATIC);
    for (size_t i = 0; i < m->n_types; i++)
        (void)sqlite3_bind_text(st, (*idx)++, m->types[i], -1, SQLITE_STATIC);
    for (size_t i = 0; i < m->n_spec_versions; i++)
        (void)sqlite3_bind_text(st, (*idx)++, m->spec_versions[i], -1, SQLITE_STATIC);
    if (!(match_versions(m) & (STORE_VER_ALL | STORE_VER_FIRST | STORE_VER_LAST)))
        for (size_t i = 0; i < m->n_timestamps; i++)
            (void)sqlite3_bind_int64(st, (*idx)++, m->timestamps[i]);
}

static enum mrd_code sql_match(struct mrd_buf *sql, const struct store_match *m, bool with_ids,
                               struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    if (m != NULL && with_ids && m->n_ids > 0)
        rc = sql_in(sql, "o.stix_id", m->n_ids, err);
    if (rc == MRD_OK && m != NULL && m->n_types > 0)
        rc = sql_in(sql, "o.type", m->n_types, err);
    if (rc == MRD_OK && m != NULL && m->n_spec_versions > 0)
        rc = sql_in(sql, "o.spec_version", m->n_spec_versions, err);
    if (rc == MRD_OK)
        rc = sql_versions(sql, m, err);
    return rc;
}

/* Fills row from the ROW_COLS columns (+ body at ROW_BODY_COL when present).
 * recipients must hold STORE_RECIPIENTS_MAX entries. */
static void row_from_stmt(sqlite3_stmt *st, bool body, struct store_row *row, int64_t *recipients)
{
    size_t n;
    const char *r;

    memset(row, 0, sizeof(*row));
    row->seq = sqlite3_column_int64(st, 0);
    row->date_added = sqlite3_column_int64(st, 1);
    row->id = sq__text(st, 2, &row->id_len);
    row->type = sq__text(st, 3, &row->type_len);
    row->spec_version = sq__text(st, 4, &row->spec_version_len);
    row->created_usec =
        sqlite3_column_type(st, 5) == SQLITE_NULL ? STORE_TIME_NONE : sqlite3_column_int64(st, 5);
    row->modified_usec =
        sqlite3_column_type(st, 6) == SQLITE_NULL ? STORE_TIME_NONE : sqlite3_column_int64(st, 6);
    row->version_usec = sqlite3_column_int64(st, 7);
    row->revoked = sqlite3_column_int(st, 8) != 0;
    row->policy.tlp = (enum policy_tlp)sqlite3_column_int(st, 9);
    row->policy.local = sqlite3_column_int(st, 10) != 0;
    row->policy.creator_org = sqlite3_column_int64(st, 11);
    if (sqlite3_column_type(st, 12) != SQLITE_NULL)
        row->source_peer = sq__text(st, 12, &row->source_peer_len);
    row->policy.community = sq__text(st, 13, &row->policy.community_len);
    /* Recipients: parse "1,5,9"; anything malformed simply yields fewer
     * recipients, which only ever denies. */
    r = sq__text(st, 14, &n);
    for (size_t i = 0; i < n && row->policy.n_recipients < STORE_RECIPIENTS_MAX;) {
        int64_t v = 0;
        size_t j = i;
        while (j < n && r[j] >= '0' && r[j] <= '9' && v < INT64_MAX / 10 - 10)
            v = v * 10 + (r[j++] - '0');
        if (j > i && v > 0)
            recipients[row->policy.n_recipients++] = v;
        i = j + 1;
    }
    row->policy.recipients = row->policy.n_recipients > 0 ? recipients : NULL;
    row->policy.writer_only = (sqlite3_column_int(st, ROW_FLAGS_COL) & F_WRITER_ONLY) != 0;
    if (body) {
        row->body = (const char *)sqlite3_column_blob(st, ROW_BODY_COL);
        row->body_len = (size_t)sqlite3_column_bytes(st, ROW_BODY_COL);
    }
}

void sq__row_from_stmt(sqlite3_stmt *st, bool body, struct store_row *row, int64_t *recipients)
{
    row_from_stmt(st, body, row, recipients);
}

enum other_kind {
    OTHER_NEWER = 0,  /* a newer version of the object */
    OTHER_OLDER = 1,  /* an older version */
    OTHER_EARLIER = 2 /* an earlier-stored copy of the same version */
};

/* Whether the reader may read another row of row's object (kind says
 * which): one index seek, stepping only until the first visible row. */
static enum mrd_code other_visible(struct sq_conn *c, int64_t collection,
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
    sqlite3_stmt *st = NULL;
    struct store_row other;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    enum mrd_code rc;
    int src;

    *ret = false;
    rc = sq__prepare(c, sql[kind], &st, err);
    if (rc != MRD_OK)
        return rc;
    (void)sqlite3_bind_int64(st, 1, collection);
    (void)sqlite3_bind_text(st, 2, row->id, (int)row->id_len, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 3, row->version_usec);
    if (kind == OTHER_EARLIER)
        (void)sqlite3_bind_int64(st, 4, row->seq);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        row_from_stmt(st, false, &other, recipients);
        if (visible == NULL || visible(ctx, &other)) {
            *ret = true;
            break;
        }
    }
    (void)sqlite3_reset(st);
    if (src != SQLITE_ROW && src != SQLITE_DONE)
        return sq__fail(c, src, "object query", err);
    return MRD_OK;
}

/* Whether a visible row (the current one of st, read by row_from_stmt)
 * answers match[version] for this reader: its timestamp is asked for, or
 * it is the last/first of the versions the reader may read. The stored
 * is_last/is_first flags (over all versions) are the fast path: a visible
 * row that has one needs no look-up. one_copy: of several copies of one
 * version (writer-scoped, store_objects_insert) only the earliest visible
 * one is selected. */
static enum mrd_code row_selected(struct sq_conn *c, sqlite3_stmt *st, int64_t collection,
                                  const struct store_match *m, bool one_copy,
                                  const struct store_row *row,
                                  bool (*visible)(void *ctx, const struct store_row *row),
                                  void *ctx, bool *ret, struct mrd_err *err)
{
    unsigned v = match_versions(m);
    int flags = sqlite3_column_int(st, ROW_FLAGS_COL);
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
            rc = other_visible(c, collection, row, OTHER_NEWER, visible, ctx, &other, err);
            sel = !other;
        }
    }
    if (rc == MRD_OK && !sel && (v & STORE_VER_FIRST)) {
        sel = (flags & F_FIRST) != 0;
        if (!sel && !(flags & F_SHADOWED_FIRST)) { /* as above, towards the oldest */
            rc = other_visible(c, collection, row, OTHER_OLDER, visible, ctx, &other, err);
            sel = !other;
        }
    }
    if (rc == MRD_OK && sel && one_copy && (flags & F_TWIN)) {
        rc = other_visible(c, collection, row, OTHER_EARLIER, visible, ctx, &other, err);
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
static enum mrd_code readable_ids(struct sq_conn *c, int64_t collection,
                                  const struct store_match *m,
                                  bool (*visible)(void *ctx, const struct store_row *row),
                                  void *ctx, const char **ids, size_t *ret_n, struct mrd_err *err)
{
    sqlite3_stmt *st = NULL;
    struct store_row row;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    enum mrd_code rc;
    int src = SQLITE_DONE;

    *ret_n = 0;
    rc = sq__prepare(c,
                     "SELECT " ROW_COLS " FROM objects o INDEXED BY objects_current"
                     " WHERE o.collection = ?1 AND o.stix_id = ?2"
                     " AND (o.is_last = 1 OR o.shadowed = 0)",
                     &st, err);
    if (rc != MRD_OK)
        return rc;
    for (size_t i = 0; i < m->n_ids; i++) {
        (void)sqlite3_bind_int64(st, 1, collection);
        (void)sqlite3_bind_text(st, 2, m->ids[i], -1, SQLITE_STATIC);
        while ((src = sqlite3_step(st)) == SQLITE_ROW) {
            row_from_stmt(st, false, &row, recipients);
            if (visible(ctx, &row)) {
                ids[(*ret_n)++] = m->ids[i];
                break;
            }
        }
        (void)sqlite3_reset(st);
        if (src != SQLITE_ROW && src != SQLITE_DONE)
            return sq__fail(c, src, "object query", err);
    }
    return MRD_OK;
}

static bool genuine_only(void *ctx, const struct store_row *row)
{
    (void)ctx;
    return !row->policy.writer_only;
}

enum mrd_code sq__objects_query(struct store *stp, const struct store_query *q,
                                bool (*visible)(void *ctx, const struct store_row *row),
                                enum mrd_code (*emit)(void *ctx, const struct store_row *row,
                                                      struct mrd_err *err),
                                void *ctx, struct store_query_result *ret, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    struct mrd_buf sql;
    struct store_row row;
    struct store_query_result res = {0, false, STORE_TIME_NONE, STORE_TIME_NONE, 0};
    int64_t recipients[STORE_RECIPIENTS_MAX];
    const struct store_match *match = q->match;
    struct store_match m;
    const char *ids[STORE_MATCH_MAX];
    const char *index;
    enum mrd_code rc;
    bool in_txn = false, sel = false;
    int idx = 2;
    int src;

    /* Admin reads (visible NULL) see what the node holds as genuine. */
    if (visible == NULL)
        visible = genuine_only;
    mrd_buf_init(&sql, SQL_MAX);
    rc = sq__acquire_read(s, &c, err);
    if (rc != MRD_OK)
        goto out;
    /* One read transaction: the whole page, and the look-ahead for `more`,
     * come from one snapshot (the thread's pinned one when there is one). */
    if (sqlite3_get_autocommit(c->db)) {
        rc = sq__exec(c, "BEGIN", err);
        if (rc != MRD_OK)
            goto out;
        in_txn = true;
    }
    /* Ids the reader may read no row of are dropped before the scan: their
     * versions, however many, cost nothing (store.h, "Hidden objects"). */
    if (q->match != NULL && q->match->n_ids > 0) {
        m = *q->match;
        m.ids = ids;
        rc = readable_ids(c, q->collection, q->match, visible, ctx, ids, &m.n_ids, err);
        if (rc != MRD_OK)
            goto out;
        if (m.n_ids == 0) {
            if (ret != NULL)
                *ret = res;
            goto out;
        }
        match = &m;
    }
    /* The index is chosen here, not left to the planner: without
     * statistics it prefers a full scan of objects_added (to avoid a sort)
     * over a seek by id, and with several types it would sort every
     * matching row before the first one streams out. A single type walks
     * objects_type in date_added order; ids seek objects_version and sort
     * their few rows; everything else walks objects_added. */
    if (match != NULL && match->n_ids > 0)
        index = "objects_version";
    else if (match != NULL && match->n_types == 1)
        index = "objects_type";
    else
        index = "objects_added";
    rc = mrd_buf_printf(
        &sql, err, "SELECT " ROW_COLS "%s FROM objects o INDEXED BY %s WHERE o.collection = ?1",
        q->want_body ? ", o.body" : "", index);
    if (rc == MRD_OK && q->added_after != STORE_TIME_NONE)
        rc = mrd_buf_puts(&sql, " AND o.date_added > ?", err);
    /* Written so the (collection, date_added) index serves it as a range. */
    if (rc == MRD_OK && q->has_cursor)
        rc = mrd_buf_puts(&sql, " AND o.date_added >= ? AND NOT (o.date_added = ? AND o.seq <= ?)",
                          err);
    if (rc == MRD_OK)
        rc = sql_match(&sql, match, true, err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(&sql, " ORDER BY o.date_added, o.seq", err);
    if (rc != MRD_OK)
        goto out;
    rc = sq__prepare(c, sql.data, &st, err);
    if (rc != MRD_OK)
        goto out;
    (void)sqlite3_bind_int64(st, 1, q->collection);
    if (q->added_after != STORE_TIME_NONE)
        (void)sqlite3_bind_int64(st, idx++, q->added_after);
    if (q->has_cursor) {
        (void)sqlite3_bind_int64(st, idx++, q->after_date_added);
        (void)sqlite3_bind_int64(st, idx++, q->after_date_added);
        (void)sqlite3_bind_int64(st, idx++, q->after_seq);
    }
    bind_match(st, match, true, &idx);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        row_from_stmt(st, false, &row, recipients);
        if (visible != NULL && !visible(ctx, &row))
            continue;
        rc = row_selected(c, st, q->collection, match, true, &row, visible, ctx, &sel, err);
        if (rc != MRD_OK)
            goto out;
        if (!sel)
            continue;
        if (q->want_body) { /* only now: a skipped row's body is never read */
            row.body = (const char *)sqlite3_column_blob(st, ROW_BODY_COL);
            row.body_len = (size_t)sqlite3_column_bytes(st, ROW_BODY_COL);
        }
        if (q->limit > 0 && res.delivered == q->limit) {
            res.more = true; /* a visible row beyond the page: stop here */
            break;
        }
        if (emit != NULL) {
            rc = emit(ctx, &row, err);
            if (rc != MRD_OK)
                goto out;
        }
        if (res.delivered == 0)
            res.first_date_added = row.date_added;
        res.last_date_added = row.date_added;
        res.last_seq = row.seq;
        res.delivered++;
    }
    if (src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = sq__fail(c, src, "object query", err);
        goto out;
    }
    if (ret != NULL)
        *ret = res;
out:
    if (st != NULL)
        (void)sqlite3_reset(st);
    if (in_txn)
        sq__rollback(c); /* read-only: nothing to commit */
    sq__release(s, c);
    mrd_buf_release(&sql);
    return rc;
}

enum mrd_code sq__objects_delete(struct store *stp, int64_t collection, const char *id,
                                 size_t id_len, const struct store_match *match,
                                 bool (*visible)(void *ctx, const struct store_row *row), void *ctx,
                                 size_t *ret_deleted, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    struct mrd_buf sql;
    struct store_row row;
    struct store_match m = {0};
    int64_t recipients[STORE_RECIPIENTS_MAX];
    int64_t *doomed = NULL;
    size_t n_doomed = 0, cap = 0;
    enum mrd_code rc;
    bool sel = false;
    int idx = 3;
    int src;

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
    mrd_buf_init(&sql, SQL_MAX);
    rc = mrd_buf_puts(&sql,
                      "SELECT " ROW_COLS
                      " FROM objects o INDEXED BY objects_version WHERE o.collection = ?1"
                      " AND o.stix_id = ?2",
                      err);
    if (rc == MRD_OK)
        rc = sql_match(&sql, &m, false, err);
    if (rc != MRD_OK)
        goto out;
    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        goto out;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc != MRD_OK)
        goto out;
    rc = sq__prepare(c, sql.data, &st, err);
    if (rc != MRD_OK)
        goto out;
    (void)sqlite3_bind_int64(st, 1, collection);
    (void)sqlite3_bind_text(st, 2, id, (int)id_len, SQLITE_STATIC);
    bind_match(st, &m, false, &idx);
    /* Collect first, delete after: never modify a table under a running
     * SELECT on it. */
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        row_from_stmt(st, false, &row, recipients);
        if (visible != NULL && !visible(ctx, &row))
            continue;
        /* first/last: among the versions the deleter may read */
        rc = row_selected(c, st, collection, &m, false, &row, visible, ctx, &sel, err);
        if (rc != MRD_OK)
            goto out;
        if (!sel)
            continue;
        if (n_doomed == cap) {
            size_t ncap = cap == 0 ? 16 : cap * 2;
            int64_t *p = mrd_realloc(doomed, ncap * sizeof(*p));
            if (p == NULL) {
                rc = mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
                goto out;
            }
            doomed = p;
            cap = ncap;
        }
        doomed[n_doomed++] = row.seq;
    }
    (void)sqlite3_reset(st);
    st = NULL;
    if (src != SQLITE_DONE) {
        rc = sq__fail(c, src, "object delete", err);
        goto out;
    }
    /* A version under an active legal hold is never deleted. */
    rc = sq__check_holds(c, doomed, n_doomed, err);
    if (rc != MRD_OK)
        goto out;
    for (size_t i = 0; i < n_doomed && rc == MRD_OK; i++)
        rc = sq__unindex_text(c, doomed[i], err);
    for (size_t i = 0; i < n_doomed && rc == MRD_OK; i++)
        rc = sq__run(c, "object delete", "DELETE FROM objects WHERE seq = ?1",
                     SQ_ARGS(SQ_INT(doomed[i])), NULL, NULL, NULL, err);
    /* The surviving versions may have become the first or the last. */
    if (rc == MRD_OK && n_doomed > 0)
        rc = sq__run(c, "object delete",
                     "UPDATE objects SET"
                     " is_first = CASE WHEN version = (SELECT MIN(v.version) FROM objects v"
                     "  WHERE v.collection = ?1 AND v.stix_id = ?2) THEN 1 ELSE 0 END,"
                     " is_last = CASE WHEN version = (SELECT MAX(v.version) FROM objects v"
                     "  WHERE v.collection = ?1 AND v.stix_id = ?2) THEN 1 ELSE 0 END,"
                     " shadowed = 0, shadowed_first = 0" /* safe (look-ups) till an insert */
                     " WHERE collection = ?1 AND stix_id = ?2",
                     SQ_ARGS(SQ_INT(collection), SQ_TEXT(id, id_len)), NULL, NULL, NULL, err);
    if (rc != MRD_OK)
        goto out;
    rc = sq__exec(c, "COMMIT", err);
    if (rc == MRD_OK)
        *ret_deleted = n_doomed;
out:
    if (st != NULL)
        (void)sqlite3_reset(st);
    sq__release(s, c);
    mrd_buf_release(&sql);
    mrd_free(doomed);
    return rc;
}

enum mrd_code sq__objects_count(struct store *stp, int64_t collection, uint64_t *ret,
                                struct mrd_err *err)
{
    const struct sq_arg arg = SQ_INT(collection);
    int64_t n = 0;
    enum mrd_code rc;

    rc = sq__query((struct sq_store *)stp, false, "object count",
                   collection > 0 ? "SELECT COUNT(*) FROM objects WHERE collection = ?1"
                                  : "SELECT COUNT(*) FROM objects",
                   &arg, collection > 0 ? 1 : 0, sq__int_row, &n, NULL, err);
    if (rc == MRD_OK)
        *ret = (uint64_t)n;
    return rc;
}

/* ---- status resources ---- */

/* Writes (or replaces) a status and its details inside the open write
 * transaction. */
static enum mrd_code status_write(struct sq_conn *c, const struct store_status *sts,
                                  struct mrd_err *err)
{
    enum mrd_code rc;

    rc = sq__run(c, "status", "DELETE FROM status_details WHERE status_id = ?1",
                 SQ_ARGS(SQ_STR(sts->id)), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = sq__run(c, "status",
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
    for (size_t i = 0; i < sts->n_details && rc == MRD_OK; i++) {
        const struct store_status_detail *d = &sts->details[i];

        rc = sq__run(c, "status",
                     "INSERT INTO status_details (status_id, ord, kind, stix_id, version, message)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                     SQ_ARGS(SQ_STR(sts->id), SQ_INT(i), SQ_INT(d->kind),
                             SQ_TEXT(d->id, strnlen(d->id, sizeof(d->id))), SQ_INT(d->version_usec),
                             SQ_TEXT(d->message, strnlen(d->message, sizeof(d->message)))),
                     NULL, NULL, NULL, err);
    }
    return rc;
}

enum mrd_code sq__status_put(struct store *stp, const struct store_status *sts, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        goto out;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = status_write(c, sts, err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
out:
    sq__release(s, c); /* rolls back unless committed */
    return rc;
}

static enum mrd_code status_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct store_status *sts = ctx;

    (void)err;
    sq__copy(st, 0, sts->id, sizeof(sts->id));
    sq__copy(st, 1, sts->api_root, sizeof(sts->api_root));
    sts->org_key = sqlite3_column_int64(st, 2);
    sts->request_usec = sqlite3_column_int64(st, 3);
    sts->complete = sqlite3_column_int(st, 4) != 0;
    sts->total_count = (uint64_t)sqlite3_column_int64(st, 5);
    sts->success_count = (uint64_t)sqlite3_column_int64(st, 6);
    sts->failure_count = (uint64_t)sqlite3_column_int64(st, 7);
    sts->pending_count = (uint64_t)sqlite3_column_int64(st, 8);
    return MRD_OK;
}

struct status_ctx {
    struct store_status *sts;
    size_t cap; /* of sts->details */
};

static enum mrd_code detail_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
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
    d->kind = (enum store_status_kind)sqlite3_column_int(st, 0);
    sq__copy(st, 1, d->id, sizeof(d->id));
    d->version_usec = sqlite3_column_int64(st, 2);
    sq__copy(st, 3, d->message, sizeof(d->message));
    return MRD_OK;
}

enum mrd_code sq__status_get(struct store *stp, const char *id, size_t len,
                             struct store_status **ret, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    struct status_ctx sc = {NULL, 0};
    uint64_t n = 0;
    enum mrd_code rc;

    sc.sts = mrd_calloc(1, sizeof(*sc.sts));
    if (sc.sts == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    rc = sq__acquire_read(s, &c, err);
    if (rc != MRD_OK)
        goto out;
    if (sqlite3_get_autocommit(c->db)) {
        rc = sq__exec(c, "BEGIN", err);
        if (rc != MRD_OK)
            goto out;
    }
    rc = sq__run(c, "status",
                 "SELECT id, api_root, org, request, complete, total, success, failure,"
                 " pending FROM status WHERE id = ?1",
                 SQ_ARGS(SQ_TEXT(id, len)), status_row, sc.sts, &n, err);
    if (rc != MRD_OK)
        goto out;
    if (n == 0) {
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "status: not found");
        goto out;
    }
    rc = sq__run(c, "status",
                 "SELECT kind, stix_id, version, message FROM status_details"
                 " WHERE status_id = ?1 ORDER BY ord",
                 SQ_ARGS(SQ_TEXT(id, len)), detail_row, &sc, NULL, err);
    if (rc != MRD_OK)
        goto out;
    *ret = sc.sts;
    sc.sts = NULL;
out:
    sq__release(s, c); /* ends the read transaction unless pinned */
    store_status_free(sc.sts);
    return rc;
}

enum mrd_code sq__status_purge(struct store *stp, int64_t older_than_usec, uint64_t *ret_purged,
                               struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    uint64_t n = 0;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = sq__run(c, "status purge",
                     "DELETE FROM status_details WHERE status_id IN"
                     " (SELECT id FROM status WHERE request < ?1)",
                     SQ_ARGS(SQ_INT(older_than_usec)), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = sq__run(c, "status purge", "DELETE FROM status WHERE request < ?1",
                     SQ_ARGS(SQ_INT(older_than_usec)), NULL, NULL, &n, err);
    if (rc == MRD_OK && ret_purged != NULL)
        *ret_purged = n;
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    sq__release(s, c);
    return rc;
}

/* ---- conflicts ---- */

struct conflict_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_conflict *c, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code conflict_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct conflict_ctx *cc = ctx;
    struct store_conflict k;
    size_t n;

    memset(&k, 0, sizeof(k));
    k.id = sqlite3_column_int64(st, 0);
    k.time_usec = sqlite3_column_int64(st, 1);
    k.collection = sqlite3_column_int64(st, 2);
    k.collection_id = sq__text(st, 3, &n);
    k.stix_id = sq__text(st, 4, &n);
    k.version_usec = sqlite3_column_int64(st, 5);
    k.reason = (enum store_conflict_reason)sqlite3_column_int(st, 6);
    k.action = (enum store_conflict_action)sqlite3_column_int(st, 7);
    k.kept_seq = sqlite3_column_int64(st, 8);
    if (sqlite3_column_type(st, 9) != SQLITE_NULL)
        k.kept_signer = sq__text(st, 9, &n);
    k.other_seq = sqlite3_column_int64(st, 10);
    if (sqlite3_column_type(st, 11) != SQLITE_NULL)
        k.other_signer = sq__text(st, 11, &n);
    k.other_org = sqlite3_column_int64(st, 12);
    if (sqlite3_column_type(st, 13) != SQLITE_NULL)
        k.other_org_name = sq__text(st, 13, &n);
    if (sqlite3_column_type(st, 14) != SQLITE_NULL)
        k.other_peer = sq__text(st, 14, &n);
    if (sqlite3_column_type(st, 15) != SQLITE_NULL) {
        k.body = (const char *)sqlite3_column_blob(st, 15);
        k.body_len = (size_t)sqlite3_column_bytes(st, 15);
    }
    return cc->cb(cc->ctx, &k, err);
}

enum mrd_code sq__conflict_list(struct store *stp, int64_t collection, int64_t id,
                                enum mrd_code (*cb)(void *ctx, const struct store_conflict *c,
                                                    struct mrd_err *err),
                                void *ctx, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    struct conflict_ctx cc = {cb, ctx};
    enum mrd_code rc;
    bool in_txn = false;

    rc = sq__acquire_read(s, &c, err);
    if (rc != MRD_OK)
        goto out;
    if (sqlite3_get_autocommit(c->db)) {
        rc = sq__exec(c, "BEGIN", err);
        if (rc != MRD_OK)
            goto out;
        in_txn = true;
    }
    rc = sq__run(c, "conflicts",
                 "SELECT k.id, k.time, k.collection, cl.id, k.stix_id, k.version, k.reason,"
                 " k.action, k.kept_seq, k.kept_signer, k.other_seq, k.other_signer,"
                 " k.other_org, g.name, k.other_peer, COALESCE(k.other_body, o.body)"
                 " FROM conflicts k JOIN collections cl ON cl.key = k.collection"
                 " LEFT JOIN orgs g ON g.key = k.other_org"
                 " LEFT JOIN objects o ON o.seq = k.other_seq"
                 " WHERE (?1 = 0 OR k.collection = ?1) AND (?2 = 0 OR k.id = ?2)"
                 " ORDER BY k.id",
                 SQ_ARGS(SQ_INT(collection), SQ_INT(id)), conflict_row, &cc, NULL, err);
out:
    if (in_txn)
        sq__rollback(c);
    sq__release(s, c);
    return rc;
}
