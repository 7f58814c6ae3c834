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
    sql(f, "UPDATE access_reads SET org = 'x'", SQLITE_CONSTRAINT);
    audit_begin(b, f->st, AUDIT_EXPORT, "cert-a", NULL);
    assert_int_equal(store_objects_query(f->st, &q, NULL, audit_emit, b, NULL, &err), MRD_OK);
    assert_int_equal(audit_flush(b, &err), MRD_OK);
    sql(f, "DELETE FROM access_reads WHERE id = 4", SQLITE_CONSTRAINT);
    /* a sealed row changed behind the trigger's back: caught */
    sql(f, "DROP TRIGGER access_reads_no_update; UPDATE access_reads SET org = 'x' WHERE id = 1",
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_access_audit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
