/* audit: the access audit (audit.h) over a real SQLite store in a fresh
 * directory: batching, rows, digests, verification, the append-only guard
 * and retention. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../testdir.h"
#include <sqlite3.h>

#include "audit/audit.h"
#include "core/timestamp.h"
#include "store/store.h"

struct fx {
    char dir[TEST_DIR_MAX];
    struct store *st;
    struct store_collection coll;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct store_open_opts opts = {.create = true, .max_conn = 4};
    struct store_api_root root = {
        .name = "europe", .title = "Europe", .max_content_length = STORE_DEFAULT_MAX_CONTENT};
    struct store_org own;
    struct mrd_err err = {0};

    assert_non_null(f);
    test_dir_make(f->dir, "mrd-audit");
    assert_int_equal(store_open(f->dir, &opts, &f->st, &err), MRD_OK);
    assert_int_equal(store_org_create(f->st, "cert-a", POLICY_REL_OWN, &own, &err), MRD_OK);
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
    test_dir_remove(f->dir);
    free(f);
    return 0;
}

/* Stores one indicator at level tlp; its id is in id (80 bytes). */
static void insert(struct fx *f, int n, enum policy_tlp tlp, char *id)
{
    char body[256];
    struct store_object_in in = {0};
    enum store_insert_outcome out;
    struct mrd_err err = {0};

    (void)snprintf(id, 80, "indicator--00000000-0000-4000-8000-%012d", n);
    (void)snprintf(body, sizeof(body), "{\"id\":\"%s\",\"type\":\"indicator\"}", id);
    in.id = id;
    in.id_len = strlen(id);
    in.type = "indicator";
    in.type_len = 9;
    in.spec_version = "2.1";
    in.spec_version_len = 3;
    in.created_usec = in.modified_usec = 2000000;
    in.tlp = tlp;
    in.local = true;
    in.creator_org = 1;
    in.body = body;
    in.body_len = strlen(body);
    assert_int_equal(store_objects_insert(f->st, f->coll.key, &in, 1, &out, NULL, &err), MRD_OK);
    assert_int_equal(out, STORE_INS_ADDED);
}

static enum mrd_code audit_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    return audit_note(ctx, row, err);
}

struct read_rows {
    size_t n;
    char ids[8][80];
    int tlp[8];
    char org[8][16], token[8][16], path[8][16];
};

static enum mrd_code read_row(void *ctx, const struct store_read_row *r, struct mrd_err *err)
{
    struct read_rows *x = ctx;

    (void)err;
    assert_true(x->n < 8);
    (void)snprintf(x->ids[x->n], sizeof(x->ids[0]), "%.*s", (int)r->object_id_len, r->object_id);
    x->tlp[x->n] = r->tlp;
    (void)snprintf(x->org[x->n], sizeof(x->org[0]), "%s", r->org);
    (void)snprintf(x->token[x->n], sizeof(x->token[0]), "%s", r->token);
    (void)snprintf(x->path[x->n], sizeof(x->path[0]), "%s", r->path);
    x->n++;
    return MRD_OK;
}

static void sql(struct fx *f, const char *s, int want)
{
    char path[TEST_DIR_MAX + 32];
    sqlite3 *db = NULL;

    (void)snprintf(path, sizeof(path), "%s/meridian.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, s, NULL, NULL, NULL), want);
    sqlite3_close(db);
}

static void test_access_audit(void **state)
{
    struct fx *f = *state;
    char green[80], amber[80], red[80];
    struct audit_batch *b = malloc(sizeof(*b));
    struct store_query q = {.collection = f->coll.key, .added_after = STORE_TIME_NONE};
    struct store_read_filter all = {.since_usec = STORE_TIME_NONE, .limit = 100};
    struct store_read_filter one = all;
    struct read_rows rows = {0};
    struct audit_seal_report sr;
    struct audit_verify_report vr;
    struct mrd_err err = {0};
    uint64_t n = 0;
    bool more = true;

    assert_non_null(b);
    insert(f, 1, POLICY_TLP_GREEN, green);
    insert(f, 2, POLICY_TLP_AMBER, amber);
    insert(f, 3, POLICY_TLP_RED, red);
    /* a page read by cert-b: only AMBER and RED are noted, in one insert */
    audit_begin(b, f->st, AUDIT_TAXII, "cert-b", "tok-b");
    assert_int_equal(store_objects_query(f->st, &q, NULL, audit_emit, b, NULL, &err), MRD_OK);
    assert_int_equal(b->n, 2);
    assert_int_equal(audit_flush(b, &err), MRD_OK);
    assert_int_equal(b->n, 0);
    assert_int_equal(store_reads_list(f->st, &all, read_row, &rows, &more, &err), MRD_OK);
    assert_false(more);
    assert_int_equal(rows.n, 2);
    assert_string_equal(rows.ids[0], amber);
    assert_int_equal(rows.tlp[0], POLICY_TLP_AMBER);
    assert_string_equal(rows.ids[1], red);
    assert_string_equal(rows.org[1], "cert-b");
    assert_string_equal(rows.token[1], "tok-b");
    assert_string_equal(rows.path[1], "taxii");
    /* by object */
    memset(&rows, 0, sizeof(rows));
    one.object_id = red;
    assert_int_equal(store_reads_list(f->st, &one, read_row, &rows, NULL, &err), MRD_OK);
    assert_int_equal(rows.n, 1);
    /* sealed: one digest of both rows, which verifies */
    assert_int_equal(audit_seal(f->st, INT64_MAX, &sr, &err), MRD_OK);
    assert_int_equal(sr.digests, 1);
    assert_int_equal(sr.rows, 2);
    assert_int_equal(audit_seal(f->st, INT64_MAX, &sr, &err), MRD_OK);
    assert_int_equal(sr.digests, 0);
    assert_int_equal(audit_verify(f->st, NULL, NULL, &vr, &err), MRD_OK);
    assert_int_equal(vr.digests, 1);
    assert_int_equal(vr.ok, 1);
    assert_int_equal(vr.bad, 0);
    /* append-only: no update, no delete of an unsealed row */
    sql(f, "UPDATE access_pages SET org = 'x'", SQLITE_CONSTRAINT);
    audit_begin(b, f->st, AUDIT_EXPORT, "cert-a", NULL);
    assert_int_equal(store_objects_query(f->st, &q, NULL, audit_emit, b, NULL, &err), MRD_OK);
    assert_int_equal(audit_flush(b, &err), MRD_OK);
    sql(f, "DELETE FROM access_pages WHERE first = 3", SQLITE_CONSTRAINT);
    /* a sealed row changed behind the trigger's back: caught */
    sql(f, "DROP TRIGGER access_pages_no_update; UPDATE access_pages SET org = 'x' WHERE first = 1",
        SQLITE_OK);
    assert_int_equal(audit_verify(f->st, NULL, NULL, &vr, &err), MRD_OK);
    assert_int_equal(vr.bad, 1);
    assert_int_equal(vr.unsealed, 2);
    /* retention: only sealed rows older than the cut go; their digest stays */
    assert_int_equal(audit_prune(f->st, 1, mrd_time_now_usec(), &n, &err), MRD_OK);
    assert_int_equal(n, 0);
    assert_int_equal(audit_prune(f->st, 1, mrd_time_now_usec() + 3 * AUDIT_DAY_USEC, &n, &err),
                     MRD_OK);
    assert_int_equal(n, 4); /* the two sealed rows, then the two sealed by the prune */
    assert_int_equal(audit_verify(f->st, NULL, NULL, &vr, &err), MRD_OK);
    assert_int_equal(vr.digests, 2);
    assert_int_equal(vr.pruned, 2);
    assert_int_equal(vr.bad, 0);
    assert_int_equal(vr.unsealed, 0);
    assert_int_equal(audit_prune(f->st, 0, 0, &n, &err), MRD_E_INVAL);
    free(b);
}

/* The packed items: what put writes, next reads back; bad text refused. */
static void test_items(void **state)
{
    char buf[2 * STORE_READ_ITEM_MAX], id[STORE_STIX_ID_MAX + 2];
    struct store_read_row r;
    size_t a, b;
    static const char *const bad[] = {
        "",           "\n",          "12 3 x",
        " 3 x\n",     "12 3  x\n",   "12 x id\n",
        "12 3 a b\n", "12 3 a\tb\n", "99999999999999999999 3 a\n",
        "12 3 \n",    "-x 3 a\n",    "12 33 a\n",
    };

    (void)state;
    a = store_read_item_put(buf, sizeof(buf), "indicator--1", 12, 1733572678219837, 3);
    assert_int_equal(a, strlen("1733572678219837 3 indicator--1\n"));
    assert_memory_equal(buf, "1733572678219837 3 indicator--1\n", a);
    b = store_read_item_put(buf + a, sizeof(buf) - a, "x--y", 4, -5, 0);
    assert_int_not_equal(b, 0);
    assert_int_equal(store_read_item_next(buf, a + b, &r), a);
    assert_int_equal(r.version_usec, 1733572678219837);
    assert_int_equal(r.tlp, 3);
    assert_int_equal(r.object_id_len, 12);
    assert_memory_equal(r.object_id, "indicator--1", 12);
    assert_int_equal(store_read_item_next(buf + a, b, &r), b);
    assert_int_equal(r.version_usec, -5);
    assert_int_equal(r.tlp, 0);
    /* limits: an empty or too long id, a TLP out of range, no room */
    memset(id, 'a', sizeof(id));
    assert_int_equal(store_read_item_put(buf, sizeof(buf), id, 0, 1, 1), 0);
    assert_int_equal(store_read_item_put(buf, sizeof(buf), id, STORE_STIX_ID_MAX + 1, 1, 1), 0);
    assert_int_not_equal(store_read_item_put(buf, sizeof(buf), id, STORE_STIX_ID_MAX, 1, 1), 0);
    assert_int_equal(store_read_item_put(buf, sizeof(buf), "a", 1, 1, 10), 0);
    assert_int_equal(store_read_item_put(buf, STORE_READ_ITEM_MAX - 1, "a", 1, 1, 1), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(store_read_item_next(bad[i], strlen(bad[i]), &r), 0);
}

static enum mrd_code count_rows(void *ctx, const struct store_read_row *r, struct mrd_err *err)
{
    int64_t *last = ctx;

    (void)err;
    assert_true(r->id > *last); /* ascending */
    *last = r->id;
    return MRD_OK;
}

/* Rows are numbered across pages; a listing may start, end and stop
 * inside a page; numbers are not reused after a prune. */
static void test_pages(void **state)
{
    struct fx *f = *state;
    char ids[5][80];
    struct audit_batch *b = malloc(sizeof(*b));
    struct store_query q = {.collection = f->coll.key, .added_after = STORE_TIME_NONE};
    struct store_read_filter fl = {.since_usec = STORE_TIME_NONE, .limit = 2};
    struct read_rows rows = {0};
    struct mrd_err err = {0};
    int64_t last = 0;
    uint64_t n = 0;
    bool more = false;

    assert_non_null(b);
    for (int i = 0; i < 5; i++)
        insert(f, i + 1, POLICY_TLP_AMBER, ids[i]);
    for (int page = 0; page < 2; page++) { /* rows 1..5, 6..10 */
        audit_begin(b, f->st, AUDIT_TAXII, page == 0 ? "cert-b" : "cert-c", NULL);
        assert_int_equal(store_objects_query(f->st, &q, NULL, audit_emit, b, NULL, &err), MRD_OK);
        assert_int_equal(audit_flush(b, &err), MRD_OK);
    }
    /* rows 4..5 of the first page, then more */
    fl.after_id = 3;
    assert_int_equal(store_reads_list(f->st, &fl, read_row, &rows, &more, &err), MRD_OK);
    assert_true(more);
    assert_int_equal(rows.n, 2);
    assert_string_equal(rows.ids[0], ids[3]);
    assert_string_equal(rows.ids[1], ids[4]);
    assert_string_equal(rows.org[1], "cert-b");
    /* 5..7: across the pages, through_id inside the second */
    memset(&rows, 0, sizeof(rows));
    fl.after_id = 4;
    fl.through_id = 7;
    fl.limit = 10;
    assert_int_equal(store_reads_list(f->st, &fl, read_row, &rows, &more, &err), MRD_OK);
    assert_false(more);
    assert_int_equal(rows.n, 3);
    assert_string_equal(rows.ids[0], ids[4]);
    assert_string_equal(rows.org[0], "cert-b");
    assert_string_equal(rows.ids[2], ids[1]);
    assert_string_equal(rows.org[2], "cert-c");
    /* by object and org: row 9 alone */
    memset(&rows, 0, sizeof(rows));
    fl = (struct store_read_filter){
        .since_usec = STORE_TIME_NONE, .object_id = ids[3], .org = "cert-c", .limit = 10};
    assert_int_equal(store_reads_list(f->st, &fl, read_row, &rows, &more, &err), MRD_OK);
    assert_int_equal(rows.n, 1);
    assert_string_equal(rows.ids[0], ids[3]);
    /* everything sealed and pruned: the next page is numbered on from 11 */
    assert_int_equal(audit_prune(f->st, 1, mrd_time_now_usec() + 3 * AUDIT_DAY_USEC, &n, &err),
                     MRD_OK);
    assert_int_equal(n, 10);
    audit_begin(b, f->st, AUDIT_EXPORT, "cert-b", NULL);
    assert_int_equal(store_objects_query(f->st, &q, NULL, audit_emit, b, NULL, &err), MRD_OK);
    assert_int_equal(audit_flush(b, &err), MRD_OK);
    fl = (struct store_read_filter){.since_usec = STORE_TIME_NONE, .limit = 100};
    assert_int_equal(store_reads_list(f->st, &fl, count_rows, &last, &more, &err), MRD_OK);
    assert_int_equal(last, 15);
    free(b);
}

/* A database of schema 15 (one row per object read) migrates to one row
 * per page: every row keeps its number and content, so its digests still
 * verify, and new rows are numbered on. */
static void test_migrate_rows_to_pages(void **state)
{
    struct fx *f = *state;
    char ids[2][80], path[TEST_DIR_MAX + 32];
    struct audit_batch *b = malloc(sizeof(*b));
    struct store_query q = {.collection = f->coll.key, .added_after = STORE_TIME_NONE};
    struct store_read_filter all = {.since_usec = STORE_TIME_NONE, .limit = 100};
    struct store_open_opts opts = {.max_conn = 4};
    struct audit_verify_report vr;
    struct read_rows rows = {0};
    struct mrd_err err = {0};
    int64_t last = 0;
    sqlite3 *db = NULL;

    assert_non_null(b);
    insert(f, 1, POLICY_TLP_AMBER, ids[0]);
    insert(f, 2, POLICY_TLP_RED, ids[1]);
    for (int page = 0; page < 2; page++) { /* rows 1..2 sealed, 3..4 not */
        audit_begin(b, f->st, AUDIT_TAXII, "cert-b", "tok");
        assert_int_equal(store_objects_query(f->st, &q, NULL, audit_emit, b, NULL, &err), MRD_OK);
        assert_int_equal(audit_flush(b, &err), MRD_OK);
        if (page == 0)
            assert_int_equal(audit_seal(f->st, INT64_MAX, NULL, &err), MRD_OK);
    }
    store_close(f->st);
    f->st = NULL;
    /* back to schema 15 (17 -> 16 undone first): the same rows, one each, as
     * 15 stored them */
    (void)snprintf(path, sizeof(path), "%s/meridian.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(
            db,
            "CREATE TABLE access_reads (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT "
            "NULL,"
            " object_id TEXT NOT NULL, version INTEGER NOT NULL, tlp INTEGER NOT NULL,"
            " org TEXT NOT NULL, token TEXT NOT NULL, path TEXT NOT NULL);"
            "WITH RECURSIVE x(first, k, time, org, token, path, rest, item) AS ("
            " SELECT first, first - 1, time, org, token, path, items, NULL FROM access_pages"
            " UNION ALL SELECT first, k + 1, time, org, token, path,"
            " substr(rest, instr(rest, char(10)) + 1), substr(rest, 1, instr(rest, char(10)) - 1)"
            " FROM x WHERE rest <> '')"
            "INSERT INTO access_reads SELECT k, time, substr(item, instr(substr(item,"
            " instr(item, ' ') + 1), ' ') + instr(item, ' ') + 1),"
            " CAST(substr(item, 1, instr(item, ' ') - 1) AS INTEGER),"
            " CAST(substr(item, instr(item, ' ') + 1, 1) AS INTEGER), org, token, path"
            " FROM x WHERE item IS NOT NULL ORDER BY k;"
            "DROP TRIGGER access_pages_no_update; DROP TRIGGER access_pages_no_delete;"
            "DROP TABLE access_pages;"
            "CREATE TRIGGER access_reads_no_update BEFORE UPDATE ON access_reads"
            " BEGIN SELECT RAISE(ABORT, 'the access audit is append-only'); END;"
            "CREATE TRIGGER access_reads_no_delete BEFORE DELETE ON access_reads"
            " WHEN OLD.id > IFNULL((SELECT MAX(last) FROM access_digests), 0)"
            " BEGIN SELECT RAISE(ABORT, 'the access audit is append-only'); END;"
            "DROP INDEX notifications_seq;" /* 16 -> 17, undone too */
            "UPDATE schema_version SET version = 15;",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(f->dir, &opts, &f->st, &err), MRD_OK);
    assert_int_equal(store_reads_list(f->st, &all, read_row, &rows, NULL, &err), MRD_OK);
    assert_int_equal(rows.n, 4);
    assert_string_equal(rows.ids[0], ids[0]);
    assert_int_equal(rows.tlp[1], POLICY_TLP_RED);
    assert_string_equal(rows.ids[3], ids[1]);
    assert_string_equal(rows.token[3], "tok");
    assert_int_equal(audit_verify(f->st, NULL, NULL, &vr, &err), MRD_OK);
    assert_int_equal(vr.digests, 1);
    assert_int_equal(vr.ok, 1);
    assert_int_equal(vr.bad, 0);
    assert_int_equal(vr.unsealed, 2);
    audit_begin(b, f->st, AUDIT_TAXII, "cert-b", "tok");
    assert_int_equal(store_objects_query(f->st, &q, NULL, audit_emit, b, NULL, &err), MRD_OK);
    assert_int_equal(audit_flush(b, &err), MRD_OK);
    assert_int_equal(store_reads_list(f->st, &all, count_rows, &last, NULL, &err), MRD_OK);
    assert_int_equal(last, 6);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_access_audit, setup, teardown),
        cmocka_unit_test(test_items),
        cmocka_unit_test_setup_teardown(test_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_rows_to_pages, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
