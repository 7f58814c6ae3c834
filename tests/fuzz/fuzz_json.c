/* libFuzzer target for the JSON layer, RFC 8785 output and signatures.
 *
 * Any input: strict parse (default limits); when it parses, canonicalise,
 * parse the canonical bytes again and canonicalise once more. The two
 * canonical forms must be byte-identical (signatures depend on it), and
 * canonical output must always parse. When the input is an object, it is
 * also signed (crypto/), written canonically, read back, and must verify
 * as valid; verifying the input as received must never fail, and the
 * one-pass signer (crypto_object_sign_canon) must give the same bytes.
 * mrd_json_parse's own reader must agree with jansson on every input
 * (same verdict, same value). Finally the first 8 bytes, taken as a
 * double, must print (mrd_jcs_number) as a decimal that reads back as the
 * same double. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/str.h"
#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Canonical output can outgrow its input (1e20 is 21 digits long); the
 * signature block adds under 300 bytes. */
#define FUZZ_OUT_MAX(n) ((n)*32 + 4096)

static void check_number(const uint8_t *data, size_t size)
{
    struct mrd_buf b;
    double d;

    if (size < sizeof(d))
        return;
    memcpy(&d, data, sizeof(d));
    mrd_buf_init(&b, 64);
    if (mrd_jcs_number(d, &b, NULL) == MRD_OK) {
        double back = strtod(b.data, NULL);
        if (back != d && !(back == 0 && d == 0)) {
            fprintf(stderr, "number %.17g printed as %s\n", d, b.data);
            abort();
        }
    } else if (d == d && d - d == 0) {
        fprintf(stderr, "finite number %.17g refused\n", d);
        abort();
    }
    mrd_buf_release(&b);
}

/* mrd_json_parse must read what jansson reads (after the same UTF-8
 * check), and nothing else; a refusal for depth or size is its own. */
static void check_reader(const uint8_t *data, size_t size, json_t *v, enum mrd_code rc)
{
    json_error_t jerr;
    json_t *ref = NULL;
    char *a, *b;

    if (mrd_utf8_valid((const char *)data, size)) {
        ref = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
        if (ref == NULL && json_error_code(&jerr) == json_error_numeric_overflow)
            ref = json_loadb((const char *)data, size,
                             JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
    }
    if (rc == MRD_E_TOOBIG) {
        json_decref(ref);
        return;
    }
    if ((ref == NULL) != (rc != MRD_OK)) {
        fprintf(stderr, "mrd_json_parse %s what jansson %s\n", rc == MRD_OK ? "accepts" : "refuses",
                ref == NULL ? "refuses" : "accepts");
        abort();
    }
    if (ref == NULL)
        return;
    a = json_dumps(ref, JSON_COMPACT | JSON_ENCODE_ANY);
    b = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (a == NULL || b == NULL || strcmp(a, b) != 0 || !json_equal(ref, v)) {
        fprintf(stderr, "readers differ:\n%s\n%s\n", a, b);
        abort();
    }
    free(a);
    free(b);
    json_decref(ref);
}

/* Reads canonical output back; aborts if it is not JSON. */
static json_t *reparse(const struct mrd_buf *b)
{
    struct mrd_err err = {0};
    json_t *w = NULL;

    if (mrd_json_parse(b->data, b->len, NULL, &w, &err) == MRD_OK)
        return w;
    /* Known limitation of the parse side, not of JCS: jansson reads a
     * number without fraction or exponent as a long long and refuses one
     * that overflows, but ES writes every double below 1e21 that way
     * (9223372036854775807 comes out as 9223372036854776000, 1e20 as
     * 100000000000000000000). Such output is still valid JSON, so read it
     * with integers as doubles instead. */
    if (strstr(err.msg, "too big") == NULL || strstr(err.msg, "integer") == NULL) {
        fprintf(stderr, "canonical output does not parse: %s\n%s\n", err.msg, b->data);
        abort();
    }
    w = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, NULL);
    if (w == NULL) {
        fprintf(stderr, "canonical output does not parse as JSON:\n%s\n", b->data);
        abort();
    }
    return w;
}

static void write_or_abort(const json_t *v, struct mrd_buf *out, const char *what)
{
    struct mrd_err err = {0};

    if (mrd_jcs_write(v, out, &err) != MRD_OK) {
        /* jansson never hands us NaN, invalid UTF-8 or deep nesting */
        fprintf(stderr, "%s not canonicalisable: %s\n", what, err.msg);
        abort();
    }
}

/* Sign, write, read back, verify: must be VALID for any object. */
static void check_signature(json_t *v, size_t size)
{
    static struct crypto_key *key;
    static struct crypto_keyring *ring;
    static const uint8_t seed[CRYPTO_SEED_LEN] = {42};
    struct crypto_verify_result r;
    struct mrd_buf b, once;
    enum mrd_code one_pass;
    json_t *w;

    if (key == NULL &&
        (crypto_key_from_seed(seed, &key, NULL) != MRD_OK ||
         crypto_keyring_new(&ring, NULL) != MRD_OK ||
         crypto_keyring_add(ring, crypto_key_public(key), "fuzz", 4, NULL) != MRD_OK))
        abort();
    /* whatever the input holds (a forged block, too), verification copes */
    if (crypto_object_verify(v, ring, &r, NULL) != MRD_OK)
        abort();
    mrd_buf_init(&once, FUZZ_OUT_MAX(size));
    one_pass = crypto_object_sign_canon(v, key, &once, NULL);
    if (crypto_object_sign(v, key, NULL) != MRD_OK) {
        if (one_pass == MRD_OK)
            abort(); /* both refuse `extensions` that is not a dictionary */
        mrd_buf_release(&once);
        return;
    }
    mrd_buf_init(&b, FUZZ_OUT_MAX(size));
    write_or_abort(v, &b, "signed object");
    if (one_pass != MRD_OK || once.len != b.len || memcmp(once.data, b.data, b.len) != 0) {
        fprintf(stderr, "one-pass signer differs:\n%s\n%s\n", once.data, b.data);
        abort();
    }
    mrd_buf_release(&once);
    w = reparse(&b);
    if (crypto_object_verify(w, ring, &r, NULL) != MRD_OK || r.verdict != CRYPTO_VALID) {
        fprintf(stderr, "signed object verifies as %s (%s):\n%s\n", crypto_verdict_str(r.verdict),
                r.reason, b.data);
        abort();
    }
    json_decref(w);
    mrd_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mrd_buf once, twice;
    json_t *v = NULL, *w = NULL;
    enum mrd_code rc;

    check_number(data, size);
    rc = mrd_json_parse((const char *)data, size, NULL, &v, NULL);
    check_reader(data, size, v, rc);
    if (rc != MRD_OK)
        return 0;
    mrd_buf_init(&once, FUZZ_OUT_MAX(size));
    mrd_buf_init(&twice, FUZZ_OUT_MAX(size));
    write_or_abort(v, &once, "parsed input");
    w = reparse(&once);
    write_or_abort(w, &twice, "canonical output");
    if (once.len != twice.len || memcmp(once.data, twice.data, once.len) != 0) {
        fprintf(stderr, "not idempotent:\n%s\n%s\n", once.data, twice.data);
        abort();
    }
    if (json_is_object(v))
        check_signature(v, size);
    json_decref(v);
    json_decref(w);
    mrd_buf_release(&once);
    mrd_buf_release(&twice);
    return 0;
}
