/* Unit tests for ledger/checkpoint: C2SP signed-note checkpoints and note
 * keys, including the C2SP example note and tampered notes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/buf.h"
#include "ledger/checkpoint.h"

static void make_signer(const char *name, uint8_t fill, struct ckpt_signer *s)
{
    uint8_t seed[32];

    memset(seed, fill, sizeof(seed));
    assert_int_equal(ckpt_signer_from_seed(name, seed, s, NULL), MRD_OK);
}

static void make_verifier(const struct ckpt_signer *s, struct ckpt_verifier *v)
{
    struct mrd_buf b;

    mrd_buf_init(&b, 1024);
    assert_int_equal(ckpt_verifier_format(s, &b, NULL), MRD_OK);
    assert_int_equal(ckpt_verifier_parse(b.data, b.len, v, NULL), MRD_OK);
    mrd_buf_release(&b);
}

static void sample(struct ckpt *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->origin, sizeof(c->origin), "meridian.example/cert-xx");
    c->size = 1042;
    for (int i = 0; i < 32; i++)
        c->root[i] = (uint8_t)i;
    snprintf(c->time, sizeof(c->time), "2026-11-29T17:20:00Z");
}

static void test_sign_verify_roundtrip(void **state)
{
    struct ckpt_signer s;
    struct ckpt_verifier v;
    struct ckpt c, got;
    struct mrd_buf note;
    struct mrd_err err = {0};
    static const char want[] =
        "meridian.example/cert-xx\n1042\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        "time 2026-11-29T17:20:00Z\n\n\xe2\x80\x94 meridian.example/cert-xx ";

    (void)state;
    make_signer("meridian.example/cert-xx", 7, &s);
    make_verifier(&s, &v);
    sample(&c);
    mrd_buf_init(&note, CKPT_MAX_NOTE);
    assert_int_equal(ckpt_sign(&c, &s, &note, &err), MRD_OK);
    assert_true(strncmp(note.data, want, strlen(want)) == 0);
    assert_int_equal(ckpt_verify(note.data, note.len, &v, &got, &err), MRD_OK);
    assert_string_equal(got.origin, c.origin);
    assert_int_equal(got.size, 1042);
    assert_memory_equal(got.root, c.root, 32);
    assert_string_equal(got.time, c.time);
    assert_int_equal(ckpt_parse(note.data, note.len, &got, &err), MRD_OK);
    mrd_buf_release(&note);
}

static void test_tampered_notes_fail(void **state)
{
    struct ckpt_signer s, other;
    struct ckpt_verifier v, vo;
    struct ckpt c, got;
    struct mrd_buf note;
    struct mrd_err err = {0};
    char *copy;

    (void)state;
    make_signer("meridian.example/cert-xx", 7, &s);
    make_signer("meridian.example/cert-xx", 8, &other);
    make_verifier(&s, &v);
    make_verifier(&other, &vo);
    sample(&c);
    mrd_buf_init(&note, CKPT_MAX_NOTE);
    assert_int_equal(ckpt_sign(&c, &s, &note, NULL), MRD_OK);
    copy = strdup(note.data);
    /* Every single-byte change in the text must break the signature. */
    for (size_t i = 0; i < strlen("meridian.example/cert-xx\n1042\n"); i++) {
        copy[i] ^= 0x01;
        err.msg[0] = '\0';
        assert_int_not_equal(ckpt_verify(copy, note.len, &v, &got, &err), MRD_OK);
        copy[i] ^= 0x01;
    }
    /* Re-signed by another key with the same name: no signature by v. */
    assert_int_equal(ckpt_verify(note.data, note.len, &vo, &got, &err), MRD_E_CRYPTO);
    /* Signature bytes altered. */
    copy[note.len - 10] = copy[note.len - 10] == 'A' ? 'B' : 'A';
    assert_int_equal(ckpt_verify(copy, note.len, &v, &got, &err), MRD_E_CRYPTO);
    free(copy);
    mrd_buf_release(&note);
}

static void test_cosignature_is_ignored(void **state)
{
    struct ckpt_signer s, w;
    struct ckpt_verifier v;
    struct ckpt c, got;
    struct mrd_buf note;

    (void)state;
    make_signer("log.example", 1, &s);
    make_signer("witness.example", 2, &w);
    make_verifier(&s, &v);
    sample(&c);
    snprintf(c.origin, sizeof(c.origin), "log.example");
    mrd_buf_init(&note, CKPT_MAX_NOTE);
    assert_int_equal(ckpt_sign(&c, &s, &note, NULL), MRD_OK);
    assert_int_equal(mrd_buf_puts(&note, "\xe2\x80\x94 witness.example QUFBQUFBQUFB\n", NULL),
                     MRD_OK);
    assert_int_equal(ckpt_verify(note.data, note.len, &v, &got, NULL), MRD_OK);
    mrd_buf_release(&note);
}

static void test_parse_errors(void **state)
{
    struct ckpt got;
    struct mrd_err err = {0};
    static const char *const bad[] = {
        "",
        "origin\n10\n",
        "origin\n10\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "origin\n010\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n\xe2\x80\x94 o AAAA\n",
        "origin\n-1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n\xe2\x80\x94 o AAAA\n",
        "origin\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n\n\xe2\x80\x94 o AAAA\n",
        "ori gin\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n\xe2\x80\x94 o AAAA\n",
        "origin\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n\xe2\x80\x94 o AAAA",
        "origin\r\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n\xe2\x80\x94 o AAAA\n",
    };
    static const char good[] =
        "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n\xe2\x80\x94 o AAAA\n";

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.msg[0] = '\0';
        assert_int_not_equal(ckpt_parse(bad[i], strlen(bad[i]), &got, &err), MRD_OK);
        assert_true(strlen(err.msg) > 0);
    }
    assert_int_equal(ckpt_parse(good, strlen(good), &got, &err), MRD_OK);
    assert_int_equal(got.size, 0);
    assert_string_equal(got.time, "");
}

static void test_note_keys(void **state)
{
    struct ckpt_signer s, s2;
    struct ckpt_verifier v;
    struct mrd_buf b;
    uint8_t seed[32];
    char text[256], b64[64];
    uint8_t id[4], data[33];

    (void)state;
    make_signer("example.com/log", 9, &s);
    memset(seed, 9, sizeof(seed));
    ckpt_key_id(s.name, s.sk + 32, id);
    data[0] = 1;
    memcpy(data + 1, seed, 32);
    sodium_bin2base64(b64, sizeof(b64), data, sizeof(data), sodium_base64_VARIANT_ORIGINAL);
    snprintf(text, sizeof(text), "PRIVATE+KEY+example.com/log+%02x%02x%02x%02x+%s\n", id[0], id[1],
             id[2], id[3], b64);
    assert_int_equal(ckpt_signer_parse(text, strlen(text), &s2, NULL), MRD_OK);
    assert_memory_equal(s.sk, s2.sk, sizeof(s.sk));
    text[28] = text[28] == '0' ? '1' : '0'; /* wrong key ID */
    assert_int_equal(ckpt_signer_parse(text, strlen(text), &s2, NULL), MRD_E_PARSE);
    mrd_buf_init(&b, 1024);
    assert_int_equal(ckpt_verifier_format(&s, &b, NULL), MRD_OK);
    assert_int_equal(ckpt_verifier_parse(b.data, b.len, &v, NULL), MRD_OK);
    assert_memory_equal(v.pk, s.sk + 32, 32);
    b.data[b.len - 3] ^= 1;
    assert_int_not_equal(ckpt_verifier_parse(b.data, b.len, &v, NULL), MRD_OK);
    mrd_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_verify_roundtrip),
        cmocka_unit_test(test_tampered_notes_fail),
        cmocka_unit_test(test_cosignature_is_ignored),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_note_keys),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
