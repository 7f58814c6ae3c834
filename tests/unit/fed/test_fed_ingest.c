/* fed: THE ingest check. Local objects get signed; received ones are
 * verified; one changed byte is rejected whoever signed; unknown signers
 * and unsigned objects pass, marked. Keys live in a temporary data dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../testdir.h"

#include "core/json.h"
#include "core/str.h"
#include "fed/fed.h"

static const char ind_text[] =
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
    "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
    "\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
    "\"name\":\"x\",\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\",\"pattern_type\":\"stix\","
    "\"valid_from\":\"2026-01-01T00:00:00Z\"}";

struct fx {
    char a[TEST_DIR_MAX], b[TEST_DIR_MAX];
    struct fed_trust *ta, *tb; /* node A's and node B's (B trusts A) */
};

static json_t *ind(void)
{
    json_t *v = NULL;

    assert_int_equal(mrd_json_parse(ind_text, strlen(ind_text), NULL, &v, NULL), MRD_OK);
    return v;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct fed_state *fs = NULL;
    struct crypto_key *k = NULL;
    char path[128], text[CRYPTO_PUBKEY_TEXT_LEN + 1];

    assert_non_null(f);
    test_dir_make(f->a, "fed-ingest-a");
    test_dir_make(f->b, "fed-ingest-b");
    assert_int_equal(fed_node_key_ensure(f->a, NULL), MRD_OK);
    assert_int_equal(fed_node_key_ensure(f->a, NULL), MRD_OK); /* idempotent */
    assert_int_equal(fed_node_key_ensure(f->b, NULL), MRD_OK);
    (void)snprintf(path, sizeof(path), "%s/%s", f->a, FED_NODE_KEY_FILE);
    assert_int_equal(crypto_key_load(path, &k, NULL), MRD_OK);
    crypto_pubkey_format(crypto_key_public(k), text);
    crypto_key_free(k);
    assert_int_equal(fed_state_open(f->b, &fs, NULL), MRD_OK);
    assert_int_equal(fed_key_trust(fs, "node-a", text, NULL), MRD_OK);
    fed_state_close(fs);
    assert_int_equal(fed_trust_load(f->a, &f->ta, NULL), MRD_OK);
    assert_int_equal(fed_trust_load(f->b, &f->tb, NULL), MRD_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    fed_trust_free(f->ta);
    fed_trust_free(f->tb);
    test_dir_remove(f->a);
    test_dir_remove(f->b);
    free(f);
    return 0;
}

static void test_local_is_signed_and_verifies_elsewhere(void **state)
{
    struct fx *f = *state;
    json_t *o = ind();
    struct fed_ingest_result r;

    assert_int_equal(fed_ingest_check(f->ta, o, FED_ORIGIN_LOCAL, &r, NULL), MRD_OK);
    assert_true(r.signed_here && !r.reject && r.verdict == CRYPTO_VALID);
    assert_non_null(json_object_get(json_object_get(o, "extensions"), CRYPTO_SIG_EXT_ID));
    /* at B (which trusts A): valid; signing again changes nothing */
    assert_int_equal(fed_ingest_check(f->tb, o, FED_ORIGIN_REMOTE, &r, NULL), MRD_OK);
    assert_true(!r.reject && r.verdict == CRYPTO_VALID && !r.signed_here);
    assert_int_equal(fed_ingest_check(f->tb, o, FED_ORIGIN_LOCAL, &r, NULL), MRD_OK);
    assert_true(!r.signed_here && r.verdict == CRYPTO_VALID);
    assert_string_equal(fed_verification_of(f->tb, o), "valid");
    /* at a node that knows nobody: signature fine, signer unknown */
    assert_int_equal(fed_ingest_check(NULL, o, FED_ORIGIN_REMOTE, &r, NULL), MRD_OK);
    assert_true(!r.reject && r.verdict == CRYPTO_UNKNOWN_SIGNER);
    json_decref(o);
}

static void test_changed_byte_is_rejected(void **state)
{
    struct fx *f = *state;
    json_t *o = ind();
    struct fed_ingest_result r;

    assert_int_equal(fed_ingest_check(f->ta, o, FED_ORIGIN_LOCAL, &r, NULL), MRD_OK);
    assert_int_equal(json_object_set_new(o, "name", json_string("y")), 0);
    assert_int_equal(fed_ingest_check(f->tb, o, FED_ORIGIN_REMOTE, &r, NULL), MRD_OK);
    assert_true(r.reject && r.verdict == CRYPTO_INVALID);
    assert_non_null(strstr(r.message, "signature does not match"));
    /* even a node that does not know the signer, and even as a local write */
    assert_int_equal(fed_ingest_check(NULL, o, FED_ORIGIN_REMOTE, &r, NULL), MRD_OK);
    assert_true(r.reject);
    assert_int_equal(fed_ingest_check(f->tb, o, FED_ORIGIN_LOCAL, &r, NULL), MRD_OK);
    assert_true(r.reject);
    assert_string_equal(fed_verification_of(f->tb, o), "invalid");
    json_decref(o);
}

static void test_unsigned_remote_passes_unverified(void **state)
{
    struct fx *f = *state;
    json_t *o = ind();
    struct fed_ingest_result r;

    assert_int_equal(fed_ingest_check(f->tb, o, FED_ORIGIN_REMOTE, &r, NULL), MRD_OK);
    assert_true(!r.reject && !r.signed_here && r.verdict == CRYPTO_UNSIGNED);
    assert_null(json_object_get(o, "extensions")); /* untouched */
    assert_string_equal(fed_verification_of(f->tb, o), "unsigned");
    json_decref(o);
}

static void test_canon_signs_a_copy(void **state)
{
    struct fx *f = *state;
    json_t *o = ind(), *back = NULL;
    struct fed_ingest_result r;
    struct mrd_buf out;

    mrd_buf_init(&out, 1 << 20);
    assert_int_equal(fed_ingest_canon(f->ta, o, FED_ORIGIN_LOCAL, POLICY_TLP_CLEAR, &out, &r, NULL),
                     MRD_OK);
    assert_null(json_object_get(o, "extensions")); /* the caller's object is not changed */
    {
        /* a marking list of its own (empty: no level, so the default is
         * written in): the TLP goes into the stored copy's list, never into
         * the caller's */
        json_t *m = ind(), *got = NULL;
        struct fed_ingest_result mr;
        struct mrd_buf mo;
        mrd_buf_init(&mo, 1 << 20);
        assert_int_equal(json_object_set_new(m, "object_marking_refs", json_array()), 0);
        assert_int_equal(
            fed_ingest_canon(f->ta, m, FED_ORIGIN_LOCAL, POLICY_TLP_AMBER, &mo, &mr, NULL), MRD_OK);
        assert_int_equal(json_array_size(json_object_get(m, "object_marking_refs")), 0);
        assert_null(json_object_get(m, "extensions"));
        assert_int_equal(mrd_json_parse(mo.data, mo.len, NULL, &got, NULL), MRD_OK);
        assert_int_equal(json_array_size(json_object_get(got, "object_marking_refs")), 1);
        assert_int_equal(policy_tlp_of_object(got, POLICY_TLP_CLEAR), POLICY_TLP_AMBER);
        json_decref(got);
        json_decref(m);
        mrd_buf_release(&mo);
    }
    assert_int_equal(r.tlp, POLICY_TLP_CLEAR);
    assert_int_equal(mrd_json_parse(out.data, out.len, NULL, &back, NULL), MRD_OK);
    /* the default's level is written in before signing, CLEAR too (issue 17) */
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(back, "object_marking_refs"), 0)),
        POLICY_TLP2_CLEAR_ID);
    assert_int_equal(fed_ingest_check(f->tb, back, FED_ORIGIN_REMOTE, &r, NULL), MRD_OK);
    assert_int_equal(r.verdict, CRYPTO_VALID);
    /* received unsigned and unmarked: GREEN at least, written in; signed and
     * unmarked: GREEN at least, bytes unchanged */
    {
        json_t *plain = ind(), *got = NULL;
        mrd_buf_reset(&out);
        assert_int_equal(
            fed_ingest_canon(f->tb, plain, FED_ORIGIN_REMOTE, POLICY_TLP_CLEAR, &out, &r, NULL),
            MRD_OK);
        assert_int_equal(r.tlp, POLICY_TLP_GREEN);
        assert_int_equal(mrd_json_parse(out.data, out.len, NULL, &got, NULL), MRD_OK);
        assert_int_equal(policy_tlp_of_object(got, POLICY_TLP_CLEAR), POLICY_TLP_GREEN);
        json_decref(got);
        assert_int_equal(fed_ingest_check(f->ta, plain, FED_ORIGIN_LOCAL, &r, NULL), MRD_OK);
        mrd_buf_reset(&out);
        assert_int_equal(
            fed_ingest_canon(f->tb, plain, FED_ORIGIN_REMOTE, POLICY_TLP_CLEAR, &out, &r, NULL),
            MRD_OK);
        assert_int_equal(r.tlp, POLICY_TLP_GREEN);
        assert_null(strstr(out.data, "object_marking_refs"));
        assert_int_equal(r.verdict, CRYPTO_VALID);
        json_decref(plain);
    }
    /* refused objects append nothing */
    assert_int_equal(json_object_set_new(back, "name", json_string("z")), 0);
    mrd_buf_reset(&out);
    assert_int_equal(
        fed_ingest_canon(f->tb, back, FED_ORIGIN_REMOTE, POLICY_TLP_GREEN, &out, &r, NULL), MRD_OK);
    assert_true(r.reject);
    assert_int_equal(out.len, 0);
    mrd_buf_release(&out);
    json_decref(back);
    json_decref(o);
}

static void test_node_without_key_signs_nothing(void **state)
{
    char dir[TEST_DIR_MAX];
    struct fed_trust *t = NULL;
    struct fed_ingest_result r;
    json_t *o = ind();

    (void)state;
    test_dir_make(dir, "fed-ingest-n");
    assert_int_equal(fed_trust_load(dir, &t, NULL), MRD_OK);
    assert_null(t->node_key);
    assert_int_equal(fed_ingest_check(t, o, FED_ORIGIN_LOCAL, &r, NULL), MRD_OK);
    assert_true(!r.signed_here && r.verdict == CRYPTO_UNSIGNED);
    fed_trust_free(t);
    json_decref(o);
    test_dir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_local_is_signed_and_verifies_elsewhere, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_changed_byte_is_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsigned_remote_passes_unverified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canon_signs_a_copy, setup, teardown),
        cmocka_unit_test(test_node_without_key_signs_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
