/*
 * store_sqlite_session.c: console sessions in the SQLite store (store.h,
 * "console sessions").
 *
 * A session is a row keyed by the SHA-256 of its random id; the id itself
 * only ever travels in the browser's cookie. Lookups join the token and
 * its org, so a revoked token (or a deleted row: sign-out, org disabled,
 * partner revoked) ends the session at its next request, with no cache to
 * go stale. last_seen is rewritten at most every STORE_SESSION_TOUCH_USEC
 * so that reading a page does not cost a commit per request.
 */
#include "store/store_int.h"

#include <string.h>

#include <sodium.h>

#include "core/timestamp.h"

enum mrd_code sq__sessions_drop_token(struct sq_conn *c, const char *name, struct mrd_err *err)
{
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;

    rc = sq__prepare(c, "DELETE FROM sessions WHERE token = ?1", &st, err);
    if (rc != MRD_OK)
        return rc;
    (void)sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    return sq__step_reset(c, st, "session end", err);
}

enum mrd_code sq__session_create(struct store *stp, const char *token_name, int64_t expires_usec,
                                 char ret_id[STORE_SESSION_ID_LEN + 1], struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char id[STORE_SESSION_ID_LEN + 1];
    unsigned char hash[STORE_TOKEN_HASH_LEN];
    int64_t now = mrd_time_now_usec(), org = 0;
    enum mrd_code rc;
    int src;

    store__session_id_generate(id);
    store__token_hash(id, STORE_SESSION_ID_LEN, hash);
    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc != MRD_OK)
        goto out;
    /* Expired sessions go on the way: they could never be used again. */
    rc = sq__prepare(c, "DELETE FROM sessions WHERE expires <= ?1", &st, err);
    if (rc != MRD_OK)
        goto out;
    (void)sqlite3_bind_int64(st, 1, now);
    rc = sq__step_reset(c, st, "session create", err);
    if (rc != MRD_OK)
        goto out;
    rc = sq__prepare(c, "SELECT org FROM tokens WHERE name = ?1 AND revoked IS NULL", &st, err);
    if (rc != MRD_OK)
        goto out;
    (void)sqlite3_bind_text(st, 1, token_name, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        org = sqlite3_column_int64(st, 0);
    (void)sqlite3_reset(st);
    if (src == SQLITE_DONE) {
        rc = mrd_err_set(err, MRD_E_AUTH, "session: invalid or revoked token");
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = sq__fail(c, src, "session create", err);
        goto out;
    }
    rc = sq__prepare(c,
                     "INSERT INTO sessions (hash, token, org, created, last_seen, expires)"
                     " VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
                     &st, err);
    if (rc != MRD_OK)
        goto out;
    (void)sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 2, token_name, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 3, org);
    (void)sqlite3_bind_int64(st, 4, now);
    (void)sqlite3_bind_int64(st, 5, expires_usec);
    rc = sq__step_reset(c, st, "session create", err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    if (rc == MRD_OK)
        memcpy(ret_id, id, sizeof(id));
out:
    sodium_memzero(id, sizeof(id));
    sq__release(s, c); /* rolls back unless committed */
    return rc;
}

static int64_t touch_every(int64_t idle_usec)
{
    int64_t t = idle_usec / 8;

    return t < STORE_SESSION_TOUCH_USEC ? t : STORE_SESSION_TOUCH_USEC;
}

/* Moves last_seen forward (a write, on a connection of its own: the
 * lookup may have run in a pinned read snapshot). */
static enum mrd_code touch(struct sq_store *s, const unsigned char *hash, int64_t now,
                           struct mrd_err *err)
{
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__prepare(c, "UPDATE sessions SET last_seen = ?2 WHERE hash = ?1 AND last_seen < ?2",
                     &st, err);
    if (rc == MRD_OK) {
        (void)sqlite3_bind_blob(st, 1, hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
        (void)sqlite3_bind_int64(st, 2, now);
        rc = sq__step_reset(c, st, "session touch", err);
    }
    sq__release(s, c);
    return rc;
}

enum mrd_code sq__session_lookup(struct store *stp, const char *id, size_t len, int64_t idle_usec,
                                 struct store_session *ret, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    unsigned char hash[STORE_TOKEN_HASH_LEN];
    int64_t now = mrd_time_now_usec();
    struct store_session found;
    enum mrd_code rc;
    int src;

    store__token_hash(id, len, hash);
    rc = sq__acquire_read(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__prepare(c,
                     "SELECT " SQ_TOKEN_COLS ", s.created, s.last_seen, s.expires FROM sessions s"
                     " JOIN tokens t ON t.name = s.token JOIN orgs o ON o.key = t.org"
                     " WHERE s.hash = ?1 AND t.revoked IS NULL AND s.expires > ?2"
                     " AND s.last_seen > ?3",
                     &st, err);
    if (rc != MRD_OK)
        goto out;
    (void)sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 2, now);
    (void)sqlite3_bind_int64(st, 3, now - idle_usec);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        memset(&found, 0, sizeof(found));
        sq__token_from_row(st, &found.tok);
        found.created_usec = sqlite3_column_int64(st, 6);
        found.last_seen_usec = sqlite3_column_int64(st, 7);
        found.expires_usec = sqlite3_column_int64(st, 8);
    }
    (void)sqlite3_reset(st);
    if (src == SQLITE_DONE) {
        rc = mrd_err_set(err, MRD_E_AUTH, "session: invalid or expired session");
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = sq__fail(c, src, "session lookup", err);
        goto out;
    }
    sq__release(s, c);
    c = NULL;
    /* A short idle time is kept exact enough by touching more often. */
    if (now - found.last_seen_usec >= touch_every(idle_usec)) {
        rc = touch(s, hash, now, err);
        if (rc != MRD_OK)
            return rc;
        found.last_seen_usec = now;
    }
    *ret = found;
out:
    sq__release(s, c);
    return rc;
}

enum mrd_code sq__session_end(struct store *stp, const char *id, size_t len, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    unsigned char hash[STORE_TOKEN_HASH_LEN];
    enum mrd_code rc;

    store__token_hash(id, len, hash);
    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__prepare(c, "DELETE FROM sessions WHERE hash = ?1", &st, err);
    if (rc == MRD_OK) {
        (void)sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_STATIC);
        rc = sq__step_reset(c, st, "session end", err);
    }
    sq__release(s, c);
    return rc;
}

enum mrd_code sq__sessions_end(struct store *stp, const char *token_name, int64_t org_key,
                               uint64_t *ret_n, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    if (token_name != NULL) {
        rc = sq__prepare(c, "DELETE FROM sessions WHERE token = ?1", &st, err);
        if (rc == MRD_OK)
            (void)sqlite3_bind_text(st, 1, token_name, -1, SQLITE_STATIC);
    } else {
        /* By the tokens' org as well as the org recorded at sign-in. */
        rc = sq__prepare(c,
                         "DELETE FROM sessions WHERE org = ?1 OR token IN"
                         " (SELECT name FROM tokens WHERE org = ?1)",
                         &st, err);
        if (rc == MRD_OK)
            (void)sqlite3_bind_int64(st, 1, org_key);
    }
    if (rc == MRD_OK)
        rc = sq__step_reset(c, st, "session end", err);
    if (rc == MRD_OK && ret_n != NULL)
        *ret_n = (uint64_t)sqlite3_changes(c->db);
    sq__release(s, c);
    return rc;
}
