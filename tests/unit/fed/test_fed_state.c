/* fed: the peer table and sync state in a real fed.db in a temporary
 * directory, and the back-off schedule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../testdir.h"
#include <sys/stat.h>

#include "core/str.h"
#include "fed/fed.h"

struct fx {
    char dir[TEST_DIR_MAX];
    struct fed_state *fs;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    test_dir_make(f->dir, "fed-unit");
    assert_int_equal(fed_state_open(f->dir, &f->fs, NULL), MRD_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    fed_state_close(f->fs);
    test_dir_remove(f->dir);
    free(f);
    return 0;
}

static void peer_fill(struct fed_peer *p, const char *name)
{
    memset(p, 0, sizeof(*p));
    mrd_strlcpy(p->name, name, sizeof(p->name));
    mrd_strlcpy(p->url, "https://peer.example:8443", sizeof(p->url));
    mrd_strlcpy(p->api_root, "europe", sizeof(p->api_root));
    mrd_strlcpy(p->collection, "9b1c6d8e-1111-4222-8333-444455556666", sizeof(p->collection));
    mrd_strlcpy(p->local_collection, "0a1b2c3d-1111-4222-8333-444455556666",
                sizeof(p->local_collection));
    mrd_strlcpy(p->token, "mrd_secret", sizeof(p->token));
    mrd_strlcpy(p->community, "europe", sizeof(p->community));
    p->direction = FED_DIR_BOTH;
    p->enabled = true;
}

static enum mrd_code count_cb(void *ctx, const struct fed_peer *p, const struct fed_peer_state *s)
{
    (void)p;
    (void)s;
    (*(int *)ctx)++;
    return MRD_OK;
}

static void test_add_get_list_remove(void **state)
{
    struct fx *f = *state;
    struct fed_peer p, got;
    struct fed_peer_state s;
    struct mrd_err err = {0};
    struct stat sb;
    char path[128];
    int n = 0;

    peer_fill(&p, "cert-b");
    assert_int_equal(fed_peer_add(f->fs, &p, &err), MRD_OK);
    assert_int_equal(fed_peer_add(f->fs, &p, &err), MRD_E_EXISTS);
    assert_non_null(strstr(err.msg, "already exists"));
    peer_fill(&p, "cert-c");
    assert_int_equal(fed_peer_add(f->fs, &p, NULL), MRD_OK);
    assert_int_equal(fed_peer_get(f->fs, "cert-b", &got, &s, NULL), MRD_OK);
    assert_string_equal(got.url, "https://peer.example:8443");
    assert_int_equal(got.direction, FED_DIR_BOTH);
    assert_true(got.enabled);
    assert_int_equal(s.pull_cursor, STORE_TIME_NONE);
    assert_false(s.push_has_cursor);
    assert_int_equal(fed_peer_list(f->fs, count_cb, &n, NULL), MRD_OK);
    assert_int_equal(n, 2);
    assert_int_equal(fed_peer_remove(f->fs, "cert-b", NULL), MRD_OK);
    assert_int_equal(fed_peer_remove(f->fs, "cert-b", NULL), MRD_E_NOTFOUND);
    assert_int_equal(fed_peer_get(f->fs, "cert-b", &got, NULL, NULL), MRD_E_NOTFOUND);
    /* the file holds tokens: owner only */
    (void)snprintf(path, sizeof(path), "%s/%s", f->dir, FED_DB_FILE);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0077, 0);
}

static void test_rejects_bad_peers(void **state)
{
    struct fx *f = *state;
    struct fed_peer p;
    struct mrd_err err = {0};

    peer_fill(&p, "bad name");
    assert_int_equal(fed_peer_add(f->fs, &p, &err), MRD_E_INVAL);
    assert_non_null(strstr(err.msg, "character 3"));
    peer_fill(&p, ".hidden");
    assert_int_equal(fed_peer_add(f->fs, &p, NULL), MRD_E_INVAL);
    peer_fill(&p, "x");
    mrd_strlcpy(p.url, "file:///etc/passwd", sizeof(p.url));
    assert_int_equal(fed_peer_add(f->fs, &p, NULL), MRD_E_INVAL);
    peer_fill(&p, "x");
    p.token[0] = '\0';
    assert_int_equal(fed_peer_add(f->fs, &p, NULL), MRD_E_INVAL);
    peer_fill(&p, "x");
    mrd_strlcpy(p.token, "a\r\nInjected: yes", sizeof(p.token));
    err = (struct mrd_err){0};
    assert_int_equal(fed_peer_add(f->fs, &p, &err), MRD_E_INVAL);
    assert_non_null(strstr(err.msg, "printable"));
    peer_fill(&p, "x");
    mrd_strlcpy(p.pubkey, "ed25519:AAAA", sizeof(p.pubkey));
    assert_int_equal(fed_peer_add(f->fs, &p, NULL), MRD_E_INVAL);
    peer_fill(&p, "x");
    p.direction = (enum fed_direction)7;
    assert_int_equal(fed_peer_add(f->fs, &p, NULL), MRD_E_INVAL);
}

static void test_state_round_trip_and_disable(void **state)
{
    struct fx *f = *state;
    struct fed_peer p, got;
    struct fed_peer_state s = {0}, back;

    peer_fill(&p, "cert-b");
    assert_int_equal(fed_peer_add(f->fs, &p, NULL), MRD_OK);
    s.pull_cursor = 1795000000123456;
    s.push_has_cursor = true;
    s.push_date_added = 1795000000654321;
    s.push_seq = 42;
    s.failures = 3;
    s.next_attempt_usec = 1795000009000000;
    s.pulled = 100000;
    mrd_strlcpy(s.last_error, "http://x/taxii2/: Connection refused", sizeof(s.last_error));
    assert_int_equal(fed_peer_state_put(f->fs, "cert-b", &s, NULL), MRD_OK);
    assert_int_equal(fed_peer_get(f->fs, "cert-b", &got, &back, NULL), MRD_OK);
    assert_true(back.pull_cursor == s.pull_cursor && back.push_date_added == s.push_date_added);
    assert_true(back.push_has_cursor && back.push_seq == 42 && back.failures == 3);
    assert_true(back.pulled == 100000);
    assert_string_equal(back.last_error, s.last_error);
    /* disabling keeps cursors; enabling clears the back-off */
    assert_int_equal(fed_peer_set_enabled(f->fs, "cert-b", false, NULL), MRD_OK);
    assert_int_equal(fed_peer_get(f->fs, "cert-b", &got, &back, NULL), MRD_OK);
    assert_false(got.enabled);
    assert_int_equal(back.failures, 3);
    assert_int_equal(fed_peer_set_enabled(f->fs, "cert-b", true, NULL), MRD_OK);
    assert_int_equal(fed_peer_get(f->fs, "cert-b", &got, &back, NULL), MRD_OK);
    assert_true(got.enabled);
    assert_int_equal(back.failures, 0);
    assert_int_equal(back.next_attempt_usec, 0);
    assert_true(back.pull_cursor == s.pull_cursor);
    assert_int_equal(fed_peer_set_enabled(f->fs, "nobody", true, NULL), MRD_E_NOTFOUND);
    assert_int_equal(fed_peer_state_put(f->fs, "nobody", &s, NULL), MRD_E_NOTFOUND);
}

static void test_backoff_grows_caps_and_jitters(void **state)
{
    (void)state;
    assert_int_equal(fed_backoff_usec(0, 0.5), 0);
    /* r = 1: no reduction; r = 0: half */
    assert_int_equal(fed_backoff_usec(1, 1.0), (int64_t)FED_BACKOFF_BASE_S * 1000000);
    assert_int_equal(fed_backoff_usec(1, 0.0), (int64_t)FED_BACKOFF_BASE_S * 500000);
    assert_int_equal(fed_backoff_usec(2, 1.0), (int64_t)FED_BACKOFF_BASE_S * 2000000);
    assert_int_equal(fed_backoff_usec(4, 1.0), (int64_t)FED_BACKOFF_BASE_S * 8000000);
    for (unsigned k = 1; k < 1000; k++) {
        int64_t lo = fed_backoff_usec(k, 0.0), hi = fed_backoff_usec(k, 1.0);
        assert_true(lo > 0 && lo <= hi && hi <= (int64_t)FED_BACKOFF_MAX_S * 1000000);
        assert_true(fed_backoff_usec(k + 1, 1.0) >= hi); /* never shrinks */
    }
    assert_int_equal(fed_backoff_usec(100, 1.0), (int64_t)FED_BACKOFF_MAX_S * 1000000);
    /* out-of-range jitter is clamped */
    assert_int_equal(fed_backoff_usec(3, 7.0), fed_backoff_usec(3, 1.0));
    assert_int_equal(fed_backoff_usec(3, -1.0), fed_backoff_usec(3, 0.0));
}

static void test_direction_names(void **state)
{
    enum fed_direction d;

    (void)state;
    assert_int_equal(fed_direction_parse("pull", &d, NULL), MRD_OK);
    assert_int_equal(d, FED_DIR_PULL);
    assert_int_equal(fed_direction_parse("both", &d, NULL), MRD_OK);
    assert_string_equal(fed_direction_name(d), "both");
    assert_int_equal(fed_direction_parse("Push", &d, NULL), MRD_E_INVAL);
}

static void test_trusted_keys(void **state)
{
    struct fx *f = *state;
    struct crypto_key *k = NULL;
    char text[CRYPTO_PUBKEY_TEXT_LEN + 1];

    assert_int_equal(crypto_key_generate(&k, NULL), MRD_OK);
    crypto_pubkey_format(crypto_key_public(k), text);
    crypto_key_free(k);
    assert_int_equal(fed_key_trust(f->fs, "cert-far", text, NULL), MRD_OK);
    assert_int_equal(fed_key_trust(f->fs, "cert-far", "ed25519:nope", NULL), MRD_E_INVAL);
    assert_int_equal(fed_key_trust(f->fs, "bad name", text, NULL), MRD_E_INVAL);
    assert_int_equal(fed_key_untrust(f->fs, "cert-far", NULL), MRD_OK);
    assert_int_equal(fed_key_untrust(f->fs, "cert-far", NULL), MRD_E_NOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_get_list_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects_bad_peers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_round_trip_and_disable, setup, teardown),
        cmocka_unit_test(test_backoff_grows_caps_and_jitters),
        cmocka_unit_test(test_direction_names),
        cmocka_unit_test_setup_teardown(test_trusted_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
