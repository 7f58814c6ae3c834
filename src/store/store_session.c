/*
 * store_session.c: console sessions (store.h, "console sessions"), written
 * once for both backends over their driver (store_int.h).
 *
 * A session is a row keyed by the SHA-256 of its random id; the id itself
 * only ever travels in the browser's cookie. Lookups join the token and
 * its org, so a revoked token (or a deleted row: sign-out, org disabled,
 * partner revoked) ends the session at its next request, with no cache to
 * go stale -- on every front-end of a PostgreSQL database alike. last_seen
 * is rewritten at most every STORE_SESSION_TOUCH_USEC so that reading a
 * page does not cost a commit per request.
 */
#include "store/store_int.h"

#include <string.h>

#include <sodium.h>

#include "core/timestamp.h"

/* One statement on a connection the backend's driver borrows for it. */
static enum mrd_code q(struct store *st, bool read, const char *what, const char *sql,
                       const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                       uint64_t *ret_n, struct mrd_err *err)
{
    return st->ops->driver->query(st, read, what, sql, args, nargs, row, ctx, ret_n, err);
}

static enum mrd_code tx_run(const struct store_tx *tx, const char *what, const char *sql,
                            const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                            uint64_t *ret_n, struct mrd_err *err)
{
    return tx->ops->run(tx->conn, false, what, sql, args, nargs, row, ctx, ret_n, err);
}

enum mrd_code store__sessions_drop_token(const struct store_tx *tx, const char *name,
                                         struct mrd_err *err)
{
    return tx_run(tx, "session end", "DELETE FROM sessions WHERE token = ?1", SQ_ARGS(SQ_STR(name)),
                  NULL, NULL, NULL, err);
}

struct create_args {
    const char *token_name;
    int64_t expires_usec;
    const unsigned char *hash;
};

static enum mrd_code create_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct create_args *a = args;
    int64_t now = mrd_time_now_usec(), org = 0;
    uint64_t n = 0;
    enum mrd_code rc;

    /* Expired sessions go on the way: they could never be used again. */
    rc = tx_run(tx, "session create", "DELETE FROM sessions WHERE expires <= ?1",
                SQ_ARGS(SQ_INT(now)), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = tx_run(tx, "session create",
                    "SELECT org FROM tokens WHERE name = ?1 AND revoked IS NULL",
                    SQ_ARGS(SQ_STR(a->token_name)), store__i64_row, &org, &n, err);
    if (rc != MRD_OK)
        return rc;
    if (n == 0)
        return mrd_err_set(err, MRD_E_AUTH, "session: invalid or revoked token");
    return tx_run(tx, "session create",
                  "INSERT INTO sessions (hash, token, org, created, last_seen, expires)"
                  " VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
                  SQ_ARGS(SQ_BLOB(a->hash, STORE_TOKEN_HASH_LEN), SQ_STR(a->token_name),
                          SQ_INT(org), SQ_INT(now), SQ_INT(a->expires_usec)),
                  NULL, NULL, NULL, err);
}

enum mrd_code store__session_create(struct store *st, const char *token_name, int64_t expires_usec,
                                    char ret_id[STORE_SESSION_ID_LEN + 1], struct mrd_err *err)
{
    char id[STORE_SESSION_ID_LEN + 1];
    unsigned char hash[STORE_TOKEN_HASH_LEN];
    struct create_args a = {token_name, expires_usec, hash};
    enum mrd_code rc;

    store__session_id_generate(id);
    store__token_hash(id, STORE_SESSION_ID_LEN, hash);
    rc = st->ops->driver->write_tx(st, create_op, &a, err);
    if (rc == MRD_OK)
        memcpy(ret_id, id, sizeof(id));
    sodium_memzero(id, sizeof(id));
    return rc;
}

static int64_t touch_every(int64_t idle_usec)
{
    int64_t t = idle_usec / 8;

    return t < STORE_SESSION_TOUCH_USEC ? t : STORE_SESSION_TOUCH_USEC;
}

static enum mrd_code session_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct store_session *found = ctx;

    (void)err;
    memset(found, 0, sizeof(*found));
    store__token_from(r, &found->tok);
    found->created_usec = r->i64(r, SQ_TOKEN_NCOLS);
    found->last_seen_usec = r->i64(r, SQ_TOKEN_NCOLS + 1);
    found->expires_usec = r->i64(r, SQ_TOKEN_NCOLS + 2);
    return MRD_OK;
}

enum mrd_code store__session_lookup(struct store *st, const char *id, size_t len, int64_t idle_usec,
                                    struct store_session *ret, struct mrd_err *err)
{
    unsigned char hash[STORE_TOKEN_HASH_LEN];
    int64_t now = mrd_time_now_usec();
    struct store_session found;
    uint64_t n = 0;
    enum mrd_code rc;

    store__token_hash(id, len, hash);
    rc = q(st, true, "session lookup",
           "SELECT " SQ_TOKEN_COLS ", s.created, s.last_seen, s.expires FROM sessions s"
           " JOIN tokens t ON t.name = s.token JOIN orgs o ON o.key = t.org"
           " WHERE s.hash = ?1 AND t.revoked IS NULL AND s.expires > ?2"
           " AND s.last_seen > ?3",
           SQ_ARGS(SQ_BLOB(hash, sizeof(hash)), SQ_INT(now), SQ_INT(now - idle_usec)), session_row,
           &found, &n, err);
    if (rc != MRD_OK)
        return rc;
    if (n == 0)
        return mrd_err_set(err, MRD_E_AUTH, "session: invalid or expired session");
    /* A short idle time is kept exact enough by touching more often. The
     * write runs on a connection of its own (read: the lookup may have run
     * in a pinned read snapshot). */
    if (now - found.last_seen_usec >= touch_every(idle_usec)) {
        rc = q(st, false, "session touch",
               "UPDATE sessions SET last_seen = ?2 WHERE hash = ?1 AND last_seen < ?2",
               SQ_ARGS(SQ_BLOB(hash, STORE_TOKEN_HASH_LEN), SQ_INT(now)), NULL, NULL, NULL, err);
        if (rc != MRD_OK)
            return rc;
        found.last_seen_usec = now;
    }
    *ret = found;
    return MRD_OK;
}

enum mrd_code store__session_end(struct store *st, const char *id, size_t len, struct mrd_err *err)
{
    unsigned char hash[STORE_TOKEN_HASH_LEN];

    store__token_hash(id, len, hash);
    return q(st, false, "session end", "DELETE FROM sessions WHERE hash = ?1",
             SQ_ARGS(SQ_BLOB(hash, sizeof(hash))), NULL, NULL, NULL, err);
}

enum mrd_code store__sessions_end(struct store *st, const char *token_name, int64_t org_key,
                                  uint64_t *ret_n, struct mrd_err *err)
{
    uint64_t n = 0;
    enum mrd_code rc;

    if (token_name != NULL)
        rc = q(st, false, "session end", "DELETE FROM sessions WHERE token = ?1",
               SQ_ARGS(SQ_STR(token_name)), NULL, NULL, &n, err);
    else /* by the tokens' org as well as the org recorded at sign-in */
        rc = q(st, false, "session end",
               "DELETE FROM sessions WHERE org = ?1 OR token IN"
               " (SELECT name FROM tokens WHERE org = ?1)",
               SQ_ARGS(SQ_INT(org_key)), NULL, NULL, &n, err);
    if (rc == MRD_OK && ret_n != NULL)
        *ret_n = n;
    return rc;
}
