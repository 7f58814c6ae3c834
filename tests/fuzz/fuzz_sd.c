/*
 * fuzz_sd: the selective-disclosure block parser and verifier (crypto/) on
 * hostile input.
 *
 * The first byte picks the shape: 0 the rest is a whole object to verify;
 * 1 the rest is a JSON object whose members replace those of the SD block
 * of a real signed object; 2 the rest replaces the object's own top-level
 * members (a relay's edits, SD block kept). Beyond "no crash, no sanitizer
 * report" it checks that a verdict's counts add up, and that a verdict of
 * valid never comes with a property that differs from the signed one in
 * shape 1 and 2 (an accepted edit must be a withholding or a declared
 * transformation). Every input, whatever the shape, is also compared with
 * the signed object by the duplicate rule's crypto_object_same_content:
 * no crash, and the same answer both ways round.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/json.h"
#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base_text[] =
    "{\"type\":\"sighting\",\"spec_version\":\"2.1\","
    "\"id\":\"sighting--6b0c6e2c-1f1a-4b57-9f3a-3c4c4f6b7e11\","
    "\"created\":\"2026-03-01T10:00:00.000Z\",\"modified\":\"2026-03-01T10:00:00.000Z\","
    "\"sighting_of_ref\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
    "\"first_seen\":\"2026-03-01T09:17:42.123Z\",\"count\":3,\"x_host\":\"fw-7\"}";

static struct crypto_key *key;
static struct crypto_keyring *ring;
static json_t *base;

static void setup(void)
{
    uint8_t seed[CRYPTO_SEED_LEN];

    if (base != NULL)
        return;
    memset(seed, 7, sizeof(seed));
    if (crypto_key_from_seed(seed, &key, NULL) != MRD_OK ||
        crypto_keyring_new(&ring, NULL) != MRD_OK ||
        crypto_keyring_add(ring, crypto_key_public(key), "k", 1, NULL) != MRD_OK ||
        mrd_json_parse(base_text, strlen(base_text), NULL, &base, NULL) != MRD_OK ||
        crypto_object_sd_sign(base, key, NULL) != MRD_OK)
        abort();
    json_object_del(json_object_get(base, "extensions"), CRYPTO_SIG_EXT_ID);
}

static void check(const json_t *obj, bool edited_props)
{
    struct crypto_verify_result r;
    const char *k;
    json_t *v;

    if (crypto_object_verify(obj, ring, &r, NULL) != MRD_OK)
        return;
    if (r.verdict == CRYPTO_INVALID || !r.selective)
        return;
    if (r.sd_disclosed + r.sd_withheld != r.sd_digests)
        abort();
    if (!edited_props)
        return;
    /* every disclosed property is the signed one */
    json_object_foreach((json_t *)(uintptr_t)obj, k, v)
    {
        json_t *tr = json_object_get(
            json_object_get(json_object_get(obj, "extensions"), CRYPTO_SD_EXT_ID), "transformed");
        if (strcmp(k, "extensions") == 0 || json_object_get(tr, k) != NULL)
            continue;
        if (!json_equal(v, json_object_get(base, k)))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = NULL, *obj = NULL;
    struct mrd_json_limits lim = {.max_bytes = 1 << 16, .max_depth = 16};

    setup();
    if (size < 1)
        return 0;
    {
        char *bt = json_dumps(base, JSON_COMPACT);
        const char *d = (const char *)data + 1;

        if (bt == NULL)
            abort();
        if (crypto_object_same_content(d, size - 1, bt, strlen(bt)) !=
            crypto_object_same_content(bt, strlen(bt), d, size - 1))
            abort();
        free(bt);
    }
    if (mrd_json_parse((const char *)data + 1, size - 1, &lim, &in, NULL) != MRD_OK)
        return 0;
    if (data[0] == 0) {
        check(in, false);
    } else if (json_is_object(in)) {
        obj = json_deep_copy(base);
        if (data[0] == 1)
            json_object_update(
                json_object_get(json_object_get(obj, "extensions"), CRYPTO_SD_EXT_ID), in);
        else {
            json_object_del(in, "extensions");
            json_object_update(obj, in);
        }
        check(obj, data[0] != 1);
    }
    json_decref(obj);
    json_decref(in);
    return 0;
}
