/*
 * The peer table and each peer's sync state, in DIR/fed.db.
 *
 * A separate SQLite file rather than tables in meridian.db: the store's
 * schema belongs to store/, and federation state is small, private and
 * written by the sync threads only. The file holds peer credentials
 * (tokens the peers issued to us), so it is created 0600 like the node key.
 * Every write commits before returning, so a crash between a page being
 * stored and its cursor being saved re-downloads that page (duplicates are
 * no-ops) and never skips one.
 */
#include "fed/fed_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/str.h"

struct fed_state {
    sqlite3 *db;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS peer ("
    " name TEXT PRIMARY KEY, url TEXT NOT NULL, api_root TEXT NOT NULL,"
    " collection TEXT NOT NULL, local_collection TEXT NOT NULL, token TEXT NOT NULL,"
    " pubkey TEXT NOT NULL, ca_file TEXT NOT NULL, direction INTEGER NOT NULL,"
    " community TEXT NOT NULL, enabled INTEGER NOT NULL,"
    " pull_cursor INTEGER, push_has_cursor INTEGER NOT NULL DEFAULT 0,"
    " push_date_added INTEGER NOT NULL DEFAULT 0, push_seq INTEGER NOT NULL DEFAULT 0,"
    " failures INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL DEFAULT 0,"
    " last_ok INTEGER NOT NULL DEFAULT 0, last_attempt INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '', pulled INTEGER NOT NULL DEFAULT 0,"
    " pushed INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS trusted_key (name TEXT PRIMARY KEY, pubkey TEXT NOT NULL);";

static enum mrd_code db_fail(sqlite3 *db, const char *what, struct mrd_err *err)
{
    int ec = sqlite3_errcode(db);

    if (ec == SQLITE_BUSY || ec == SQLITE_LOCKED)
        return mrd_err_set(err, MRD_E_TIMEOUT, "fed.db: %s: %s", what, sqlite3_errmsg(db));
    if (ec == SQLITE_NOMEM)
        return mrd_err_set(err, MRD_E_NOMEM, "fed.db: %s: out of memory", what);
    return mrd_err_set(err, MRD_E_DB, "fed.db: %s: %s", what, sqlite3_errmsg(db));
}

enum mrd_code fed_state_open(const char *data_dir, struct fed_state **ret, struct mrd_err *err)
{
    char path[PATH_MAX];
    struct fed_state *fs = NULL;
    enum mrd_code rc = MRD_OK;
    int fd;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", data_dir, FED_DB_FILE) >= sizeof(path))
        return mrd_err_set(err, MRD_E_INVAL, "%s: path too long", data_dir);
    /* Create the file ourselves so that its mode is 0600 whatever the
     * umask: it holds the tokens peers gave us. */
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return mrd_err_sys(err, MRD_E_IO, errno, "%s", path);
    (void)fchmod(fd, 0600);
    (void)close(fd);
    fs = mrd_calloc(1, sizeof(*fs));
    if (fs == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "fed state");
    if (sqlite3_open_v2(path, &fs->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        rc = fs->db != NULL ? db_fail(fs->db, "open", err)
                            : mrd_err_set(err, MRD_E_NOMEM, "fed.db: open");
        goto out;
    }
    (void)sqlite3_busy_timeout(fs->db, STORE_BUSY_MS);
    if (sqlite3_exec(fs->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
                     NULL) != SQLITE_OK ||
        sqlite3_exec(fs->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(fs->db, "schema", err);
        goto out;
    }
    /* Columns added later: present in files made since, added to older
     * ones (a "duplicate column" error means it is there already). */
    {
        sqlite3_stmt *probe = NULL;

        if (sqlite3_prepare_v2(fs->db, "SELECT interval_ms FROM peer LIMIT 0", -1, &probe, NULL) !=
            SQLITE_OK)
            (void)sqlite3_exec(fs->db,
                               "ALTER TABLE peer ADD COLUMN interval_ms INTEGER NOT NULL DEFAULT 0",
                               NULL, NULL, NULL);
        sqlite3_finalize(probe);
    }
    *ret = fs;
    fs = NULL;
out:
    fed_state_close(fs);
    return rc;
}

void fed_state_close(struct fed_state *fs)
{
    if (fs == NULL)
        return;
    (void)sqlite3_close_v2(fs->db);
    mrd_free(fs);
}

enum mrd_code fed_state_snapshot(struct fed_state *fs, const char *path, unsigned *ret_peers,
                                 struct mrd_err *err)
{
    sqlite3 *dst = NULL;
    sqlite3_backup *b;
    sqlite3_stmt *st = NULL;
    enum mrd_code rc = MRD_OK;
    int fd, src;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return mrd_err_sys(err, errno == EEXIST ? MRD_E_EXISTS : MRD_E_IO, errno, "%s", path);
    (void)close(fd);
    if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        rc = mrd_err_set(err, MRD_E_IO, "%s: cannot open", path);
        goto out;
    }
    b = sqlite3_backup_init(dst, "main", fs->db, "main");
    if (b == NULL) {
        rc = db_fail(dst, "snapshot", err);
        goto out;
    }
    src = sqlite3_backup_step(b, -1); /* one read transaction: consistent */
    (void)sqlite3_backup_finish(b);
    if (src != SQLITE_DONE) {
        rc = db_fail(fs->db, "snapshot", err);
        goto out;
    }
    if (ret_peers != NULL) {
        *ret_peers = 0;
        if (sqlite3_prepare_v2(dst, "SELECT COUNT(*) FROM peer", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            *ret_peers = (unsigned)sqlite3_column_int(st, 0);
    }
out:
    sqlite3_finalize(st);
    if (dst != NULL)
        (void)sqlite3_close(dst);
    if (rc != MRD_OK)
        (void)unlink(path);
    return rc;
}

enum mrd_code fed_direction_parse(const char *s, enum fed_direction *ret, struct mrd_err *err)
{
    if (strcmp(s, "pull") == 0)
        *ret = FED_DIR_PULL;
    else if (strcmp(s, "push") == 0)
        *ret = FED_DIR_PUSH;
    else if (strcmp(s, "both") == 0)
        *ret = FED_DIR_BOTH;
    else
        return mrd_err_set(err, MRD_E_INVAL, "direction '%s': expected pull, push or both", s);
    return MRD_OK;
}

const char *fed_direction_name(enum fed_direction d)
{
    switch (d) {
    case FED_DIR_PULL:
        return "pull";
    case FED_DIR_PUSH:
        return "push";
    case FED_DIR_BOTH:
        return "both";
    }
    return "unknown";
}

int64_t fed_backoff_usec(unsigned failures, double r)
{
    double s;

    if (failures == 0)
        return 0;
    if (r < 0.0)
        r = 0.0;
    if (r > 1.0)
        r = 1.0;
    /* 2^(failures-1) overflows nothing: the exponent is capped well below
     * the point where the product passes the maximum. */
    s = (double)FED_BACKOFF_BASE_S * ldexp(1.0, (int)(failures > 20 ? 20 : failures - 1));
    if (s > (double)FED_BACKOFF_MAX_S)
        s = (double)FED_BACKOFF_MAX_S;
    s *= 0.5 + 0.5 * r;
    return (int64_t)(s * 1e6);
}

static bool url_ok(const char *u)
{
    size_t n = strlen(u);

    return (mrd_str_has_prefix(u, n, "http://") && n > 7) ||
           (mrd_str_has_prefix(u, n, "https://") && n > 8);
}

static enum mrd_code check_peer(const struct fed_peer *p, struct mrd_err *err)
{
    size_t n = strlen(p->name);
    uint8_t pk[CRYPTO_PUBKEY_LEN];
    struct mrd_err perr = {0};

    if (n == 0 || n > FED_PEER_NAME_MAX || p->name[0] == '.')
        return mrd_err_set(err, MRD_E_INVAL, "peer name '%s': 1..%d characters of [A-Za-z0-9._-]",
                           p->name, FED_PEER_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = p->name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return mrd_err_set(err, MRD_E_INVAL, "peer name '%s': character %zu is not allowed",
                               p->name, i);
    }
    if (!url_ok(p->url))
        return mrd_err_set(err, MRD_E_INVAL, "--url '%s': expected http:// or https://", p->url);
    if (p->api_root[0] == '\0' || p->collection[0] == '\0' || p->local_collection[0] == '\0')
        return mrd_err_set(err, MRD_E_INVAL,
                           "--api-root, --collection and --local-collection are required");
    if (p->token[0] == '\0')
        return mrd_err_set(err, MRD_E_INVAL, "--token is required");
    for (const char *s = p->token; *s != '\0'; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            return mrd_err_set(err, MRD_E_INVAL, "--token: only printable ASCII is allowed");
    if (p->direction < FED_DIR_PULL || p->direction > FED_DIR_BOTH)
        return mrd_err_set(err, MRD_E_INVAL, "bad direction");
    if (p->community[0] == '\0')
        return mrd_err_set(err, MRD_E_INVAL, "--community is required");
    if (p->pubkey[0] != '\0' &&
        crypto_pubkey_parse(p->pubkey, strlen(p->pubkey), pk, &perr) != MRD_OK)
        return mrd_err_set(err, MRD_E_INVAL,
                           "--pubkey '%.60s': %s (expected what 'meridian key show' prints)",
                           p->pubkey, perr.msg);
    return MRD_OK;
}

/* The configuration columns as parameters ?1..?12 (add and update). */
static void bind_peer(sqlite3_stmt *st, const struct fed_peer *p)
{
    sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, p->api_root, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, p->collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, p->local_collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, p->token, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, p->pubkey, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, p->ca_file, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, (int)p->direction);
    sqlite3_bind_text(st, 10, p->community, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 11, p->enabled ? 1 : 0);
    sqlite3_bind_int64(st, 12, (int64_t)p->interval_ms);
}

enum mrd_code fed_peer_add(struct fed_state *fs, const struct fed_peer *p, struct mrd_err *err)
{
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;
    int src;

    rc = check_peer(p, err);
    if (rc != MRD_OK)
        return rc;
    if (sqlite3_prepare_v2(fs->db,
                           "INSERT INTO peer(name,url,api_root,collection,local_collection,token,"
                           "pubkey,ca_file,direction,community,enabled,interval_ms) "
                           "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(fs->db, "add peer", err);
    bind_peer(st, p);
    src = sqlite3_step(st);
    if (src == SQLITE_CONSTRAINT)
        rc = mrd_err_set(err, MRD_E_EXISTS, "peer '%s' already exists", p->name);
    else if (src != SQLITE_DONE)
        rc = db_fail(fs->db, "add peer", err);
    sqlite3_finalize(st);
    return rc;
}

enum mrd_code fed_peer_update(struct fed_state *fs, const struct fed_peer *p, struct mrd_err *err)
{
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;

    rc = check_peer(p, err);
    if (rc != MRD_OK)
        return rc;
    /* The configuration only: cursors and counters stay as they are. */
    if (sqlite3_prepare_v2(
            fs->db,
            "UPDATE peer SET url=?2, api_root=?3, collection=?4, local_collection=?5,"
            " token=?6, pubkey=?7, ca_file=?8, direction=?9, community=?10,"
            " enabled=?11, interval_ms=?12, next_attempt=0 WHERE name=?1",
            -1, &st, NULL) != SQLITE_OK)
        return db_fail(fs->db, "update peer", err);
    bind_peer(st, p);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(fs->db, "update peer", err);
    else if (sqlite3_changes(fs->db) == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no peer named '%s'", p->name);
    sqlite3_finalize(st);
    return rc;
}

/* Runs a one-row UPDATE/DELETE keyed by name; NOTFOUND when no row. */
static enum mrd_code exec_named(struct fed_state *fs, const char *sql, const char *name, int arg,
                                struct mrd_err *err)
{
    sqlite3_stmt *st = NULL;
    enum mrd_code rc = MRD_OK;

    if (sqlite3_prepare_v2(fs->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(fs->db, "update peer", err);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, arg);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(fs->db, "update peer", err);
    else if (sqlite3_changes(fs->db) == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no peer named '%s'", name);
    sqlite3_finalize(st);
    return rc;
}

enum mrd_code fed_peer_remove(struct fed_state *fs, const char *name, struct mrd_err *err)
{
    return exec_named(fs, "DELETE FROM peer WHERE name=?1 AND ?2=?2", name, 0, err);
}

enum mrd_code fed_peer_set_enabled(struct fed_state *fs, const char *name, bool enabled,
                                   struct mrd_err *err)
{
    /* Re-enabling clears the back-off: the operator wants it tried now. */
    return exec_named(fs,
                      "UPDATE peer SET enabled=?2, failures=CASE WHEN ?2 THEN 0 ELSE failures END,"
                      " next_attempt=0 WHERE name=?1",
                      name, enabled ? 1 : 0, err);
}

#define PEER_COLS                                                                                  \
    "name,url,api_root,collection,local_collection,token,pubkey,ca_file,direction,community,"      \
    "enabled,pull_cursor,push_has_cursor,push_date_added,push_seq,failures,next_attempt,last_ok,"  \
    "last_attempt,last_error,pulled,pushed,rejected,interval_ms"

static void copy_col(sqlite3_stmt *st, int col, char *dst, size_t size)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    mrd_strlcpy(dst, s != NULL ? (const char *)s : "", size);
}

static void read_row(sqlite3_stmt *st, struct fed_peer *p, struct fed_peer_state *s)
{
    memset(p, 0, sizeof(*p));
    memset(s, 0, sizeof(*s));
    copy_col(st, 0, p->name, sizeof(p->name));
    copy_col(st, 1, p->url, sizeof(p->url));
    copy_col(st, 2, p->api_root, sizeof(p->api_root));
    copy_col(st, 3, p->collection, sizeof(p->collection));
    copy_col(st, 4, p->local_collection, sizeof(p->local_collection));
    copy_col(st, 5, p->token, sizeof(p->token));
    copy_col(st, 6, p->pubkey, sizeof(p->pubkey));
    copy_col(st, 7, p->ca_file, sizeof(p->ca_file));
    p->direction = (enum fed_direction)sqlite3_column_int(st, 8);
    copy_col(st, 9, p->community, sizeof(p->community));
    p->enabled = sqlite3_column_int(st, 10) != 0;
    s->pull_cursor =
        sqlite3_column_type(st, 11) == SQLITE_NULL ? STORE_TIME_NONE : sqlite3_column_int64(st, 11);
    s->push_has_cursor = sqlite3_column_int(st, 12) != 0;
    s->push_date_added = sqlite3_column_int64(st, 13);
    s->push_seq = sqlite3_column_int64(st, 14);
    s->failures = (unsigned)sqlite3_column_int(st, 15);
    s->next_attempt_usec = sqlite3_column_int64(st, 16);
    s->last_ok_usec = sqlite3_column_int64(st, 17);
    s->last_attempt_usec = sqlite3_column_int64(st, 18);
    copy_col(st, 19, s->last_error, sizeof(s->last_error));
    s->pulled = (uint64_t)sqlite3_column_int64(st, 20);
    s->pushed = (uint64_t)sqlite3_column_int64(st, 21);
    s->rejected = (uint64_t)sqlite3_column_int64(st, 22);
    p->interval_ms = (unsigned)sqlite3_column_int64(st, 23);
}

enum mrd_code fed_peer_get(struct fed_state *fs, const char *name, struct fed_peer *ret,
                           struct fed_peer_state *ret_state, struct mrd_err *err)
{
    sqlite3_stmt *st = NULL;
    struct fed_peer p;
    struct fed_peer_state s;
    enum mrd_code rc = MRD_OK;
    int src;

    if (sqlite3_prepare_v2(fs->db, "SELECT " PEER_COLS " FROM peer WHERE name=?", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(fs->db, "get peer", err);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        read_row(st, &p, &s);
        *ret = p;
        if (ret_state != NULL)
            *ret_state = s;
    } else if (src == SQLITE_DONE) {
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no peer named '%s'", name);
    } else {
        rc = db_fail(fs->db, "get peer", err);
    }
    sqlite3_finalize(st);
    return rc;
}

enum mrd_code fed_peer_list(struct fed_state *fs,
                            enum mrd_code (*cb)(void *ctx, const struct fed_peer *p,
                                                const struct fed_peer_state *s),
                            void *ctx, struct mrd_err *err)
{
    sqlite3_stmt *st = NULL;
    struct fed_peer p;
    struct fed_peer_state s;
    enum mrd_code rc = MRD_OK;
    int src;

    if (sqlite3_prepare_v2(fs->db, "SELECT " PEER_COLS " FROM peer ORDER BY name", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(fs->db, "list peers", err);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        read_row(st, &p, &s);
        rc = cb(ctx, &p, &s);
        if (rc != MRD_OK)
            break;
    }
    if (rc == MRD_OK && src != SQLITE_DONE)
        rc = db_fail(fs->db, "list peers", err);
    sqlite3_finalize(st);
    return rc;
}

enum mrd_code fed_peer_state_put(struct fed_state *fs, const char *name,
                                 const struct fed_peer_state *s, struct mrd_err *err)
{
    sqlite3_stmt *st = NULL;
    enum mrd_code rc = MRD_OK;

    if (sqlite3_prepare_v2(fs->db,
                           "UPDATE peer SET pull_cursor=?2, push_has_cursor=?3, push_date_added=?4,"
                           " push_seq=?5, failures=?6, next_attempt=?7, last_ok=?8,"
                           " last_attempt=?9, last_error=?10, pulled=?11, pushed=?12, rejected=?13"
                           " WHERE name=?1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(fs->db, "save peer state", err);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (s->pull_cursor == STORE_TIME_NONE)
        sqlite3_bind_null(st, 2);
    else
        sqlite3_bind_int64(st, 2, s->pull_cursor);
    sqlite3_bind_int(st, 3, s->push_has_cursor ? 1 : 0);
    sqlite3_bind_int64(st, 4, s->push_date_added);
    sqlite3_bind_int64(st, 5, s->push_seq);
    sqlite3_bind_int(st, 6, (int)s->failures);
    sqlite3_bind_int64(st, 7, s->next_attempt_usec);
    sqlite3_bind_int64(st, 8, s->last_ok_usec);
    sqlite3_bind_int64(st, 9, s->last_attempt_usec);
    sqlite3_bind_text(st, 10, s->last_error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, (int64_t)s->pulled);
    sqlite3_bind_int64(st, 12, (int64_t)s->pushed);
    sqlite3_bind_int64(st, 13, (int64_t)s->rejected);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(fs->db, "save peer state", err);
    else if (sqlite3_changes(fs->db) == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "peer '%s' was removed", name);
    sqlite3_finalize(st);
    return rc;
}

enum mrd_code fed_key_trust(struct fed_state *fs, const char *name, const char *pubkey,
                            struct mrd_err *err)
{
    struct fed_peer probe;
    struct mrd_err perr = {0};
    uint8_t pk[CRYPTO_PUBKEY_LEN];
    sqlite3_stmt *st = NULL;
    enum mrd_code rc = MRD_OK;

    /* The same name rules as peers: the name shows in verification reports. */
    memset(&probe, 0, sizeof(probe));
    if (strlen(name) > FED_PEER_NAME_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "key name '%.64s...': too long", name);
    mrd_strlcpy(probe.name, name, sizeof(probe.name));
    mrd_strlcpy(probe.url, "http://x", sizeof(probe.url));
    mrd_strlcpy(probe.api_root, "x", sizeof(probe.api_root));
    mrd_strlcpy(probe.collection, "x", sizeof(probe.collection));
    mrd_strlcpy(probe.local_collection, "x", sizeof(probe.local_collection));
    mrd_strlcpy(probe.token, "x", sizeof(probe.token));
    mrd_strlcpy(probe.community, "x", sizeof(probe.community));
    probe.direction = FED_DIR_PULL;
    rc = check_peer(&probe, err);
    if (rc != MRD_OK)
        return rc;
    if (crypto_pubkey_parse(pubkey, strlen(pubkey), pk, &perr) != MRD_OK)
        return mrd_err_set(err, MRD_E_INVAL, "key '%.60s': %s", pubkey, perr.msg);
    if (sqlite3_prepare_v2(fs->db, "INSERT OR REPLACE INTO trusted_key(name,pubkey) VALUES(?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(fs->db, "trust key", err);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pubkey, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(fs->db, "trust key", err);
    sqlite3_finalize(st);
    return rc;
}

enum mrd_code fed_key_untrust(struct fed_state *fs, const char *name, struct mrd_err *err)
{
    sqlite3_stmt *st = NULL;
    enum mrd_code rc = MRD_OK;

    if (sqlite3_prepare_v2(fs->db, "DELETE FROM trusted_key WHERE name=?", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(fs->db, "untrust key", err);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(fs->db, "untrust key", err);
    else if (sqlite3_changes(fs->db) == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no trusted key named '%s'", name);
    sqlite3_finalize(st);
    return rc;
}

enum mrd_code fed_key_list(struct fed_state *fs,
                           enum mrd_code (*cb)(void *ctx, const char *name, const char *pubkey),
                           void *ctx, struct mrd_err *err)
{
    sqlite3_stmt *st = NULL;
    enum mrd_code rc = MRD_OK;
    int src;

    if (sqlite3_prepare_v2(fs->db, "SELECT name, pubkey FROM trusted_key ORDER BY name", -1, &st,
                           NULL) != SQLITE_OK)
        return db_fail(fs->db, "list keys", err);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        rc = cb(ctx, (const char *)sqlite3_column_text(st, 0),
                (const char *)sqlite3_column_text(st, 1));
        if (rc != MRD_OK)
            break;
    }
    if (rc == MRD_OK && src != SQLITE_DONE)
        rc = db_fail(fs->db, "list keys", err);
    sqlite3_finalize(st);
    return rc;
}
