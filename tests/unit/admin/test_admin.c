/*
 * Unit tests for admin_apply (admin.h): a change another module makes in
 * the store (a feed, say) and its audit record commit together or not at
 * all, and the record's log line is written only once it has committed.
 */
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

#include "admin/admin.h"
#include "core/str.h"
#include "store/store.h"

struct fx {
    char dir[TEST_DIR_MAX];
    struct store *st;
    struct admin a;
    int lines;
    char last[ADMIN_LINE_MAX];
};

static void on_line(void *ctx, const char *line)
{
    struct fx *f = ctx;

    f->lines++;
    mrd_strlcpy(f->last, line, sizeof(f->last));
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct store_open_opts opts = {.create = true, .max_conn = 4};

    assert_non_null(f);
    test_dir_make(f->dir, "mrd-admin");
    assert_int_equal(store_open(f->dir, &opts, &f->st, NULL), MRD_OK);
    f->a.st = f->st;
    f->a.data_dir = f->dir;
    admin_actor_cli(&f->a.who);
    f->a.log = on_line;
    f->a.log_ctx = f;
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

static enum mrd_code count_event(void *ctx, const struct store_event_row *ev, struct mrd_err *err)
{
    (void)ev;
    (void)err;
    (*(int *)ctx)++;
    return MRD_OK;
}

static int events(struct fx *f)
{
    int n = 0;

    assert_int_equal(store_ledger_events(f->st, STORE_TIME_NONE, count_event, &n, NULL), MRD_OK);
    return n;
}

static bool org_exists(struct fx *f, const char *name)
{
    struct store_org o;

    return store_org_get(f->st, name, 0, &o, NULL) == MRD_OK;
}

/* A change like `feed add`: two store writes, then maybe a failure. */
struct change_args {
    const char *name;
    bool fail;
};

static enum mrd_code add_two_orgs(void *ctx, struct store *st, struct admin_change *rec,
                                  struct mrd_err *err)
{
    const struct change_args *c = ctx;
    char second[64];
    enum mrd_code rc = store_org_create(st, c->name, POLICY_REL_PARTNER, NULL, err);

    (void)snprintf(second, sizeof(second), "%s-2", c->name);
    if (rc == MRD_OK)
        rc = store_org_create(st, second, POLICY_REL_PARTNER, NULL, err);
    if (rc == MRD_OK && c->fail)
        rc = mrd_err_set(err, MRD_E_INVAL, "the change failed after its writes");
    mrd_strlcpy(rec->target, c->name, sizeof(rec->target));
    rec->after = json_pack("{s:s}", "url", "https://feed.example/");
    return rc;
}

static void test_change_and_record_commit_together(void **state)
{
    struct fx *f = *state;
    struct change_args ok = {.name = "feed-a"};
    struct mrd_err err = {0};

    assert_int_equal(admin_apply(&f->a, "feed", "add", add_two_orgs, &ok, &err), MRD_OK);
    assert_true(org_exists(f, "feed-a") && org_exists(f, "feed-a-2"));
    assert_int_equal(events(f), 1);
    assert_int_equal(f->lines, 1);
    assert_non_null(strstr(f->last, "feed add feed-a"));
}

static void test_failed_change_leaves_no_record(void **state)
{
    struct fx *f = *state;
    struct change_args bad = {.name = "feed-b", .fail = true};
    struct mrd_err err = {0};

    assert_int_equal(admin_apply(&f->a, "feed", "add", add_two_orgs, &bad, &err), MRD_E_INVAL);
    assert_false(org_exists(f, "feed-b") || org_exists(f, "feed-b-2")); /* both writes undone */
    assert_int_equal(events(f), 0);
    assert_int_equal(f->lines, 0);
    /* and the next change works */
    bad.fail = false;
    assert_int_equal(admin_apply(&f->a, "feed", "add", add_two_orgs, &bad, &err), MRD_OK);
    assert_int_equal(events(f), 1);
}

static void test_record_that_cannot_be_written_undoes_the_change(void **state)
{
    struct fx *f = *state;
    struct change_args ok = {.name = "feed-c"};
    struct mrd_err err = {0};
    char path[TEST_DIR_MAX + 16];
    sqlite3 *db = NULL;

    (void)snprintf(path, sizeof(path), "%s/meridian.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER no_audit BEFORE INSERT ON ledger_events BEGIN"
                                  " SELECT RAISE(ABORT, 'no audit'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_not_equal(admin_apply(&f->a, "feed", "add", add_two_orgs, &ok, &err), MRD_OK);
    assert_non_null(strstr(err.msg, "was not made"));
    assert_false(org_exists(f, "feed-c") || org_exists(f, "feed-c-2"));
    assert_int_equal(f->lines, 0);
    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER no_audit", NULL, NULL, NULL), SQLITE_OK);
    (void)sqlite3_close(db);
    assert_int_equal(admin_apply(&f->a, "feed", "add", add_two_orgs, &ok, &err), MRD_OK);
    assert_true(org_exists(f, "feed-c"));
    assert_int_equal(events(f), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_change_and_record_commit_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_change_leaves_no_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_that_cannot_be_written_undoes_the_change, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
