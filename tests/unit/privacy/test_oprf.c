/* Unit tests for privacy/ OPRF: every RFC 9497 Appendix A.1.1 vector
 * (ristretto255-SHA512, OPRF mode) read from tests/data/oprf/, a random-blind
 * round trip, and refusal of bad elements and scalars. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "privacy/privacy.h"

#ifndef DATA_DIR
#error "DATA_DIR must name tests/data"
#endif

#define VEC_FILE "/oprf/rfc9497-a.1.1-ristretto255-sha512-oprf.txt"
#define MAX_HEX 256

struct hexval {
    uint8_t b[MAX_HEX];
    size_t len;
};

struct vector {
    struct hexval input, blind, blinded, evaluated, output;
};

struct suite {
    struct hexval seed, info, sk;
    struct vector v[8];
    size_t n;
};

static void unhex(const char *s, struct hexval *out)
{
    size_t bin_len = 0;

    assert_int_equal(sodium_hex2bin(out->b, sizeof(out->b), s, strlen(s), NULL, &bin_len, NULL), 0);
    out->len = bin_len;
}

/* Reads the "Name = hex" lines; "Input" starts a new test vector. */
static void load(struct suite *s)
{
    char line[512];
    FILE *f = fopen(DATA_DIR VEC_FILE, "r");

    if (f == NULL)
        fail_msg("cannot open %s", DATA_DIR VEC_FILE);
    memset(s, 0, sizeof(*s));
    while (fgets(line, sizeof(line), f) != NULL) {
        char name[32], value[300];
        struct vector *v = s->n > 0 ? &s->v[s->n - 1] : NULL;

        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        assert_int_equal(sscanf(line, "%31s = %299s", name, value), 2);
        if (strcmp(name, "Seed") == 0)
            unhex(value, &s->seed);
        else if (strcmp(name, "KeyInfo") == 0)
            unhex(value, &s->info);
        else if (strcmp(name, "skSm") == 0)
            unhex(value, &s->sk);
        else if (strcmp(name, "Input") == 0) {
            assert_true(s->n < sizeof(s->v) / sizeof(s->v[0]));
            unhex(value, &s->v[s->n++].input);
        } else {
            assert_non_null(v);
            if (strcmp(name, "Blind") == 0)
                unhex(value, &v->blind);
            else if (strcmp(name, "BlindedElement") == 0)
                unhex(value, &v->blinded);
            else if (strcmp(name, "EvaluationElement") == 0)
                unhex(value, &v->evaluated);
            else if (strcmp(name, "Output") == 0)
                unhex(value, &v->output);
            else
                fail_msg("unknown field %s", name);
        }
    }
    fclose(f);
    assert_int_equal(s->seed.len, PRIVACY_OPRF_SEED_LEN);
    assert_int_equal(s->sk.len, PRIVACY_OPRF_SCALAR_LEN);
    assert_int_equal(s->n, 2); /* A.1.1 has two vectors in OPRF mode */
}

static void test_derive_key_pair(void **state)
{
    struct suite s;
    uint8_t sk[PRIVACY_OPRF_SCALAR_LEN], pk[PRIVACY_OPRF_ELEMENT_LEN], want_pk[32];

    (void)state;
    load(&s);
    assert_int_equal(privacy_oprf_derive_key_pair(s.seed.b, s.info.b, s.info.len, sk, pk, NULL),
                     MRD_OK);
    assert_memory_equal(sk, s.sk.b, sizeof(sk));
    assert_int_equal(crypto_scalarmult_ristretto255_base(want_pk, s.sk.b), 0);
    assert_memory_equal(pk, want_pk, sizeof(pk));
}

static void test_rfc9497_vectors(void **state)
{
    struct suite s;

    (void)state;
    load(&s);
    for (size_t i = 0; i < s.n; i++) {
        const struct vector *v = &s.v[i];
        uint8_t blinded[32], evaluated[32], output[64], direct[64];

        assert_int_equal(v->blind.len, 32);
        assert_int_equal(v->output.len, 64);
        assert_int_equal(privacy_oprf_blind(v->input.b, v->input.len, v->blind.b, blinded, NULL),
                         MRD_OK);
        assert_memory_equal(blinded, v->blinded.b, 32);
        assert_int_equal(privacy_oprf_blind_evaluate(s.sk.b, blinded, evaluated, NULL), MRD_OK);
        assert_memory_equal(evaluated, v->evaluated.b, 32);
        assert_int_equal(
            privacy_oprf_finalize(v->input.b, v->input.len, v->blind.b, evaluated, output, NULL),
            MRD_OK);
        assert_memory_equal(output, v->output.b, 64);
        assert_int_equal(privacy_oprf_evaluate(s.sk.b, v->input.b, v->input.len, direct, NULL),
                         MRD_OK);
        assert_memory_equal(direct, v->output.b, 64);
    }
}

/* A fresh random blind gives a different blinded element but the same
 * output: the server's view is independent of the input. */
static void test_random_blind_round_trip(void **state)
{
    struct suite s;

    (void)state;
    load(&s);
    for (size_t i = 0; i < s.n; i++) {
        const struct vector *v = &s.v[i];
        uint8_t blind[32], blinded[32], evaluated[32], output[64];

        assert_int_equal(privacy_oprf_blind_random(v->input.b, v->input.len, blind, blinded, NULL),
                         MRD_OK);
        assert_memory_not_equal(blinded, v->blinded.b, 32);
        assert_int_equal(privacy_oprf_blind_evaluate(s.sk.b, blinded, evaluated, NULL), MRD_OK);
        assert_int_equal(
            privacy_oprf_finalize(v->input.b, v->input.len, blind, evaluated, output, NULL),
            MRD_OK);
        assert_memory_equal(output, v->output.b, 64);
    }
}

/* RFC 9380 Appendix K.3, expand_message_xmd(SHA-512): output shorter than
 * one hash (truncation) and two hashes long (the b_i chain). */
static void test_expand_message_xmd_rfc9380(void **state)
{
    static const struct {
        const char *msg;
        size_t len;
        const char *hex;
    } k3[] = {
        {"", 0x20, "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba"},
        {"abc", 0x20, "0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc"},
        {"abcdef0123456789", 0x20,
         "087e45a86e2939ee8b91100af1583c4938e0f5fc6c9db4b107b83346bc967f58"},
        {"", 0x80,
         "41b037d1734a5f8df225dd8c7de38f851efdb45c372887be655212d07251b921b052b62eaed99b46f72f2ef4"
         "cc96bfaf254ebbbec091e1a3b9e4fb5e5b619d2e0c5414800a1d882b62bb5cd1778f098b8eb6cb399d5d9d18"
         "f5d5842cf5d13d7eb00a7cff859b605da678b318bd0e65ebff70bec88c753b159a805d2c89c55961"},
    };
    static const char dst[] = "QUUX-V01-CS02-with-expander-SHA512-256";
    uint8_t out[0x80];
    struct hexval want;

    (void)state;
    for (size_t i = 0; i < sizeof(k3) / sizeof(k3[0]); i++) {
        unhex(k3[i].hex, &want);
        assert_int_equal(want.len, k3[i].len);
        assert_int_equal(privacy_expand_message_xmd_sha512((const uint8_t *)k3[i].msg,
                                                           strlen(k3[i].msg), (const uint8_t *)dst,
                                                           strlen(dst), out, k3[i].len, NULL),
                         MRD_OK);
        assert_memory_equal(out, want.b, k3[i].len);
    }
    assert_int_equal(privacy_expand_message_xmd_sha512((const uint8_t *)"", 0, (const uint8_t *)dst,
                                                       0, out, 32, NULL),
                     MRD_E_INVAL);
}

/* The batch (one inversion per 64 values) gives exactly the direct
 * evaluation for every value across several chunks, and names a bad one. */
static void test_finalize_batch(void **state)
{
    enum { N = 150 };
    struct suite s;
    static uint8_t in[N][8], blinds[N][32], ev[N][32], out[N][64];
    const uint8_t *inputs[N];
    size_t lens[N];
    uint8_t blinded[32], direct[64];
    struct mrd_err err = {0};

    (void)state;
    load(&s);
    for (size_t i = 0; i < N; i++) {
        randombytes_buf(in[i], sizeof(in[i]));
        inputs[i] = in[i];
        lens[i] = 1 + i % sizeof(in[i]);
        assert_int_equal(privacy_oprf_blind_random(in[i], lens[i], blinds[i], blinded, NULL),
                         MRD_OK);
        assert_int_equal(privacy_oprf_blind_evaluate(s.sk.b, blinded, ev[i], NULL), MRD_OK);
    }
    assert_int_equal(privacy_oprf_finalize_batch(N, inputs, lens, blinds[0], ev[0], out[0], NULL),
                     MRD_OK);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(privacy_oprf_evaluate(s.sk.b, in[i], lens[i], direct, NULL), MRD_OK);
        assert_memory_equal(out[i], direct, 64);
    }
    memset(ev[70], 0, 32); /* the identity, from a hostile server */
    assert_int_equal(privacy_oprf_finalize_batch(N, inputs, lens, blinds[0], ev[0], out[0], &err),
                     MRD_E_INVALID);
    assert_non_null(strstr(err.msg, "value 70"));
}

static void test_rejects(void **state)
{
    struct suite s;
    uint8_t zero[32] = {0}, ff[32], out32[32], out64[64];
    struct mrd_err err = {0};

    (void)state;
    load(&s);
    memset(ff, 0xff, sizeof(ff));
    /* the identity and a non-canonical encoding are not accepted elements */
    assert_int_equal(privacy_oprf_blind_evaluate(s.sk.b, zero, out32, &err), MRD_E_INVALID);
    assert_non_null(strstr(err.msg, "blinded element"));
    assert_int_equal(privacy_oprf_blind_evaluate(s.sk.b, ff, out32, NULL), MRD_E_INVALID);
    assert_int_equal(
        privacy_oprf_finalize((const uint8_t *)"x", 1, s.v[0].blind.b, zero, out64, NULL),
        MRD_E_INVALID);
    /* a zero or non-canonical (>= L) scalar is neither a blind nor a key */
    assert_int_equal(privacy_oprf_blind((const uint8_t *)"x", 1, zero, out32, NULL), MRD_E_INVAL);
    assert_int_equal(privacy_oprf_blind((const uint8_t *)"x", 1, ff, out32, NULL), MRD_E_INVAL);
    assert_int_equal(privacy_oprf_blind_evaluate(zero, s.v[0].blinded.b, out32, NULL), MRD_E_INVAL);
    assert_int_equal(privacy_oprf_evaluate(ff, (const uint8_t *)"x", 1, out64, NULL), MRD_E_INVAL);
    /* inputs are length-prefixed with two bytes */
    assert_int_equal(
        privacy_oprf_blind(s.v[0].input.b, PRIVACY_OPRF_MAX_INPUT + 1, s.v[0].blind.b, out32, NULL),
        MRD_E_TOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand_message_xmd_rfc9380),
        cmocka_unit_test(test_derive_key_pair),
        cmocka_unit_test(test_rfc9497_vectors),
        cmocka_unit_test(test_random_blind_round_trip),
        cmocka_unit_test(test_finalize_batch),
        cmocka_unit_test(test_rejects),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
