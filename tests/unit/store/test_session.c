/* store: console sessions (store.h, "console sessions") on a real SQLite
 * file, and on PostgreSQL with MRD_TEST_PG_DSN (pgtest.h): creation, lookup, idle and absolute
 * expiry, sign-out, and the ways other code ends sessions (token revocation, by token, by org). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "core/timestamp.h"
#include "store/store.h"

#include "pgtest.h"

struct fx {
    char dir[64];
    struct store *st;
    struct store_org own, partner;
    struct store_token t_own, t_partner, t_partner2;
    char s_own[STORE_TOKEN_LEN + 1], s_partner[STORE_TOKEN_LEN + 1];
    char s_partner2[STORE_TOKEN_LEN + 1];
};

#define HOUR ((int64_t)3600 * 1000000)

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct store_open_opts opts = {.create = true, .max_conn = 4};
    struct mrd_err err = {0};

    assert_non_null(f);
    (void)snprintf(f->dir, sizeof(f->dir), "/tmp/mrd-session-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(store_where(f->dir), &opts, &f->st, &err), MRD_OK);
    assert_int_equal(store_org_create(f->st, "own", POLICY_REL_OWN, &f->own, &err), MRD_OK);
    assert_int_equal(store_org_create(f->st, "cert-b", POLICY_REL_PARTNER, &f->partner, &err),
                     MRD_OK);
    assert_int_equal(store_token_create(f->st, f->own.key, "adm", f->s_own, &f->t_own, &err),
                     MRD_OK);
    assert_int_equal(
        store_token_create(f->st, f->partner.key, "b1", f->s_partner, &f->t_partner, &err), MRD_OK);
    assert_int_equal(
        store_token_create(f->st, f->partner.key, "b2", f->s_partner2, &f->t_partner2, &err),
        MRD_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    store_close(f->st);
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static enum mrd_code lookup(struct fx *f, const char *id, int64_t idle, struct store_session *s)
{
    return store_session_lookup(f->st, id, strlen(id), idle, s, NULL);
}

static void open_session(struct fx *f, const char *token, int64_t expires,
                         char id[STORE_SESSION_ID_LEN + 1])
{
    struct mrd_err err = {0};

    assert_int_equal(store_session_create(f->st, token, expires, id, &err), MRD_OK);
    assert_int_equal(strlen(id), STORE_SESSION_ID_LEN);
}

static void test_create_lookup_end(void **state)
{
    struct fx *f = *state;
    char a[STORE_SESSION_ID_LEN + 1], b[STORE_SESSION_ID_LEN + 1];
    struct store_session s;
    int64_t now = mrd_time_now_usec();

    open_session(f, "adm", now + HOUR, a);
    open_session(f, "adm", now + HOUR, b);
    assert_string_not_equal(a, b); /* fresh random ids */
    assert_int_equal(lookup(f, a, HOUR, &s), MRD_OK);
    assert_string_equal(s.tok.name, "adm");
    assert_int_equal(s.tok.org_key, f->own.key);
    assert_int_equal(s.tok.org_relation, POLICY_REL_OWN);
    assert_int_equal(s.expires_usec, now + HOUR);
    /* one character off, too short, empty: no session, same answer */
    b[0] = b[0] == 'A' ? 'B' : 'A';
    assert_int_equal(lookup(f, b, HOUR, &s), MRD_E_AUTH);
    assert_int_equal(store_session_lookup(f->st, a, 10, HOUR, &s, NULL), MRD_E_AUTH);
    assert_int_equal(lookup(f, "", HOUR, &s), MRD_E_AUTH);
    /* sign-out ends exactly that session */
    assert_int_equal(store_session_end(f->st, a, strlen(a), NULL), MRD_OK);
    assert_int_equal(lookup(f, a, HOUR, &s), MRD_E_AUTH);
    assert_int_equal(store_session_end(f->st, a, strlen(a), NULL), MRD_OK); /* twice is fine */
    /* an unknown or revoked token opens nothing */
    assert_int_equal(store_session_create(f->st, "nobody", now + HOUR, a, NULL), MRD_E_AUTH);
}

static void test_expiry(void **state)
{
    struct fx *f = *state;
    char a[STORE_SESSION_ID_LEN + 1], b[STORE_SESSION_ID_LEN + 1];
    struct store_session s;
    int64_t now = mrd_time_now_usec();

    /* absolute: used all the time, still ends */
    open_session(f, "adm", now + 300000, a);
    assert_int_equal(lookup(f, a, HOUR, &s), MRD_OK);
    usleep(400000);
    assert_int_equal(lookup(f, a, HOUR, &s), MRD_E_AUTH);
    /* idle: each use moves it on; a pause longer than idle ends it */
    open_session(f, "adm", now + HOUR, b);
    for (int i = 0; i < 4; i++) {
        usleep(250000);
        assert_int_equal(lookup(f, b, 800000, &s), MRD_OK);
    }
    usleep(1000000);
    assert_int_equal(lookup(f, b, 800000, &s), MRD_E_AUTH);
    /* expired sessions are deleted when the next one opens */
    open_session(f, "adm", mrd_time_now_usec() + HOUR, a);
    assert_int_equal(lookup(f, a, HOUR, &s), MRD_OK);
}

static void test_revoke_and_bulk_end(void **state)
{
    struct fx *f = *state;
    char a[STORE_SESSION_ID_LEN + 1], b1[STORE_SESSION_ID_LEN + 1];
    char b2[STORE_SESSION_ID_LEN + 1], b3[STORE_SESSION_ID_LEN + 1];
    struct store_session s;
    int64_t exp = mrd_time_now_usec() + HOUR;
    uint64_t n = 99;

    open_session(f, "adm", exp, a);
    open_session(f, "b1", exp, b1);
    open_session(f, "b1", exp, b2);
    open_session(f, "b2", exp, b3);
    /* revoking a token ends its sessions, not the others */
    assert_int_equal(store_token_revoke(f->st, "b1", NULL, NULL), MRD_OK);
    assert_int_equal(lookup(f, b1, HOUR, &s), MRD_E_AUTH);
    assert_int_equal(lookup(f, b2, HOUR, &s), MRD_E_AUTH);
    assert_int_equal(lookup(f, b3, HOUR, &s), MRD_OK);
    assert_int_equal(lookup(f, a, HOUR, &s), MRD_OK);
    /* by token */
    assert_int_equal(store_sessions_end_token(f->st, "b2", &n, NULL), MRD_OK);
    assert_int_equal(n, 1);
    assert_int_equal(lookup(f, b3, HOUR, &s), MRD_E_AUTH);
    assert_int_equal(lookup(f, a, HOUR, &s), MRD_OK);
    /* by org: every token of it */
    open_session(f, "b2", exp, b3);
    assert_int_equal(store_sessions_end_org(f->st, f->partner.key, &n, NULL), MRD_OK);
    assert_int_equal(n, 1);
    assert_int_equal(lookup(f, b3, HOUR, &s), MRD_E_AUTH);
    assert_int_equal(lookup(f, a, HOUR, &s), MRD_OK);
    assert_int_equal(store_sessions_end_org(f->st, f->own.key, &n, NULL), MRD_OK);
    assert_int_equal(n, 1);
    assert_int_equal(lookup(f, a, HOUR, &s), MRD_E_AUTH);
    assert_int_equal(store_sessions_end_org(f->st, 0, &n, NULL), MRD_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_lookup_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_and_bulk_end, setup, teardown),
    };
    (void)pg_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
