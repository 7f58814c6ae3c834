/* Unit tests for crypto/'s selective-disclosure signatures: a relay may
 * withhold or transform properties and the receiver still verifies what it
 * got; re-adding, changing or smuggling a property fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/json.h"
#include "core/uuid.h"
#include "crypto/crypto.h"

static const char *const sighting_text =
    "{\"type\":\"sighting\",\"spec_version\":\"2.1\","
    "\"id\":\"sighting--6b0c6e2c-1f1a-4b57-9f3a-3c4c4f6b7e11\","
    "\"created\":\"2026-03-01T10:00:00.000Z\",\"modified\":\"2026-03-01T10:00:00.000Z\","
    "\"created_by_ref\":\"identity--0f7f9e55-3a0b-4f0a-a0a5-2f7f29c6a1b1\","
    "\"sighting_of_ref\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
    "\"first_seen\":\"2026-03-01T09:17:42.123Z\",\"count\":3,"
    "\"x_sensor_host\":\"fw-7.internal\",\"description\":\"seen \\u00e9\","
    "\"where_sighted_refs\":[\"identity--0f7f9e55-3a0b-4f0a-a0a5-2f7f29c6a1b1\"],"
    "\"extensions\":{\"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e\":"
    "{\"extension_type\":\"property-extension\",\"rank\":5}}}";

static json_t *parse(const char *text)
{
    json_t *v = NULL;

    assert_int_equal(mrd_json_parse(text, strlen(text), NULL, &v, NULL), MRD_OK);
    return v;
}

static struct crypto_key *key_n(uint8_t n)
{
    uint8_t seed[CRYPTO_SEED_LEN];
    struct crypto_key *k = NULL;

    memset(seed, n, sizeof(seed));
    assert_int_equal(crypto_key_from_seed(seed, &k, NULL), MRD_OK);
    return k;
}

static struct crypto_keyring *ring_of(const struct crypto_key *k)
{
    struct crypto_keyring *kr = NULL;

    assert_int_equal(crypto_keyring_new(&kr, NULL), MRD_OK);
    assert_int_equal(crypto_keyring_add(kr, crypto_key_public(k), "creator", 7, NULL), MRD_OK);
    return kr;
}

static struct crypto_verify_result verify(const json_t *obj, const struct crypto_keyring *kr)
{
    struct crypto_verify_result r;

    assert_int_equal(crypto_object_verify(obj, kr, &r, NULL), MRD_OK);
    return r;
}

/* The object a creating node stores: SD block, then the whole-object one. */
static json_t *signed_sighting(const struct crypto_key *k)
{
    json_t *obj = parse(sighting_text);

    assert_int_equal(crypto_object_sd_sign(obj, k, NULL), MRD_OK);
    assert_int_equal(crypto_object_sign(obj, k, NULL), MRD_OK);
    return obj;
}

static json_t *sd_block(json_t *obj)
{
    return json_object_get(json_object_get(obj, "extensions"), CRYPTO_SD_EXT_ID);
}

static void test_sign_full_verifies(void **state)
{
    struct crypto_key *k = key_n(1);
    struct crypto_keyring *kr = ring_of(k);
    json_t *obj = signed_sighting(k), *block = sd_block(obj), *copy;
    struct crypto_verify_result r;

    (void)state;
    /* 7 digested: sighting_of_ref first_seen count x_sensor_host
     * description where_sighted_refs extensions (the third-party one) */
    assert_int_equal(json_array_size(json_object_get(block, "digests")), 7);
    assert_int_equal(json_object_size(json_object_get(block, "disclosures")), 7);
    assert_null(json_object_get(json_object_get(block, "disclosures"), "id"));
    assert_true(crypto_object_has_sig(obj));
    r = verify(obj, kr);
    assert_int_equal(r.verdict, CRYPTO_VALID);
    assert_true(r.selective);
    assert_int_equal(r.sd_withheld, 0);
    assert_int_equal(r.sd_disclosed, 7);
    /* the SD block alone verifies too (an older relay that forwards only
     * what it knows is not needed for that) */
    copy = json_deep_copy(obj);
    assert_int_equal(json_object_del(json_object_get(copy, "extensions"), CRYPTO_SIG_EXT_ID), 0);
    assert_int_equal(verify(copy, kr).verdict, CRYPTO_VALID);
    /* and a node without the key sees an unknown signer, not a failure */
    assert_int_equal(verify(copy, NULL).verdict, CRYPTO_UNKNOWN_SIGNER);
    json_decref(copy);
    json_decref(obj);
    crypto_keyring_free(kr);
    crypto_key_free(k);
}

static void test_withhold_verifies_and_counts(void **state)
{
    struct crypto_key *k = key_n(2);
    struct crypto_keyring *kr = ring_of(k);
    json_t *obj = signed_sighting(k);
    struct crypto_verify_result r;

    (void)state;
    assert_int_equal(json_object_del(obj, "x_sensor_host"), 0);
    assert_int_equal(crypto_object_sd_withhold(obj, "x_sensor_host", NULL, NULL), MRD_OK);
    assert_false(crypto_object_has_sig(obj)); /* it could not verify any more */
    assert_int_equal(json_object_set_new(obj, "first_seen", json_string("2026-03-01T09:00:00Z")),
                     0);
    assert_int_equal(crypto_object_sd_withhold(obj, "first_seen", "generalise:hour", NULL), MRD_OK);
    r = verify(obj, kr);
    assert_int_equal(r.verdict, CRYPTO_VALID);
    assert_int_equal(r.sd_digests, 7);
    assert_int_equal(r.sd_disclosed, 5);
    assert_int_equal(r.sd_withheld, 2);
    assert_int_equal(r.sd_transformed, 1);
    /* re-serialising (member order, spacing) changes nothing */
    {
        char *text = json_dumps(obj, JSON_INDENT(3));
        json_t *again = parse(text);
        assert_int_equal(verify(again, kr).verdict, CRYPTO_VALID);
        json_decref(again);
        free(text);
    }
    json_decref(obj);
    crypto_keyring_free(kr);
    crypto_key_free(k);
}

static void expect_invalid(json_t *obj, const struct crypto_keyring *kr, const char *why)
{
    struct crypto_verify_result r = verify(obj, kr);

    assert_int_equal(r.verdict, CRYPTO_INVALID);
    if (strstr(r.reason, why) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", r.reason, why);
}

static void test_tamper_fails(void **state)
{
    struct crypto_key *k = key_n(3);
    struct crypto_keyring *kr = ring_of(k);
    json_t *base = signed_sighting(k), *obj, *salt;

    (void)state;
    /* withhold one property, as a relay would */
    assert_int_equal(json_object_del(base, "x_sensor_host"), 0);
    assert_int_equal(crypto_object_sd_withhold(base, "x_sensor_host", NULL, NULL), MRD_OK);
    assert_int_equal(verify(base, kr).verdict, CRYPTO_VALID);

    /* changed value */
    obj = json_deep_copy(base);
    assert_int_equal(json_object_set_new(obj, "count", json_integer(4)), 0);
    expect_invalid(obj, kr, "\"count\" does not match");
    json_decref(obj);
    /* re-added withheld property (a guess), without and with a salt */
    obj = json_deep_copy(base);
    assert_int_equal(json_object_set_new(obj, "x_sensor_host", json_string("fw-7.internal")), 0);
    expect_invalid(obj, kr, "\"x_sensor_host\" has no disclosure");
    salt = json_object_get(json_object_get(sd_block(obj), "disclosures"), "count");
    assert_int_equal(
        json_object_set(json_object_get(sd_block(obj), "disclosures"), "x_sensor_host", salt), 0);
    expect_invalid(obj, kr, "\"x_sensor_host\" does not match");
    json_decref(obj);
    /* a new property */
    obj = json_deep_copy(base);
    assert_int_equal(json_object_set_new(obj, "x_new", json_true()), 0);
    expect_invalid(obj, kr, "\"x_new\" has no disclosure");
    json_decref(obj);
    /* a fixed property changed */
    obj = json_deep_copy(base);
    assert_int_equal(json_object_set_new(obj, "modified", json_string("2027-01-01T00:00:00Z")), 0);
    expect_invalid(obj, kr, "signature does not match");
    json_decref(obj);
    /* a fixed property removed */
    obj = json_deep_copy(base);
    assert_int_equal(json_object_del(obj, "created_by_ref"), 0);
    expect_invalid(obj, kr, "signature does not match");
    json_decref(obj);
    /* a digest removed (to hide that something was withheld) */
    obj = json_deep_copy(base);
    assert_int_equal(json_array_remove(json_object_get(sd_block(obj), "digests"), 0), 0);
    assert_int_equal(verify(obj, kr).verdict, CRYPTO_INVALID);
    json_decref(obj);
    /* a salt kept for a withheld property would let receivers test guesses */
    obj = json_deep_copy(base);
    assert_int_equal(json_object_del(obj, "count"), 0);
    expect_invalid(obj, kr, "disclosure for \"count\", which is absent");
    json_decref(obj);
    /* a property claimed as transformed that is not there */
    obj = json_deep_copy(base);
    assert_int_equal(json_object_set_new(sd_block(obj), "transformed",
                                         json_pack("{s:s}", "x_sensor_host", "drop")),
                     0);
    expect_invalid(obj, kr, "transformed \"x_sensor_host\" is absent");
    json_decref(obj);
    /* the third-party extension changed */
    obj = json_deep_copy(base);
    assert_int_equal(
        json_object_set_new(json_object_get(json_object_get(obj, "extensions"),
                                            "extension-definition--d83fce45-ef58-4c6c-a3f4-"
                                            "1fbc32e98c6e"),
                            "rank", json_integer(6)),
        0);
    expect_invalid(obj, kr, "\"extensions\" does not match");
    json_decref(obj);
    /* signed by another key than the one named */
    obj = json_deep_copy(base);
    {
        char pk[CRYPTO_PUBKEY_TEXT_LEN + 1];
        struct crypto_key *other = key_n(9);
        crypto_pubkey_format(crypto_key_public(other), pk);
        assert_int_equal(json_object_set_new(sd_block(obj), "public_key", json_string(pk)), 0);
        expect_invalid(obj, kr, "signature does not match");
        crypto_key_free(other);
    }
    json_decref(obj);
    json_decref(base);
    crypto_keyring_free(kr);
    crypto_key_free(k);
}

static void test_whole_signature_still_checked(void **state)
{
    struct crypto_key *k = key_n(4);
    struct crypto_keyring *kr = ring_of(k);
    json_t *obj = signed_sighting(k);

    (void)state;
    /* removing a property but leaving the whole-object block: invalid, the
     * whole-object block wins (it is checked first) */
    assert_int_equal(json_object_del(obj, "count"), 0);
    assert_int_equal(verify(obj, kr).verdict, CRYPTO_INVALID);
    json_decref(obj);
    crypto_keyring_free(kr);
    crypto_key_free(k);
}

static void test_malformed_block(void **state)
{
    static const char *const cases[][2] = {
        {"algorithm", "\"rsa\""},
        {"digest_algorithm", "\"md5\""},
        {"digests", "[\"zz\"]"},
        {"digests", "{}"},
        {"disclosures", "[]"},
        {"disclosures", "{\"count\":\"AAAA\"}"},
        {"disclosures", "{\"id\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}"},
        {"signature", "\"abc\""},
        {"public_key", "\"ed25519:xx\""},
        {"x_extra", "1"},
        {"transformed", "{\"count\":\"generalise\"}"},
        {"transformed", "{\"first_seen\":\"a\\u0001b\"}"},
    };
    struct crypto_key *k = key_n(5);
    json_t *base = signed_sighting(k);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *obj = json_deep_copy(base);
        json_t *blk = sd_block(obj);
        json_object_del(json_object_get(obj, "extensions"), CRYPTO_SIG_EXT_ID);
        json_t *val = json_loads(cases[i][1], JSON_DECODE_ANY, NULL);
        assert_non_null(val);
        assert_int_equal(json_object_set_new(blk, cases[i][0], val), 0);
        if (verify(obj, NULL).verdict != CRYPTO_INVALID)
            fail_msg("case %zu (%s) not refused", i, cases[i][0]);
        json_decref(obj);
    }
    /* digests out of order */
    {
        json_t *obj = json_deep_copy(base), *d = json_object_get(sd_block(obj), "digests");
        json_t *first = json_incref(json_array_get(d, 0));
        json_object_del(json_object_get(obj, "extensions"), CRYPTO_SIG_EXT_ID);
        assert_int_equal(json_array_remove(d, 0), 0);
        assert_int_equal(json_array_append_new(d, first), 0);
        expect_invalid(obj, NULL, "not sorted");
        json_decref(obj);
    }
    json_decref(base);
    crypto_key_free(k);
}

static void test_withhold_refuses(void **state)
{
    struct crypto_key *k = key_n(6);
    json_t *obj = signed_sighting(k), *plain = parse(sighting_text);

    (void)state;
    assert_int_equal(crypto_object_sd_withhold(obj, "id", NULL, NULL), MRD_E_INVAL);
    assert_int_equal(crypto_object_sd_withhold(obj, "created_by_ref", NULL, NULL), MRD_E_INVAL);
    assert_int_equal(crypto_object_sd_withhold(plain, "count", NULL, NULL), MRD_E_INVAL);
    assert_false(crypto_object_has_sd(plain));
    assert_true(crypto_object_has_sd(obj));
    json_decref(plain);
    json_decref(obj);
    crypto_key_free(k);
}

static void test_salts(void **state)
{
    struct crypto_key *k = key_n(7), *k2 = key_n(8);
    json_t *a = signed_sighting(k), *b = signed_sighting(k), *c = parse(sighting_text);
    json_t *d = parse(sighting_text);

    (void)state;
    /* the same version signed again by the same node: the same bytes (the
     * ingest path relies on it: a re-import is "already present") */
    assert_true(json_equal(a, b));
    /* another key, or another object with the same values: other salts,
     * so a digest says nothing about a withheld value across objects */
    assert_int_equal(crypto_object_sd_sign(c, k2, NULL), MRD_OK);
    assert_false(json_equal(json_object_get(sd_block(a), "digests"),
                            json_object_get(sd_block(c), "digests")));
    assert_int_equal(
        json_object_set_new(d, "id", json_string("sighting--0b0c6e2c-1f1a-4b57-9f3a-3c4c4f6b7e11")),
        0);
    assert_int_equal(crypto_object_sd_sign(d, k, NULL), MRD_OK);
    assert_string_not_equal(
        json_string_value(json_object_get(json_object_get(sd_block(a), "disclosures"), "count")),
        json_string_value(json_object_get(json_object_get(sd_block(d), "disclosures"), "count")));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
    crypto_key_free(k);
    crypto_key_free(k2);
}

/* The salt is what docs/privacy.md says: BLAKE2b-128 keyed with a subkey
 * of the seed (crypto_kdf, id 1, context "mrdsdslt"), never with the
 * Ed25519 seed itself, over the tag, the id, the version and the
 * property. */
static void test_salt_derivation(void **state)
{
    static const char msg[] = "meridian/sd-salt/1\0"
                              "\"sighting--6b0c6e2c-1f1a-4b57-9f3a-3c4c4f6b7e11\""
                              "\"2026-03-01T10:00:00.000Z\"\"count\"3";
    uint8_t seed[CRYPTO_SEED_LEN], sub[crypto_kdf_KEYBYTES], want[CRYPTO_SD_SALT_LEN];
    uint8_t raw[CRYPTO_SD_SALT_LEN];
    char want64[64], raw64[64];
    struct crypto_key *k = key_n(9);
    json_t *obj = signed_sighting(k);
    const char *got =
        json_string_value(json_object_get(json_object_get(sd_block(obj), "disclosures"), "count"));

    (void)state;
    memset(seed, 9, sizeof(seed));
    assert_int_equal(crypto_kdf_derive_from_key(sub, sizeof(sub), 1, "mrdsdslt", seed), 0);
    assert_int_equal(crypto_generichash(want, sizeof(want), (const unsigned char *)msg,
                                        sizeof(msg) - 1, sub, sizeof(sub)),
                     0);
    sodium_bin2base64(want64, sizeof(want64), want, sizeof(want), sodium_base64_VARIANT_ORIGINAL);
    assert_non_null(got);
    assert_string_equal(got, want64);
    /* and not the seed used as the BLAKE2b key */
    assert_int_equal(crypto_generichash(raw, sizeof(raw), (const unsigned char *)msg,
                                        sizeof(msg) - 1, seed, sizeof(seed)),
                     0);
    sodium_bin2base64(raw64, sizeof(raw64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
    assert_string_not_equal(got, raw64);
    json_decref(obj);
    crypto_key_free(k);
}

static char *text_of(const json_t *obj)
{
    char *t = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);

    assert_non_null(t);
    return t;
}

/* Two copies of one version by one signer are the same content whatever
 * Meridian blocks they carry; any other difference is another copy. */
static void test_same_content(void **state)
{
    struct crypto_key *k = key_n(10);
    json_t *both = signed_sighting(k), *whole = parse(sighting_text), *plain = parse(sighting_text);
    json_t *other = signed_sighting(k), *bare = parse("{\"type\":\"x\"}");
    char *a, *b, *c, *d, *e;

    (void)state;
    assert_int_equal(crypto_object_sign(whole, k, NULL), MRD_OK); /* no SD block */
    assert_int_equal(json_object_set_new(other, "count", json_integer(4)), 0);
    a = text_of(both);
    b = text_of(whole);
    c = text_of(plain);
    d = text_of(other);
    e = text_of(bare);
    assert_true(crypto_object_same_content(a, strlen(a), b, strlen(b)));
    assert_true(crypto_object_same_content(b, strlen(b), a, strlen(a)));
    assert_true(crypto_object_same_content(a, strlen(a), c, strlen(c)));
    /* another value, fewer properties, not an object, not JSON */
    assert_false(crypto_object_same_content(a, strlen(a), d, strlen(d)));
    assert_false(crypto_object_same_content(a, strlen(a), e, strlen(e)));
    assert_false(crypto_object_same_content(a, strlen(a), "[1]", 3));
    assert_false(crypto_object_same_content(a, strlen(a), "{\"type\":", 8));
    /* the other extensions still count: only the two Meridian blocks go */
    json_object_del(json_object_get(plain, "extensions"),
                    "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e");
    free(c);
    c = text_of(plain);
    assert_false(crypto_object_same_content(a, strlen(a), c, strlen(c)));
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
    json_decref(both);
    json_decref(whole);
    json_decref(plain);
    json_decref(other);
    json_decref(bare);
    crypto_key_free(k);
}

static void test_sd_extension_definition(void **state)
{
    json_t *def = NULL;
    char uuid[MRD_UUID_STR_LEN + 1];

    (void)state;
    assert_int_equal(crypto_sd_extension_definition(&def, NULL), MRD_OK);
    assert_string_equal(json_string_value(json_object_get(def, "id")), CRYPTO_SD_EXT_ID);
    assert_int_equal(mrd_uuid_v5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", CRYPTO_SD_EXT_NAME,
                                 strlen(CRYPTO_SD_EXT_NAME), uuid, NULL),
                     MRD_OK);
    assert_string_equal(&CRYPTO_SD_EXT_ID[strlen("extension-definition--")], uuid);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(def, "extension_types"), 0)),
        "property-extension");
    json_decref(def);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_full_verifies),
        cmocka_unit_test(test_withhold_verifies_and_counts),
        cmocka_unit_test(test_tamper_fails),
        cmocka_unit_test(test_whole_signature_still_checked),
        cmocka_unit_test(test_malformed_block),
        cmocka_unit_test(test_withhold_refuses),
        cmocka_unit_test(test_salts),
        cmocka_unit_test(test_salt_derivation),
        cmocka_unit_test(test_same_content),
        cmocka_unit_test(test_sd_extension_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
