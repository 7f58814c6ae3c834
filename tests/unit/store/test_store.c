/* store: the backends through the public store.h interface: SQLite on a
 * real database file in a temporary directory; with MRD_TEST_PG_DSN set
 * (tests/unit/store/with_pg.py starts a throwaway PostgreSQL and sets it),
 * the tests that are not about SQLite's files run on that database, its
 * schema emptied before each test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../testdir.h"
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/timestamp.h"
#include "store/store.h"

#include "pgtest.h"

struct fx {
    char dir[TEST_DIR_MAX];
    struct store *st;
    struct store_org own, partner;
    struct store_collection coll;
};

static void rm_rf(const char *dir)
{
    test_dir_remove(dir);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct store_open_opts opts = {.create = true, .max_conn = 4};
    struct store_api_root root = {
        .name = "europe", .title = "Europe", .max_content_length = STORE_DEFAULT_MAX_CONTENT};
    struct mrd_err err = {0};

    assert_non_null(f);
    test_dir_make(f->dir, "mrd-store");
    assert_int_equal(store_open(store_where(f->dir), &opts, &f->st, &err), MRD_OK);
    assert_int_equal(store_org_create(f->st, "cert-a", POLICY_REL_OWN, &f->own, &err), MRD_OK);
    assert_int_equal(store_org_create(f->st, "cert-b", POLICY_REL_PARTNER, &f->partner, &err),
                     MRD_OK);
    assert_int_equal(store_api_root_put(f->st, &root, NULL, &err), MRD_OK);
    (void)snprintf(f->coll.api_root, sizeof(f->coll.api_root), "europe");
    (void)snprintf(f->coll.title, sizeof(f->coll.title), "Indicators");
    f->coll.default_tlp = POLICY_TLP_GREEN;
    assert_int_equal(store_collection_create(f->st, &f->coll, &err), MRD_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    store_close(f->st);
    rm_rf(f->dir);
    free(f);
    return 0;
}

/* An object version with a synthetic body naming id and version. */
struct obj {
    char id[80];
    char body[256];
    struct store_object_in in;
};

static void make_obj(struct obj *o, const char *type, int n, int64_t modified, enum policy_tlp tlp)
{
    memset(o, 0, sizeof(*o));
    (void)snprintf(o->id, sizeof(o->id), "%s--00000000-0000-4000-8000-%012d", type, n);
    (void)snprintf(o->body, sizeof(o->body), "{\"id\":\"%s\",\"modified\":%lld,\"type\":\"%s\"}",
                   o->id, (long long)modified, type);
    o->in.id = o->id;
    o->in.id_len = strlen(o->id);
    o->in.type = type;
    o->in.type_len = strlen(type);
    o->in.spec_version = "2.1";
    o->in.spec_version_len = 3;
    o->in.created_usec = 1000000;
    o->in.modified_usec = modified;
    o->in.tlp = tlp;
    o->in.local = true;
    o->in.creator_org = 1;
    o->in.body = o->body;
    o->in.body_len = strlen(o->body);
}

static void insert(struct fx *f, struct obj *o, enum store_insert_outcome want, int64_t *ret_date)
{
    enum store_insert_outcome out;
    int64_t date;
    struct mrd_err err = {0};

    assert_int_equal(store_objects_insert(f->st, f->coll.key, &o->in, 1, &out, &date, &err),
                     MRD_OK);
    assert_int_equal(out, want);
    if (ret_date != NULL)
        *ret_date = date;
}

/* Collects emitted rows. */
struct sink {
    size_t n;
    char ids[64][80];
    int64_t versions[64];
    int64_t dates[64];
    int64_t seqs[64];
    char bodies[64][256];
    int64_t hide_version; /* rows with this version are invisible */
    int64_t hide_org;     /* and rows written by this org (0: none) */
    bool hide_red;        /* and RED rows */
};

/* Hiding by version is not a policy decision: the store assumes visible()
 * depends on the policy columns (and source_peer) only when it skips an
 * older version whose policy equals the newest's; tests of "last among
 * visible" therefore hide by TLP (hide_red) or by writer. */
static bool vis(void *ctx, const struct store_row *row)
{
    struct sink *s = ctx;
    return row->version_usec != s->hide_version &&
           (s->hide_org == 0 || row->policy.creator_org != s->hide_org) &&
           !(s->hide_red && row->policy.tlp == POLICY_TLP_RED);
}

static bool hide_all(void *ctx, const struct store_row *row)
{
    (void)ctx;
    (void)row;
    return false;
}

static enum mrd_code emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct sink *s = ctx;

    (void)err;
    assert_true(s->n < 64);
    (void)snprintf(s->ids[s->n], sizeof(s->ids[0]), "%.*s", (int)row->id_len, row->id);
    s->versions[s->n] = row->version_usec;
    s->dates[s->n] = row->date_added;
    s->seqs[s->n] = row->seq;
    if (row->body != NULL)
        (void)snprintf(s->bodies[s->n], sizeof(s->bodies[0]), "%.*s", (int)row->body_len,
                       row->body);
    s->n++;
    return MRD_OK;
}

static struct store_query_result query(struct fx *f, struct store_query *q, struct sink *s)
{
    struct store_query_result res;
    struct mrd_err err = {0};

    s->n = 0;
    q->collection = f->coll.key;
    assert_int_equal(store_objects_query(f->st, q, vis, emit, s, &res, &err), MRD_OK);
    assert_int_equal(res.delivered, s->n);
    return res;
}

/* ---- opening ---- */

static void test_open_errors(void **state)
{
    struct store *st = NULL;
    struct mrd_err err = {0};
    char dir[TEST_DIR_MAX];

    (void)state;
    assert_int_equal(store_open("/nonexistent/meridian", NULL, &st, &err), MRD_E_NOTFOUND);
    assert_null(st);
    test_dir_make(dir, "mrd-store-empty");
    mrd_err_clear(&err);
    assert_int_equal(store_open(dir, NULL, &st, &err), MRD_E_NOTFOUND);
    assert_non_null(strstr(err.msg, "meridian init"));
    mrd_err_clear(&err);
    /* a server that is not there: "cannot connect to PostgreSQL" (with
     * libpq) or "no PostgreSQL backend" (without): never a SQLite fallback */
    assert_int_not_equal(
        store_open("postgresql:///meridian?host=/nonexistent-mrd", NULL, &st, &err), MRD_OK);
    assert_non_null(strstr(err.msg, "PostgreSQL"));
    assert_null(st);
    rm_rf(dir);
}

static void test_schema_version_and_wal(void **state)
{
    struct fx *f = *state;
    char path[128];
    sqlite3 *db;
    sqlite3_stmt *st;
    struct store *again = NULL;
    struct mrd_err err = {0};

    (void)snprintf(path, sizeof(path), "%s/%s", f->dir, STORE_SQLITE_FILE);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), store_schema_version());
    (void)sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    (void)sqlite3_finalize(st);
    /* A database from the future is refused, not damaged. */
    assert_int_equal(sqlite3_exec(db, "UPDATE schema_version SET version = 999", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(store_open(f->dir, NULL, &again, &err), MRD_E_UNSUPP);
    assert_non_null(strstr(err.msg, "999"));
    {
        char sql[64];
        (void)snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d",
                       store_schema_version());
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    (void)sqlite3_close(db);
    /* Reopening a current database works and keeps the data. */
    mrd_err_clear(&err);
    assert_int_equal(store_open(f->dir, NULL, &again, &err), MRD_OK);
    {
        struct store_org o;
        assert_int_equal(store_org_get(again, "cert-a", 0, &o, &err), MRD_OK);
        assert_int_equal(o.relation, POLICY_REL_OWN);
    }
    store_close(again);
}

/* ---- orgs, tokens ---- */

static enum mrd_code count_org(void *ctx, const struct store_org *o)
{
    (void)o;
    (*(int *)ctx)++;
    return MRD_OK;
}

static enum mrd_code count_event(void *ctx, const struct store_event_row *ev, struct mrd_err *err)
{
    (void)ev;
    (void)err;
    (*(int *)ctx)++;
    return MRD_OK;
}

static int events_in(struct store *st)
{
    int n = 0;

    assert_int_equal(store_ledger_events(st, STORE_TIME_NONE, count_event, &n, NULL), MRD_OK);
    return n;
}

/* store_write_begin: a change and its ledger event (an audit record)
 * commit together or not at all, and nobody sees either before. */
static void test_write_transaction(void **state)
{
    struct fx *f = *state;
    struct store *other = NULL;
    struct store_org o;
    struct store_ledger_event ev = {
        .kind = 6, .time_usec = 1, .record = "{\"a\":1}", .record_len = 7};
    struct mrd_err err = {0};

    assert_int_equal(store_open(pg_dsn != NULL ? pg_dsn : f->dir, NULL, &other, &err), MRD_OK);
    assert_int_equal(store_write_end(f->st, true, NULL), MRD_E_INVAL);
    assert_int_equal(store_write_end(f->st, false, NULL), MRD_OK);

    /* rolled back: neither the org nor its event */
    assert_int_equal(store_write_begin(f->st, &err), MRD_OK);
    assert_int_equal(store_write_begin(f->st, NULL), MRD_E_INVAL);
    assert_int_equal(store_org_create(f->st, "cert-x", POLICY_REL_PARTNER, &o, &err), MRD_OK);
    assert_int_equal(store_event_add(f->st, &ev, NULL, &err), MRD_OK);
    assert_int_equal(store_org_get(f->st, "cert-x", 0, &o, NULL), MRD_OK); /* seen inside */
    assert_int_equal(events_in(f->st), 1);
    assert_int_equal(store_org_get(other, "cert-x", 0, &o, NULL), MRD_E_NOTFOUND);
    assert_int_equal(events_in(other), 0);
    assert_int_equal(store_write_end(f->st, false, &err), MRD_OK);
    assert_int_equal(store_org_get(f->st, "cert-x", 0, &o, NULL), MRD_E_NOTFOUND);
    assert_int_equal(events_in(f->st), 0);

    /* a call failing inside undoes only itself; the commit makes both
     * visible at once */
    assert_int_equal(store_write_begin(f->st, &err), MRD_OK);
    assert_int_equal(store_org_create(f->st, "cert-x", POLICY_REL_PARTNER, &o, &err), MRD_OK);
    assert_int_equal(store_org_create(f->st, "cert-a", POLICY_REL_PARTNER, NULL, NULL),
                     MRD_E_EXISTS);
    assert_int_equal(store_org_disable(f->st, "nobody", NULL, NULL), MRD_E_NOTFOUND);
    assert_int_equal(store_event_add(f->st, &ev, NULL, &err), MRD_OK);
    assert_int_equal(store_org_get(other, "cert-x", 0, &o, NULL), MRD_E_NOTFOUND);
    assert_int_equal(store_write_end(f->st, true, &err), MRD_OK);
    assert_int_equal(store_org_get(other, "cert-x", 0, &o, NULL), MRD_OK);
    assert_int_equal(events_in(other), 1);
    /* and the store works as before afterwards */
    assert_int_equal(store_org_create(f->st, "cert-y", POLICY_REL_PARTNER, NULL, &err), MRD_OK);
    assert_int_equal(store_event_add(f->st, &ev, NULL, &err), MRD_OK);
    assert_int_equal(events_in(other), 2);
    store_close(other);
}

/* store_snapshot writes the copy straight into a file at an offset (a
 * backup archive's member), leaving the bytes before it alone: the region
 * is a database that opens, holds what the store held, and is exactly
 * ret->bytes long. */
static void test_snapshot_into_a_region(void **state)
{
    struct fx *f = *state;
    struct store_snapshot_info si;
    struct store *copy = NULL;
    struct store_org o;
    struct mrd_err err = {0};
    char path[TEST_DIR_MAX + 32], dir[TEST_DIR_MAX], db[TEST_DIR_MAX + 32];
    uint8_t head[512], buf[4096];
    struct stat sb;
    uint64_t done = 0;
    int fd, out;

    (void)snprintf(path, sizeof(path), "%s/archive", f->dir);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    memset(head, 'X', sizeof(head));
    assert_int_equal(write(fd, head, sizeof(head)), (ssize_t)sizeof(head));
    assert_int_equal(store_snapshot(f->st, fd, sizeof(head), NULL, &si, &err), MRD_OK);
    assert_int_equal(fstat(fd, &sb), 0);
    assert_true(si.bytes > 0 && si.bytes % 512 == 0);
    assert_int_equal((uint64_t)sb.st_size, sizeof(head) + si.bytes);
    assert_int_equal(pread(fd, buf, sizeof(head), 0), (ssize_t)sizeof(head));
    assert_memory_equal(buf, head, sizeof(head));
    assert_int_equal(pread(fd, buf, 16, sizeof(head)), 16);
    assert_memory_equal(buf, "SQLite format 3", 16);
    assert_int_equal(si.schema_version, store_schema_version());
    assert_int_equal(si.max_leaf, -1);

    /* the region, cut out, is the database */
    test_dir_make(dir, "mrd-snap");
    (void)snprintf(db, sizeof(db), "%s/meridian.db", dir);
    out = open(db, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(out >= 0);
    while (done < si.bytes) {
        ssize_t k = pread(fd, buf, sizeof(buf), (off_t)(sizeof(head) + done));

        assert_true(k > 0);
        assert_int_equal(write(out, buf, (size_t)k), k);
        done += (uint64_t)k;
    }
    (void)close(out);
    (void)close(fd);
    assert_int_equal(store_open(dir, NULL, &copy, &err), MRD_OK);
    assert_int_equal(store_org_get(copy, "cert-b", 0, &o, &err), MRD_OK);
    assert_int_equal(o.key, f->partner.key);
    store_close(copy);
    rm_rf(dir);
}

static void test_orgs(void **state)
{
    struct fx *f = *state;
    struct store_org o;
    struct mrd_err err = {0};
    int n = 0;

    assert_int_equal(store_org_create(f->st, "cert-a", POLICY_REL_PARTNER, NULL, &err),
                     MRD_E_EXISTS);
    assert_non_null(strstr(err.msg, "cert-a"));
    assert_int_equal(store_org_create(f->st, "bad name", POLICY_REL_PARTNER, NULL, NULL),
                     MRD_E_INVAL);
    assert_int_equal(store_org_create(f->st, "", POLICY_REL_PARTNER, NULL, NULL), MRD_E_INVAL);
    assert_int_equal(store_org_get(f->st, NULL, f->partner.key, &o, NULL), MRD_OK);
    assert_string_equal(o.name, "cert-b");
    assert_int_equal(o.relation, POLICY_REL_PARTNER);
    assert_int_equal(store_org_get(f->st, "nobody", 0, &o, NULL), MRD_E_NOTFOUND);
    assert_int_equal(store_org_list(f->st, count_org, &n, NULL), MRD_OK);
    assert_int_equal(n, 2);
}

/* Reads the database file and its WAL into one buffer. */
static size_t slurp_db(const char *dir, char *buf, size_t max)
{
    const char *names[] = {STORE_SQLITE_FILE, STORE_SQLITE_FILE "-wal"};
    size_t n = 0;

    for (size_t i = 0; i < 2; i++) {
        char path[128];
        FILE *fp;
        (void)snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        fp = fopen(path, "rb");
        if (fp == NULL)
            continue;
        n += fread(buf + n, 1, max - n, fp);
        (void)fclose(fp);
    }
    return n;
}

static bool contains(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);

    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return true;
    return false;
}

static void test_tokens(void **state)
{
    struct fx *f = *state;
    char secret[STORE_TOKEN_LEN + 1], secret2[STORE_TOKEN_LEN + 1];
    struct store_token t, found;
    struct mrd_err err = {0};
    static char db[4 * 1024 * 1024];
    size_t n;

    assert_int_equal(store_token_create(f->st, f->partner.key, NULL, secret, &t, &err), MRD_OK);
    assert_int_equal(strlen(secret), STORE_TOKEN_LEN);
    assert_memory_equal(secret, "mrd_", 4);
    assert_int_equal(strlen(t.name), STORE_TOKEN_PREFIX_LEN);
    assert_memory_equal(t.name, secret, STORE_TOKEN_PREFIX_LEN);
    assert_int_equal(store_token_create(f->st, f->own.key, "admin", secret2, NULL, &err), MRD_OK);
    assert_string_not_equal(secret, secret2);

    /* The secret is never stored: neither whole nor its secret part. */
    n = slurp_db(f->dir, db, sizeof(db));
    assert_true(n > 0);
    assert_false(contains(db, n, secret));
    assert_false(contains(db, n, secret + STORE_TOKEN_PREFIX_LEN));
    assert_false(contains(db, n, secret2 + STORE_TOKEN_PREFIX_LEN));

    assert_int_equal(store_token_lookup(f->st, secret, strlen(secret), &found, &err), MRD_OK);
    assert_string_equal(found.org_name, "cert-b");
    assert_int_equal(found.org_key, f->partner.key);
    assert_int_equal(found.org_relation, POLICY_REL_PARTNER);
    assert_string_equal(found.name, t.name);
    /* a token differing in one character, a short or empty one: refused */
    secret[20] = secret[20] == 'A' ? 'B' : 'A';
    assert_int_equal(store_token_lookup(f->st, secret, strlen(secret), &found, NULL), MRD_E_AUTH);
    assert_int_equal(store_token_lookup(f->st, secret, 10, &found, NULL), MRD_E_AUTH);
    assert_int_equal(store_token_lookup(f->st, "", 0, &found, NULL), MRD_E_AUTH);

    /* revoke by name; lookups fail afterwards; revoking again is fine */
    assert_int_equal(store_token_lookup(f->st, secret2, STORE_TOKEN_LEN, &found, NULL), MRD_OK);
    assert_int_equal(store_token_revoke(f->st, "admin", &found, &err), MRD_OK);
    assert_true(found.revoked_usec != STORE_TIME_NONE);
    assert_int_equal(store_token_lookup(f->st, secret2, STORE_TOKEN_LEN, &found, NULL), MRD_E_AUTH);
    assert_int_equal(store_token_revoke(f->st, "admin", NULL, NULL), MRD_OK);
    /* revoke by prefix; "mrd_" alone is ambiguous */
    assert_int_equal(store_token_create(f->st, f->own.key, "third", secret2, NULL, &err), MRD_OK);
    assert_int_equal(store_token_revoke(f->st, "mrd_", NULL, &err), MRD_E_CONFLICT);
    assert_int_equal(store_token_revoke(f->st, "nothing-like-it", NULL, NULL), MRD_E_NOTFOUND);
    {
        char prefix[STORE_TOKEN_PREFIX_LEN + 1];
        memcpy(prefix, secret2, STORE_TOKEN_PREFIX_LEN);
        prefix[STORE_TOKEN_PREFIX_LEN] = '\0';
        assert_int_equal(store_token_revoke(f->st, prefix, &found, &err), MRD_OK);
        assert_string_equal(found.name, "third");
    }
    assert_int_equal(store_token_lookup(f->st, secret2, STORE_TOKEN_LEN, &found, NULL), MRD_E_AUTH);
    /* revoke by the whole secret (a leaked token) */
    assert_int_equal(store_token_create(f->st, f->own.key, "fourth", secret2, NULL, &err), MRD_OK);
    assert_int_equal(store_token_revoke(f->st, secret2, &found, &err), MRD_OK);
    assert_string_equal(found.name, "fourth");
    assert_int_equal(store_token_lookup(f->st, secret2, STORE_TOKEN_LEN, &found, NULL), MRD_E_AUTH);
}

/* ---- API roots, collections, grants, meta ---- */

static enum mrd_code count_grant(void *ctx, const struct store_grant_row *g)
{
    assert_true(g->grant.can_read || g->grant.can_write);
    assert_int_equal(strlen(g->collection_id), STORE_UUID_LEN);
    assert_true(g->org_name[0] != '\0');
    (*(int *)ctx)++;
    return MRD_OK;
}

static void test_collections(void **state)
{
    struct fx *f = *state;
    struct store_api_root root = {.name = "europe", .title = "Other", .max_content_length = 5};
    struct store_api_root got;
    struct store_collection c = {0}, g;
    struct store_grant gr;
    struct mrd_err err = {0};
    bool created = true;

    /* put leaves an existing root untouched */
    assert_int_equal(store_api_root_put(f->st, &root, &created, &err), MRD_OK);
    assert_false(created);
    assert_int_equal(store_api_root_get(f->st, "europe", 6, &got, &err), MRD_OK);
    assert_string_equal(got.title, "Europe");
    assert_int_equal(got.max_content_length, STORE_DEFAULT_MAX_CONTENT);
    (void)snprintf(root.name, sizeof(root.name), "taxii2");
    assert_int_equal(store_api_root_put(f->st, &root, NULL, NULL), MRD_E_INVAL);
    (void)snprintf(root.name, sizeof(root.name), "a/b");
    assert_int_equal(store_api_root_put(f->st, &root, NULL, NULL), MRD_E_INVAL);
    assert_int_equal(store_api_root_get(f->st, "asia", 4, &got, NULL), MRD_E_NOTFOUND);

    /* collection ids are uuid v4 */
    assert_int_equal(strlen(f->coll.id), 36);
    assert_int_equal(f->coll.id[14], '4');
    assert_true(strchr("89ab", f->coll.id[19]) != NULL);
    (void)snprintf(c.api_root, sizeof(c.api_root), "europe");
    (void)snprintf(c.title, sizeof(c.title), "Reports");
    (void)snprintf(c.alias, sizeof(c.alias), "reports");
    c.default_tlp = POLICY_TLP_AMBER;
    c.public_read = true;
    assert_int_equal(store_collection_create(f->st, &c, &err), MRD_OK);
    assert_string_not_equal(c.id, f->coll.id);
    assert_int_equal(store_collection_get(f->st, "europe", 6, "reports", 7, &g, &err), MRD_OK);
    assert_string_equal(g.id, c.id);
    assert_int_equal(g.default_tlp, POLICY_TLP_AMBER);
    assert_true(g.public_read);
    assert_int_equal(store_collection_get(f->st, NULL, 0, c.id, 36, &g, &err), MRD_OK);
    assert_int_equal(g.key, c.key);
    /* alias is per root; an unknown root refuses the collection */
    assert_int_equal(store_collection_create(f->st, &c, &err), MRD_E_EXISTS);
    (void)snprintf(c.api_root, sizeof(c.api_root), "asia");
    assert_int_equal(store_collection_create(f->st, &c, NULL), MRD_E_NOTFOUND);
    assert_int_equal(store_collection_get(f->st, "asia", 4, g.id, 36, &g, NULL), MRD_E_NOTFOUND);

    /* grants */
    assert_int_equal(store_grant_get(f->st, f->partner.key, f->coll.key, &gr, &err), MRD_OK);
    assert_false(gr.can_read);
    assert_false(gr.can_write);
    assert_int_equal(store_grant_set(f->st, f->partner.key, f->coll.key,
                                     (struct store_grant){true, false}, &err),
                     MRD_OK);
    assert_int_equal(store_grant_get(f->st, f->partner.key, f->coll.key, &gr, &err), MRD_OK);
    assert_true(gr.can_read);
    assert_false(gr.can_write);
    assert_int_equal(store_grant_set(f->st, f->partner.key, f->coll.key,
                                     (struct store_grant){false, true}, &err),
                     MRD_OK);
    assert_int_equal(store_grant_get(f->st, f->partner.key, f->coll.key, &gr, &err), MRD_OK);
    assert_false(gr.can_read);
    assert_true(gr.can_write);
    assert_int_equal(
        store_grant_set(f->st, 999, f->coll.key, (struct store_grant){true, true}, NULL),
        MRD_E_NOTFOUND);
    /* listing: by org, by collection, all; withdrawn grants are not listed */
    {
        int n = 0;
        assert_int_equal(
            store_grant_set(f->st, f->own.key, c.key, (struct store_grant){true, true}, &err),
            MRD_OK);
        assert_int_equal(store_grant_list(f->st, 0, 0, count_grant, &n, &err), MRD_OK);
        assert_int_equal(n, 2);
        n = 0;
        assert_int_equal(store_grant_list(f->st, f->partner.key, 0, count_grant, &n, &err), MRD_OK);
        assert_int_equal(n, 1);
        n = 0;
        assert_int_equal(store_grant_list(f->st, 0, c.key, count_grant, &n, &err), MRD_OK);
        assert_int_equal(n, 1);
        assert_int_equal(store_grant_set(f->st, f->partner.key, f->coll.key,
                                         (struct store_grant){false, false}, &err),
                         MRD_OK);
        n = 0;
        assert_int_equal(store_grant_list(f->st, 0, 0, count_grant, &n, &err), MRD_OK);
        assert_int_equal(n, 1);
    }
}

static void test_meta(void **state)
{
    struct fx *f = *state;
    char v[64];
    char small[4];

    assert_int_equal(store_meta_get(f->st, "node_id", v, sizeof(v), NULL), MRD_E_NOTFOUND);
    assert_int_equal(store_meta_set(f->st, "node_id", "abc-123", NULL), MRD_OK);
    assert_int_equal(store_meta_get(f->st, "node_id", v, sizeof(v), NULL), MRD_OK);
    assert_string_equal(v, "abc-123");
    assert_int_equal(store_meta_set(f->st, "node_id", "x", NULL), MRD_OK);
    assert_int_equal(store_meta_get(f->st, "node_id", v, sizeof(v), NULL), MRD_OK);
    assert_string_equal(v, "x");
    assert_int_equal(store_meta_set(f->st, "long", "abcdef", NULL), MRD_OK);
    assert_int_equal(store_meta_get(f->st, "long", small, sizeof(small), NULL), MRD_E_TOOBIG);
}

/* ---- objects ---- */

static void test_insert_duplicate_and_body(void **state)
{
    struct fx *f = *state;
    struct obj a, b;
    int64_t d1, d2, d3;
    struct store_query q = {.added_after = STORE_TIME_NONE, .want_body = true};
    struct sink s = {.hide_version = -1};
    uint64_t count;

    make_obj(&a, "indicator", 1, 2000000, POLICY_TLP_GREEN);
    make_obj(&b, "indicator", 2, 2000000, POLICY_TLP_GREEN);
    insert(f, &a, STORE_INS_ADDED, &d1);
    insert(f, &b, STORE_INS_ADDED, &d2);
    assert_true(d2 > d1);
    /* the same (id, version) again: a no-op success with the old date */
    insert(f, &a, STORE_INS_DUPLICATE, &d3);
    assert_int_equal(d3, d1);
    assert_int_equal(store_objects_count(f->st, f->coll.key, &count, NULL), MRD_OK);
    assert_int_equal(count, 2);
    query(f, &q, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.bodies[0], a.body);
    assert_string_equal(s.bodies[1], b.body);
    /* a batch with an internal duplicate and one bad object stores nothing */
    {
        struct obj c[3];
        struct mrd_err err = {0};
        make_obj(&c[0], "indicator", 3, 2000000, POLICY_TLP_GREEN);
        make_obj(&c[1], "indicator", 3, 2000000, POLICY_TLP_GREEN);
        make_obj(&c[2], "indicator", 4, 2000000, POLICY_TLP_GREEN);
        c[2].in.body_len = 0;
        struct store_object_in in[3] = {c[0].in, c[1].in, c[2].in};
        assert_int_equal(store_objects_insert(f->st, f->coll.key, in, 3, NULL, NULL, &err),
                         MRD_E_INVAL);
        assert_int_equal(store_objects_count(f->st, f->coll.key, &count, NULL), MRD_OK);
        assert_int_equal(count, 2);
        enum store_insert_outcome out[2];
        assert_int_equal(store_objects_insert(f->st, f->coll.key, in, 2, out, NULL, &err), MRD_OK);
        assert_int_equal(out[0], STORE_INS_ADDED);
        assert_int_equal(out[1], STORE_INS_DUPLICATE);
    }
    /* unknown collection */
    assert_int_equal(store_objects_insert(f->st, 999, &a.in, 1, NULL, NULL, NULL), MRD_E_NOTFOUND);
}

static void test_versions(void **state)
{
    struct fx *f = *state;
    struct obj v[3], other;
    struct store_query q = {.added_after = STORE_TIME_NONE};
    struct store_match m = {0};
    struct sink s = {.hide_version = -1};
    const char *ids[1];
    int64_t ts[2];

    make_obj(&v[1], "malware", 7, 3000000, POLICY_TLP_GREEN);
    make_obj(&v[0], "malware", 7, 2000000, POLICY_TLP_GREEN);
    v[0].in.creator_org = 5;
    v[0].in.versions_any = true; /* the own org: it versions org 1's unsigned object */
    make_obj(&v[2], "malware", 7, 4000000, POLICY_TLP_RED);
    make_obj(&other, "indicator", 8, 2000000, POLICY_TLP_GREEN);
    insert(f, &v[1], STORE_INS_ADDED, NULL); /* versions arrive out of order */
    insert(f, &v[0], STORE_INS_ADDED, NULL);
    insert(f, &v[2], STORE_INS_ADDED, NULL);
    insert(f, &other, STORE_INS_ADDED, NULL);

    /* default: last version only */
    query(f, &q, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.versions[0], 4000000);
    assert_string_equal(s.ids[1], other.id);
    q.match = &m;
    m.versions = STORE_VER_FIRST;
    query(f, &q, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.versions[0], 2000000); /* added second, so after... */
    assert_string_equal(s.ids[0], v[0].id);
    m.versions = STORE_VER_ALL;
    query(f, &q, &s);
    assert_int_equal(s.n, 4);
    m.versions = STORE_VER_FIRST | STORE_VER_LAST;
    query(f, &q, &s);
    assert_int_equal(s.n, 3); /* 2 of malware, 1 of indicator (first = last) */
    m.versions = STORE_VER_TIMESTAMPS;
    ts[0] = 3000000;
    ts[1] = 9000000;
    m.timestamps = ts;
    m.n_timestamps = 2;
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 3000000);
    /* all + another value is refused (TAXII 2.1 §3.4.1) */
    m.versions = STORE_VER_ALL | STORE_VER_LAST;
    {
        struct mrd_err err = {0};
        q.collection = f->coll.key;
        assert_int_equal(store_objects_query(f->st, &q, NULL, emit, &s, NULL, &err), MRD_E_INVAL);
    }
    /* match[id] + versions listing */
    m = (struct store_match){0};
    ids[0] = v[0].id;
    m.ids = ids;
    m.n_ids = 1;
    m.versions = STORE_VER_ALL;
    query(f, &q, &s);
    assert_int_equal(s.n, 3);
    /* match[type] */
    m = (struct store_match){0};
    {
        const char *types[] = {"indicator", "report"};
        m.types = types;
        m.n_types = 2;
        query(f, &q, &s);
        assert_int_equal(s.n, 1);
        assert_string_equal(s.ids[0], other.id);
    }
    /* match[spec_version] */
    m = (struct store_match){0};
    {
        const char *specs[] = {"2.0"};
        m.spec_versions = specs;
        m.n_spec_versions = 1;
        query(f, &q, &s);
        assert_int_equal(s.n, 0);
    }
    /* when the newest version is invisible, "last" is the newest visible
     * one, at its own place in date_added order (v[1] was stored first) */
    q.match = NULL;
    s.hide_red = true; /* v[2] */
    query(f, &q, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.ids[0], v[1].id);
    assert_int_equal(s.versions[0], 3000000);
    assert_string_equal(s.ids[1], other.id);
    /* and "first" the oldest visible one (v[0] was written by org 5) */
    q.match = &m;
    m = (struct store_match){.versions = STORE_VER_FIRST};
    s.hide_red = false;
    s.hide_org = 5;
    query(f, &q, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.ids[0], v[1].id);
    assert_int_equal(s.versions[0], 3000000);
    assert_string_equal(s.ids[1], other.id);
    s.hide_org = 0;
    /* the same through match[id] (GET object), and with first+last */
    ids[0] = v[0].id;
    m = (struct store_match){.ids = ids, .n_ids = 1, .versions = STORE_VER_LAST};
    s.hide_version = -1;
    s.hide_red = true;
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 3000000);
    m.versions = STORE_VER_FIRST | STORE_VER_LAST;
    query(f, &q, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.versions[0], 3000000);
    assert_int_equal(s.versions[1], 2000000);
    /* nothing visible: nothing at all */
    m.versions = STORE_VER_LAST;
    s.hide_red = false;
    q.collection = f->coll.key;
    {
        struct store_query_result res;
        assert_int_equal(store_objects_query(f->st, &q, hide_all, emit, &s, &res, NULL), MRD_OK);
        assert_int_equal(res.delivered, 0);
    }
}

/* Pages of every size return every visible row exactly once, in order,
 * with `more` exact, while invisible rows sit between them. */
/* One request of more versions than one multi-row INSERT takes (PostgreSQL
 * writes new ids in batches, store_obj.c), mixing new ids, a newer version
 * of a stored id, an id the request holds twice (two versions, and the
 * same version twice) and a stored version sent again: the outcomes, the
 * dates and the first/last flags are those of one insert at a time. */
static void test_one_request_of_new_and_known_ids(void **state)
{
    enum { N = 150 };
    struct fx *f = *state;
    struct obj *o = calloc(N + 1, sizeof(*o));
    struct store_object_in *in = calloc(N, sizeof(*in));
    enum store_insert_outcome out[N];
    int64_t dates[N], prev = 0;
    struct store_query q = {.added_after = STORE_TIME_NONE};
    struct store_match m = {0};
    struct sink s = {.hide_version = -1};
    const char *ids[2];
    struct mrd_err err = {0};
    uint64_t count = 0;
    size_t added = 0;

    assert_non_null(o);
    assert_non_null(in);
    make_obj(&o[N], "malware", 7, 2000000, POLICY_TLP_GREEN); /* stored before */
    insert(f, &o[N], STORE_INS_ADDED, NULL);
    for (int i = 0; i < N; i++)
        make_obj(&o[i], "indicator", 100 + i, 5000000, POLICY_TLP_GREEN);
    make_obj(&o[10], "malware", 7, 3000000, POLICY_TLP_GREEN);     /* newer than the stored one */
    make_obj(&o[20], "indicator", 105, 5000000, POLICY_TLP_GREEN); /* as o[5]: a duplicate */
    make_obj(&o[30], "indicator", 900, 1000000, POLICY_TLP_GREEN); /* one id, two versions */
    make_obj(&o[99], "indicator", 900, 2000000, POLICY_TLP_GREEN);
    make_obj(&o[120], "malware", 7, 2000000, POLICY_TLP_GREEN); /* the stored version again */
    for (int i = 0; i < N; i++)
        in[i] = o[i].in;
    assert_int_equal(store_objects_insert(f->st, f->coll.key, in, N, out, dates, &err), MRD_OK);
    for (int i = 0; i < N; i++) {
        bool dup = i == 20 || i == 120;
        assert_int_equal(out[i], dup ? STORE_INS_DUPLICATE : STORE_INS_ADDED);
        if (!dup) { /* request order, strictly increasing */
            assert_true(dates[i] > prev);
            prev = dates[i];
            added++;
        }
    }
    assert_int_equal(dates[20], dates[5]); /* a duplicate answers its copy's date */
    assert_int_equal(store_objects_count(f->st, f->coll.key, &count, &err), MRD_OK);
    assert_int_equal(count, added + 1);
    /* first and last across the stored version and the request's */
    q.match = &m;
    ids[0] = o[N].id;
    ids[1] = o[30].id;
    m.ids = ids;
    m.n_ids = 2;
    query(f, &q, &s); /* last versions */
    assert_int_equal(s.n, 2);
    assert_string_equal(s.ids[0], o[10].id);
    assert_int_equal(s.versions[0], 3000000);
    assert_int_equal(s.versions[1], 2000000);
    m.versions = STORE_VER_FIRST;
    query(f, &q, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.versions[0], 2000000);
    assert_int_equal(s.versions[1], 1000000);
    m.versions = STORE_VER_ALL;
    query(f, &q, &s);
    assert_int_equal(s.n, 4);
    /* every new id of the batch is there, once, at the date it was given */
    m = (struct store_match){0};
    ids[0] = o[149].id;
    m.ids = ids;
    m.n_ids = 1;
    q.want_body = true;
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.dates[0], dates[149]);
    assert_string_equal(s.bodies[0], o[149].body);
    free(in);
    free(o);
}

/* A request larger than one multi-row statement (PostgreSQL: 1,024 rows of
 * array parameters; SQLite: 64 rows), with a known id in the middle that
 * goes through the general path: every version stored once, date_added in
 * request order, and seq in the same order (the ledger queue and paging
 * rely on both). */
static void test_large_request_keeps_order(void **state)
{
    enum { N = 2600, KNOWN = 1300 };
    struct fx *f = *state;
    struct obj *o = calloc(N, sizeof(*o));
    struct store_object_in *in = calloc(N, sizeof(*in));
    enum store_insert_outcome *out = calloc(N, sizeof(*out));
    int64_t *dates = calloc(N, sizeof(*dates));
    static const int probe[] = {0, 1023, 1024, 1299, 1300, 1301, 2047, 2048, N - 1};
    const char *ids[sizeof(probe) / sizeof(probe[0])];
    struct store_query q = {.added_after = STORE_TIME_NONE};
    struct store_match m = {.versions = STORE_VER_ALL};
    struct sink s = {.hide_version = -1};
    struct mrd_err err = {0};
    uint64_t count = 0;

    assert_non_null(o);
    assert_non_null(in);
    assert_non_null(out);
    assert_non_null(dates);
    for (int i = 0; i < N; i++)
        make_obj(&o[i], "indicator", 20000 + i, 5000000, POLICY_TLP_GREEN);
    make_obj(&o[KNOWN], "indicator", 20000 + KNOWN - 1, 6000000, POLICY_TLP_GREEN);
    for (int i = 0; i < N; i++)
        in[i] = o[i].in;
    assert_int_equal(store_objects_insert(f->st, f->coll.key, in, N, out, dates, &err), MRD_OK);
    for (int i = 0; i < N; i++) {
        assert_int_equal(out[i], STORE_INS_ADDED);
        if (i > 0)
            assert_true(dates[i] > dates[i - 1]);
    }
    assert_int_equal(store_objects_count(f->st, f->coll.key, &count, &err), MRD_OK);
    assert_int_equal(count, N);
    for (size_t k = 0; k < sizeof(probe) / sizeof(probe[0]); k++)
        ids[k] = o[probe[k]].id;
    m.ids = ids;
    m.n_ids = sizeof(probe) / sizeof(probe[0]);
    q.match = &m;
    query(f, &q, &s); /* in date_added order: the probes' order (two share an id) */
    assert_int_equal(s.n, sizeof(probe) / sizeof(probe[0]));
    for (size_t k = 0; k < s.n; k++) {
        assert_string_equal(s.ids[k], o[probe[k]].id);
        assert_int_equal(s.dates[k], dates[probe[k]]);
        if (k > 0)
            assert_true(s.seqs[k] > s.seqs[k - 1]);
    }
    assert_int_equal(s.versions[3], 5000000); /* o[1299], then its newer version */
    assert_int_equal(s.versions[4], 6000000);
    free(dates);
    free(out);
    free(in);
    free(o);
}

static void test_paging(void **state)
{
    struct fx *f = *state;
    struct obj o[12];
    struct store_match all = {.versions = STORE_VER_ALL};
    struct sink s = {.hide_version = 5000000};
    int64_t prev_date = 0;

    for (int i = 0; i < 12; i++) {
        /* every third row is invisible to this reader */
        make_obj(&o[i], "indicator", 100 + i, i % 3 == 2 ? 5000000 : 2000000, POLICY_TLP_GREEN);
        insert(f, &o[i], STORE_INS_ADDED, NULL);
    }
    for (size_t limit = 1; limit <= 9; limit++) {
        struct store_query q = {.added_after = STORE_TIME_NONE, .match = &all, .limit = limit};
        size_t seen = 0;
        for (int page = 0; page < 20; page++) {
            struct store_query_result r = query(f, &q, &s);
            for (size_t k = 0; k < s.n; k++) {
                /* the k-th visible object overall */
                size_t idx = seen + k;
                size_t want = idx / 2 * 3 + idx % 2;
                assert_string_equal(s.ids[k], o[want].id);
                assert_true(s.dates[k] > prev_date || idx == 0);
                prev_date = s.dates[k];
            }
            seen += s.n;
            assert_int_equal(r.more, seen < 8);
            if (!r.more)
                break;
            assert_int_equal(s.n, limit); /* a page with more is full */
            q.has_cursor = true;
            q.after_date_added = r.last_date_added;
            q.after_seq = r.last_seq;
        }
        assert_int_equal(seen, 8);
        prev_date = 0;
    }
    /* the cursor is (date_added, seq): a row sharing the cursor's date_added
     * with a higher seq still comes, one with a lower or equal seq does not */
    {
        struct store_query q = {.added_after = STORE_TIME_NONE, .match = &all};
        struct sink t = {.hide_version = -1};
        query(f, &q, &t);
        q.has_cursor = true;
        q.after_date_added = t.dates[3];
        q.after_seq = t.seqs[3] - 1;
        s.hide_version = -1;
        query(f, &q, &s);
        assert_string_equal(s.ids[0], t.ids[3]);
        q.after_seq = t.seqs[3];
        query(f, &q, &s);
        assert_string_equal(s.ids[0], t.ids[4]);
        /* added_after is strict */
        q.has_cursor = false;
        q.added_after = t.dates[5];
        query(f, &q, &s);
        assert_int_equal(s.n, 12 - 6);
        assert_string_equal(s.ids[0], t.ids[6]);
    }
}

static void test_delete(void **state)
{
    struct fx *f = *state;
    struct obj v[3];
    struct store_match m = {0};
    struct sink s = {.hide_version = -1};
    struct store_query q = {.added_after = STORE_TIME_NONE, .match = &m};
    int64_t ts[1];
    size_t n = 99;

    for (int i = 0; i < 3; i++) {
        make_obj(&v[i], "malware", 9, 2000000 + i * 1000000, POLICY_TLP_GREEN);
        insert(f, &v[i], STORE_INS_ADDED, NULL);
    }
    /* one version */
    m.versions = STORE_VER_TIMESTAMPS;
    ts[0] = 3000000;
    m.timestamps = ts;
    m.n_timestamps = 1;
    assert_int_equal(store_objects_delete(f->st, f->coll.key, v[0].id, strlen(v[0].id), &m, NULL,
                                          NULL, &n, NULL),
                     MRD_OK);
    assert_int_equal(n, 1);
    m = (struct store_match){.versions = STORE_VER_ALL};
    query(f, &q, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.versions[0], 2000000);
    assert_int_equal(s.versions[1], 4000000);
    /* an invisible version survives a delete of "all" by that reader */
    s.hide_version = 4000000;
    assert_int_equal(
        store_objects_delete(f->st, f->coll.key, v[0].id, strlen(v[0].id), NULL, vis, &s, &n, NULL),
        MRD_OK);
    assert_int_equal(n, 1);
    s.hide_version = -1;
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 4000000);
    /* everything; then nothing left to delete */
    assert_int_equal(store_objects_delete(f->st, f->coll.key, v[0].id, strlen(v[0].id), NULL, NULL,
                                          NULL, &n, NULL),
                     MRD_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_objects_delete(f->st, f->coll.key, v[0].id, strlen(v[0].id), NULL, NULL,
                                          NULL, &n, NULL),
                     MRD_OK);
    assert_int_equal(n, 0);
    query(f, &q, &s);
    assert_int_equal(s.n, 0);
    /* date_added never goes back after deleting the newest row */
    {
        int64_t before = 0, after = 0;
        struct obj w;
        make_obj(&w, "malware", 10, 2000000, POLICY_TLP_GREEN);
        insert(f, &w, STORE_INS_ADDED, &before);
        assert_int_equal(store_objects_delete(f->st, f->coll.key, w.id, strlen(w.id), NULL, NULL,
                                              NULL, &n, NULL),
                         MRD_OK);
        insert(f, &w, STORE_INS_ADDED, &after);
        assert_true(after > before);
    }
}

/* match[version]=last (the default) pages exactly while the newest
 * version of some objects is hidden: every page size delivers the newest
 * visible version of each object once, in date_added order. */
static void test_paging_last_among_visible(void **state)
{
    struct fx *f = *state;
    struct obj o[15];
    struct sink s = {.hide_version = -1, .hide_red = true};
    struct sink whole = {.hide_version = -1, .hide_red = true};
    struct store_query all_q = {.added_after = STORE_TIME_NONE};

    /* 5 objects, 3 versions each, stored interleaved; objects 0, 2 and 4
     * have a hidden (RED) newest version (9000000) */
    for (int v = 0; v < 3; v++)
        for (int k = 0; k < 5; k++) {
            bool red = v == 2 && k % 2 == 0;
            make_obj(&o[v * 5 + k], "indicator", 300 + k, red ? 9000000 : 2000000 + v * 1000000,
                     red ? POLICY_TLP_RED : POLICY_TLP_GREEN);
            insert(f, &o[v * 5 + k], STORE_INS_ADDED, NULL);
        }
    query(f, &all_q, &whole);
    assert_int_equal(whole.n, 5);
    for (size_t k = 0; k < whole.n; k++) {
        int n = atoi(whole.ids[k] + strlen(whole.ids[k]) - 3) - 300;
        assert_int_equal(whole.versions[k], n % 2 == 0 ? 3000000 : 4000000);
        assert_true(k == 0 || whole.dates[k] > whole.dates[k - 1]);
    }
    for (size_t limit = 1; limit <= 6; limit++) {
        struct store_query q = {.added_after = STORE_TIME_NONE, .limit = limit};
        size_t seen = 0;
        for (int page = 0; page < 10; page++) {
            struct store_query_result r = query(f, &q, &s);
            for (size_t k = 0; k < s.n; k++) {
                assert_string_equal(s.ids[k], whole.ids[seen + k]);
                assert_int_equal(s.versions[k], whole.versions[seen + k]);
            }
            seen += s.n;
            assert_int_equal(r.more, seen < whole.n);
            if (!r.more)
                break;
            q.has_cursor = true;
            q.after_date_added = r.last_date_added;
            q.after_seq = r.last_seq;
        }
        assert_int_equal(seen, whole.n);
    }
}

/* The shortcut for older versions (same policy as the newest: never the
 * last for anyone) follows inserts in any order and deletes. */
static void test_last_shortcut_follows_changes(void **state)
{
    struct fx *f = *state;
    struct obj a, b, c, d;
    struct store_query q = {.added_after = STORE_TIME_NONE};
    struct sink s = {.hide_version = -1, .hide_red = true};
    size_t n = 0;

    make_obj(&a, "tool", 60, 2000000, POLICY_TLP_GREEN);
    make_obj(&b, "tool", 60, 3000000, POLICY_TLP_GREEN);
    make_obj(&c, "tool", 60, 1000000, POLICY_TLP_GREEN); /* older, same policy */
    insert(f, &a, STORE_INS_ADDED, NULL);
    insert(f, &b, STORE_INS_ADDED, NULL);
    insert(f, &c, STORE_INS_ADDED, NULL);
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 3000000);
    /* a RED newest version: the older ones are no longer shadowed */
    make_obj(&d, "tool", 60, 4000000, POLICY_TLP_RED);
    insert(f, &d, STORE_INS_ADDED, NULL);
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 3000000);
    /* deleting the GREEN 3000000 (visible, not last): 2000000 is next */
    {
        struct store_match m = {.versions = STORE_VER_TIMESTAMPS};
        int64_t ts[1] = {3000000};
        m.timestamps = ts;
        m.n_timestamps = 1;
        assert_int_equal(
            store_objects_delete(f->st, f->coll.key, a.id, strlen(a.id), &m, NULL, NULL, &n, NULL),
            MRD_OK);
        assert_int_equal(n, 1);
    }
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 2000000);
    /* deleting the RED newest: 2000000 is the last for everyone */
    {
        struct store_match m = {.versions = STORE_VER_LAST};
        assert_int_equal(
            store_objects_delete(f->st, f->coll.key, a.id, strlen(a.id), &m, NULL, NULL, &n, NULL),
            MRD_OK);
        assert_int_equal(n, 1);
    }
    s.hide_red = false;
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 2000000);
    /* a GREEN newest again; then an older RED one arrives: a reader who
     * sees GREEN only still gets the GREEN newest, once */
    make_obj(&b, "tool", 60, 5000000, POLICY_TLP_GREEN);
    insert(f, &b, STORE_INS_ADDED, NULL);
    make_obj(&d, "tool", 60, 1500000, POLICY_TLP_RED);
    insert(f, &d, STORE_INS_ADDED, NULL);
    s.hide_red = true;
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 5000000);
    /* deleting that GREEN newest leaves the RED 1500000 hidden and GREEN
     * 2000000 newest: the flags set against the deleted row are gone */
    {
        struct store_match m = {.versions = STORE_VER_LAST};
        assert_int_equal(
            store_objects_delete(f->st, f->coll.key, a.id, strlen(a.id), &m, NULL, NULL, &n, NULL),
            MRD_OK);
    }
    make_obj(&d, "tool", 60, 2500000, POLICY_TLP_RED);
    insert(f, &d, STORE_INS_ADDED, NULL);
    make_obj(&b, "tool", 60, 2200000, POLICY_TLP_GREEN);
    insert(f, &b, STORE_INS_ADDED, NULL); /* older than the RED newest */
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 2200000);
    make_obj(&b, "tool", 60, 6000000, POLICY_TLP_GREEN);
    insert(f, &b, STORE_INS_ADDED, NULL); /* 1000000..2200000 shadowed by it */
    assert_int_equal(store_objects_delete(f->st, f->coll.key, a.id, strlen(a.id),
                                          &(struct store_match){.versions = STORE_VER_LAST}, NULL,
                                          NULL, &n, NULL),
                     MRD_OK);
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 2200000);
}

/* A query with visible NULL: every row the node holds as genuine. */
static void admin_query(struct fx *f, struct store_query *q, struct sink *s)
{
    struct store_query_result res;
    struct mrd_err err = {0};

    s->n = 0;
    q->collection = f->coll.key;
    assert_int_equal(store_objects_query(f->st, q, NULL, emit, s, &res, &err), MRD_OK);
}

static bool sees_nothing(void *ctx, const struct store_row *row)
{
    (void)ctx;
    (void)row;
    return false;
}

static enum mrd_code count_conflict(void *ctx, const struct store_conflict *k, struct mrd_err *err)
{
    size_t *n = ctx;
    (void)err;
    assert_non_null(k->stix_id);
    (*n)++;
    return MRD_OK;
}

/* store_object_in.same_content for test_only_the_signer_versions: the
 * stored genuine copy and {"other":1} say the same. */
static bool same_as_other(const char *stored, size_t stored_len, const char *body, size_t body_len)
{
    (void)stored;
    (void)stored_len;
    return body_len == strlen("{\"other\":1}") && memcmp(body, "{\"other\":1}", body_len) == 0;
}

/* ... and: both are {"other":1...} */
static bool both_other(const char *stored, size_t stored_len, const char *body, size_t body_len)
{
    const char *p = "{\"other\":1";

    return stored_len >= strlen(p) && body_len >= strlen(p) && memcmp(stored, p, strlen(p)) == 0 &&
           memcmp(body, p, strlen(p)) == 0;
}

/* Only the key that signs an object makes its versions; a copy by a
 * signer that outranks the stored one's replaces it (issue 17 items 2, 3). */
static void test_only_the_signer_versions(void **state)
{
    struct fx *f = *state;
    struct obj v1, v2, forged, genuine;
    struct store_query q = {.added_after = STORE_TIME_NONE, .want_body = true};
    struct sink s = {.hide_version = -1};
    struct mrd_err err = {0};
    size_t n = 0;
    const char *k = "ed25519:AAAA";

    make_obj(&v1, "malware", 90, 2000000, POLICY_TLP_RED);
    v1.in.signer = k;
    v1.in.signer_len = strlen(k);
    insert(f, &v1, STORE_INS_ADDED, NULL);
    /* a newer unsigned version by a writer who sees the object: refused */
    make_obj(&v2, "malware", 90, 3000000, POLICY_TLP_CLEAR);
    v2.in.creator_org = 5;
    insert(f, &v2, STORE_INS_NOT_SIGNER, NULL);
    /* by a writer who sees nothing of it: its own copy, current for nobody */
    v2.in.writer_sees = sees_nothing;
    insert(f, &v2, STORE_INS_WRITER_ONLY, NULL);
    insert(f, &v2, STORE_INS_DUPLICATE, NULL); /* its own copy: a no-op */
    admin_query(f, &q, &s);                    /* visible NULL: what the node holds genuine */
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 2000000);
    /* signed by the same key: a version like any other */
    v2.in.writer_sees = NULL;
    v2.in.signer = k;
    v2.in.signer_len = strlen(k);
    (void)snprintf(v2.body, sizeof(v2.body), "{\"id\":\"%s\",\"signed\":4000000}", v2.id);
    v2.in.body_len = strlen(v2.body);
    v2.in.modified_usec = 4000000;
    insert(f, &v2, STORE_INS_ADDED, NULL);
    admin_query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 4000000);
    /* a forged unsigned copy first, the signed one later: it replaces it */
    make_obj(&forged, "malware", 91, 2000000, POLICY_TLP_GREEN);
    (void)snprintf(forged.body, sizeof(forged.body), "{\"forged\":1}");
    forged.in.body_len = strlen(forged.body);
    insert(f, &forged, STORE_INS_ADDED, NULL);
    make_obj(&genuine, "malware", 91, 2000000, POLICY_TLP_GREEN);
    genuine.in.signer = k;
    genuine.in.signer_len = strlen(k);
    insert(f, &genuine, STORE_INS_REPLACED, NULL);
    insert(f, &forged, STORE_INS_DUPLICATE, NULL); /* the same forged bytes: known */
    admin_query(f, &q, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.bodies[1], genuine.body);
    /* another copy of a signed version by the same key: refused */
    (void)snprintf(genuine.body, sizeof(genuine.body), "{\"other\":1}");
    genuine.in.body_len = strlen(genuine.body);
    insert(f, &genuine, STORE_INS_OTHER_COPY, NULL);
    assert_int_equal(store_conflict_list(f->st, 0, 0, count_conflict, &n, &err), MRD_OK);
    assert_int_equal(n, 4); /* refused, writer-only, demoted, refused */
    /* refused again with the content of the recorded refused copy
     * (same_content says so): not recorded twice; without the hook, the
     * other bytes are */
    (void)snprintf(genuine.body, sizeof(genuine.body), "{\"other\":1,\"block\":2}");
    genuine.in.body_len = strlen(genuine.body);
    genuine.in.same_content = both_other;
    insert(f, &genuine, STORE_INS_OTHER_COPY, NULL);
    n = 0;
    assert_int_equal(store_conflict_list(f->st, 0, 0, count_conflict, &n, &err), MRD_OK);
    assert_int_equal(n, 4);
    genuine.in.same_content = NULL;
    insert(f, &genuine, STORE_INS_OTHER_COPY, NULL);
    n = 0;
    assert_int_equal(store_conflict_list(f->st, 0, 0, count_conflict, &n, &err), MRD_OK);
    assert_int_equal(n, 5);
    /* the same content signed another way (same_content says so): the
     * copy stored, a no-op; asked only of the same signer's copies */
    (void)snprintf(genuine.body, sizeof(genuine.body), "{\"other\":1}");
    genuine.in.body_len = strlen(genuine.body);
    genuine.in.same_content = same_as_other;
    insert(f, &genuine, STORE_INS_DUPLICATE, NULL);
    genuine.in.signer = "ed25519:BBBB";
    genuine.in.signer_len = strlen(genuine.in.signer);
    insert(f, &genuine, STORE_INS_NOT_SIGNER, NULL);
    admin_query(f, &q, &s);
    assert_int_equal(s.n, 2);
    assert_non_null(strstr(s.bodies[1], "\"modified\":2000000")); /* the first copy stays */
}

/* An unsigned object's versions come from the writer that stored it first
 * (the same org; with no org, the same source peer), or the own org
 * (versions_any); a copy of a stored version is not a new version. */
static void test_unsigned_versions_by_the_first_writer(void **state)
{
    struct fx *f = *state;
    struct obj v1, v2, peer1, peer2;
    struct mrd_err err = {0};
    size_t n = 0;

    make_obj(&v1, "malware", 95, 2000000, POLICY_TLP_GREEN);
    v1.in.creator_org = 3;
    insert(f, &v1, STORE_INS_ADDED, NULL);
    make_obj(&v2, "malware", 95, 3000000, POLICY_TLP_GREEN);
    v2.in.creator_org = 4; /* another partner, who reads it: refused */
    v2.in.revoked = true;
    insert(f, &v2, STORE_INS_NOT_CREATOR, NULL);
    v2.in.writer_sees = sees_nothing; /* one who may not: its own copy */
    insert(f, &v2, STORE_INS_WRITER_ONLY, NULL);
    v2.in.writer_sees = NULL;
    make_obj(&peer1, "malware", 95, 2000000, POLICY_TLP_GREEN); /* v1's bytes: a re-post */
    peer1.in.creator_org = 4;
    insert(f, &peer1, STORE_INS_DUPLICATE, NULL);
    v2.in.creator_org = 3; /* the first writer */
    (void)snprintf(v2.body, sizeof(v2.body), "{\"id\":\"%s\",\"by\":3}", v2.id);
    v2.in.body_len = strlen(v2.body);
    insert(f, &v2, STORE_INS_ADDED, NULL);
    make_obj(&v2, "malware", 95, 4000000, POLICY_TLP_GREEN);
    v2.in.versions_any = true;
    insert(f, &v2, STORE_INS_HISTORY, NULL); /* after the revocation, even for the own org */
    /* no org: told apart by the source peer */
    make_obj(&peer1, "malware", 96, 2000000, POLICY_TLP_GREEN);
    peer1.in.creator_org = 0;
    peer1.in.source_peer = "peer-a";
    peer1.in.source_peer_len = 6;
    insert(f, &peer1, STORE_INS_ADDED, NULL);
    make_obj(&peer2, "malware", 96, 3000000, POLICY_TLP_GREEN);
    peer2.in.creator_org = 0;
    peer2.in.source_peer = "peer-b";
    peer2.in.source_peer_len = 6;
    insert(f, &peer2, STORE_INS_NOT_CREATOR, NULL);
    peer2.in.source_peer = "peer-a";
    insert(f, &peer2, STORE_INS_ADDED, NULL);
    make_obj(&peer2, "malware", 96, 4000000, POLICY_TLP_GREEN);
    peer2.in.creator_org = 2; /* another org (and no peer) */
    insert(f, &peer2, STORE_INS_NOT_CREATOR, NULL);
    peer2.in.source_peer = "peer-a"; /* the partner org of the peer's name, created since */
    peer2.in.source_peer_len = 6;
    insert(f, &peer2, STORE_INS_ADDED, NULL);
    make_obj(&peer2, "malware", 96, 5000000, POLICY_TLP_GREEN);
    peer2.in.creator_org = 2;
    peer2.in.versions_any = true; /* the own org versions anything */
    insert(f, &peer2, STORE_INS_ADDED, NULL);
    /* a writer that re-posted a version it could not read (its own copy)
     * is told nothing of the first writer: its next version is its own */
    make_obj(&v1, "malware", 97, 2000000, POLICY_TLP_AMBER);
    v1.in.creator_org = 3;
    insert(f, &v1, STORE_INS_ADDED, NULL);
    v1.in.creator_org = 4;
    v1.in.writer_sees = sees_nothing;
    insert(f, &v1, STORE_INS_ADDED, NULL); /* a writer-scoped copy */
    make_obj(&v2, "malware", 97, 3000000, POLICY_TLP_AMBER);
    v2.in.creator_org = 4;
    v2.in.writer_sees = sees_nothing;
    insert(f, &v2, STORE_INS_WRITER_ONLY, NULL);
    assert_int_equal(store_conflict_list(f->st, 0, 0, count_conflict, &n, &err), MRD_OK);
    assert_int_equal(n, 6); /* refused, writer-only, history, refused, refused, writer-only */
}

/* The overview's aggregates (store_agg_query): sums over the keys a
 * callback lets through, here "writer-only copies" or "the others". */
struct aggsum {
    bool writer_only;
    int64_t objects, sightings, count, sent, tops, top_count;
};

static bool agg_readable(void *ctx, int64_t coll, const struct store_row *key)
{
    (void)coll;
    return key->policy.writer_only == ((struct aggsum *)ctx)->writer_only;
}

static enum mrd_code agg_objects(void *ctx, const struct store_agg_cell *c, struct mrd_err *err)
{
    (void)err;
    ((struct aggsum *)ctx)->objects += c->n;
    return MRD_OK;
}

static enum mrd_code agg_sightings(void *ctx, const struct store_agg_cell *c, struct mrd_err *err)
{
    struct aggsum *a = ctx;
    (void)err;
    assert_true(c->name_len > 0); /* the reporter */
    a->sightings += c->n;
    a->count += c->count;
    return MRD_OK;
}

static enum mrd_code agg_sent(void *ctx, const struct store_agg_cell *c, struct mrd_err *err)
{
    (void)err;
    assert_true(c->name_len == 2 && memcmp(c->name, "px", 2) == 0);
    ((struct aggsum *)ctx)->sent += c->n;
    return MRD_OK;
}

static enum mrd_code agg_top(void *ctx, const struct store_agg_top *t, struct mrd_err *err)
{
    struct aggsum *a = ctx;
    (void)err;
    a->tops++;
    a->top_count += t->count;
    return MRD_OK;
}

static struct aggsum agg_sum(struct fx *f, bool writer_only)
{
    struct aggsum a = {.writer_only = writer_only};
    struct store_agg_query q = {.since_usec = 0,
                                .readable = agg_readable,
                                .objects = agg_objects,
                                .sightings = agg_sightings,
                                .sent = agg_sent,
                                .top = 10,
                                .top_cb = agg_top,
                                .ctx = &a};
    struct mrd_err err = {0};

    assert_int_equal(store_agg_query(f->st, &q, &err), MRD_OK);
    return a;
}

static enum mrd_code seq_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    int64_t *seqs = ctx;
    (void)err;
    if (seqs[0] < 8)
        seqs[++seqs[0]] = row->seq;
    return MRD_OK;
}

static void make_sighting(struct obj *o, int64_t modified, int count)
{
    make_obj(o, "sighting", 7, modified, POLICY_TLP_GREEN);
    (void)snprintf(o->body, sizeof(o->body),
                   "{\"type\":\"sighting\",\"count\":%d,\"first_seen\":\"2026-12-06T05:00:00Z\","
                   "\"created_by_ref\":\"identity--00000000-0000-4000-8000-000000000001\","
                   "\"sighting_of_ref\":\"indicator--00000000-0000-4000-8000-000000000002\"}",
                   count);
    o->in.body_len = strlen(o->body);
}

/* The counters follow every change of a row: insert, a copy demoted to
 * writer-only, a sighting's new version (counted once, as the newest), a
 * delete; what was sent stays counted under the key of what was sent. */
static void test_aggregates_follow_every_change(void **state)
{
    struct fx *f = *state;
    struct obj forged, genuine, s1, s2;
    struct store_query q = {.collection = f->coll.key, .added_after = STORE_TIME_NONE};
    struct store_query_result res;
    struct mrd_err err = {0};
    int64_t seqs[9] = {0};
    struct aggsum a;
    size_t n = 0;
    const char *k = "ed25519:AAAA";

    make_obj(&forged, "malware", 91, 2000000, POLICY_TLP_GREEN);
    (void)snprintf(forged.body, sizeof(forged.body), "{\"forged\":1}");
    forged.in.body_len = strlen(forged.body);
    insert(f, &forged, STORE_INS_ADDED, NULL);
    assert_int_equal(agg_sum(f, false).objects, 1);
    make_obj(&genuine, "malware", 91, 2000000, POLICY_TLP_GREEN);
    genuine.in.signer = k;
    genuine.in.signer_len = strlen(k);
    insert(f, &genuine, STORE_INS_REPLACED, NULL);
    /* the forged copy moved to a writer-only key */
    assert_int_equal(agg_sum(f, false).objects, 1);
    assert_int_equal(agg_sum(f, true).objects, 1);
    /* a sighting and its newer version: one sighting, the newest count */
    make_sighting(&s1, 3000000, 7);
    insert(f, &s1, STORE_INS_ADDED, NULL);
    make_sighting(&s2, 4000000, 9);
    insert(f, &s2, STORE_INS_ADDED, NULL);
    a = agg_sum(f, false);
    assert_int_equal(a.objects, 3);
    assert_int_equal(a.sightings, 1);
    assert_int_equal(a.count, 9);
    assert_int_equal(a.tops, 1);
    assert_int_equal(a.top_count, 9);
    assert_int_equal(agg_sum(f, true).sightings, 0);
    /* sent to px: the genuine copy and the sighting */
    assert_int_equal(store_objects_query(f->st, &q, NULL, seq_emit, seqs, &res, &err), MRD_OK);
    assert_int_equal(seqs[0], 2);
    assert_int_equal(
        store_sent_record(f->st, "px", seqs + 1, 2, (int64_t)1800000000 * 1000000, &err), MRD_OK);
    assert_int_equal(agg_sum(f, false).sent, 2);
    /* deleting the sighting's newest version: the older one counts again */
    assert_int_equal(store_objects_delete(f->st, f->coll.key, s1.id, strlen(s1.id),
                                          &(struct store_match){.versions = STORE_VER_LAST}, NULL,
                                          NULL, &n, &err),
                     MRD_OK);
    assert_int_equal(n, 1);
    a = agg_sum(f, false);
    assert_int_equal(a.objects, 2);
    assert_int_equal(a.sightings, 1);
    assert_int_equal(a.count, 7);
    /* and all of it: nothing left but what was sent */
    assert_int_equal(
        store_objects_delete(f->st, f->coll.key, s1.id, strlen(s1.id), NULL, NULL, NULL, &n, &err),
        MRD_OK);
    a = agg_sum(f, false);
    assert_int_equal(a.objects, 1);
    assert_int_equal(a.sightings, 0);
    assert_int_equal(a.count, 0);
    assert_int_equal(a.tops, 0);
    assert_int_equal(a.sent, 2);
    /* a sighting under a key nothing else has yet */
    make_sighting(&s1, 3000000, 5);
    (void)snprintf(s1.id, sizeof(s1.id), "sighting--00000000-0000-4000-8000-000000000099");
    s1.in.tlp = POLICY_TLP_RED;
    insert(f, &s1, STORE_INS_ADDED, NULL);
    a = agg_sum(f, false);
    assert_int_equal(a.sightings, 1);
    assert_int_equal(a.count, 5);
}

static bool newest_vis(void *ctx, const struct store_row *row)
{
    (void)ctx;
    return row->policy.tlp != POLICY_TLP_RED;
}

static enum mrd_code newest_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    char *got = ctx;
    size_t o = strlen(got);

    (void)err;
    assert_non_null(row->source_peer);
    (void)snprintf(got + o, 64 - o, "%s%d", o > 0 ? "," : "", atoi(row->id + row->id_len - 12));
    return MRD_OK;
}

/* The newest versions received from peers, newest first, visible ones
 * only, up to the limit; local ones never. */
static void test_newest_from_peers(void **state)
{
    struct fx *f = *state;
    struct obj o;
    struct mrd_err err = {0};
    char got[64] = "";
    struct store_newest q = {.collection = f->coll.key,
                             .type = "indicator",
                             .added_after = 0,
                             .limit = 2,
                             .visible = newest_vis,
                             .emit = newest_emit,
                             .ctx = got};
    static const struct {
        int n;
        const char *peer;
        enum policy_tlp tlp;
    } put[] = {{1, "peer-x", POLICY_TLP_GREEN},
               {2, "peer-x", POLICY_TLP_GREEN},
               {3, NULL, POLICY_TLP_GREEN},
               {4, "peer-y", POLICY_TLP_GREEN},
               {5, "peer-x", POLICY_TLP_RED}};

    for (size_t i = 0; i < sizeof(put) / sizeof(put[0]); i++) {
        make_obj(&o, "indicator", put[i].n, 2000000, put[i].tlp);
        o.in.source_peer = put[i].peer;
        o.in.source_peer_len = put[i].peer != NULL ? strlen(put[i].peer) : 0;
        o.in.local = put[i].peer == NULL;
        insert(f, &o, STORE_INS_ADDED, NULL);
    }
    make_obj(&o, "malware", 6, 2000000, POLICY_TLP_GREEN);
    o.in.source_peer = "peer-x";
    o.in.source_peer_len = 6;
    insert(f, &o, STORE_INS_ADDED, NULL);
    assert_int_equal(store_objects_newest(f->st, &q, &err), MRD_OK);
    assert_string_equal(got, "4,2");
    got[0] = '\0';
    q.limit = 10;
    assert_int_equal(store_objects_newest(f->st, &q, &err), MRD_OK);
    assert_string_equal(got, "4,2,1");
}

struct counting {
    struct sink *s;
    size_t calls;
};

static bool vis_count(void *ctx, const struct store_row *row)
{
    struct counting *k = ctx;
    k->calls++;
    return vis(k->s, row);
}

static enum mrd_code emit_count(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct counting *k = ctx;
    return emit(k->s, row, err);
}

/* Asking for an object the reader may read no version of costs the same
 * whatever the number of its versions (issue 17 item 7): the policy
 * callback runs on a row standing for each policy, not on every version;
 * an object with a readable version still gets every answer right. */
static void test_hidden_object_cost_is_independent_of_versions(void **state)
{
    struct fx *f = *state;
    struct obj o, vis_obj;
    struct sink s = {.hide_version = -1, .hide_red = true};
    struct counting k = {.s = &s};
    const char *ids[1];
    struct store_match m = {.ids = ids, .n_ids = 1};
    struct store_query q = {.added_after = STORE_TIME_NONE, .match = &m};
    struct store_query_result res;
    const unsigned modes[] = {STORE_VER_LAST, STORE_VER_ALL, STORE_VER_FIRST};
    struct mrd_err err = {0};

    for (int v = 0; v < 1001; v++) {
        make_obj(&o, "malware", 80, 1000000 + v, POLICY_TLP_RED);
        insert(f, &o, STORE_INS_ADDED, NULL);
    }
    ids[0] = o.id;
    q.collection = f->coll.key;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        m.versions = modes[i];
        k.calls = 0;
        s.n = 0;
        assert_int_equal(store_objects_query(f->st, &q, vis_count, emit_count, &k, &res, &err),
                         MRD_OK);
        assert_int_equal(res.delivered, 0);
        assert_true(k.calls <= 2);
    }
    /* one GREEN version among them: found, and only it */
    make_obj(&vis_obj, "malware", 80, 500000, POLICY_TLP_GREEN);
    insert(f, &vis_obj, STORE_INS_ADDED, NULL);
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        m.versions = modes[i];
        s.n = 0;
        assert_int_equal(store_objects_query(f->st, &q, vis_count, emit_count, &k, &res, &err),
                         MRD_OK);
        assert_int_equal(res.delivered, 1);
        assert_int_equal(s.versions[0], 500000);
    }
}

/* The same shortcut towards the oldest version, for "first". */
static void test_first_shortcut_follows_changes(void **state)
{
    struct fx *f = *state;
    struct obj o;
    struct store_match m = {.versions = STORE_VER_FIRST};
    struct store_query q = {.added_after = STORE_TIME_NONE, .match = &m};
    struct sink s = {.hide_version = -1, .hide_red = true};
    size_t n = 0;

    make_obj(&o, "tool", 70, 3000000, POLICY_TLP_GREEN);
    insert(f, &o, STORE_INS_ADDED, NULL);
    make_obj(&o, "tool", 70, 4000000, POLICY_TLP_GREEN); /* shadowed towards 3000000 */
    insert(f, &o, STORE_INS_ADDED, NULL);
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 3000000);
    /* a hidden oldest: 3000000 is the first this reader may read */
    make_obj(&o, "tool", 70, 1000000, POLICY_TLP_RED);
    insert(f, &o, STORE_INS_ADDED, NULL);
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 3000000);
    /* with last too: both ends, once each */
    m.versions = STORE_VER_FIRST | STORE_VER_LAST;
    query(f, &q, &s);
    assert_int_equal(s.n, 2);
    /* a GREEN oldest again, then deleting it: back to 3000000 */
    m.versions = STORE_VER_FIRST;
    make_obj(&o, "tool", 70, 500000, POLICY_TLP_GREEN);
    insert(f, &o, STORE_INS_ADDED, NULL);
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 500000);
    assert_int_equal(
        store_objects_delete(f->st, f->coll.key, o.id, strlen(o.id), &m, NULL, NULL, &n, NULL),
        MRD_OK);
    assert_int_equal(n, 1);
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 3000000);
}

/* DELETE match[version]=last removes the newest version the deleter may
 * read, not nothing (which would tell it a newer one exists). */
static void test_delete_last_among_visible(void **state)
{
    struct fx *f = *state;
    struct obj v[3];
    struct store_match m = {.versions = STORE_VER_LAST};
    struct store_match all = {.versions = STORE_VER_ALL};
    struct store_query q = {.added_after = STORE_TIME_NONE, .match = &all};
    struct sink s = {.hide_version = -1, .hide_red = true};
    size_t n = 99;

    for (int i = 0; i < 3; i++) {
        make_obj(&v[i], "malware", 40, 2000000 + i * 1000000,
                 i == 2 ? POLICY_TLP_RED : POLICY_TLP_GREEN);
        insert(f, &v[i], STORE_INS_ADDED, NULL);
    }
    assert_int_equal(
        store_objects_delete(f->st, f->coll.key, v[0].id, strlen(v[0].id), &m, vis, &s, &n, NULL),
        MRD_OK);
    assert_int_equal(n, 1);
    s.hide_red = false;
    query(f, &q, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.versions[0], 2000000);
    assert_int_equal(s.versions[1], 4000000);
    /* first among visible too */
    m.versions = STORE_VER_FIRST;
    s.hide_version = 2000000;
    assert_int_equal(
        store_objects_delete(f->st, f->coll.key, v[0].id, strlen(v[0].id), &m, vis, &s, &n, NULL),
        MRD_OK);
    assert_int_equal(n, 1);
    s.hide_version = -1;
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 2000000);
}

/* Copies the object, pointing its fields at the copy's own buffers. */
static void obj_copy(struct obj *dst, const struct obj *src)
{
    *dst = *src;
    dst->in.id = dst->id;
    dst->in.body = dst->body;
}

/* A version stored only where the writer may not read it is stored again
 * as the writer's own copy; whoever reads several copies gets one. */
static void test_writer_scoped_copies(void **state)
{
    struct fx *f = *state;
    struct obj hidden, mine, again, admin;
    struct sink wv = {.hide_version = -1, .hide_org = 1}; /* org 2: hides org 1 */
    struct sink none = {.hide_version = -1, .hide_org = 3};
    const char *ids[1];
    int64_t d0, d1, d2;
    uint64_t count;
    size_t n = 0;

    make_obj(&hidden, "ipv4-addr", 50, STORE_TIME_NONE, POLICY_TLP_RED);
    hidden.in.created_usec = STORE_TIME_NONE; /* an SCO: one version */
    insert(f, &hidden, STORE_INS_ADDED, &d0);
    /* org 2 cannot read org 1's row: its post is stored as its own */
    obj_copy(&mine, &hidden);
    (void)snprintf(mine.body, sizeof(mine.body), "{\"id\":\"%s\",\"by\":2}", mine.id);
    mine.in.body_len = strlen(mine.body);
    mine.in.creator_org = 2;
    mine.in.tlp = POLICY_TLP_CLEAR;
    mine.in.writer_sees = vis;
    mine.in.writer_ctx = &wv;
    insert(f, &mine, STORE_INS_ADDED, &d1);
    assert_true(d1 > d0);
    assert_int_equal(store_objects_count(f->st, f->coll.key, &count, NULL), MRD_OK);
    assert_int_equal(count, 2);
    /* re-posting it: org 2 reads its own copy, a no-op with its date */
    insert(f, &mine, STORE_INS_DUPLICATE, &d2);
    assert_int_equal(d2, d1);
    /* org 2 again, through a view that reads nothing: still its own */
    obj_copy(&again, &mine);
    again.in.writer_sees = hide_all;
    insert(f, &again, STORE_INS_DUPLICATE, &d2);
    assert_int_equal(d2, d1);
    /* an import (writer_sees NULL): a no-op, the oldest copy's date */
    obj_copy(&admin, &hidden);
    admin.in.creator_org = 3;
    insert(f, &admin, STORE_INS_DUPLICATE, &d2);
    assert_int_equal(d2, d0);
    assert_int_equal(store_objects_count(f->st, f->coll.key, &count, NULL), MRD_OK);
    assert_int_equal(count, 2);

    /* org 2 reads its own bytes; a reader of both (org 3) gets the oldest
     * copy, once, in every version mode and by id */
    ids[0] = hidden.id;
    for (int mode = 0; mode < 5; mode++) {
        struct store_match mm = {0};
        struct store_query q = {.added_after = STORE_TIME_NONE, .match = &mm, .want_body = true};
        if (mode == 1)
            mm.versions = STORE_VER_ALL;
        if (mode == 2)
            mm.versions = STORE_VER_FIRST | STORE_VER_LAST;
        if (mode >= 3) {
            mm.ids = ids;
            mm.n_ids = 1;
            mm.versions = mode == 4 ? STORE_VER_ALL : 0;
        }
        query(f, &q, &wv);
        assert_int_equal(wv.n, 1);
        assert_string_equal(wv.bodies[0], mine.body);
        query(f, &q, &none);
        assert_int_equal(none.n, 1);
        assert_string_equal(none.bodies[0], hidden.body);
        assert_int_equal(none.dates[0], d0);
    }
    /* org 2 deletes its copy only; the hidden row stays */
    assert_int_equal(store_objects_delete(f->st, f->coll.key, hidden.id, strlen(hidden.id), NULL,
                                          vis, &wv, &n, NULL),
                     MRD_OK);
    assert_int_equal(n, 1);
    {
        struct store_query q = {.added_after = STORE_TIME_NONE, .want_body = true};
        query(f, &q, &none);
        assert_int_equal(none.n, 1);
        assert_string_equal(none.bodies[0], hidden.body);
        query(f, &q, &wv);
        assert_int_equal(wv.n, 0);
    }
}

static int64_t seen_rcpt[STORE_RECIPIENTS_MAX];
static char seen_comm[STORE_NAME_MAX + 1];

/* Copies the policy columns out: row pointers die with the callback. */
static bool see_all(void *ctx, const struct store_row *row)
{
    struct policy_object *out = ctx;

    *out = row->policy;
    memcpy(seen_rcpt, row->policy.recipients, row->policy.n_recipients * sizeof(int64_t));
    out->recipients = seen_rcpt;
    (void)snprintf(seen_comm, sizeof(seen_comm), "%.*s", (int)row->policy.community_len,
                   row->policy.community);
    out->community = seen_comm;
    return true;
}

static void test_policy_columns(void **state)
{
    struct fx *f = *state;
    struct obj o;
    const int64_t rcpt[] = {5, 12};
    struct policy_object got;
    struct store_query q = {.added_after = STORE_TIME_NONE};
    struct mrd_err err = {0};

    make_obj(&o, "report", 11, 2000000, POLICY_TLP_RED);
    o.in.recipients = rcpt;
    o.in.n_recipients = 2;
    o.in.local = false;
    o.in.creator_org = 7;
    o.in.source_peer = "peer-x";
    o.in.source_peer_len = 6;
    insert(f, &o, STORE_INS_ADDED, NULL);
    q.collection = f->coll.key;
    assert_int_equal(store_objects_query(f->st, &q, see_all, NULL, &got, NULL, &err), MRD_OK);
    assert_int_equal(got.tlp, POLICY_TLP_RED);
    assert_false(got.local);
    assert_int_equal(got.creator_org, 7);
    assert_int_equal(got.n_recipients, 2);
    assert_int_equal(got.recipients[1], 12);
    /* no community given: the collection's API root */
    assert_int_equal(got.community_len, 6);
    assert_memory_equal(got.community, "europe", 6);
}

static void test_status(void **state)
{
    struct fx *f = *state;
    struct store_status_detail d[2] = {{0}};
    struct store_status s = {0}, *got = NULL;
    uint64_t purged = 0;

    store_uuid4(s.id);
    (void)snprintf(s.api_root, sizeof(s.api_root), "europe");
    s.org_key = f->partner.key;
    s.request_usec = mrd_time_now_usec();
    s.complete = true;
    s.total_count = 2;
    s.success_count = 1;
    s.failure_count = 1;
    d[0].kind = STORE_ST_SUCCESS;
    (void)snprintf(d[0].id, sizeof(d[0].id), "indicator--1");
    d[0].version_usec = 2000000;
    d[1].kind = STORE_ST_FAILURE;
    (void)snprintf(d[1].id, sizeof(d[1].id), "indicator--2");
    (void)snprintf(d[1].message, sizeof(d[1].message), "stix: missing pattern");
    s.details = d;
    s.n_details = 2;
    assert_int_equal(store_status_put(f->st, &s, NULL), MRD_OK);
    assert_int_equal(store_status_get(f->st, s.id, strlen(s.id), &got, NULL), MRD_OK);
    assert_int_equal(got->org_key, f->partner.key);
    assert_true(got->complete);
    assert_int_equal(got->total_count, 2);
    assert_int_equal(got->failure_count, 1);
    assert_int_equal(got->n_details, 2);
    assert_string_equal(got->details[1].message, "stix: missing pattern");
    assert_int_equal(got->details[0].version_usec, 2000000);
    store_status_free(got);
    got = NULL;
    /* kept while young, purged when old */
    assert_int_equal(
        store_status_purge(f->st, s.request_usec - STORE_STATUS_KEEP_USEC, &purged, NULL), MRD_OK);
    assert_int_equal(purged, 0);
    assert_true(STORE_STATUS_KEEP_USEC >= (int64_t)24 * 3600 * 1000000);
    assert_int_equal(store_status_purge(f->st, s.request_usec + 1, &purged, NULL), MRD_OK);
    assert_int_equal(purged, 1);
    assert_int_equal(store_status_get(f->st, s.id, strlen(s.id), &got, NULL), MRD_E_NOTFOUND);
    assert_null(got);
    store_status_free(NULL);
}

/* ---- concurrency and durability ---- */

struct writer {
    struct store *st;
    int64_t coll;
    int base;
    enum mrd_code rc;
};

#define PER_THREAD 400

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct mrd_err err = {0};

    for (int i = 0; i < PER_THREAD && w->rc == MRD_OK; i += 4) {
        struct obj o[4];
        struct store_object_in in[4];
        for (int k = 0; k < 4; k++) {
            make_obj(&o[k], "indicator", w->base + i + k, 2000000, POLICY_TLP_GREEN);
            in[k] = o[k].in;
        }
        w->rc = store_objects_insert(w->st, w->coll, in, 4, NULL, NULL, &err);
    }
    return NULL;
}

struct order {
    int64_t last_date, last_seq;
    size_t n;
    bool ok;
};

static enum mrd_code check_order(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct order *o = ctx;

    (void)err;
    /* in date_added order, seq (insert order) must rise too: date_added
     * follows commit order, and never repeats */
    if (o->n > 0 && (row->date_added <= o->last_date || row->seq <= o->last_seq))
        o->ok = false;
    o->last_date = row->date_added;
    o->last_seq = row->seq;
    o->n++;
    return MRD_OK;
}

static void test_concurrent_writers(void **state)
{
    struct fx *f = *state;
    struct store *second = NULL;
    struct writer w[3];
    pthread_t th[3];
    struct order ord = {.ok = true};
    struct store_query q = {.added_after = STORE_TIME_NONE, .collection = f->coll.key};
    struct mrd_err err = {0};

    /* two threads on one handle, one on a second handle (as another
     * process would be): all three contend for the write lock */
    assert_int_equal(store_open(pg_dsn != NULL ? pg_dsn : f->dir, NULL, &second, &err), MRD_OK);
    for (int i = 0; i < 3; i++) {
        w[i] = (struct writer){i == 2 ? second : f->st, f->coll.key, 10000 * (i + 1), MRD_OK};
        assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].rc, MRD_OK);
    }
    store_close(second);
    assert_int_equal(store_objects_query(f->st, &q, NULL, check_order, &ord, NULL, &err), MRD_OK);
    assert_int_equal(ord.n, 3 * PER_THREAD);
    assert_true(ord.ok);
}

/* A child inserts and reports each acknowledged insert through a pipe; it
 * is killed with SIGKILL mid-stream. Every acknowledged object must be in
 * the database afterwards. */
static void test_kill9_loses_nothing_acknowledged(void **state)
{
    struct fx *f = *state;
    int fds[2];
    pid_t pid;
    int acked = 0, status;
    char buf[4096];
    uint64_t count = 0;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *st = NULL;
        (void)close(fds[0]);
        if (store_open(f->dir, NULL, &st, NULL) != MRD_OK)
            _exit(3);
        for (int i = 0;; i++) {
            struct obj o;
            make_obj(&o, "indicator", 50000 + i, 2000000, POLICY_TLP_GREEN);
            if (store_objects_insert(st, f->coll.key, &o.in, 1, NULL, NULL, NULL) != MRD_OK)
                _exit(4);
            if (write(fds[1], "a", 1) != 1)
                _exit(5);
        }
    }
    (void)close(fds[1]);
    while (acked < 50) {
        ssize_t r = read(fds[0], buf, sizeof(buf));
        assert_true(r > 0);
        acked += (int)r;
    }
    assert_int_equal(kill(pid, SIGKILL), 0);
    for (;;) { /* drain acknowledgements written before the kill */
        ssize_t r = read(fds[0], buf, sizeof(buf));
        if (r <= 0)
            break;
        acked += (int)r;
    }
    (void)close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(store_objects_count(f->st, f->coll.key, &count, NULL), MRD_OK);
    assert_true(count >= (uint64_t)acked);
    assert_true(count <= (uint64_t)acked + 1); /* at most one committed, not yet acked */
}

/* SQLite's WAL is copied into the database by the store's checkpoint
 * thread while the store stays open (store_sqlite_ckpt.c), not inside a
 * COMMIT: after requests that put well over 1,000 pages in the WAL,
 * meridian.db grows without a close. */
static void test_wal_checkpointed_while_open(void **state)
{
    enum { PER = 32, REQS = 48, BODY = 4096 };
    struct fx *f = *state;
    struct obj *o = calloc(PER, sizeof(*o));
    struct store_object_in *in = calloc(PER, sizeof(*in));
    char *bodies = malloc((size_t)PER * BODY);
    char db[TEST_DIR_MAX + 32];
    struct stat sb;
    off_t before;
    struct mrd_err err = {0};
    bool grew = false;

    assert_non_null(o);
    assert_non_null(in);
    assert_non_null(bodies);
    (void)snprintf(db, sizeof(db), "%s/%s", f->dir, STORE_SQLITE_FILE);
    assert_int_equal(stat(db, &sb), 0);
    before = sb.st_size;
    for (int r = 0; r < REQS; r++) {
        for (int k = 0; k < PER; k++) {
            char *b = bodies + (size_t)k * BODY;
            int len;

            make_obj(&o[k], "indicator", r * PER + k, 2000000, POLICY_TLP_GREEN);
            len = snprintf(b, BODY, "{\"description\":\"");
            while (len < BODY - 200)
                len += snprintf(b + len, (size_t)(BODY - len), "w%d ", len);
            len +=
                snprintf(b + len, (size_t)(BODY - len),
                         "\",\"id\":\"%s\",\"modified\":2000000,\"type\":\"indicator\"}", o[k].id);
            in[k] = o[k].in;
            in[k].body = b;
            in[k].body_len = (size_t)len;
        }
        assert_int_equal(store_objects_insert(f->st, f->coll.key, in, PER, NULL, NULL, &err),
                         MRD_OK);
    }
    /* the thread runs beside the test: poll, bounded */
    for (int i = 0; i < 3000 && !grew; i++) {
        assert_int_equal(stat(db, &sb), 0);
        grew = sb.st_size >= before + (off_t)PER * REQS * BODY / 2;
        if (!grew)
            (void)usleep(10000);
    }
    assert_true(grew);
    { /* ... by a thread of the store's: this test starts none */
        int tasks = 0;
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;

        assert_non_null(d);
        while ((e = readdir(d)) != NULL)
            tasks += e->d_name[0] != '.';
        (void)closedir(d);
        assert_true(tasks >= 2);
    }
    free(bodies);
    free(in);
    free(o);
}

/* A schema-1 database (no first/last flags) is migrated on open, and the
 * flags it gets are right for objects stored before. */
static void test_migration_from_v1(void **state)
{
    struct fx *f = *state;
    struct obj v[3];
    struct store *again = NULL;
    struct store_match m = {.versions = STORE_VER_LAST};
    struct store_query q = {.added_after = STORE_TIME_NONE, .match = &m};
    struct sink s = {.hide_version = -1};
    char path[128];
    sqlite3 *db;
    struct mrd_err err = {0};

    for (int i = 0; i < 3; i++) {
        make_obj(&v[i], "malware", 30, 3000000 - i * 500000, POLICY_TLP_GREEN);
        insert(f, &v[i], STORE_INS_ADDED, NULL);
    }
    store_close(f->st);
    f->st = NULL;
    (void)snprintf(path, sizeof(path), "%s/%s", f->dir, STORE_SQLITE_FILE);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  /* 19 -> 20 changed no table */
                                  "DROP TABLE agg_paused;" /* 18 -> 19 */
                                  "DROP TRIGGER agg_insert; DROP TRIGGER agg_insert_sighting;"
                                  "DROP TRIGGER agg_delete; DROP TRIGGER agg_delete_sighting;"
                                  "DROP TRIGGER agg_moved; DROP TRIGGER agg_update_sighting_old;"
                                  "DROP TRIGGER agg_update_sighting_new;"
                                  "DROP TABLE agg_keys; DROP TABLE agg_objects;"
                                  "DROP TABLE agg_sightings; DROP TABLE agg_sighted;"
                                  "DROP TABLE agg_sent; DROP INDEX objects_from_peers;"
                                  "DROP TABLE text_index; DROP TABLE ref_index;"
                                  "DELETE FROM meta WHERE key = 'text_index';"
                                  "DROP INDEX tokens_prev;"
                                  "DROP TABLE delivery_items; DROP TABLE deliveries;"
                                  "DROP TABLE contacts; DROP TABLE delivery_attempts;"
                                  "DROP TRIGGER access_pages_no_update;"
                                  "DROP TRIGGER access_pages_no_delete;"
                                  "DROP TABLE access_digests; DROP TABLE access_pages;"
                                  "DROP TABLE notifications; DROP TABLE assets;"
                                  "ALTER TABLE tokens DROP COLUMN expires;"
                                  "ALTER TABLE tokens DROP COLUMN last_used;"
                                  "ALTER TABLE tokens DROP COLUMN prev_hash;"
                                  "ALTER TABLE tokens DROP COLUMN prev_expires;"
                                  "ALTER TABLE tokens DROP COLUMN prev_last_used;"
                                  "ALTER TABLE orgs DROP COLUMN disabled;"
                                  "ALTER TABLE orgs DROP COLUMN deleted;"
                                  "DROP TABLE hold_items; DROP TABLE holds;"
                                  "DROP TABLE ledger_events;"
                                  "DROP TABLE object_leaves;"
                                  "DROP TABLE sessions; DROP TABLE value_index;"
                                  "DELETE FROM meta WHERE key = 'value_index';"
                                  "DROP TABLE conflicts; DROP INDEX objects_current;"
                                  "DROP TABLE feeds; DROP TABLE feed_items;"
                                  "ALTER TABLE objects DROP COLUMN signer;"
                                  "ALTER TABLE objects DROP COLUMN writer_only;"
                                  "ALTER TABLE objects DROP COLUMN is_first;"
                                  "ALTER TABLE objects DROP COLUMN is_last;"
                                  "ALTER TABLE objects DROP COLUMN twin;"
                                  "ALTER TABLE objects DROP COLUMN shadowed;"
                                  "ALTER TABLE objects DROP COLUMN shadowed_first;"
                                  "DROP INDEX objects_version;"
                                  "CREATE UNIQUE INDEX objects_version ON"
                                  " objects(collection, stix_id, version);"
                                  "UPDATE schema_version SET version = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    (void)sqlite3_close(db);
    assert_int_equal(store_open(f->dir, NULL, &again, &err), MRD_OK);
    f->st = again;
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 3000000);
    m.versions = STORE_VER_FIRST;
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 2000000);
    /* a new newest version takes the flag over */
    make_obj(&v[0], "malware", 30, 4000000, POLICY_TLP_GREEN);
    insert(f, &v[0], STORE_INS_ADDED, NULL);
    m.versions = STORE_VER_LAST;
    query(f, &q, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.versions[0], 4000000);
    /* the overview's counters were built from the stored rows, then kept */
    assert_int_equal(agg_sum(f, false).objects, 4);
}

/* Many threads inserting at once share commits (group commit) and every
 * request still gets its own outcome; a request for a missing collection
 * fails alone. */
struct grp {
    struct store *st;
    int64_t coll;
    int base;
    enum mrd_code rc;
    enum store_insert_outcome out[8];
};

static void *grp_main(void *arg)
{
    struct grp *g = arg;
    struct obj o[8];
    struct store_object_in in[8];

    for (int k = 0; k < 8; k++) {
        /* half of each batch repeats the previous thread's objects */
        make_obj(&o[k], "indicator", g->base + k, 2000000, POLICY_TLP_GREEN);
        in[k] = o[k].in;
    }
    g->rc = store_objects_insert(g->st, g->coll, in, 8, g->out, NULL, NULL);
    return NULL;
}

static void test_group_commit_outcomes(void **state)
{
    struct fx *f = *state;
    struct grp g[12];
    pthread_t th[12];
    uint64_t count = 0;
    size_t added = 0, dups = 0;

    for (int i = 0; i < 12; i++) {
        g[i] = (struct grp){f->st, i == 5 ? 9999 : f->coll.key, 4 * i, MRD_OK, {0}};
        assert_int_equal(pthread_create(&th[i], NULL, grp_main, &g[i]), 0);
    }
    for (int i = 0; i < 12; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        if (i == 5) {
            assert_int_equal(g[i].rc, MRD_E_NOTFOUND);
            continue;
        }
        assert_int_equal(g[i].rc, MRD_OK);
        for (int k = 0; k < 8; k++) {
            if (g[i].out[k] == STORE_INS_ADDED)
                added++;
            else
                dups++;
        }
    }
    /* thread i writes ids 4i..4i+7: without thread 5, ids 0..51 are still
     * all covered, most of them twice */
    assert_int_equal(store_objects_count(f->st, f->coll.key, &count, NULL), MRD_OK);
    assert_int_equal(count, added);
    assert_int_equal(added + dups, 11 * 8);
    assert_int_equal(count, 52);
}

/* Every allocation failure in the store's own code comes back as
 * MRD_E_NOMEM (ASan checks nothing leaks), and the store keeps working. */
static void test_alloc_failures(void **state)
{
    struct fx *f = *state;
    struct store_status_detail d[3] = {{0}};
    struct store_status s = {0}, *got = NULL;
    struct obj o;
    struct store_match all = {.versions = STORE_VER_ALL};
    struct store_query q = {.added_after = STORE_TIME_NONE, .match = &all};
    struct sink sk = {.hide_version = -1};
    struct store *other = NULL;
    bool saw_nomem = false;

    store_uuid4(s.id);
    s.details = d;
    s.n_details = 3;
    assert_int_equal(store_status_put(f->st, &s, NULL), MRD_OK);
    make_obj(&o, "indicator", 1, 2000000, POLICY_TLP_GREEN);
    insert(f, &o, STORE_INS_ADDED, NULL);
    q.collection = f->coll.key;
    for (long n = 0; n < 40; n++) {
        enum mrd_code rc;
        mrd_alloc_fail_after(n);
        rc = store_status_get(f->st, s.id, strlen(s.id), &got, NULL);
        mrd_alloc_fail_after(-1);
        assert_true(rc == MRD_OK || rc == MRD_E_NOMEM);
        saw_nomem = saw_nomem || rc == MRD_E_NOMEM;
        store_status_free(got);
        got = NULL;
        mrd_alloc_fail_after(n);
        rc = store_objects_query(f->st, &q, vis, emit, &sk, NULL, NULL);
        mrd_alloc_fail_after(-1);
        assert_true(rc == MRD_OK || rc == MRD_E_NOMEM);
        mrd_alloc_fail_after(n);
        rc = store_open(f->dir, NULL, &other, NULL);
        mrd_alloc_fail_after(-1);
        assert_true(rc == MRD_OK || rc == MRD_E_NOMEM);
        store_close(other);
        other = NULL;
    }
    assert_true(saw_nomem);
    assert_int_equal(store_status_get(f->st, s.id, strlen(s.id), &got, NULL), MRD_OK);
    assert_int_equal(got->n_details, 3);
    store_status_free(got);
    query(f, &q, &sk);
    assert_int_equal(sk.n, 1);
}

/* Objects and their status in one transaction: both there after success,
 * neither after a failure. */
static void test_insert_with_status(void **state)
{
    struct fx *f = *state;
    struct obj o;
    struct store_status_detail d = {0};
    struct store_status s = {0}, *got = NULL;
    enum store_insert_outcome out;
    int64_t date = 0;
    struct store_query q = {.collection = f->coll.key, .added_after = STORE_TIME_NONE};
    struct sink sink = {0};
    struct mrd_err err = {0};

    make_obj(&o, "indicator", 1, 5000000, POLICY_TLP_GREEN);
    store_uuid4(s.id);
    (void)snprintf(s.api_root, sizeof(s.api_root), "europe");
    s.org_key = f->own.key;
    s.request_usec = mrd_time_now_usec();
    s.complete = true;
    s.total_count = s.success_count = 1;
    d.kind = STORE_ST_SUCCESS;
    (void)snprintf(d.id, sizeof(d.id), "%s", o.id);
    d.version_usec = 5000000;
    s.details = &d;
    s.n_details = 1;
    assert_int_equal(
        store_objects_insert_status(f->st, f->coll.key, &o.in, 1, &out, &date, &s, &err), MRD_OK);
    assert_int_equal(out, STORE_INS_ADDED);
    assert_true(date > 0);
    assert_int_equal(store_status_get(f->st, s.id, strlen(s.id), &got, NULL), MRD_OK);
    assert_int_equal(got->n_details, 1);
    assert_string_equal(got->details[0].id, o.id);
    store_status_free(got);
    got = NULL;
    (void)query(f, &q, &sink);
    assert_int_equal(sink.n, 1);

    /* An unknown collection fails the call: no object, no status. */
    make_obj(&o, "indicator", 2, 5000000, POLICY_TLP_GREEN);
    store_uuid4(s.id);
    assert_int_not_equal(store_objects_insert_status(f->st, 999999, &o.in, 1, NULL, NULL, &s, &err),
                         MRD_OK);
    assert_int_equal(store_status_get(f->st, s.id, strlen(s.id), &got, NULL), MRD_E_NOTFOUND);
    /* Failures only (n = 0): the status alone. */
    store_uuid4(s.id);
    d.kind = STORE_ST_FAILURE;
    assert_int_equal(store_objects_insert_status(f->st, f->coll.key, NULL, 0, NULL, NULL, &s, &err),
                     MRD_OK);
    assert_int_equal(store_status_get(f->st, s.id, strlen(s.id), &got, NULL), MRD_OK);
    assert_int_equal(got->details[0].kind, STORE_ST_FAILURE);
    store_status_free(got);
    memset(&sink, 0, sizeof(sink));
    (void)query(f, &q, &sink);
    assert_int_equal(sink.n, 1);
}

/* ---- holds and the ledger queue ---- */

struct queue_sink {
    size_t n;
    bool event[16];
    int64_t key[16];
};

static enum mrd_code queue_cb(void *ctx, const struct store_ledger_item *it, struct mrd_err *err)
{
    struct queue_sink *q = ctx;

    (void)err;
    assert_true(q->n < 16);
    q->event[q->n] = it->event;
    q->key[q->n] = it->key;
    q->n++;
    return MRD_OK;
}

static enum mrd_code held_cb(void *ctx, const struct store_held *o, struct mrd_err *err)
{
    struct sink *s = ctx;

    (void)err;
    assert_non_null(o->row->body);
    s->seqs[s->n++] = o->row->seq;
    return MRD_OK;
}

static void test_holds_and_ledger_queue(void **state)
{
    struct fx *f = *state;
    struct obj v[2];
    struct sink s = {.hide_version = -1};
    struct store_find find = {.version_usec = STORE_TIME_NONE, .leaf = -1};
    struct store_hold h = {.created_usec = 1, .released_usec = STORE_TIME_NONE};
    struct store_ledger_event ev = {.kind = 2, .time_usec = 5, .record = "{}", .record_len = 2};
    struct store_ledger_mark marks[3];
    struct queue_sink q = {0};
    struct mrd_err err = {0};
    int64_t max_leaf = 0;
    size_t n = 0;

    for (int i = 0; i < 2; i++) {
        make_obj(&v[i], "malware", 20, 2000000 + i * 1000000, POLICY_TLP_GREEN);
        insert(f, &v[i], STORE_INS_ADDED, NULL);
    }
    find.id = v[0].id;
    find.id_len = strlen(v[0].id);
    assert_int_equal(store_objects_find(f->st, &find, held_cb, &s, &err), MRD_OK);
    assert_int_equal(s.n, 2);
    /* hold the first version only */
    store_uuid4(h.id);
    (void)snprintf(h.case_id, sizeof(h.case_id), "case-1");
    h.expires_usec = mrd_time_now_usec() + 3600000000;
    h.record = "{\"a\":1}";
    h.record_len = strlen(h.record);
    assert_int_equal(store_hold_create(f->st, &h, &s.seqs[0], 1, &ev, &err), MRD_OK);
    assert_int_equal(store_hold_create(f->st, &h, &s.seqs[0], 1, &ev, &err), MRD_E_EXISTS);
    assert_int_equal(store_objects_delete(f->st, f->coll.key, v[0].id, strlen(v[0].id), NULL, NULL,
                                          NULL, &n, &err),
                     MRD_E_PERM);
    assert_non_null(strstr(err.msg, h.id));
    /* nothing was deleted, not even the version the hold does not cover */
    s.n = 0;
    assert_int_equal(store_objects_find(f->st, &find, held_cb, &s, &err), MRD_OK);
    assert_int_equal(s.n, 2);
    /* the queue: both versions, then the event */
    assert_int_equal(store_ledger_pending(f->st, 100, queue_cb, &q, &err), MRD_OK);
    assert_int_equal(q.n, 3);
    assert_false(q.event[0]);
    assert_false(q.event[1]);
    assert_true(q.event[2]);
    assert_int_equal(store_ledger_max_leaf(f->st, &max_leaf, &err), MRD_OK);
    assert_int_equal(max_leaf, -1);
    for (size_t i = 0; i < 3; i++)
        marks[i] =
            (struct store_ledger_mark){.event = q.event[i], .key = q.key[i], .leaf = (int64_t)i};
    assert_int_equal(store_ledger_mark(f->st, marks, 3, &err), MRD_OK);
    assert_int_equal(store_ledger_max_leaf(f->st, &max_leaf, &err), MRD_OK);
    assert_int_equal(max_leaf, 2);
    q.n = 0;
    assert_int_equal(store_ledger_pending(f->st, 100, queue_cb, &q, &err), MRD_OK);
    assert_int_equal(q.n, 0);
    /* by leaf */
    find = (struct store_find){.version_usec = STORE_TIME_NONE, .leaf = 1};
    s.n = 0;
    assert_int_equal(store_objects_find(f->st, &find, held_cb, &s, &err), MRD_OK);
    assert_int_equal(s.n, 1);
    /* released: the delete goes through, and the release is queued */
    h.released_usec = mrd_time_now_usec();
    assert_int_equal(store_hold_update(f->st, &h, &ev, &err), MRD_OK);
    assert_int_equal(store_objects_delete(f->st, f->coll.key, v[0].id, strlen(v[0].id), NULL, NULL,
                                          NULL, &n, &err),
                     MRD_OK);
    assert_int_equal(n, 2);
    q.n = 0;
    assert_int_equal(store_ledger_pending(f->st, 100, queue_cb, &q, &err), MRD_OK);
    assert_int_equal(q.n, 1);
    assert_true(q.event[0]);
    /* argument checks */
    h.case_id[0] = '\0';
    assert_int_equal(store_hold_create(f->st, &h, NULL, 0, &ev, &err), MRD_E_INVAL);
    store_uuid4(h.id);
    assert_int_equal(store_hold_update(f->st, &(struct store_hold){.id = "x"}, &ev, &err),
                     MRD_E_INVAL);
}

/* A pinned read snapshot: reads on this thread see the database as of the
 * first read after store_read_begin, even after a committed write made by
 * this same thread (an object, a grant: on other connections, which the
 * pin must not block); store_read_end lets the next read see it. */
static void test_read_pin(void **state)
{
    struct fx *f = *state;
    struct obj o, o2;
    struct store_query q = {.collection = f->coll.key, .added_after = STORE_TIME_NONE};
    struct sink sink = {0};
    struct store_collection c;
    struct store_grant gr;
    struct mrd_err err = {0};

    assert_int_equal(store_read_begin(f->st, &err), MRD_OK);
    assert_int_equal(store_read_begin(f->st, &err), MRD_OK); /* nested: no-op */
    (void)query(f, &q, &sink);
    assert_int_equal(sink.n, 0);
    assert_int_equal(
        store_collection_get(f->st, "europe", 6, f->coll.id, strlen(f->coll.id), &c, &err), MRD_OK);
    assert_int_equal(store_grant_get(f->st, f->partner.key, f->coll.key, &gr, &err), MRD_OK);
    assert_false(gr.can_read);
    make_obj(&o, "indicator", 7, 5000000, POLICY_TLP_GREEN);
    insert(f, &o, STORE_INS_ADDED, NULL); /* another connection, committed */
    assert_int_equal(store_grant_set(f->st, f->partner.key, f->coll.key,
                                     (struct store_grant){true, false}, &err),
                     MRD_OK);
    memset(&sink, 0, sizeof(sink));
    (void)query(f, &q, &sink);
    assert_int_equal(sink.n, 0); /* still the pinned snapshot */
    assert_int_equal(store_grant_get(f->st, f->partner.key, f->coll.key, &gr, &err), MRD_OK);
    assert_false(gr.can_read);
    store_read_end(f->st);
    assert_int_equal(store_grant_get(f->st, f->partner.key, f->coll.key, &gr, &err), MRD_OK);
    assert_true(gr.can_read);
    store_read_end(f->st); /* without a pin: no-op */
    memset(&sink, 0, sizeof(sink));
    (void)query(f, &q, &sink);
    assert_int_equal(sink.n, 1);
    /* A second pin on the same thread reuses its connection and sees it,
     * and what was committed after the first pin ended (on PostgreSQL the
     * next BEGIN is sent at store_read_end: its snapshot must still be
     * taken by the first read). */
    make_obj(&o2, "indicator", 8, 6000000, POLICY_TLP_GREEN);
    insert(f, &o2, STORE_INS_ADDED, NULL);
    assert_int_equal(store_read_begin(f->st, &err), MRD_OK);
    memset(&sink, 0, sizeof(sink));
    (void)query(f, &q, &sink);
    assert_int_equal(sink.n, 2);
    store_read_end(f->st);
}

#ifdef MRD_HAVE_PQ
/* The one integer a statement on c answers; -1 on failure. */
static long long pg_int(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    long long v = -1;

    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        v = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* PostgreSQL: between two pins the thread's connection waits "idle in
 * transaction" (the next BEGIN sent ahead, no snapshot yet). Terminated
 * there by the server (a restart, a failover, an operator), it is
 * reconnected by the next pin's first read, which succeeds and sees what
 * was committed meanwhile. */
static void test_read_pin_reconnect(void **state)
{
    struct fx *f = *state;
    struct obj o;
    struct store_query q = {.collection = f->coll.key, .added_after = STORE_TIME_NONE};
    struct sink sink = {0};
    struct mrd_err err = {0};
    PGconn *admin = PQconnectdb(pg_dsn);
    char sql[200];
    long long pid = -1;

    assert_int_equal(PQstatus(admin), CONNECTION_OK);
    assert_int_equal(store_read_begin(f->st, &err), MRD_OK);
    (void)query(f, &q, &sink);
    assert_int_equal(sink.n, 0);
    store_read_end(f->st);
    /* the pinned backend: the only one idle in a transaction (polled: the
     * ROLLBACK and BEGIN were sent without waiting) */
    for (int i = 0; i < 1000 && pid < 0; i++) {
        pid = pg_int(admin, "SELECT max(pid) FROM pg_stat_activity WHERE datname ="
                            " current_database() AND state = 'idle in transaction'"
                            " HAVING count(*) = 1");
        if (pid < 0)
            (void)usleep(10000);
    }
    assert_true(pid > 0);
    (void)snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)::int", pid);
    assert_int_equal(pg_int(admin, sql), 1);
    (void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE pid = %lld", pid);
    for (int i = 0; i < 1000 && pg_int(admin, sql) != 0; i++)
        (void)usleep(10000);
    assert_int_equal(pg_int(admin, sql), 0);
    make_obj(&o, "indicator", 7, 5000000, POLICY_TLP_GREEN);
    insert(f, &o, STORE_INS_ADDED, NULL);
    assert_int_equal(store_read_begin(f->st, &err), MRD_OK);
    (void)query(f, &q, &sink); /* asserts MRD_OK */
    assert_int_equal(sink.n, 1);
    store_read_end(f->st);
    PQfinish(admin);
}

/* PostgreSQL: a statement a connection runs a second time is prepared on
 * it and run by name. The server forgets its prepared statements with the
 * session: after every backend of the store was terminated, the same
 * statements run again on the reconnected connections (prepared anew),
 * with the same answers. */
static void test_prepared_reconnect(void **state)
{
    struct fx *f = *state;
    struct store_grant before, after;
    struct mrd_err err = {0};
    PGconn *admin = PQconnectdb(pg_dsn);
    const char *others = "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                         " current_database() AND pid <> pg_backend_pid()";
    const char *kill = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE"
                       " datname = current_database() AND pid <> pg_backend_pid()";

    assert_int_equal(PQstatus(admin), CONNECTION_OK);
    for (int i = 0; i < 8; i++) /* prepared by the second: run by name after */
        assert_int_equal(store_grant_get(f->st, f->partner.key, f->coll.key, &before, &err),
                         MRD_OK);
    assert_true(pg_int(admin, others) > 0);
    assert_true(pg_int(admin, kill) > 0);
    for (int i = 0; i < 1000 && pg_int(admin, others) != 0; i++)
        (void)usleep(10000);
    assert_int_equal(pg_int(admin, others), 0);
    for (int i = 0; i < 8; i++) {
        after = (struct store_grant){!before.can_read, !before.can_write};
        assert_int_equal(store_grant_get(f->st, f->partner.key, f->coll.key, &after, &err), MRD_OK);
        assert_int_equal(after.can_read, before.can_read);
        assert_int_equal(after.can_write, before.can_write);
    }
    PQfinish(admin);
}
#endif

/* Scheduled feeds: create once, config and state replaced apart, the
 * remembered ids replaced whole, remove takes the ids with it. */
static enum mrd_code feed_seen(void *ctx, const struct store_feed *fd, struct mrd_err *err)
{
    char *out = ctx;
    (void)err;
    (void)snprintf(out, 256, "%s|%.*s|%.*s", fd->name, (int)fd->config_len, fd->config,
                   (int)fd->state_len, fd->state);
    return MRD_OK;
}

static enum mrd_code feed_item_seen(void *ctx, const char *id, size_t len, struct mrd_err *err)
{
    char *out = ctx;
    (void)err;
    (void)snprintf(out + strlen(out), 256 - strlen(out), "%.*s;", (int)len, id);
    return MRD_OK;
}

static void test_feeds(void **state)
{
    struct fx *f = *state;
    const char *ids[] = {"indicator--b", "indicator--a"};
    char got[256] = "";
    struct mrd_err err = {0};

    assert_int_equal(store_feed_put(f->st, STORE_FEED_CREATE, "f1", "{\"u\":1}", "{}", &err),
                     MRD_OK);
    assert_int_equal(store_feed_put(f->st, STORE_FEED_CREATE, "f1", "{}", "{}", &err),
                     MRD_E_EXISTS);
    assert_int_equal(store_feed_put(f->st, STORE_FEED_CREATE, "../x", "{}", "{}", &err),
                     MRD_E_INVAL);
    assert_int_equal(store_feed_put(f->st, STORE_FEED_STATE, "f1", NULL, "{\"s\":2}", &err),
                     MRD_OK);
    assert_int_equal(store_feed_put(f->st, STORE_FEED_CONFIG, "nope", "{}", NULL, &err),
                     MRD_E_NOTFOUND);
    assert_int_equal(store_feed_list(f->st, "f1", feed_seen, got, &err), MRD_OK);
    assert_string_equal(got, "f1|{\"u\":1}|{\"s\":2}");
    assert_int_equal(store_feed_list(f->st, "f2", feed_seen, got, &err), MRD_E_NOTFOUND);
    assert_int_equal(store_feed_items_set(f->st, "f1", ids, 2, &err), MRD_OK);
    got[0] = '\0';
    assert_int_equal(store_feed_items(f->st, "f1", feed_item_seen, got, &err), MRD_OK);
    assert_string_equal(got, "indicator--a;indicator--b;");
    assert_int_equal(store_feed_items_set(f->st, "f1", ids, 1, &err), MRD_OK);
    got[0] = '\0';
    assert_int_equal(store_feed_items(f->st, "f1", feed_item_seen, got, &err), MRD_OK);
    assert_string_equal(got, "indicator--b;");
    assert_int_equal(store_feed_remove(f->st, "f1", &err), MRD_OK);
    assert_int_equal(store_feed_remove(f->st, "f1", &err), MRD_E_NOTFOUND);
    got[0] = '\0';
    assert_int_equal(store_feed_items(f->st, "f1", feed_item_seen, got, &err), MRD_OK);
    assert_string_equal(got, "");
}

/* Constituency assets, notifications (with their STIX form, squelching
 * and the routing cursor), contacts and deliveries: the same on both
 * backends. */
struct ew_sink {
    size_t n;
    int64_t ids[8];
    char texts[8][64];
    int status[8];
};

static enum mrd_code asset_seen(void *ctx, const struct store_asset *a, struct mrd_err *err)
{
    struct ew_sink *s = ctx;

    (void)err;
    assert_true(s->n < 8);
    s->ids[s->n] = a->id;
    s->status[s->n] = a->status;
    (void)snprintf(s->texts[s->n++], sizeof(s->texts[0]), "%s:%s:%u", a->org_name, a->text,
                   (unsigned)a->v.len);
    return MRD_OK;
}

static enum mrd_code notif_seen(void *ctx, const struct store_notification *n, struct mrd_err *err)
{
    struct ew_sink *s = ctx;

    (void)err;
    assert_true(s->n < 8);
    s->ids[s->n] = n->id;
    s->status[s->n] = n->squelched;
    (void)snprintf(s->texts[s->n++], sizeof(s->texts[0]), "%s:%s:%s", n->org_name, n->asset_text,
                   n->value);
    return MRD_OK;
}

static enum mrd_code contact_seen(void *ctx, const struct store_contact *c, struct mrd_err *err)
{
    struct ew_sink *s = ctx;

    (void)err;
    assert_true(s->n < 8);
    s->ids[s->n] = c->id;
    (void)snprintf(s->texts[s->n++], sizeof(s->texts[0]), "%s:%s:%s", c->address, c->pgp_key,
                   c->schedule);
    return MRD_OK;
}

static enum mrd_code delivery_seen(void *ctx, const struct store_delivery *d, struct mrd_err *err)
{
    struct ew_sink *s = ctx;

    (void)err;
    assert_true(s->n < 8);
    s->ids[s->n] = d->id;
    s->status[s->n] = d->status;
    (void)snprintf(s->texts[s->n++], sizeof(s->texts[0]), "%s:%zu:%u:%s", d->address, d->n_items,
                   d->attempts, d->error);
    return MRD_OK;
}

static enum mrd_code attempt_seen(void *ctx, const struct store_delivery_attempt *a,
                                  struct mrd_err *err)
{
    struct ew_sink *s = ctx;

    (void)err;
    assert_true(s->n < 8);
    s->status[s->n] = a->status;
    (void)snprintf(s->texts[s->n++], sizeof(s->texts[0]), "%s", a->error);
    return MRD_OK;
}

static void test_notifications_and_deliveries(void **state)
{
    struct fx *f = *state;
    struct store_asset a = {.org = f->partner.key,
                            .kind = 2,
                            .v = {.kind = 1, .len = 3},
                            .status = STORE_ASSET_PENDING};
    struct store_asset was;
    struct store_notification n[3];
    struct store_contact c = {
        .org = f->partner.key, .channel = STORE_CHANNEL_EMAIL, .pgp_key = "KEY"};
    struct store_delivery_plan plan[2];
    struct store_delivery_filter all = {.status = -1};
    struct store_delivery d;
    struct ew_sink s = {0};
    struct obj stix;
    struct sink objs = {.hide_version = -1};
    struct store_query q = {.collection = f->coll.key, .added_after = STORE_TIME_NONE};
    char val[32];
    struct mrd_err err = {0};

    /* assets: added, listed with the org's name and the value key, the
     * generation moved by each change, approved, removed */
    memcpy(a.v.key, "\x0a\x00\x01", 3);
    (void)snprintf(a.text, sizeof(a.text), "10.0.1.0/24");
    assert_int_equal(store_asset_add(f->st, &a, &err), MRD_OK);
    assert_true(a.id > 0);
    assert_int_equal(store_asset_add(f->st, &a, &err), MRD_E_EXISTS);
    assert_int_equal(store_meta_get(f->st, STORE_NOTIFY_ASSETS_GEN_KEY, val, sizeof(val), &err),
                     MRD_OK);
    assert_string_equal(val, "1");
    assert_int_equal(store_assets_list(f->st, 0, asset_seen, &s, &err), MRD_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.texts[0], "cert-b:10.0.1.0/24:3");
    assert_int_equal(s.status[0], STORE_ASSET_PENDING);
    assert_int_equal(store_asset_set(f->st, a.id, f->own.key, STORE_ASSET_ACTIVE, NULL, &err),
                     MRD_E_NOTFOUND); /* not cert-a's */
    assert_int_equal(store_asset_set(f->st, a.id, 0, STORE_ASSET_ACTIVE, &was, &err), MRD_OK);
    assert_int_equal(was.status, STORE_ASSET_PENDING);
    s.n = 0;
    assert_int_equal(store_assets_list(f->st, f->partner.key, asset_seen, &s, &err), MRD_OK);
    assert_int_equal(s.status[0], STORE_ASSET_ACTIVE);
    assert_int_equal(store_meta_get(f->st, STORE_NOTIFY_ASSETS_GEN_KEY, val, sizeof(val), &err),
                     MRD_OK);
    assert_string_equal(val, "2");

    /* notifications: the second of the same value inside the window is
     * squelched; the STIX form of the first is stored with it; a repeated
     * round (same org, asset, seq) is a no-op; the cursor moves with them */
    make_obj(&stix, "note", 1, 2000000, POLICY_TLP_AMBER);
    memset(n, 0, sizeof(n));
    for (int i = 0; i < 2; i++) {
        n[i].org = f->partner.key;
        n[i].asset = a.id;
        n[i].seq = 100 + i;
        (void)snprintf(n[i].asset_text, sizeof(n[i].asset_text), "10.0.1.0/24");
        (void)snprintf(n[i].object_id, sizeof(n[i].object_id), "indicator--%d", i);
        (void)snprintf(n[i].kind, sizeof(n[i].kind), "indicator");
        (void)snprintf(n[i].value, sizeof(n[i].value), "10.0.1.7");
    }
    n[0].stix = &stix.in;
    n[0].stix_collection = f->coll.key;
    assert_int_equal(store_notifications_add(f->st, n, 2, 3600000000LL, 42, &err), MRD_OK);
    assert_true(n[0].id > 0);
    assert_false(n[0].squelched);
    assert_true(n[1].id > n[0].id);
    assert_true(n[1].squelched);
    assert_int_equal(n[0].stix_outcome, STORE_INS_ADDED);
    (void)query(f, &q, &objs);
    assert_int_equal(objs.n, 1);
    assert_string_equal(objs.ids[0], stix.id);
    assert_int_equal(store_meta_get(f->st, STORE_NOTIFY_CURSOR_KEY, val, sizeof(val), &err),
                     MRD_OK);
    assert_string_equal(val, "42");
    n[2] = n[0];
    n[2].stix = NULL;
    assert_int_equal(store_notifications_add(f->st, &n[2], 1, 3600000000LL, 43, &err), MRD_OK);
    assert_int_equal(n[2].id, 0); /* recorded already */
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_notifications_list(f->st, f->partner.key, 0, 10, notif_seen, &s, &err),
                     MRD_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.texts[0], "cert-b:10.0.1.0/24:10.0.1.7");
    assert_int_equal(s.status[1], 1);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_notifications_list(f->st, 0, n[0].id, 10, notif_seen, &s, &err), MRD_OK);
    assert_int_equal(s.n, 1);

    /* contacts and deliveries */
    (void)snprintf(c.address, sizeof(c.address), "soc@cert-b.example");
    (void)snprintf(c.schedule, sizeof(c.schedule), "immediate");
    assert_int_equal(store_contact_add(f->st, &c, &err), MRD_OK);
    assert_true(c.id > 0);
    assert_int_equal(store_contact_add(f->st, &c, &err), MRD_E_EXISTS);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_contacts_list(f->st, f->partner.key, contact_seen, &s, &err), MRD_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.texts[0], "soc@cert-b.example:KEY:immediate");
    plan[0] = (struct store_delivery_plan){c.id, n[0].id, 0, 5};
    plan[1] = (struct store_delivery_plan){c.id, n[1].id, 0, 5};
    assert_int_equal(store_deliveries_enqueue(f->st, plan, 2, 7, 8, &err), MRD_E_CONFLICT);
    assert_int_equal(store_deliveries_enqueue(f->st, plan, 2, 0, 8, &err), MRD_OK);
    /* the same plan again (a repeated round): no second delivery or item */
    assert_int_equal(store_deliveries_enqueue(f->st, plan, 2, 8, 9, &err), MRD_OK);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_deliveries_list(f->st, &all, delivery_seen, &s, &err), MRD_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.texts[0], "soc@cert-b.example:2:0:");
    memset(&d, 0, sizeof(d));
    d.id = s.ids[0];
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_delivery_items(f->st, d.id, notif_seen, &s, &err), MRD_OK);
    assert_int_equal(s.n, 2);
    /* an attempt that failed, recorded; a stale update is refused */
    d.status = STORE_DELIVERY_QUEUED;
    d.attempts = 1;
    d.last_try_usec = 6;
    d.due_usec = 10;
    (void)snprintf(d.error, sizeof(d.error), "connection refused");
    d.record_attempt = true;
    assert_int_equal(store_delivery_update(f->st, &d, &err), MRD_OK);
    assert_int_equal(store_delivery_update(f->st, &d, &err), MRD_E_CONFLICT);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_delivery_attempts(f->st, d.id, attempt_seen, &s, &err), MRD_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.texts[0], "connection refused");
    /* removing the contact kills its queued delivery */
    assert_int_equal(store_contact_remove(f->st, c.id, f->own.key, NULL, &err), MRD_E_NOTFOUND);
    assert_int_equal(store_contact_remove(f->st, c.id, 0, NULL, &err), MRD_OK);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_deliveries_list(f->st, &all, delivery_seen, &s, &err), MRD_OK);
    assert_int_equal(s.status[0], STORE_DELIVERY_DEAD);
    assert_string_equal(s.texts[0], "soc@cert-b.example:2:1:contact removed");
    assert_int_equal(store_asset_set(f->st, a.id, 0, STORE_ASSET_REMOVED, NULL, &err), MRD_OK);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_assets_list(f->st, 0, asset_seen, &s, &err), MRD_OK);
    assert_int_equal(s.n, 0);
}

/* store_token_access answers as store_token_lookup, store_collection_get
 * and store_grant_get one after the other would: the token's refusals and
 * their reasons, the collection by id or alias within its API root, the
 * grant of the token's org on it (none: both false), an unknown root or
 * collection as not found. */
static void test_token_access(void **state)
{
    struct fx *f = *state;
    char secret[STORE_TOKEN_LEN + 1], old[STORE_TOKEN_LEN + 1];
    struct store_collection c = {0}, got, want;
    struct store_token tok;
    struct store_grant g = {true, true};
    struct store_org_change ch;
    struct mrd_err err = {0};
    bool found = true;

    (void)snprintf(c.api_root, sizeof(c.api_root), "europe");
    (void)snprintf(c.title, sizeof(c.title), "Reports");
    (void)snprintf(c.description, sizeof(c.description), "what partners report");
    (void)snprintf(c.alias, sizeof(c.alias), "reports");
    c.default_tlp = POLICY_TLP_AMBER;
    c.public_read = true;
    assert_int_equal(store_collection_create(f->st, &c, &err), MRD_OK);
    assert_int_equal(store_grant_set(f->st, f->partner.key, f->coll.key,
                                     (struct store_grant){true, false}, &err),
                     MRD_OK);
    assert_int_equal(store_token_create(f->st, f->partner.key, "feed", secret, NULL, &err), MRD_OK);

    /* by id: the collection as store_collection_get reads it, the grant */
    assert_int_equal(store_token_access(f->st, secret, STORE_TOKEN_LEN, "europe", 6, f->coll.id,
                                        strlen(f->coll.id), &tok, &got, &found, &g, &err),
                     MRD_OK);
    assert_string_equal(tok.name, "feed");
    assert_int_equal(tok.org_key, f->partner.key);
    assert_int_equal(tok.org_relation, POLICY_REL_PARTNER);
    assert_false(tok.via_prev);
    assert_true(found);
    assert_int_equal(
        store_collection_get(f->st, "europe", 6, f->coll.id, strlen(f->coll.id), &want, &err),
        MRD_OK);
    assert_memory_equal(&got, &want, sizeof(got));
    assert_true(g.can_read);
    assert_false(g.can_write);
    /* by alias; no grant row there: neither */
    g = (struct store_grant){true, true};
    assert_int_equal(store_token_access(f->st, secret, STORE_TOKEN_LEN, "europe", 6, "reports", 7,
                                        &tok, &got, &found, &g, &err),
                     MRD_OK);
    assert_true(found);
    assert_int_equal(got.key, c.key);
    assert_string_equal(got.description, "what partners report");
    assert_int_equal(got.default_tlp, POLICY_TLP_AMBER);
    assert_true(got.public_read);
    assert_false(g.can_read);
    assert_false(g.can_write);
    /* the alias in another root, an unknown id, an over-long one: the
     * token is good, the collection not found */
    assert_int_equal(store_token_access(f->st, secret, STORE_TOKEN_LEN, "asia", 4, "reports", 7,
                                        &tok, &got, &found, &g, &err),
                     MRD_OK);
    assert_false(found);
    assert_int_equal(store_token_access(f->st, secret, STORE_TOKEN_LEN, "europe", 6, "nothing", 7,
                                        &tok, &got, &found, &g, &err),
                     MRD_OK);
    assert_false(found);
    {
        char longid[STORE_ALIAS_MAX + 8];
        memset(longid, 'a', sizeof(longid));
        assert_int_equal(store_token_access(f->st, secret, STORE_TOKEN_LEN, "europe", 6, longid,
                                            sizeof(longid), &tok, &got, &found, &g, &err),
                         MRD_OK);
        assert_false(found);
        assert_string_equal(tok.name, "feed");
    }
    /* a rotation's overlap: the old secret too, marked */
    memcpy(old, secret, sizeof(old));
    assert_int_equal(store_token_rotate(f->st, "feed", 3600000000LL, secret, NULL, &err), MRD_OK);
    assert_int_equal(store_token_access(f->st, old, STORE_TOKEN_LEN, "europe", 6, "reports", 7,
                                        &tok, &got, &found, &g, &err),
                     MRD_OK);
    assert_true(tok.via_prev);
    assert_true(found);
    /* refusals, with store_token_lookup's reasons (err: the first message
     * stays, so cleared before each) */
    old[20] = old[20] == 'A' ? 'B' : 'A';
    mrd_err_clear(&err);
    assert_int_equal(store_token_access(f->st, old, STORE_TOKEN_LEN, "europe", 6, "reports", 7,
                                        &tok, &got, &found, &g, &err),
                     MRD_E_AUTH);
    assert_string_equal(err.msg, STORE_AUTH_UNKNOWN);
    assert_int_equal(store_token_access(f->st, secret, 10, "europe", 6, "reports", 7, &tok, &got,
                                        &found, &g, &err),
                     MRD_E_AUTH);
    assert_int_equal(store_token_access(f->st, secret, STORE_TOKEN_LEN, "europe", 6, "reports", 7,
                                        &tok, &got, &found, &g, &err),
                     MRD_OK);
    assert_int_equal(store_org_disable(f->st, "cert-b", &ch, &err), MRD_OK);
    mrd_err_clear(&err);
    assert_int_equal(store_token_access(f->st, secret, STORE_TOKEN_LEN, "europe", 6, "reports", 7,
                                        &tok, &got, &found, &g, &err),
                     MRD_E_AUTH);
    assert_string_equal(err.msg, STORE_AUTH_DISABLED);
    assert_int_equal(store_org_enable(f->st, "cert-b", &ch, &err), MRD_OK);
    assert_int_equal(store_token_revoke(f->st, "feed", NULL, &err), MRD_OK);
    mrd_err_clear(&err);
    assert_int_equal(store_token_access(f->st, secret, STORE_TOKEN_LEN, "europe", 6, "reports", 7,
                                        &tok, &got, &found, &g, &err),
                     MRD_E_AUTH);
    assert_string_equal(err.msg, STORE_AUTH_REVOKED);
}

/* What every backend must do: the record, object, paging, version,
 * delete, writer-scoped copy and status semantics of store.h. */
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
#define BOTH_BACKENDS                                                                              \
    T(test_orgs), T(test_collections), T(test_meta), T(test_insert_duplicate_and_body),            \
        T(test_one_request_of_new_and_known_ids), T(test_large_request_keeps_order),               \
        T(test_versions), T(test_paging), T(test_delete), T(test_paging_last_among_visible),       \
        T(test_last_shortcut_follows_changes),                                                     \
        T(test_hidden_object_cost_is_independent_of_versions), T(test_only_the_signer_versions),   \
        T(test_unsigned_versions_by_the_first_writer), T(test_first_shortcut_follows_changes),     \
        T(test_delete_last_among_visible), T(test_writer_scoped_copies), T(test_policy_columns),   \
        T(test_status), T(test_concurrent_writers), T(test_insert_with_status),                    \
        T(test_holds_and_ledger_queue), T(test_feeds), T(test_notifications_and_deliveries),       \
        T(test_write_transaction), T(test_aggregates_follow_every_change),                         \
        T(test_newest_from_peers), T(test_read_pin), T(test_group_commit_outcomes),                \
        T(test_token_access),

int main(void)
{
    const struct CMUnitTest both[] = {BOTH_BACKENDS};
    /* SQLite: all of it, with what is about its files and its locks */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_errors),
        BOTH_BACKENDS T(test_schema_version_and_wal),
        T(test_snapshot_into_a_region),
        T(test_tokens),
        T(test_kill9_loses_nothing_acknowledged),
        T(test_wal_checkpointed_while_open),
        T(test_migration_from_v1),
        T(test_alloc_failures),
    };
#ifdef MRD_HAVE_PQ
    const struct CMUnitTest pg_only[] = {T(test_read_pin_reconnect), T(test_prepared_reconnect)};

    if (pg_init()) {
        int failed = cmocka_run_group_tests_name("store on PostgreSQL", both, NULL, NULL);

        return failed + cmocka_run_group_tests_name("PostgreSQL's own", pg_only, NULL, NULL);
    }
#else
    if (pg_init())
        return cmocka_run_group_tests_name("store on PostgreSQL", both, NULL, NULL);
#endif
    return cmocka_run_group_tests(tests, NULL, NULL);
}
