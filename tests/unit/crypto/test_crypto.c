/* Unit tests for crypto/: keys, key files, public key text, and STIX
 * object signatures (docs/design.md §6) through the public interface. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../testdir.h"

#include "core/alloc.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "crypto/crypto.h"

/* An indicator with nested objects, a list, a non-ASCII string, a real
 * number and another (non-Meridian) extension. */
static const char *const indicator_text =
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
    "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
    "\"created\":\"2026-03-01T10:00:00.000Z\",\"modified\":\"2026-03-01T10:00:00.000Z\","
    "\"name\":\"C2 server \\u00e9t\\u00e9\",\"pattern\":\"[ipv4-addr:value = '198.51.100.3']\","
    "\"pattern_type\":\"stix\",\"valid_from\":\"2026-03-01T10:00:00Z\",\"confidence\":85,"
    "\"x_score\":0.5,\"revoked\":false,"
    "\"labels\":[\"c2\",\"botnet\"],"
    "\"external_references\":[{\"source_name\":\"cert\",\"external_id\":\"CERT-2026-17\"}],"
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

static struct crypto_keyring *ring_of(const struct crypto_key *k, const char *name)
{
    struct crypto_keyring *kr = NULL;

    assert_int_equal(crypto_keyring_new(&kr, NULL), MRD_OK);
    if (k != NULL)
        assert_int_equal(crypto_keyring_add(kr, crypto_key_public(k), name, strlen(name), NULL),
                         MRD_OK);
    return kr;
}

static enum crypto_verdict verdict_of(const json_t *obj, const struct crypto_keyring *kr)
{
    struct crypto_verify_result r;

    assert_int_equal(crypto_object_verify(obj, kr, &r, NULL), MRD_OK);
    return r.verdict;
}

static void test_rfc8032_key(void **state)
{
    /* RFC 8032 §7.1 TEST 1: secret seed -> public key */
    static const uint8_t seed[32] = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60,
                                     0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
                                     0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19,
                                     0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
    static const uint8_t pk[32] = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
                                   0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
                                   0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
    struct crypto_key *k = NULL;
    char text[CRYPTO_PUBKEY_TEXT_LEN + 1];
    uint8_t back[CRYPTO_PUBKEY_LEN];

    (void)state;
    assert_int_equal(crypto_key_from_seed(seed, &k, NULL), MRD_OK);
    assert_memory_equal(crypto_key_public(k), pk, sizeof(pk));
    crypto_pubkey_format(pk, text);
    /* base64 of the RFC's public key, as `base64` prints it */
    assert_string_equal(text, "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    assert_int_equal(strlen(text), CRYPTO_PUBKEY_TEXT_LEN);
    assert_int_equal(crypto_pubkey_parse(text, strlen(text), back, NULL), MRD_OK);
    assert_memory_equal(back, pk, sizeof(pk));
    crypto_key_free(k);
    crypto_key_free(NULL);
}

static void test_pubkey_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "ed25519:",
        "ED25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
        "ed448:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
        "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo",   /* no padding */
        "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo= ", /* trailing space */
        "ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=",  /* URL alphabet */
        "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURp=",  /* non-zero spare bits */
        "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHUR==",  /* 31 bytes */
    };
    uint8_t pk[CRYPTO_PUBKEY_LEN];
    struct mrd_err err = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mrd_err_clear(&err);
        if (crypto_pubkey_parse(bad[i], strlen(bad[i]), pk, &err) != MRD_E_PARSE)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_non_null(strstr(err.msg, "public key"));
    }
}

static void test_generate_distinct(void **state)
{
    struct crypto_key *a = NULL, *b = NULL;

    (void)state;
    assert_int_equal(crypto_key_generate(&a, NULL), MRD_OK);
    assert_int_equal(crypto_key_generate(&b, NULL), MRD_OK);
    assert_true(crypto_key_has_secret(a));
    assert_memory_not_equal(crypto_key_public(a), crypto_key_public(b), CRYPTO_PUBKEY_LEN);
    crypto_key_free(a);
    crypto_key_free(b);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_key_file(void **state)
{
    char dir[TEST_DIR_MAX], path[TEST_DIR_MAX + 64], link[TEST_DIR_MAX + 64],
        other[TEST_DIR_MAX + 64];
    struct crypto_key *k = NULL, *loaded = NULL;
    struct crypto_keyring *kr = NULL;
    struct mrd_err err = {0};
    struct stat st;
    json_t *obj;
    mode_t old;

    (void)state;
    test_dir_make(dir, "mrd-crypto");
    (void)snprintf(path, sizeof(path), "%s/node.key", dir);
    (void)snprintf(link, sizeof(link), "%s/link.key", dir);
    (void)snprintf(other, sizeof(other), "%s/other.key", dir);
    assert_int_equal(crypto_key_generate(&k, NULL), MRD_OK);

    /* 0600 even under a permissive umask */
    old = umask(0);
    assert_int_equal(crypto_key_save(k, path, &err), MRD_OK);
    umask(old);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    /* round trip: the loaded key signs what the original's public key
     * verifies */
    assert_int_equal(crypto_key_load(path, &loaded, &err), MRD_OK);
    assert_memory_equal(crypto_key_public(loaded), crypto_key_public(k), CRYPTO_PUBKEY_LEN);
    obj = parse(indicator_text);
    assert_int_equal(crypto_object_sign(obj, loaded, NULL), MRD_OK);
    kr = ring_of(k, "self");
    assert_int_equal(verdict_of(obj, kr), CRYPTO_VALID);
    json_decref(obj);

    /* never overwrites */
    assert_int_equal(crypto_key_save(k, path, &err), MRD_E_EXISTS);

    /* readable or writable by others: refused, with advice */
    assert_int_equal(chmod(path, 0644), 0);
    mrd_err_clear(&err);
    assert_int_equal(crypto_key_load(path, &loaded, &err), MRD_E_PERM);
    assert_non_null(strstr(err.msg, "0644"));
    assert_non_null(strstr(err.msg, "chmod 600"));
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(crypto_key_load(path, &loaded, NULL), MRD_E_PERM);
    assert_int_equal(chmod(path, 0602), 0);
    assert_int_equal(crypto_key_load(path, &loaded, NULL), MRD_E_PERM);
    assert_int_equal(chmod(path, 0400), 0);
    crypto_key_free(loaded);
    loaded = NULL;
    assert_int_equal(crypto_key_load(path, &loaded, NULL), MRD_OK);

    /* a symbolic link is not followed; a missing file is NOTFOUND */
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(crypto_key_load(link, &loaded, NULL), MRD_E_PERM);
    mrd_err_clear(&err);
    assert_int_equal(crypto_key_load(other, &loaded, &err), MRD_E_NOTFOUND);

    /* anything but our format is a parse error naming the line */
    write_file(other, "# comment\n\ned25519-secret:AAAA\n", 0600);
    mrd_err_clear(&err);
    assert_int_equal(crypto_key_load(other, &loaded, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "line 3"));
    write_file(other, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 0600);
    mrd_err_clear(&err);
    assert_int_equal(crypto_key_load(other, &loaded, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "line 1"));
    write_file(other, "# nothing\n", 0600);
    assert_int_equal(crypto_key_load(other, &loaded, NULL), MRD_E_PARSE);
    {
        char big[CRYPTO_KEY_FILE_MAX + 100];

        memset(big, '#', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        write_file(other, big, 0600);
        assert_int_equal(crypto_key_load(other, &loaded, NULL), MRD_E_TOOBIG);
    }

    assert_int_equal(unlink(other), 0);
    assert_int_equal(unlink(link), 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    crypto_key_free(loaded);
    crypto_key_free(k);
    crypto_keyring_free(kr);
}

static void test_sign_verify(void **state)
{
    struct crypto_key *k = key_n(1);
    struct crypto_keyring *kr = ring_of(k, "cert-a");
    struct crypto_verify_result r;
    json_t *obj = parse(indicator_text), *exts, *block;
    char pktext[CRYPTO_PUBKEY_TEXT_LEN + 1];

    (void)state;
    assert_int_equal(verdict_of(obj, kr), CRYPTO_UNSIGNED);
    assert_int_equal(crypto_object_sign(obj, k, NULL), MRD_OK);
    assert_int_equal(crypto_object_verify(obj, kr, &r, NULL), MRD_OK);
    assert_int_equal(r.verdict, CRYPTO_VALID);
    assert_string_equal(r.signer_name, "cert-a");
    assert_true(r.has_signer);
    assert_memory_equal(r.signer, crypto_key_public(k), CRYPTO_PUBKEY_LEN);
    assert_string_equal(crypto_verdict_str(r.verdict), "valid");

    /* the block sits beside the other extension, as a property-extension */
    exts = json_object_get(obj, "extensions");
    assert_int_equal(json_object_size(exts), 2);
    block = json_object_get(exts, CRYPTO_SIG_EXT_ID);
    assert_string_equal(json_string_value(json_object_get(block, "extension_type")),
                        "property-extension");
    assert_string_equal(json_string_value(json_object_get(block, "algorithm")), "ed25519");
    crypto_pubkey_format(crypto_key_public(k), pktext);
    assert_string_equal(json_string_value(json_object_get(block, "public_key")), pktext);
    assert_int_equal(json_string_length(json_object_get(block, "signature")), 88);

    /* signing again (e.g. a new version) replaces the block, never adds one */
    assert_int_equal(crypto_object_sign(obj, k, NULL), MRD_OK);
    assert_int_equal(json_object_size(json_object_get(obj, "extensions")), 2);
    assert_int_equal(verdict_of(obj, kr), CRYPTO_VALID);

    /* an object without extensions gets a dictionary holding only the block */
    json_decref(obj);
    obj = parse("{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--28bb3599-77cd-5a82-a950-"
                "b5bc3caf07c4\",\"value\":\"198.51.100.3\"}");
    assert_int_equal(crypto_object_sign(obj, k, NULL), MRD_OK);
    assert_int_equal(json_object_size(json_object_get(obj, "extensions")), 1);
    assert_int_equal(verdict_of(obj, kr), CRYPTO_VALID);
    /* an empty extensions dictionary (invalid STIX) still round-trips */
    json_decref(obj);
    obj = parse("{\"type\":\"x-thing\",\"extensions\":{}}");
    assert_int_equal(crypto_object_sign(obj, k, NULL), MRD_OK);
    assert_int_equal(json_object_size(json_object_get(obj, "extensions")), 1);
    assert_int_equal(verdict_of(obj, kr), CRYPTO_VALID);
    /* dropping the block leaves an unsigned object, not an invalid one */
    assert_int_equal(json_object_del(json_object_get(obj, "extensions"), CRYPTO_SIG_EXT_ID), 0);
    assert_int_equal(verdict_of(obj, kr), CRYPTO_UNSIGNED);

    json_decref(obj);
    crypto_keyring_free(kr);
    crypto_key_free(k);
}

/* Changes one character of the canonical text at every position that is
 * part of a value or a name, and checks that no such object verifies. */
static void test_any_changed_byte_is_invalid(void **state)
{
    struct crypto_key *k = key_n(2);
    struct crypto_keyring *kr = ring_of(k, "cert-b");
    json_t *obj = parse(indicator_text);
    char *text;
    size_t n, tried = 0, invalid = 0;

    (void)state;
    assert_int_equal(crypto_object_sign(obj, k, NULL), MRD_OK);
    text = json_dumps(obj, JSON_COMPACT);
    assert_non_null(text);
    n = strlen(text);
    for (size_t i = 0; i < n; i++) {
        char c = text[i], d;
        json_t *m = NULL;
        enum crypto_verdict v;

        if (c >= 'a' && c <= 'z')
            d = c == 'z' ? 'a' : (char)(c + 1);
        else if (c >= 'A' && c <= 'Z')
            d = c == 'Z' ? 'A' : (char)(c + 1);
        else if (c >= '0' && c <= '9')
            d = c == '9' ? '0' : (char)(c + 1);
        else
            continue;
        text[i] = d;
        if (mrd_json_parse(text, n, NULL, &m, NULL) == MRD_OK) {
            tried++;
            v = verdict_of(m, kr);
            /* renaming "extensions" or our key hides the block: the object
             * is then unsigned, which is what stripping it would give */
            if (v != CRYPTO_INVALID && v != CRYPTO_UNSIGNED)
                fail_msg("offset %zu: '%c' -> '%c' verifies as %s", i, c, d, crypto_verdict_str(v));
            invalid += v == CRYPTO_INVALID;
            json_decref(m);
        }
        text[i] = c;
    }
    assert_true(tried > 400);
    assert_true(invalid > tried - 100); /* only the two key names may unsign */
    free(text);
    json_decref(obj);
    crypto_keyring_free(kr);
    crypto_key_free(k);
}

static void test_structural_changes_are_invalid(void **state)
{
    struct crypto_key *k = key_n(3);
    struct crypto_keyring *kr = ring_of(k, "cert-c");
    json_t *obj = parse(indicator_text), *m;

    (void)state;
    assert_int_equal(crypto_object_sign(obj, k, NULL), MRD_OK);
    /* add a property */
    m = json_deep_copy(obj);
    assert_int_equal(json_object_set_new(m, "x_note", json_string("added")), 0);
    assert_int_equal(verdict_of(m, kr), CRYPTO_INVALID);
    json_decref(m);
    /* remove one */
    m = json_deep_copy(obj);
    assert_int_equal(json_object_del(m, "labels"), 0);
    assert_int_equal(verdict_of(m, kr), CRYPTO_INVALID);
    json_decref(m);
    /* change the other extension */
    m = json_deep_copy(obj);
    assert_int_equal(json_object_set_new(json_object_get(json_object_get(m, "extensions"),
                                                         "extension-definition--d83fce45-ef58-"
                                                         "4c6c-a3f4-1fbc32e98c6e"),
                                         "rank", json_integer(6)),
                     0);
    assert_int_equal(verdict_of(m, kr), CRYPTO_INVALID);
    json_decref(m);
    /* reorder a list */
    m = json_deep_copy(obj);
    assert_int_equal(json_array_insert_new(json_object_get(m, "labels"), 0, json_string("botnet")),
                     0);
    assert_int_equal(json_array_remove(json_object_get(m, "labels"), 2), 0);
    assert_int_equal(verdict_of(m, kr), CRYPTO_INVALID);
    json_decref(m);
    /* an integer becomes the same value as a real: JCS prints both as 85 */
    m = json_deep_copy(obj);
    assert_int_equal(json_object_set_new(m, "confidence", json_real(85.0)), 0);
    assert_int_equal(verdict_of(m, kr), CRYPTO_VALID);
    json_decref(m);
    json_decref(obj);
    crypto_keyring_free(kr);
    crypto_key_free(k);
}

/* Rebuilds v with every object's members in reverse order. */
static json_t *reversed(const json_t *v)
{
    json_t *out;

    if (json_is_array(v)) {
        out = json_array();
        for (size_t i = 0; i < json_array_size(v); i++)
            assert_int_equal(json_array_append_new(out, reversed(json_array_get(v, i))), 0);
        return out;
    }
    if (json_is_object(v)) {
        const char *keys[64];
        size_t n = 0;
        const char *key;
        json_t *m;

        out = json_object();
        json_object_foreach((json_t *)(uintptr_t)v, key, m)
        {
            assert_true(n < 64);
            keys[n++] = key;
        }
        while (n > 0) {
            n--;
            assert_int_equal(
                json_object_set_new(out, keys[n], reversed(json_object_get(v, keys[n]))), 0);
        }
        return out;
    }
    return json_deep_copy(v);
}

static void test_reformatted_text_still_valid(void **state)
{
    struct crypto_key *k = key_n(4);
    struct crypto_keyring *kr = ring_of(k, "cert-d");
    json_t *obj = parse(indicator_text), *rev, *m;
    char *text;

    (void)state;
    assert_int_equal(crypto_object_sign(obj, k, NULL), MRD_OK);

    /* members in another order, indented, non-ASCII escaped as \uXXXX */
    rev = reversed(obj);
    text = json_dumps(rev, JSON_INDENT(3) | JSON_ENSURE_ASCII);
    assert_non_null(text);
    assert_non_null(strstr(text, "\\u00")); /* jansson writes \u00E9 */
    assert_null(strchr(text, '\xc3'));
    assert_true(strstr(text, "\"type\"") > strstr(text, "\"name\""));
    m = parse(text);
    assert_int_equal(verdict_of(m, kr), CRYPTO_VALID);
    json_decref(m);

    /* another spelling of the same number, and an escaped member name */
    free(text);
    text = json_dumps(rev, JSON_COMPACT);
    assert_non_null(text);
    {
        char buf[4096], buf2[4096];
        const char *at = strstr(text, "0.5");
        int len;

        assert_non_null(at);
        len = snprintf(buf, sizeof(buf), "%.*s50000e-5%s", (int)(at - text), text, at + 3);
        assert_true(len > 0 && (size_t)len < sizeof(buf));
        at = strstr(buf, "pattern_type");
        assert_non_null(at);
        len = snprintf(buf2, sizeof(buf2), "%.*spattern\\u005ftype%s", (int)(at - buf), buf,
                       at + strlen("pattern_type"));
        assert_true(len > 0 && (size_t)len < sizeof(buf2));
        m = parse(buf2);
        assert_true(json_is_real(json_object_get(m, "x_score")));
        assert_non_null(json_object_get(m, "pattern_type"));
        assert_int_equal(verdict_of(m, kr), CRYPTO_VALID);
        json_decref(m);
    }
    free(text);
    json_decref(rev);
    json_decref(obj);
    crypto_keyring_free(kr);
    crypto_key_free(k);
}

static void test_other_keys(void **state)
{
    struct crypto_key *a = key_n(5), *b = key_n(6);
    struct crypto_keyring *only_b = ring_of(b, "cert-b"), *empty = ring_of(NULL, "");
    struct crypto_verify_result r;
    json_t *obj = parse(indicator_text), *m, *block;
    char bkey[CRYPTO_PUBKEY_TEXT_LEN + 1];

    (void)state;
    assert_int_equal(crypto_object_sign(obj, a, NULL), MRD_OK);
    /* a correct signature by a key we do not trust */
    assert_int_equal(crypto_object_verify(obj, only_b, &r, NULL), MRD_OK);
    assert_int_equal(r.verdict, CRYPTO_UNKNOWN_SIGNER);
    assert_null(r.signer_name);
    assert_memory_equal(r.signer, crypto_key_public(a), CRYPTO_PUBKEY_LEN);
    assert_int_equal(verdict_of(obj, empty), CRYPTO_UNKNOWN_SIGNER);
    assert_int_equal(verdict_of(obj, NULL), CRYPTO_UNKNOWN_SIGNER);

    /* claiming a trusted key for a's signature does not work */
    m = json_deep_copy(obj);
    block = json_object_get(json_object_get(m, "extensions"), CRYPTO_SIG_EXT_ID);
    crypto_pubkey_format(crypto_key_public(b), bkey);
    assert_int_equal(json_object_set_new(block, "public_key", json_string(bkey)), 0);
    assert_int_equal(crypto_object_verify(m, only_b, &r, NULL), MRD_OK);
    assert_int_equal(r.verdict, CRYPTO_INVALID);
    assert_non_null(strstr(r.reason, "does not match"));
    json_decref(m);

    /* an unknown signer's object changed in transit is still caught */
    m = json_deep_copy(obj);
    assert_int_equal(json_object_set_new(m, "name", json_string("changed")), 0);
    assert_int_equal(verdict_of(m, only_b), CRYPTO_INVALID);
    json_decref(m);

    json_decref(obj);
    crypto_keyring_free(only_b);
    crypto_keyring_free(empty);
    crypto_key_free(a);
    crypto_key_free(b);
}

static void test_malformed_blocks(void **state)
{
    static const struct {
        const char *prop;
        const char *value;
        const char *reason;
    } cases[] = {
        {"algorithm", "rsa", "algorithm"},
        {"canonicalization", "none", "canonicalization"},
        {"extension_type", "new-sdo", "extension_type"},
        {"public_key", "ed25519:AAAA", "public_key"},
        {"signature", "AAAA", "signature"},
        {"comment", "smuggled, unsigned", "unknown property"},
    };
    struct crypto_key *k = key_n(7);
    struct crypto_keyring *kr = ring_of(k, "cert-e");
    struct crypto_verify_result r;
    json_t *obj = parse(indicator_text), *m, *exts;

    (void)state;
    assert_int_equal(crypto_object_sign(obj, k, NULL), MRD_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        m = json_deep_copy(obj);
        exts = json_object_get(m, "extensions");
        assert_int_equal(json_object_set_new(json_object_get(exts, CRYPTO_SIG_EXT_ID),
                                             cases[i].prop, json_string(cases[i].value)),
                         0);
        assert_int_equal(crypto_object_verify(m, kr, &r, NULL), MRD_OK);
        assert_int_equal(r.verdict, CRYPTO_INVALID);
        if (strstr(r.reason, cases[i].reason) == NULL)
            fail_msg("%s: reason \"%s\"", cases[i].prop, r.reason);
        json_decref(m);
    }
    /* the block is not an object */
    m = json_deep_copy(obj);
    assert_int_equal(json_object_set_new(json_object_get(m, "extensions"), CRYPTO_SIG_EXT_ID,
                                         json_string("signed!")),
                     0);
    assert_int_equal(verdict_of(m, kr), CRYPTO_INVALID);
    json_decref(m);
    /* extensions that is not a dictionary: no block, unsigned (the
     * validator reports the STIX error); signing refuses it */
    m = parse("{\"type\":\"x\",\"extensions\":[1]}");
    assert_int_equal(verdict_of(m, kr), CRYPTO_UNSIGNED);
    assert_int_equal(crypto_object_sign(m, k, NULL), MRD_E_INVAL);
    assert_int_equal(json_array_size(json_object_get(m, "extensions")), 1); /* unchanged */
    json_decref(m);
    /* not an object at all */
    m = json_array();
    assert_int_equal(crypto_object_verify(m, kr, &r, NULL), MRD_E_INVAL);
    assert_int_equal(crypto_object_sign(m, k, NULL), MRD_E_INVAL);
    json_decref(m);

    json_decref(obj);
    crypto_keyring_free(kr);
    crypto_key_free(k);
}

static void test_keyring(void **state)
{
    struct crypto_key *a = key_n(8), *b = key_n(9);
    struct crypto_keyring *kr = ring_of(a, "first");

    (void)state;
    assert_int_equal(crypto_keyring_add(kr, crypto_key_public(a), "again", 5, NULL), MRD_OK);
    assert_string_equal(crypto_keyring_find(kr, crypto_key_public(a)), "first");
    assert_null(crypto_keyring_find(kr, crypto_key_public(b)));
    assert_null(crypto_keyring_find(NULL, crypto_key_public(b)));
    assert_int_equal(crypto_keyring_add(kr, crypto_key_public(b), "peer-b\0x", 6, NULL), MRD_OK);
    assert_string_equal(crypto_keyring_find(kr, crypto_key_public(b)), "peer-b");
    crypto_keyring_free(kr);
    crypto_keyring_free(NULL);
    crypto_key_free(a);
    crypto_key_free(b);
}

static void assert_stix_name(const char *name)
{
    size_t n = strlen(name);

    /* STIX 2.1 §3.1/§11: property names [a-z0-9_], 3-250 characters */
    assert_true(n >= 3 && n <= 250);
    assert_int_equal(strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_"), n);
}

static void test_extension_definition(void **state)
{
    json_t *def = NULL, *ident = NULL, *types, *block;
    char uuid[MRD_UUID_STR_LEN + 1];
    struct mrd_time t;
    const char *s, *key;
    json_t *v;
    int version = 0;
    struct crypto_key *k = key_n(10);
    json_t *obj = parse(indicator_text);

    (void)state;
    assert_int_equal(crypto_extension_definition(&def, NULL), MRD_OK);
    assert_string_equal(json_string_value(json_object_get(def, "type")), "extension-definition");
    assert_string_equal(json_string_value(json_object_get(def, "spec_version")), "2.1");
    assert_string_equal(json_string_value(json_object_get(def, "id")), CRYPTO_SIG_EXT_ID);
    /* the id is the documented derivation, and a valid v5 UUID */
    assert_int_equal(mrd_uuid_v5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", CRYPTO_SIG_EXT_NAME,
                                 strlen(CRYPTO_SIG_EXT_NAME), uuid, NULL),
                     MRD_OK);
    assert_string_equal(&CRYPTO_SIG_EXT_ID[strlen("extension-definition--")], uuid);
    assert_int_equal(mrd_uuid_check(uuid, strlen(uuid), &version, NULL), MRD_OK);
    assert_int_equal(version, 5);
    assert_int_equal(mrd_uuid_v5("6ba7b811-9dad-11d1-80b4-00c04fd430c8",
                                 CRYPTO_PROJECT_IDENTITY_NAME, strlen(CRYPTO_PROJECT_IDENTITY_NAME),
                                 uuid, NULL),
                     MRD_OK);
    assert_string_equal(&CRYPTO_PROJECT_IDENTITY_ID[strlen("identity--")], uuid);
    /* required properties (STIX 2.1 §7.3) */
    assert_string_equal(json_string_value(json_object_get(def, "created_by_ref")),
                        CRYPTO_PROJECT_IDENTITY_ID);
    assert_non_null(json_string_value(json_object_get(def, "name")));
    assert_true(json_string_length(json_object_get(def, "schema")) > 100);
    assert_string_equal(json_string_value(json_object_get(def, "version")), "1.0.0");
    types = json_object_get(def, "extension_types");
    assert_int_equal(json_array_size(types), 1);
    assert_string_equal(json_string_value(json_array_get(types, 0)), "property-extension");
    assert_null(json_object_get(def, "extension_properties"));
    s = json_string_value(json_object_get(def, "created"));
    assert_int_equal(mrd_time_parse(s, strlen(s), &t, NULL), MRD_OK);
    assert_int_equal(strlen(s), 24); /* millisecond precision (§3.2) */
    assert_string_equal(s, json_string_value(json_object_get(def, "modified")));

    /* the identity it names */
    assert_int_equal(crypto_project_identity(&ident, NULL), MRD_OK);
    assert_string_equal(json_string_value(json_object_get(ident, "type")), "identity");
    assert_string_equal(json_string_value(json_object_get(ident, "id")),
                        CRYPTO_PROJECT_IDENTITY_ID);
    assert_non_null(json_string_value(json_object_get(ident, "name")));

    /* the block's property names are valid STIX property names */
    assert_int_equal(crypto_object_sign(obj, k, NULL), MRD_OK);
    block = json_object_get(json_object_get(obj, "extensions"), CRYPTO_SIG_EXT_ID);
    json_object_foreach(block, key, v)
    {
        assert_stix_name(key);
    }

    json_decref(obj);
    crypto_key_free(k);
    json_decref(def);
    json_decref(ident);
}

/* crypto_object_sign_canon gives, byte for byte, what signing a copy in
 * place and canonicalising it gives, for every place the block can go:
 * no extensions, an empty dictionary, other extensions sorting before and
 * after the block's id, an old block to replace, and `extensions` as the
 * first or last member. The object itself is left alone. */
static void test_sign_canon_same_bytes(void **state)
{
    static const char *const texts[] = {
        "{\"type\":\"indicator\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
        "\"name\":\"x\"}",
        "{\"type\":\"x-thing\",\"extensions\":{}}",
        "{\"a\":1,\"extensions\":{\"extension-definition--00000000-0000-4000-8000-000000000000\""
        ":{\"extension_type\":\"property-extension\"}}}",
        "{\"zz\":[1,2,{\"extensions\":3}],\"extensions\":{\"extension-definition--ffffffff-0000-"
        "4000-8000-000000000000\":{\"extension_type\":\"property-extension\"}}}",
        "{\"extensions\":{\"extension-definition--00000000-0000-4000-8000-000000000000\":{},"
        "\"x-other\":{\"k\":\"v\"}}}",
        "{}",
        "{\"a\":0.5}",
        "{\"extensionz\":1,\"extension\":2,\"e\":3,\"f\":4}",
        "{\"\\u00e9\":\"\\u20ac\",\"\\ud83d\\ude00\":1,\"A\":[]}",
        indicator_text,
    };
    struct crypto_key *k = key_n(12), *other = key_n(13);
    struct crypto_keyring *kr = ring_of(k, "self");
    struct mrd_buf want, got;

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        json_t *obj = parse(texts[i]), *copy = json_deep_copy(obj), *back = NULL;
        json_t *before = json_deep_copy(obj);

        for (int pass = 0; pass < 2; pass++) {
            mrd_buf_init(&want, 1 << 20);
            mrd_buf_init(&got, 1 << 20);
            assert_int_equal(mrd_buf_append(&got, "prefix", 6, NULL), MRD_OK);
            assert_int_equal(crypto_object_sign(copy, k, NULL), MRD_OK);
            assert_int_equal(mrd_jcs_write(copy, &want, NULL), MRD_OK);
            assert_int_equal(crypto_object_sign_canon(obj, k, &got, NULL), MRD_OK);
            assert_true(json_equal(obj, before));
            assert_memory_equal(got.data, "prefix", 6);
            assert_string_equal(got.data + 6, want.data);
            back = parse(got.data + 6);
            assert_int_equal(verdict_of(back, kr), CRYPTO_VALID);
            json_decref(back);
            mrd_buf_release(&want);
            mrd_buf_release(&got);
            /* a second round replaces a block signed by another key */
            json_decref(obj);
            obj = json_deep_copy(copy);
            assert_int_equal(crypto_object_sign(obj, other, NULL), MRD_OK);
            json_decref(before);
            before = json_deep_copy(obj);
        }
        json_decref(before);
        json_decref(copy);
        json_decref(obj);
    }
    /* refusals as crypto_object_sign, and out untouched */
    mrd_buf_init(&got, 1 << 20);
    assert_int_equal(mrd_buf_append(&got, "keep", 4, NULL), MRD_OK);
    {
        json_t *bad = parse("{\"extensions\":[1]}"), *arr = parse("[1]");
        assert_int_equal(crypto_object_sign_canon(bad, k, &got, NULL), MRD_E_INVAL);
        assert_int_equal(crypto_object_sign_canon(arr, k, &got, NULL), MRD_E_INVAL);
        json_decref(bad);
        json_decref(arr);
    }
    assert_string_equal(got.data, "keep");
    mrd_buf_release(&got);
    /* an out too small for the signed form: MRD_E_TOOBIG, out as it was */
    {
        json_t *obj = parse(indicator_text);
        mrd_buf_init(&got, 600);
        assert_int_equal(mrd_buf_append(&got, "keep", 4, NULL), MRD_OK);
        assert_int_equal(crypto_object_sign_canon(obj, k, &got, NULL), MRD_E_TOOBIG);
        assert_string_equal(got.data, "keep");
        mrd_buf_release(&got);
        json_decref(obj);
    }
    crypto_keyring_free(kr);
    crypto_key_free(other);
    crypto_key_free(k);
}

/* Every allocation failure is MRD_E_NOMEM, leaves the object as it was,
 * and leaks nothing (LeakSanitizer in the ASan build). */
static void test_nomem(void **state)
{
    struct crypto_key *k = key_n(11);
    struct crypto_keyring *kr = ring_of(k, "self");
    json_t *obj = parse(indicator_text), *before = json_deep_copy(obj);
    struct crypto_verify_result r;
    enum mrd_code rc = MRD_E_NOMEM;

    (void)state;
    for (long n = 0; rc == MRD_E_NOMEM; n++) {
        mrd_alloc_fail_after(n);
        rc = crypto_object_sign(obj, k, NULL);
        mrd_alloc_fail_after(-1);
        if (rc != MRD_OK)
            assert_true(json_equal(obj, before));
        assert_true(n < 1000);
    }
    assert_int_equal(rc, MRD_OK);
    rc = MRD_E_NOMEM;
    for (long n = 0; rc == MRD_E_NOMEM; n++) {
        mrd_alloc_fail_after(n);
        rc = crypto_object_verify(obj, kr, &r, NULL);
        mrd_alloc_fail_after(-1);
        assert_true(n < 1000);
    }
    assert_int_equal(rc, MRD_OK);
    assert_int_equal(r.verdict, CRYPTO_VALID);
    /* the one-pass signer: out as it was on every failure, no leaks */
    rc = MRD_E_NOMEM;
    for (long n = 0; rc == MRD_E_NOMEM; n++) {
        struct mrd_buf out;
        mrd_buf_init(&out, 1 << 20);
        assert_int_equal(mrd_buf_append(&out, "keep", 4, NULL), MRD_OK);
        mrd_alloc_fail_after(n);
        rc = crypto_object_sign_canon(before, k, &out, NULL);
        mrd_alloc_fail_after(-1);
        if (rc != MRD_OK)
            assert_string_equal(out.data, "keep");
        mrd_buf_release(&out);
        assert_true(n < 1000);
    }
    assert_int_equal(rc, MRD_OK);
    json_decref(before);
    json_decref(obj);
    crypto_keyring_free(kr);
    crypto_key_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8032_key),
        cmocka_unit_test(test_pubkey_parse_rejects),
        cmocka_unit_test(test_generate_distinct),
        cmocka_unit_test(test_key_file),
        cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_any_changed_byte_is_invalid),
        cmocka_unit_test(test_structural_changes_are_invalid),
        cmocka_unit_test(test_reformatted_text_still_valid),
        cmocka_unit_test(test_other_keys),
        cmocka_unit_test(test_malformed_blocks),
        cmocka_unit_test(test_keyring),
        cmocka_unit_test(test_extension_definition),
        cmocka_unit_test(test_sign_canon_same_bytes),
        cmocka_unit_test(test_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
